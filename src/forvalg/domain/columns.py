"""Column types the published files (CDRs, contacts) accept in Parquet, as writers store
them: one definition for every reader."""

from __future__ import annotations

import pyarrow as pa

UTC_ZONES = (None, "UTC", "Etc/UTC", "+00:00")  # None: a time without a zone, read as UTC


def is_text(t: pa.DataType) -> bool:
    """Text: plain, large, as a view, dictionary-encoded, or a column of nulls only."""
    if pa.types.is_dictionary(t):
        return is_text(t.value_type)
    return bool(
        pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_string_view(t)
        or pa.types.is_null(t)
    )


def is_utc_timestamp(t: pa.DataType) -> bool:
    """A timestamp in any unit, in UTC or without a zone."""
    return bool(pa.types.is_timestamp(t) and t.tz in UTC_ZONES)
