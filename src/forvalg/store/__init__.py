"""Persistence: tables, engine, migrations and repositories.

Only `forvalg.store` and `forvalg.wall` may import this package (an import-linter
contract says so): everything that holds competitor-derived data is read through the wall.
"""
