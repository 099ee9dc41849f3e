"""Whether a failure means the database cannot be reached just now.

A PostgreSQL restart, a failover or a network cut shows as a refused or dropped
connection, or as the server saying it is shutting down or still starting. The request's
transaction did not commit, except in the one case no client can tell apart: the
connection dropped while COMMIT was on its way. Either way the caller may safely repeat
the request, since an order's Idempotency-Key answers a repeat as the first: the API answers
`503 E_UNAVAILABLE` with `Retry-After`, and `forvalg worker` waits and retries, instead
of a 500 or an exit. Every other database error stays what it is: a defect to see.
"""

from __future__ import annotations

import psycopg
from sqlalchemy import exc

# SQLSTATEs of a server going away or not yet there: class 08 (connection exception),
# 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now.
_GONE = ("57P01", "57P02", "57P03")


def database_unavailable(error: BaseException) -> bool:
    """True if `error` says the database cannot be reached now (and nothing committed)."""
    if isinstance(error, exc.TimeoutError):  # no pooled connection within pool_timeout
        return True
    if not isinstance(error, exc.DBAPIError):
        return False
    if error.connection_invalidated:  # SQLAlchemy saw the connection drop
        return True
    original = error.orig
    if not isinstance(original, psycopg.OperationalError):
        return False  # SQLite's errors (a locked or missing file) are not a restart
    state = original.sqlstate
    # No SQLSTATE: the client could not connect or lost the connection.
    return state is None or state.startswith("08") or state in _GONE
