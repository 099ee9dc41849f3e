"""Traffic: CDR route-check and rating, and monthly settlement (DuckDB over Arrow)."""
