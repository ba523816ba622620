"""Retention: old raw data compacted to Parquet (still searchable) and removed from DuckDB."""
