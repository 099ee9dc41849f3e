"""The Norwegian numbering plan: call classes from dialled digits, and carrier selection.

A call's class depends only on the dialled number's length and its first `KEY_DIGITS`
digits. The plan is a list of `Range`s (prefix, length, class); the longest matching
prefix wins. `NumberingPlan.table` expands the ranges into one lookup keyed by
(length, first digits): the scalar `classify` reads it as a dict and the batch engine
joins it as a table, so the two cannot disagree. docs/NUMBERING.md explains the ranges
and where they differ from libphonenumber.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from forvalg.domain.numbers import CSC_FIRST, CSC_LAST

KEY_DIGITS = 5
NATIONAL_DIGITS = 8
INTERNATIONAL_PREFIX = "00"
OWN_COUNTRY_CODE = "47"
E164_DIGITS = 15  # the longest international number, country code included
LONGEST = len(INTERNATIONAL_PREFIX) + E164_DIGITS  # the longest number the plan classes
CSC_DIGITS = 4
_DIGITS = re.compile(r"[0-9]+")


class CallClass(StrEnum):
    LOCAL_NATIONAL = "LOCAL_NATIONAL"
    MOBILE = "MOBILE"
    INTERNATIONAL = "INTERNATIONAL"
    FREEPHONE = "FREEPHONE"
    SHARED_COST = "SHARED_COST"
    PREMIUM = "PREMIUM"
    SHORT = "SHORT"
    EMERGENCY = "EMERGENCY"
    INVALID = "INVALID"


@dataclass(frozen=True, slots=True)
class Range:
    """Numbers of exactly `length` digits that start with `prefix` are `call_class`."""

    prefix: str
    length: int
    call_class: CallClass
    note: str = ""

    def __post_init__(self) -> None:
        if not _DIGITS.fullmatch(self.prefix) or len(self.prefix) > min(self.length, KEY_DIGITS):
            raise ValueError(
                f"range {self.prefix!r}/{self.length}: the prefix must be 1-"
                f"{min(self.length, KEY_DIGITS)} digits"
            )


def _ranges(call_class: CallClass, length: int, prefixes: str, note: str) -> list[Range]:
    return [Range(p, length, call_class, note) for p in prefixes.split()]


_N = NATIONAL_DIGITS
C = CallClass

# Nkom's plan for 8-digit national numbers, as libphonenumber describes it (metadata for
# regions NO and SJ). Ranges libphonenumber calls personal, VoIP, UAN and voicemail are
# charged as national calls, so they are LOCAL_NATIONAL here. docs/NUMBERING.md shows the
# same table (tests/docs/test_numbering_doc.py keeps it so).
NORWAY: tuple[Range, ...] = (
    *_ranges(C.LOCAL_NATIONAL, _N, "21 22 23 24 31 32 33 35 37 38", "geographic"),
    *_ranges(C.LOCAL_NATIONAL, _N, "51 52 53 55 56 57 61 62 63 64", "geographic"),
    *_ranges(C.LOCAL_NATIONAL, _N, "66 67 68 69 70 71 72 73 74 75 76 77 78", "geographic"),
    Range("79", _N, C.LOCAL_NATIONAL, "geographic: Svalbard and Jan Mayen (region SJ, +47)"),
    *_ranges(C.MOBILE, _N, "40 41 46 47 48 9", "mobile"),
    *_ranges(C.MOBILE, _N, "450 451 452 454 455 456 457 458 459", "mobile"),
    *_ranges(C.MOBILE, _N, "4530 4531 4532 4533 4534 4535 4537 4538 4539", "mobile"),
    *_ranges(C.FREEPHONE, _N, "800 801", "freephone"),
    *_ranges(C.PREMIUM, _N, "820 829", "premium rate"),
    *_ranges(C.SHARED_COST, _N, "81000 81001 81002 81003 81004 81005 81006", "shared cost"),
    *_ranges(C.SHARED_COST, _N, "8102 8103 8104 8105 8106 8107 8108", "shared cost"),
    *_ranges(C.LOCAL_NATIONAL, _N, "81007 81008 81009 8101 815", "universal access"),
    *_ranges(C.LOCAL_NATIONAL, _N, "812 813", "voicemail"),
    *_ranges(C.LOCAL_NATIONAL, _N, "850 851 852 853 854 855", "VoIP"),
    *_ranges(C.LOCAL_NATIONAL, _N, "880", "personal numbers"),
    # Short numbers: every 3-digit 1xx, 4-digit 14xx/18xx, 6-digit 116xxx harmonised
    # European services, 5-digit 0xxxx services (UAN, SMS).
    Range("1", 3, C.SHORT, "1xx special numbers"),
    *_ranges(C.EMERGENCY, 3, "110 112 113", "emergency: fire, police, ambulance"),
    # A call is connected to 110, 112 or 113 as soon as the code is dialled: digits keyed
    # after it do not make another call of it (libphonenumber's connects_to_emergency_number
    # matches by prefix for Norway).
    *(
        Range(code, n, C.EMERGENCY, "emergency code followed by more digits")
        for code in ("110", "112", "113")
        for n in range(len(code) + 1, LONGEST + 1)
    ),
    *_ranges(C.SHORT, 4, "14 18", "4-digit services, directory enquiries"),
    Range("116", 6, C.SHORT, "116xxx harmonised services of social value"),
    *_ranges(C.SHORT, 5, "02 03 04 05 06 07 08 09", "5-digit services"),
    # International: 00, a country code (not 0) and up to 15 digits in all (E.164). 0047
    # and 8 digits is the national number (`national_form` reads it so before the lookup);
    # 0047 and anything else is no number at all, not an international call.
    *(Range("00", n, C.INTERNATIONAL, "international") for n in range(6, LONGEST + 1)),
    *(Range("000", n, C.INVALID, "no country code starts with 0") for n in range(6, LONGEST + 1)),
    *(
        Range("0047", n, C.INVALID, "+47: only an 8-digit national number, read as national")
        for n in range(6, LONGEST + 1)
    ),
)


@dataclass(frozen=True, slots=True)
class Exclusion:
    """Numbers that always stay with the incumbent, whatever the prefix or preselection."""

    prefix: str
    length: int
    note: str = ""

    def __post_init__(self) -> None:
        Range(self.prefix, self.length, CallClass.SHORT)  # same shape rules as a range


@dataclass(frozen=True, slots=True)
class ExclusionList:
    version: str
    entries: tuple[Exclusion, ...]


DEFAULT_EXCLUSIONS = ExclusionList(
    "2026-01",
    (
        Exclusion("1", 3, "emergency 110/112/113 and the other 1xx special numbers"),
        Exclusion("116", 6, "116xxx harmonised services of social value"),
        Exclusion("14", 4, "network service codes 14xx"),
    ),
)

EXCLUSION_FIELDS = ("prefix", "length", "note")


class InvalidExclusions(ValueError):
    """An exclusion list file that cannot be used; the message names the file, the entry
    (`exclude[i]`, counted from 0) and the field at fault."""


def exclusions_from_toml(text: str, source: str) -> ExclusionList:
    """Parse an exclusion list file (format in docs/NUMBERING.md):

    version = "2026-01"

    [[exclude]]
    prefix = "116"
    length = 6
    note = "116xxx harmonised services of social value"
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidExclusions(f"{source}: not TOML: {exc}") from None
    unknown = sorted(set(data) - {"version", "exclude"})
    if unknown:
        raise InvalidExclusions(f"{source}: {unknown[0]}: unknown key (version, [[exclude]])")
    version = data.get("version")
    if not isinstance(version, str) or not version.strip():
        raise InvalidExclusions(f"{source}: version: a non-empty string is required")
    entries = data.get("exclude", [])
    if not isinstance(entries, list):
        raise InvalidExclusions(f"{source}: exclude: an array of tables, [[exclude]], is required")
    parsed: list[Exclusion] = []
    for index, entry in enumerate(entries):
        exclusion = _exclusion(entry, f"{source}: exclude[{index}]")
        shapes = [(e.prefix, e.length) for e in parsed]
        if (exclusion.prefix, exclusion.length) in shapes:
            first = shapes.index((exclusion.prefix, exclusion.length))
            raise InvalidExclusions(
                f"{source}: exclude[{index}].prefix: {exclusion.prefix} of length "
                f"{exclusion.length} is already exclude[{first}]"
            )
        parsed.append(exclusion)
    return ExclusionList(version, tuple(parsed))


def _exclusion(entry: object, at: str) -> Exclusion:
    if not isinstance(entry, dict):
        raise InvalidExclusions(f"{at}: a table with prefix, length and note is required")
    unknown = sorted(set(entry) - set(EXCLUSION_FIELDS))
    if unknown:
        raise InvalidExclusions(f"{at}.{unknown[0]}: unknown field (prefix, length, note)")
    prefix, length, note = (entry.get(name) for name in EXCLUSION_FIELDS)
    if not isinstance(prefix, str) or not _DIGITS.fullmatch(prefix) or len(prefix) > KEY_DIGITS:
        raise InvalidExclusions(
            f"{at}.prefix: {prefix!r} is not a string of 1-{KEY_DIGITS} digits 0-9"
        )
    if not isinstance(length, int) or isinstance(length, bool) or not 1 <= length <= LONGEST:
        raise InvalidExclusions(f"{at}.length: {length!r} is not a whole number 1-{LONGEST}")
    if len(prefix) > length:
        raise InvalidExclusions(
            f"{at}.prefix: {prefix!r} is longer than the numbers it excludes ({length} digits)"
        )
    if not isinstance(note, str) or not note.strip():
        raise InvalidExclusions(f"{at}.note: say why the numbers are excluded (a string)")
    return Exclusion(prefix, length, note)


def exclusions_to_toml(exclusions: ExclusionList) -> str:
    """The file that `exclusions_from_toml` reads back as `exclusions`."""
    lines = [f"version = {_toml_string(exclusions.version)}"]
    for e in exclusions.entries:
        lines += [
            "",
            "[[exclude]]",
            f"prefix = {_toml_string(e.prefix)}",
            f"length = {e.length}",
            f"note = {_toml_string(e.note)}",
        ]
    return "\n".join(lines) + "\n"


def _toml_string(text: str) -> str:
    """A TOML basic string: quotes and backslashes escaped, control characters as `\\u`
    followed by four hex digits."""
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch < " " or ch == "\x7f":
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Classified:
    """What the plan says about one dialled string."""

    call_class: CallClass
    excluded: bool


INVALID = Classified(CallClass.INVALID, False)


@dataclass(frozen=True)
class NumberingPlan:
    ranges: tuple[Range, ...] = NORWAY
    exclusions: ExclusionList = DEFAULT_EXCLUSIONS

    @cached_property
    def table(self) -> dict[tuple[int, str], Classified]:
        """(length, first min(length, KEY_DIGITS) digits) -> class and exclusion. Keys
        that are missing are INVALID and not excluded. EMERGENCY numbers are excluded
        whatever the exclusion list says: no list can send a call to 112 elsewhere."""
        classes: dict[tuple[int, str], CallClass] = {}
        for r in sorted(self.ranges, key=lambda r: len(r.prefix)):  # longer prefixes win
            for key in _expand(r.prefix, r.length):
                classes[(r.length, key)] = r.call_class
        excluded: set[tuple[int, str]] = set()
        for e in self.exclusions.entries:
            excluded.update((e.length, key) for key in _expand(e.prefix, e.length))
        table: dict[tuple[int, str], Classified] = {}
        for shape in classes.keys() | excluded:
            call_class = classes.get(shape, CallClass.INVALID)
            emergency = call_class is CallClass.EMERGENCY
            table[shape] = Classified(call_class, shape in excluded or emergency)
        return table

    def classify(self, number: str) -> Classified:
        """The class of a dialled number without any carrier selection prefix."""
        if not number.isascii() or not number.isdigit():
            return INVALID
        number = national_form(number)
        return self.table.get((len(number), number[:KEY_DIGITS]), INVALID)

    def rows(self) -> Iterator[tuple[int, str, str, bool]]:
        """The lookup table as rows (length, key, call class, excluded) for the engine."""
        for (length, key), c in sorted(self.table.items()):
            yield length, key, c.call_class.value, c.excluded


def _expand(prefix: str, length: int) -> Iterator[str]:
    """Every key of min(length, KEY_DIGITS) digits that starts with `prefix`."""
    free = min(length, KEY_DIGITS) - len(prefix)
    for tail in itertools.product("0123456789", repeat=free):
        yield prefix + "".join(tail)


def national_form(number: str) -> str:
    """A national number dialled with the international prefix and +47 is national."""
    own = INTERNATIONAL_PREFIX + OWN_COUNTRY_CODE
    if number.startswith(own) and len(number) == len(own) + NATIONAL_DIGITS:
        return number[len(own) :]
    return number


def split_carrier_code(dialled: str) -> tuple[str | None, str]:
    """(`15NN` carrier selection code or None, the number dialled after it)."""
    head = dialled[:CSC_DIGITS]
    if (
        len(dialled) > CSC_DIGITS
        and head.isascii()
        and head.isdigit()
        and CSC_FIRST <= int(head) <= CSC_LAST
    ):
        return head, dialled[CSC_DIGITS:]
    return None, dialled
