"""Errors the wall raises in the services' words (the store's exceptions stay below)."""


class Conflict(Exception):
    """A write broke a uniqueness rule the database enforces, or lost a deadlock: a
    concurrent writer won. The transaction was rolled back; the caller may retry."""
