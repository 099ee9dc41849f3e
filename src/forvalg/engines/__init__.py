"""Query engines beside DuckDB: the Spark session traffic and detection run on at scale
(docs/SCALE.md). No tables, no wall: the services bring their data and their queries."""
