"""The Arrow schemas of traffic: CDRs and the preselection history they are judged by.

`CDR_SCHEMA` is the exchange export of INTERFACES.md §3 as `forvalg.sim` writes it.
`HISTORY_SCHEMA` holds one row per preselection period of a line: the operator and
option valid from `valid_from` (inclusive) to `valid_to` (exclusive; null while it
lasts); the rating engine reads it to find the period valid at a call's start.
"""

from __future__ import annotations

import pyarrow as pa

UTC_US = pa.timestamp("us", tz="UTC")

HISTORY_SCHEMA = pa.schema(
    [
        pa.field("number", pa.string(), nullable=False),
        pa.field("operator_id", pa.string(), nullable=False),
        pa.field("option", pa.string(), nullable=False),
        pa.field("valid_from", UTC_US, nullable=False),
        pa.field("valid_to", UTC_US, nullable=True),
        pa.field("order_id", pa.string(), nullable=False),
    ]
)

CDR_SCHEMA = pa.schema(
    [
        pa.field("call_id", pa.string(), nullable=False),
        pa.field("start_utc", UTC_US, nullable=False),
        pa.field("duration_s", pa.int64(), nullable=False),
        pa.field("a_number", pa.string(), nullable=False),
        pa.field("dialed", pa.string(), nullable=False),
        pa.field("carrier", pa.string(), nullable=True),
    ]
)
