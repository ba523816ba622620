"""Service levels: SLA/SLO definitions in YAML, evaluated on a schedule. See docs/sla.md."""
