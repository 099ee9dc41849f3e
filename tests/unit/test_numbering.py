"""The numbering plan: call classes from dialled digits, exclusions, the carrier selection
prefix, and the (length, first five digits) table checked against a naive reading of the
ranges."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from forvalg.domain.numbering import (
    DEFAULT_EXCLUSIONS,
    KEY_DIGITS,
    LONGEST,
    NORWAY,
    CallClass,
    Classified,
    Exclusion,
    ExclusionList,
    InvalidExclusions,
    NumberingPlan,
    Range,
    exclusions_from_toml,
    exclusions_to_toml,
    national_form,
    split_carrier_code,
)

PLAN = NumberingPlan()
C = CallClass


def call_class(number: str) -> CallClass:
    return PLAN.classify(number).call_class


# Every class.


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("21234567", C.LOCAL_NATIONAL),  # Oslo
        ("22334455", C.LOCAL_NATIONAL),
        ("33123456", C.LOCAL_NATIONAL),
        ("55123456", C.LOCAL_NATIONAL),  # Bergen
        ("73123456", C.LOCAL_NATIONAL),  # Trondheim
        ("78123456", C.LOCAL_NATIONAL),
        ("79123456", C.LOCAL_NATIONAL),  # Svalbard (region SJ shares +47)
        ("81012345", C.LOCAL_NATIONAL),  # universal access (8101)
        ("81007123", C.LOCAL_NATIONAL),  # universal access (81007)
        ("81512345", C.LOCAL_NATIONAL),  # universal access (815)
        ("81212345", C.LOCAL_NATIONAL),  # voicemail
        ("85012345", C.LOCAL_NATIONAL),  # VoIP
        ("85512345", C.LOCAL_NATIONAL),
        ("88012345", C.LOCAL_NATIONAL),  # personal numbers
        ("40612345", C.MOBILE),
        ("41234567", C.MOBILE),
        ("45012345", C.MOBILE),
        ("45301234", C.MOBILE),
        ("45391234", C.MOBILE),
        ("46123456", C.MOBILE),
        ("48123456", C.MOBILE),
        ("90012345", C.MOBILE),
        ("99999999", C.MOBILE),
        ("80012345", C.FREEPHONE),
        ("80112345", C.FREEPHONE),
        ("82012345", C.PREMIUM),
        ("82912345", C.PREMIUM),
        ("81021234", C.SHARED_COST),
        ("81000123", C.SHARED_COST),
        ("81006999", C.SHARED_COST),
        ("81089999", C.SHARED_COST),
    ],
)
def test_national_numbers_are_classed_by_their_range(number: str, expected: CallClass) -> None:
    assert call_class(number) is expected


@pytest.mark.parametrize(
    "number",
    [
        "01234567",  # no national number starts with 0 or 1
        "12345678",
        "20123456",  # 20, 25-30, 34, 36, 39, 50, 54, 58-60, 65 are not allocated
        "25123456",
        "30123456",
        "34123456",
        "50123456",
        "54123456",
        "60123456",
        "65123456",
        "42123456",  # 42-44 and 49 are not mobile
        "44123456",
        "49123456",
        "45361234",  # 4536 is the one gap in 45xx
        "45369999",
        "80212345",  # 802-809: only 800 and 801 are freephone
        "82112345",  # 821-828: only 820 and 829 are premium
        "81112345",  # 811, 814, 816-819 are not allocated
        "81412345",
        "81912345",
        "81099999",  # 8109 is not shared cost
        "83123456",
        "84123456",
        "85612345",  # only 850-855 are VoIP
        "86123456",
        "87123456",
        "88112345",  # only 880 is personal
        "89123456",
    ],
)
def test_unallocated_national_ranges_are_invalid(number: str) -> None:
    assert call_class(number) is C.INVALID


@pytest.mark.parametrize("number", ["110", "112", "113"])
def test_fire_police_and_ambulance_are_emergency(number: str) -> None:
    assert PLAN.classify(number) == Classified(C.EMERGENCY, excluded=True)


@pytest.mark.parametrize(
    "number", ["1100", "1120", "11299", "113113", "11234567", "112" + "2" * 14]
)
def test_an_emergency_code_followed_by_more_digits_is_emergency(number: str) -> None:
    """The exchange connects 110, 112 or 113 as soon as they are dialled."""
    assert PLAN.classify(number) == Classified(C.EMERGENCY, excluded=True)


@pytest.mark.parametrize(
    "number",
    [
        "100",
        "111",
        "114",
        "119",
        "120",
        "145",
        "175",
        "190",
        "199",  # every 3-digit 1xx
        "1412",
        "1400",
        "1499",  # 14xx
        "1800",
        "1881",
        "1899",  # 18xx
        "116000",
        "116111",
        "116117",
        "116123",
        "116999",  # 116xxx
        "02000",
        "02800",
        "04000",
        "05000",
        "09999",  # 5-digit 0xxxx
    ],
)
def test_short_numbers(number: str) -> None:
    assert call_class(number) is C.SHORT


@pytest.mark.parametrize(
    "number",
    [
        "0046812345678",  # Sweden
        "004420712345678",  # United Kingdom
        "0012125551234",  # United States
        "00298123456",  # Faroe Islands, 6-digit national number
        "0035312345678",
        "0088012345678",  # international freephone
        "00" + "1" * 15,  # E.164's longest: 15 digits
        "001234",  # the shortest the plan accepts: 00 and 4 digits
    ],
)
def test_00_and_a_country_code_is_international(number: str) -> None:
    assert call_class(number) is C.INTERNATIONAL


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("004722334455", C.LOCAL_NATIONAL),
        ("004741234567", C.MOBILE),
        ("004779123456", C.LOCAL_NATIONAL),
        ("004780012345", C.FREEPHONE),
        ("004782012345", C.PREMIUM),
        ("004725123456", C.INVALID),  # +47 and an unallocated national number
    ],
)
def test_0047_and_8_digits_is_the_national_number(number: str, expected: CallClass) -> None:
    assert call_class(number) is expected
    assert PLAN.classify(number) == PLAN.classify(number[4:])


@pytest.mark.parametrize(
    "number",
    [
        "000123456",  # no country code starts with 0
        "00012345678",
        "000" + "1" * 14,
        "00",
        "001",
        "00123",  # too short to be 00 and a country code and a number
        "00" + "1" * 16,  # longer than E.164 allows
        "00471234",  # 0047 and anything but 8 digits: +47 is not international
        "004702000",
        "0047112",
        "0047223344556",
        "0047" + "1" * 13,
    ],
)
def test_000_0047_and_impossible_international_lengths_are_invalid(number: str) -> None:
    assert call_class(number) is C.INVALID


@pytest.mark.parametrize(
    "number",
    [
        "",
        "1",
        "11",
        "2233445",  # 7 digits
        "223344556",  # 9 digits
        "4123456",
        "412345678",
        "8001234",
        "800123456",
        "1151",
        "1001",
        "0200",
        "020000",
        "14",
        "14123",
        "18812",
        "11611",
        "1161111",
        "1505",  # a carrier selection code alone
        "1234567890123456789",
    ],
)
def test_wrong_lengths_are_invalid(number: str) -> None:
    assert call_class(number) is C.INVALID


@pytest.mark.parametrize(
    "number",
    [
        "2233 4455",
        " 22334455",
        "22334455 ",
        "22334455\n",
        "+4722334455",
        "22-33-44-55",
        "2233445a",
        "11 2",
        "*112",
        "#31#",
        "２２３３４４５５",  # full-width digits
        "٢٢٣٣٤٤٥٥",  # Arabic-Indic digits
        "¹¹²",  # superscripts are str.isdigit()
    ],
)
def test_anything_but_ascii_digits_is_invalid(number: str) -> None:
    assert PLAN.classify(number) == Classified(C.INVALID, excluded=False)


# Exclusions.


@pytest.mark.parametrize(
    "number", ["110", "112", "113", "100", "119", "199", "116000", "116111", "1400", "1412"]
)
def test_the_default_exclusions_keep_1xx_116xxx_and_14xx(number: str) -> None:
    assert PLAN.classify(number).excluded


@pytest.mark.parametrize(
    "number",
    [
        "22334455",
        "41234567",
        "80012345",
        "82012345",
        "81021234",
        "0046812345678",
        "004722334455",
        "1881",  # directory enquiries: short, but not excluded by the default list
        "02800",
        "04000",
        "",
        "1505",
        "abc",
    ],
)
def test_other_numbers_are_not_excluded(number: str) -> None:
    assert not PLAN.classify(number).excluded


def test_an_exclusion_of_an_invalid_number_excludes_it_and_keeps_it_invalid() -> None:
    plan = NumberingPlan(exclusions=ExclusionList("t", (Exclusion("15", 4, "codes alone"),)))
    assert plan.classify("1505") == Classified(C.INVALID, excluded=True)
    assert not plan.classify("100").excluded  # the default list is replaced, not extended


@pytest.mark.parametrize("number", ["110", "112", "113", "1120", "11234567", "112" * 5])
def test_emergency_numbers_are_excluded_whatever_the_list_says(number: str) -> None:
    plan = NumberingPlan(exclusions=ExclusionList("none", ()))
    assert plan.classify(number) == Classified(C.EMERGENCY, excluded=True)


def test_a_plan_with_another_exclusion_list() -> None:
    plan = NumberingPlan(exclusions=ExclusionList("t", (Exclusion("1881", 4, "directory"),)))
    assert plan.classify("1881") == Classified(C.SHORT, excluded=True)
    assert plan.classify("1882") == Classified(C.SHORT, excluded=False)


# The exclusion list as a file.

GOOD = """
version = "2026-02"

[[exclude]]
prefix = "1"
length = 3
note = "1xx"

[[exclude]]
prefix = "1881"
length = 4
note = "directory enquiries"
"""


def test_an_exclusion_file_is_read() -> None:
    assert exclusions_from_toml(GOOD, "x.toml") == ExclusionList(
        "2026-02", (Exclusion("1", 3, "1xx"), Exclusion("1881", 4, "directory enquiries"))
    )


def test_an_exclusion_file_may_exclude_nothing_but_emergency_stays_excluded() -> None:
    nothing = exclusions_from_toml('version = "empty"\n', "x.toml")
    assert nothing == ExclusionList("empty", ())
    assert exclusions_from_toml('version = "empty"\nexclude = []\n', "x.toml") == nothing
    plan = NumberingPlan(exclusions=nothing)
    assert plan.classify("112").excluded
    assert not plan.classify("116111").excluded


def test_the_default_exclusions_survive_a_round_trip_through_toml() -> None:
    text = exclusions_to_toml(DEFAULT_EXCLUSIONS)
    assert exclusions_from_toml(text, "default") == DEFAULT_EXCLUSIONS
    assert text.startswith('version = "2026-01"\n\n[[exclude]]\nprefix = "1"\nlength = 3\n')


exclusions = st.builds(
    Exclusion,
    prefix=st.text("0123456789", min_size=1, max_size=KEY_DIGITS),
    length=st.integers(KEY_DIGITS, LONGEST),
    note=st.text(min_size=1).filter(str.strip),
)


@given(
    st.text(min_size=1).filter(str.strip),
    st.lists(exclusions, max_size=5, unique_by=lambda e: (e.prefix, e.length)),
)
def test_any_exclusion_list_survives_a_round_trip_through_toml(
    version: str, entries: list[Exclusion]
) -> None:
    exclusions = ExclusionList(version, tuple(entries))
    assert exclusions_from_toml(exclusions_to_toml(exclusions), "x.toml") == exclusions


def file(*entries: dict[str, str]) -> str:
    """An exclusion file of version "1" with these entries, their values as TOML."""
    lines = ['version = "1"']
    for entry in entries:
        lines += ["[[exclude]]", *(f"{name} = {value}" for name, value in entry.items())]
    return "\n".join(lines) + "\n"


OK = {"prefix": '"116"', "length": "6", "note": '"116xxx"'}


def but(**changes: str | None) -> dict[str, str]:
    """OK with some fields changed (None: left out)."""
    changed = {**OK, **changes}
    return {name: value for name, value in changed.items() if value is not None}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version = ", "x.toml: not TOML: "),
        ("", "x.toml: version: a non-empty string is required"),
        ("version = 2026", "x.toml: version: a non-empty string is required"),
        ('version = " "', "x.toml: version: a non-empty string is required"),
        ('version = "1"\nexclusions = []', "x.toml: exclusions: unknown key"),
        ('version = "1"\nexclude = "116"', "x.toml: exclude: an array of tables"),
        ('version = "1"\nexclude = [1]', r"x.toml: exclude\[0\]: a table with prefix, length"),
        (file(OK, but(prefix=None)), r"x.toml: exclude\[1\]\.prefix: None is not"),
        (file(OK, but(prefix='""')), r"exclude\[1\]\.prefix: '' is not"),
        (file(but(prefix="116")), r"exclude\[0\]\.prefix: 116 is not"),
        (file(but(prefix='"11a"')), r"exclude\[0\]\.prefix: '11a' is not"),
        (file(but(prefix='"+116"')), r"exclude\[0\]\.prefix: '\+116' is not"),
        (file(but(prefix='"١١٦"')), r"exclude\[0\]\.prefix: '١١٦' is not"),
        (file(but(prefix='"116000"')), r"exclude\[0\]\.prefix: '116000' is not"),
        (file(but(length="2")), r"exclude\[0\]\.prefix: '116' is longer than the numbers"),
        (file(but(length=None)), r"exclude\[0\]\.length: None is not"),
        (file(but(length="0")), r"exclude\[0\]\.length: 0 is not"),
        (file(but(length="18")), r"exclude\[0\]\.length: 18 is not"),
        (file(but(length="6.0")), r"exclude\[0\]\.length: 6\.0 is not"),
        (file(but(length="true")), r"exclude\[0\]\.length: True is not"),
        (file(but(length='"6"')), r"exclude\[0\]\.length: '6' is not"),
        (file(but(note=None)), r"exclude\[0\]\.note: say why"),
        (file(but(note='" "')), r"exclude\[0\]\.note: say why"),
        (file(but(note="1")), r"exclude\[0\]\.note: say why"),
        (file(but(notes='"x"')), r"exclude\[0\]\.notes: unknown field"),
        (file(OK, OK), r"exclude\[1\]\.prefix: 116 of length 6 is already exclude\[0\]"),
    ],
)
def test_a_bad_exclusion_file_is_refused_naming_the_file_entry_and_field(
    text: str, message: str
) -> None:
    with pytest.raises(InvalidExclusions, match=message) as raised:
        exclusions_from_toml(text, "x.toml")
    assert str(raised.value).startswith("x.toml: ")


def test_invalid_exclusions_is_a_value_error() -> None:
    assert issubclass(InvalidExclusions, ValueError)


# Carrier selection codes.


@pytest.mark.parametrize(
    ("dialled", "expected"),
    [
        ("150022334455", ("1500", "22334455")),
        ("154922334455", ("1549", "22334455")),
        ("15050046812345678", ("1505", "0046812345678")),
        ("1505112", ("1505", "112")),
        ("15051", ("1505", "1")),  # any digits after the code: classify judges them
        ("1550123", (None, "1550123")),  # 1550 is not a carrier selection code
        ("1599123", (None, "1599123")),
        ("1499123", (None, "1499123")),
        ("1505", (None, "1505")),  # a code alone is not split
        ("150", (None, "150")),
        ("", (None, "")),
        ("22334455", (None, "22334455")),
        ("15a522334455", (None, "15a522334455")),
        ("１５０５22334455", (None, "１５０５22334455")),  # full-width digits are not a code
    ],
)
def test_split_carrier_code(dialled: str, expected: tuple[str | None, str]) -> None:
    assert split_carrier_code(dialled) == expected


@given(st.integers(1500, 1549), st.text("0123456789", min_size=1, max_size=17))
def test_every_code_1500_to_1549_is_split_from_the_digits_after_it(code: int, rest: str) -> None:
    assert split_carrier_code(f"{code}{rest}") == (str(code), rest)


@given(st.text("0123456789", max_size=20))
def test_split_then_join_is_the_dialled_string(dialled: str) -> None:
    code, rest = split_carrier_code(dialled)
    assert (code or "") + rest == dialled
    if code is not None:
        assert 1500 <= int(code) <= 1549
        assert rest


# The international prefix and +47.


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("004722334455", "22334455"),
        ("004741234567", "41234567"),
        ("004700000000", "00000000"),  # national form, not a judgement on the number
        ("00472233445", "00472233445"),  # 7 digits after 0047: not a national number
        ("0047223344556", "0047223344556"),
        ("0047", "0047"),
        ("004622334455", "004622334455"),
        ("22334455", "22334455"),
        ("", ""),
    ],
)
def test_national_form(number: str, expected: str) -> None:
    assert national_form(number) == expected


# Ranges and exclusions refuse shapes the table cannot hold.


@pytest.mark.parametrize(
    ("prefix", "length"),
    [
        ("", 8),  # no prefix
        ("2a", 8),
        ("+47", 8),
        ("２２", 8),
        ("123456", 8),  # longer than KEY_DIGITS
        ("1234", 3),  # longer than the number
        ("1", 0),
        ("1", -1),
    ],
)
def test_a_range_or_exclusion_of_an_impossible_shape_is_refused(prefix: str, length: int) -> None:
    with pytest.raises(ValueError, match="prefix must be"):
        Range(prefix, length, C.SHORT)
    with pytest.raises(ValueError, match="prefix must be"):
        Exclusion(prefix, length)


def test_ranges_may_use_every_key_digit() -> None:
    assert Range("12345", 8, C.SHORT).prefix == "12345"
    assert Range("123", 3, C.SHORT).prefix == "123"
    assert Exclusion("12345", 17).length == 17


# The table against a naive reading of the ranges.


def test_no_two_ranges_have_the_same_prefix_and_length() -> None:
    shapes = [(r.prefix, r.length) for r in NORWAY]
    assert len(shapes) == len(set(shapes))


def test_every_range_has_a_note() -> None:
    assert all(r.note for r in NORWAY)
    assert all(e.note for e in DEFAULT_EXCLUSIONS.entries)


def test_the_table_keys_are_the_length_and_its_first_digits() -> None:
    for length, key in PLAN.table:
        assert len(key) == min(length, KEY_DIGITS)
        assert key.isascii()
        assert key.isdigit()


def test_rows_are_the_table_sorted() -> None:
    rows = list(PLAN.rows())
    assert rows == sorted(rows)
    assert {(n, k): Classified(C(c), e) for n, k, c, e in rows} == PLAN.table


def naive(number: str, plan: NumberingPlan = PLAN) -> Classified:
    """The longest prefix among the ranges of exactly the number's length: the plan's
    definition, read without the table."""
    if not number.isascii() or not number.isdigit():
        return Classified(C.INVALID, False)
    number = national_form(number)
    fits = [r for r in plan.ranges if r.length == len(number) and number.startswith(r.prefix)]
    best = max(fits, key=lambda r: len(r.prefix), default=None)
    call_class = best.call_class if best else C.INVALID
    excluded = call_class is C.EMERGENCY or any(
        e.length == len(number) and number.startswith(e.prefix) for e in plan.exclusions.entries
    )
    return Classified(call_class, excluded)


@st.composite
def near_a_range(draw: st.DrawFn) -> str:
    """Digits that start like a range or exclusion and are about as long."""
    shape = draw(st.sampled_from([*NORWAY, *DEFAULT_EXCLUSIONS.entries]))
    length = draw(st.integers(max(0, shape.length - 1), shape.length + 1))
    tail = draw(st.text("0123456789", min_size=length, max_size=length))
    prefix = draw(st.sampled_from(["", "0047", "1505"]))
    return prefix + (shape.prefix + tail)[:length]


@given(st.one_of(st.text("0123456789", max_size=19), near_a_range(), st.text(max_size=10)))
@example("004722334455")
@example("00470000")
@example("45361234")
@example("81006999")
@example("81007000")
def test_classify_is_the_longest_matching_range_of_exactly_that_length(number: str) -> None:
    assert PLAN.classify(number) == naive(number)


@given(near_a_range())
def test_classify_after_a_carrier_code_is_classify_of_the_rest(dialled: str) -> None:
    _, rest = split_carrier_code(dialled)
    assert PLAN.classify(rest) == naive(rest)
