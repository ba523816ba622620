"""Performance figures against their ceilings, run by `make bench` (never part of `make test`).

Entry point: `python -m benchmarks`; the ingest benchmark lives in benchmarks/ingest.py.
"""
