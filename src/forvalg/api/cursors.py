"""Opaque pagination cursors."""

from __future__ import annotations

import base64
import binascii

from forvalg.api.problems import ApiProblem
from forvalg.domain.reasons import ReasonCode


def encode(kind: str, position: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{position}".encode()).decode().rstrip("=")


def decode(kind: str, cursor: str | None, parameter: str) -> int | None:
    if cursor is None or cursor == "":
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        found_kind, _, position = text.partition(":")
        if found_kind == kind and position.isdigit():
            return int(position)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise ApiProblem(
        422,
        ReasonCode.E_VALIDATION,
        "the request is malformed",
        errors=[{"parameter": parameter, "reason": "not a cursor this API returned"}],
    )
