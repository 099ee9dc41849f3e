"""The numbering plan agrees with Google's libphonenumber (`phonenumbers`), the project's
trusted reference, on seeded samples of dialled numbers; every disagreement is one of the
classes explained below (docs/NUMBERING.md explains them again, with the figures).

Print the figures with: python -m tests.unit.test_numbering_reference

libphonenumber's types map to our call classes as follows. Fixed-line, mobile,
freephone, premium and shared-cost numbers are what they say. Personal numbers (880),
VoIP (850-855), universal access numbers (81007-81009, 8101, 815) and voicemail (812, 813)
are charged as ordinary national calls in Norway, so the plan has no class of their own
for them: a CPS option covers them as national calls, LOCAL_NATIONAL.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType, shortnumberinfo

from forvalg.domain.numbering import CallClass, NumberingPlan

SEED = 20260101
UNIFORM = 150_000  # 8-digit numbers drawn uniformly
PER_PREFIX = 20  # and this many for each first three digits 000-999
AGREEMENT = 0.999
PLAN = NumberingPlan()
C = CallClass
T = PhoneNumberType

CLASS_OF_TYPE: Mapping[int, CallClass] = {
    T.FIXED_LINE: C.LOCAL_NATIONAL,
    T.MOBILE: C.MOBILE,
    T.TOLL_FREE: C.FREEPHONE,
    T.PREMIUM_RATE: C.PREMIUM,
    T.SHARED_COST: C.SHARED_COST,
    T.PERSONAL_NUMBER: C.LOCAL_NATIONAL,
    T.VOIP: C.LOCAL_NATIONAL,
    T.UAN: C.LOCAL_NATIONAL,
    T.VOICEMAIL: C.LOCAL_NATIONAL,
}

# Known disagreements, by (length, prefix) of the number as dialled in Norway, and why the
# plan differs. docs/NUMBERING.md gives the same list with the measured counts.
Key = tuple[int, str]

EXPLAINED: Mapping[Key, str] = {
    # libphonenumber reads the digits as the national number +47 00...; dialled, 00 is the
    # international prefix, and 00 and a country code is an international call.
    (6, "00"): "00 is the international prefix: 00 and a country code is INTERNATIONAL",
    (8, "00"): "00 is the international prefix: 00 and a country code is INTERNATIONAL",
    # libphonenumber's short-number metadata lists only the special numbers in service
    # (110-113, 119, 120, 124, 128, 145, 149, 175, 177, 190, 1412, 18xx, 116111, 116117,
    # 116123, 04xxx). The plan classes the whole series by its shape, in service or not:
    # the exchange sends them all to the incumbent's special-number platform, and the
    # exclusion list keeps them there.
    (3, "1"): "every 3-digit 1xx is a special number, SHORT, in service or not",
    (4, "14"): "every 14xx is a network service code, SHORT, in service or not",
    (6, "116"): "every 116xxx is a harmonised European service number, SHORT",
    # libphonenumber calls 0[235-9]xxx universal access numbers, a national type. They
    # are 5-digit service numbers with no national charge band: SHORT here. No
    # preselection option covers SHORT, so they stay with the incumbent.
    (5, "0"): "5-digit 0xxxx service numbers are SHORT, not national",
    # libphonenumber accepts +47 in front of a 5-digit service number. The plan reads
    # 0047 as national only in front of 8 digits (national_form); anything else after
    # 0047 is INVALID and stays with the incumbent, as the 5-digit number would (SHORT).
    (9, "0047"): "0047 and a 5-digit service number is INVALID; dialled as 0xxxx, SHORT",
}


@dataclass
class Agreement:
    """How often the plan's class equals libphonenumber's, and where it does not."""

    name: str
    compared: int = 0
    agreed: int = 0
    disagreements: dict[Key | None, list[tuple[str, CallClass, CallClass]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def add(self, dialled: str, theirs: CallClass) -> None:
        ours = PLAN.classify(dialled).call_class
        self.compared += 1
        if ours is theirs:
            self.agreed += 1
        else:
            self.disagreements[self.explanation(dialled)].append((dialled, theirs, ours))

    def explanation(self, dialled: str) -> Key | None:
        for n in range(len(dialled), -1, -1):
            if (len(dialled), dialled[:n]) in EXPLAINED:
                return len(dialled), dialled[:n]
        return None

    @property
    def rate(self) -> float:
        return self.agreed / self.compared

    def unexplained(self) -> list[tuple[str, CallClass, CallClass]]:
        return self.disagreements.get(None, [])

    def report(self) -> Iterator[str]:
        yield (
            f"{self.name}: {self.agreed:,} of {self.compared:,} agree "
            f"({100 * self.rate:.3f} %), {self.compared - self.agreed:,} differ"
        )
        for key, found in sorted(self.disagreements.items(), key=lambda kv: str(kv[0])):
            why = "UNEXPLAINED" if key is None else EXPLAINED[key]
            dialled, theirs, ours = found[0]
            yield f"  {key}: {len(found):,}, e.g. {dialled} {theirs} -> {ours}: {why}"


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def national_numbers() -> Iterator[str]:
    """8-digit strings: uniform, and every first three digits a few times."""
    rng = random.Random(SEED)
    for _ in range(UNIFORM):
        yield f"{rng.randrange(10**8):08d}"
    for head in range(1000):
        for _ in range(PER_PREFIX):
            yield f"{head:03d}{rng.randrange(10**5):05d}"


def emergency(dialled: str) -> bool:
    """libphonenumber: does a call to these digits in Norway reach an emergency service?
    Norway matches emergency numbers by prefix: 1123 connects to 112."""
    return bool(shortnumberinfo.connects_to_emergency_number(dialled, "NO"))


@cache
def national() -> tuple[Agreement, Agreement, Agreement]:
    """8 digits that libphonenumber finds (a valid +47 number of a type, an emergency
    code and more digits, neither)."""
    typed = Agreement("8 digits, valid +47 numbers, by libphonenumber's type")
    urgent = Agreement("8 digits, an emergency code and more digits (shortnumberinfo)")
    invalid = Agreement("8 digits, neither valid nor emergency for libphonenumber")
    for dialled in national_numbers():
        number = phonenumbers.parse("+47" + dialled)
        if phonenumbers.is_valid_number(number):
            typed.add(dialled, CLASS_OF_TYPE[phonenumbers.number_type(number)])
        elif emergency(dialled):
            urgent.add(dialled, C.EMERGENCY)
        else:
            invalid.add(dialled, C.INVALID)
    return typed, urgent, invalid


def short_numbers() -> Iterator[str]:
    """Every 3- to 5-digit string starting 0 or 1, every 6-digit 11xxxx and a sample of
    other 6-digit ones, and emergency codes followed by up to 14 more digits."""
    rng = random.Random(SEED)
    for length in (3, 4, 5):
        for head in "01":
            for tail in range(10 ** (length - 1)):
                yield f"{head}{tail:0{length - 1}d}"
    for tail in range(10**4):
        yield f"11{tail:04d}"
    for _ in range(5_000):
        yield rng.choice("01") + _digits(rng, 5)
    for _ in range(500):
        yield rng.choice(["110", "112", "113"]) + _digits(rng, rng.randint(1, 14))


def short_class(dialled: str) -> CallClass:
    """libphonenumber's class for a number dialled in Norway without +47: emergency by
    prefix, then short-number metadata, then the national metadata."""
    if emergency(dialled):
        return C.EMERGENCY
    try:
        short = shortnumberinfo.is_valid_short_number_for_region(
            phonenumbers.parse(dialled, "NO"), "NO"
        )
    except phonenumbers.NumberParseException:
        short = False
    if short:
        return C.SHORT
    number = phonenumbers.parse("+47" + dialled)
    if phonenumbers.is_valid_number(number):
        return CLASS_OF_TYPE[phonenumbers.number_type(number)]
    return C.INVALID


@cache
def short() -> Agreement:
    found = Agreement("3-6 digits starting 0 or 1: short numbers (shortnumberinfo)")
    for dialled in short_numbers():
        found.add(dialled, short_class(dialled))
    return found


def international_numbers() -> Iterator[phonenumbers.PhoneNumber]:
    """libphonenumber's example number of every region, type and non-geographic entity,
    and valid numbers made from each by drawing its last digits again."""
    rng = random.Random(SEED)
    examples: list[phonenumbers.PhoneNumber] = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for number_type in (*CLASS_OF_TYPE, T.FIXED_LINE_OR_MOBILE, T.PAGER):
            example = phonenumbers.example_number_for_type(region, number_type)
            if example is not None:
                examples.append(example)
    for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        example = phonenumbers.example_number_for_non_geo_entity(code)
        if example is not None:
            examples.append(example)
    seen: set[str] = set()
    for example in examples:
        national_number = phonenumbers.national_significant_number(example)
        for attempt in range(10):
            if attempt:
                keep = max(1, len(national_number) - 4)
                drawn = national_number[:keep] + _digits(rng, len(national_number) - keep)
            else:
                drawn = national_number
            number = phonenumbers.parse(f"+{example.country_code}{drawn}")
            e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
            if e164 not in seen and phonenumbers.is_valid_number(number):
                seen.add(e164)
                yield number


@cache
def international() -> tuple[Agreement, Agreement]:
    """(valid numbers abroad, valid +47 numbers), dialled as 00 and E.164."""
    abroad = Agreement("valid numbers abroad dialled as 00 + E.164")
    home = Agreement("valid +47 numbers dialled as 0047 + the national number")
    for number in international_numbers():
        dialled = "00" + phonenumbers.format_number(number, PhoneNumberFormat.E164)[1:]
        if number.country_code == 47:
            home.add(dialled, CLASS_OF_TYPE[phonenumbers.number_type(number)])
        else:
            abroad.add(dialled, C.INTERNATIONAL)
    return abroad, home


def assert_explained(found: Agreement) -> None:
    examples = found.unexplained()[:10]
    assert not examples, "\n".join(
        [f"unexplained disagreements ({len(found.unexplained())}):"]
        + [f"  {d}: libphonenumber {theirs}, plan {ours}" for d, theirs, ours in examples]
    )


def test_valid_8_digit_numbers_have_libphonenumbers_type() -> None:
    typed, _, _ = national()
    assert typed.compared >= 80_000
    assert typed.rate >= AGREEMENT, "\n".join(typed.report())
    assert_explained(typed)


def test_8_digits_starting_with_an_emergency_code_are_emergency() -> None:
    _, urgent, _ = national()
    assert urgent.compared >= 300
    assert urgent.rate == 1, "\n".join(urgent.report())


def test_8_digits_libphonenumber_finds_invalid_are_invalid_or_international() -> None:
    _, _, invalid = national()
    assert_explained(invalid)
    dialled_nationally = invalid.compared - len(invalid.disagreements.get((8, "00"), []))
    assert invalid.agreed >= AGREEMENT * dialled_nationally, "\n".join(invalid.report())


def test_the_national_sample_is_large_enough() -> None:
    assert sum(found.compared for found in national()) >= 100_000


def test_short_numbers_and_emergency_codes_agree_with_shortnumberinfo() -> None:
    found = short()
    assert_explained(found)
    urgent = [d for ds in found.disagreements.values() for d in ds if C.EMERGENCY in d]
    assert not urgent, urgent[:10]


def test_valid_numbers_abroad_are_international() -> None:
    abroad, _ = international()
    assert abroad.compared >= 10_000
    assert abroad.rate == 1, "\n".join(abroad.report())


def test_valid_plus_47_numbers_dialled_with_0047_are_national() -> None:
    _, home = international()
    assert home.compared >= 100
    assert_explained(home)


def test_every_explained_disagreement_is_seen() -> None:
    """An explanation that matches nothing is stale: remove it."""
    agreements = [*national(), short(), *international()]
    seen = {key for found in agreements for key in found.disagreements}
    assert set(EXPLAINED) <= seen, set(EXPLAINED) - seen


def main() -> None:
    print(f"phonenumbers {phonenumbers.__version__}, seed {SEED}")
    for found in [*national(), short(), *international()]:
        for line in found.report():
            print(line)


if __name__ == "__main__":
    main()
