"""The wholesale origination tariff: time bands and the charge for one call.

A tariff file (TOML, docs/TRAFFIC.md) gives NOK per minute for each call class an
operator can carry and each time band, and a minimum charge per call. Calls are charged
per second: charge = max(duration × rate / 60 rounded half-up to 0.0001 NOK, minimum),
and a call of 0 seconds costs nothing. All arithmetic is in integer ten-thousandths of a
krone ("units"), so the scalar charge here and the batch engine's SQL agree exactly.

Time bands are in Europe/Oslo: WEEKEND on Saturdays, Sundays and Norwegian public
holidays; PEAK on other days from `peak_from` to `peak_to`; OFFPEAK otherwise. Band edges
are whole hours and Oslo's offset is a whole number of hours, so the band is constant
within each UTC hour: `bands_by_hour` gives the engine a table of hours.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from forvalg.domain.calendar import WorkingCalendar
from forvalg.domain.numbering import CallClass
from forvalg.domain.routing import SELECTABLE

UNITS_PER_NOK = 10_000
_PLACES = Decimal("0.0001")
HOUR = timedelta(hours=1)


class TimeBand(StrEnum):
    PEAK = "PEAK"
    OFFPEAK = "OFFPEAK"
    WEEKEND = "WEEKEND"


class InvalidTariff(ValueError):
    """A tariff file that cannot be used; the message names the file and the key."""


def units(amount: Decimal) -> int:
    """NOK with at most four decimals as integer ten-thousandths."""
    return int(amount * UNITS_PER_NOK)


def nok(amount_units: int) -> Decimal:
    return (Decimal(amount_units) / UNITS_PER_NOK).quantize(_PLACES)


def charge_units(duration_s: int, rate_units: int, minimum_units: int) -> int:
    """Per-second charge in units, half-up, with the minimum for any billable call."""
    if duration_s <= 0:
        return 0
    return max((duration_s * rate_units + 30) // 60, minimum_units)


@dataclass(frozen=True)
class Tariff:
    version: str
    peak_from: time
    peak_to: time
    minimum_charge: Decimal
    rates: Mapping[tuple[CallClass, TimeBand], Decimal]
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar, compare=False)

    def band(self, instant: datetime) -> TimeBand:
        local = instant.astimezone(self.calendar.zone)
        if not self.calendar.is_working_day(local.date()):
            return TimeBand.WEEKEND
        if self.peak_from <= local.time() < self.peak_to:
            return TimeBand.PEAK
        return TimeBand.OFFPEAK

    def rate_units(self, call_class: CallClass, band: TimeBand) -> int:
        return units(self.rates[(call_class, band)])

    def charge(self, call_class: CallClass, band: TimeBand, duration_s: int) -> Decimal:
        """What an operator pays for carrying one call of this class in this band."""
        rate = self.rate_units(call_class, band)
        return nok(charge_units(duration_s, rate, units(self.minimum_charge)))

    def bands_by_hour(self, first: datetime, last: datetime) -> Iterator[tuple[datetime, TimeBand]]:
        """(UTC hour start, band) for every hour from `first`'s to `last`'s."""
        hour = first.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        while hour <= last:
            offset = hour.astimezone(self.calendar.zone).utcoffset()
            if offset is None or offset % HOUR:
                raise InvalidTariff(f"{self.calendar.zone}: offset {offset} is not whole hours")
            yield hour, self.band(hour)
            hour += HOUR

    def rows(self) -> Iterator[tuple[str, str, int]]:
        """(call class, band, rate in units per minute) for the engine."""
        for (call_class, band), rate in sorted(self.rates.items()):
            yield call_class.value, band.value, units(rate)


def tariff_from_toml(text: str, source: str) -> Tariff:
    """Parse a tariff file; every error names `source` and the key at fault."""
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidTariff(f"{source}: not TOML: {exc}") from None
    version = data.get("version")
    if not isinstance(version, str) or not version:
        raise InvalidTariff(f"{source}: version: a non-empty string is required")
    bands = _table(data, "time_bands", source)
    peak_from = _hour(bands, "peak_from", source)
    peak_to = _hour(bands, "peak_to", source)
    if not peak_from < peak_to:
        raise InvalidTariff(f"{source}: time_bands: peak_from must be before peak_to")
    minimum = _money(data.get("minimum_charge_nok"), "minimum_charge_nok", source)
    table = _table(data, "rates", source)
    rates: dict[tuple[CallClass, TimeBand], Decimal] = {}
    for name, per_band in table.items():
        try:
            call_class = CallClass(name)
        except ValueError:
            raise InvalidTariff(f"{source}: rates.{name}: not a call class") from None
        if call_class not in SELECTABLE:
            raise InvalidTariff(f"{source}: rates.{name}: no operator carries {name} calls")
        if not isinstance(per_band, dict):
            raise InvalidTariff(f"{source}: rates.{name}: a table of PEAK, OFFPEAK, WEEKEND")
        for band in TimeBand:
            key = f"rates.{name}.{band}"
            rates[(call_class, band)] = _money(per_band.get(band.value), key, source)
        extra = set(per_band) - {b.value for b in TimeBand}
        if extra:
            raise InvalidTariff(f"{source}: rates.{name}.{sorted(extra)[0]}: not a time band")
    missing = sorted(c.value for c in SELECTABLE if (c, TimeBand.PEAK) not in rates)
    if missing:
        raise InvalidTariff(f"{source}: rates.{missing[0]}: missing (every class carried)")
    return Tariff(version, peak_from, peak_to, minimum, rates)


def _table(data: Mapping[str, object], key: str, source: str) -> dict[str, object]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise InvalidTariff(f"{source}: [{key}]: the table is missing")
    return value


def _hour(bands: Mapping[str, object], key: str, source: str) -> time:
    value = bands.get(key)
    try:
        parsed = time.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.minute or parsed.second or parsed.microsecond:
        raise InvalidTariff(
            f"{source}: time_bands.{key}: {value!r} is not a whole hour like '08:00'"
        )
    return parsed


def _money(value: object, key: str, source: str) -> Decimal:
    if isinstance(value, Decimal | int | str) and not isinstance(value, bool):
        try:
            amount = Decimal(value)
        except InvalidOperation:
            amount = Decimal(-1)
        if amount >= 0 and amount == amount.quantize(_PLACES):
            return amount
    raise InvalidTariff(
        f"{source}: {key}: {value!r} is not an amount in NOK with at most 4 decimals"
    )
