"""Integration tests: the operator API over HTTP, on SQLite and on PostgreSQL."""
