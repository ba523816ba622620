"""Source adapters: pure parsers from native payloads (OTLP, log lines) to records and events.

Entry points: registry.build_registry (the name -> adapter table), otlp.decode_* (OTLP/HTTP
bodies), logs.parse_lines (log text), derive (records -> canonical events by rules).
"""
