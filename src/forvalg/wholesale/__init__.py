"""The wholesale services: the order desk, order processing, inventory and operators.

They speak to data only through `forvalg.wall`; an import-linter contract forbids the store.
"""
