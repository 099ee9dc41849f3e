"""Norwegian national numbers and carrier selection codes."""

from __future__ import annotations

import re
from dataclasses import dataclass

_NATIONAL = re.compile(r"[0-9]{8}")
_CSC = re.compile(r"[0-9]{4}")
CSC_FIRST = 1500
CSC_LAST = 1549


class InvalidNumber(ValueError):
    """A string that is not an 8-digit Norwegian national number."""


class InvalidCarrierCode(ValueError):
    """A string that is not a carrier selection code in 1500-1549."""


def national_number(text: str) -> str:
    """Return `text` if it is an 8-digit national number, else raise `InvalidNumber`."""
    if not _NATIONAL.fullmatch(text):
        raise InvalidNumber(f"{text!r} is not an 8-digit national number")
    return text


def is_national_number(text: str) -> bool:
    return _NATIONAL.fullmatch(text) is not None


@dataclass(frozen=True, slots=True)
class CarrierSelectionCode:
    """A four-digit prefix 1500-1549 that selects a carrier for one call."""

    code: str

    def __post_init__(self) -> None:
        if not (_CSC.fullmatch(self.code) and CSC_FIRST <= int(self.code) <= CSC_LAST):
            raise InvalidCarrierCode(
                f"{self.code!r} is not a carrier selection code ({CSC_FIRST}-{CSC_LAST})"
            )

    def __str__(self) -> str:
        return self.code
