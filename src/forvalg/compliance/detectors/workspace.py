"""The detectors' shared ground: the inputs in an engine (DuckDB unless told, or Spark:
`SqlEngine`), the contacts that count, exposure.

Inputs (Arrow):

- contacts (INTERFACES §4): `contact_id`, `time_utc` (timestamp, UTC), `number`,
  `channel`, `direction` (`OUTBOUND` | `INBOUND`), `agent_id`, `campaign_id` (null or
  empty for none), `outcome`;
- CPS events: `number`, `kind` (`ORDER_RECEIVED`, `TRANSFER`, `LOSS`, ...), `at`
  (timestamp, UTC) and, optionally, `letter_earliest` (timestamp, UTC: the earliest
  instant the neutral customer letter about this order can arrive; null when none);
- the population: every line a campaign could have contacted (an array of numbers).

Which contacts count. Only outbound contacts to lines of the population: an inbound
contact is the customer's own initiative and never counts as targeting. An outbound
contact is *explained* when the same line contacted retail itself (inbound) within
`explain_window` before it: the customer may have said they are leaving; a call back
is legitimate. Explained contacts count towards a subject's period but not as hits.

Exposure. A line is exposed while it is in one of its intervals (e.g. the 30 days after
a CPS event); intervals of one line are merged, so a line is exposed at most once at a
time. `Exposure` integrates the number of exposed lines over time, so the exposed
line-time of any period is two look-ups.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

import duckdb
import numpy as np
import pyarrow as pa

from forvalg.engines.dialect import DUCKDB, Dialect

DAY_US = 86_400_000_000
CONTACT_COLUMNS = ("contact_id", "time_utc", "number", "direction", "agent_id", "campaign_id")
EVENT_COLUMNS = ("number", "kind", "at")
# Honey-lines: the line and when its decoy order was received (store.honey_lines.SCHEMA).
HONEY_COLUMNS = ("number", "created_at")
HONEY_NONE = pa.table(
    {"number": pa.array([], pa.string()), "created_at": pa.array([], pa.timestamp("us", "UTC"))}
)
SUBJECT_KINDS = ("campaign_id", "agent_id")


class DetectionInputError(ValueError):
    """An input table without a column the detectors need."""


@dataclass(frozen=True, slots=True)
class DetectionSettings:
    targeting_window: timedelta = timedelta(days=30)  # "after a CPS event" lasts this long
    targeting_kinds: tuple[str, ...] = ("ORDER_RECEIVED", "TRANSFER", "LOSS")
    receipt_window: timedelta = timedelta(days=7)  # "soon after order receipt"
    explain_window: timedelta = timedelta(days=30)  # an inbound contact explains this long
    sample_size: int = 10  # contact ids quoted as evidence
    honey_window: timedelta = timedelta(days=60)  # a decoy order is "recent" this long
    mass_share: float = 0.5  # a subject reaching this share of all lines is not targeting

    def __post_init__(self) -> None:
        for name in ("targeting_window", "receipt_window", "explain_window", "honey_window"):
            if getattr(self, name) <= timedelta(0):
                raise ValueError(f"{name} must be positive")
        if self.targeting_window % timedelta(days=1):
            raise ValueError("targeting_window must be whole days")


def _micros(column: pa.ChunkedArray | pa.Array) -> pa.Array | pa.ChunkedArray:
    if not pa.types.is_timestamp(column.type):
        raise DetectionInputError(f"expected a timestamp column, got {column.type}")
    if column.type.tz is None:
        raise DetectionInputError("timestamps must be timezone-aware (UTC)")
    return column.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64())


def _require(table: pa.Table, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise DetectionInputError(f"{what}: missing column(s) {', '.join(missing)}")


class SqlEngine(Protocol):
    """Where a workspace's SQL runs: an in-memory DuckDB (`DuckDBEngine`, the default) or a
    Spark session (`spark_engine.SparkEngine`). The port is this narrow so that every
    query stays one definition in the detectors: an engine only registers Arrow tables,
    materialises a named table from a query, and answers a query as Arrow."""

    dialect: Dialect

    def register(self, name: str, table: pa.Table) -> None: ...

    def create(self, name: str, sql: str) -> None:
        """(Re)create table `name` as the result of `sql`, computed once."""
        ...

    def query(self, sql: str) -> pa.Table: ...

    def close(self) -> None: ...


class DuckDBEngine:
    """One in-memory DuckDB connection."""

    dialect = DUCKDB

    def __init__(self) -> None:
        self.con = duckdb.connect()

    def register(self, name: str, table: pa.Table) -> None:
        self.con.register(name, table)

    def create(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")

    def query(self, sql: str) -> pa.Table:
        result = self.con.sql(sql).to_arrow_table()
        assert result is not None
        return result

    def close(self) -> None:
        self.con.close()


class Workspace:
    """The inputs registered in one engine (DuckDB unless told), with the counted contacts
    (`subject_contacts`) built once for every detector of the run."""

    def __init__(
        self,
        contacts: pa.Table,
        events: pa.Table,
        population: pa.Array | pa.ChunkedArray,
        settings: DetectionSettings,
        honey: pa.Table | None = None,
        *,
        engine: SqlEngine | None = None,
    ) -> None:
        _require(contacts, CONTACT_COLUMNS, "contacts")
        _require(events, EVENT_COLUMNS, "CPS events")
        honey = HONEY_NONE if honey is None else honey
        _require(honey, HONEY_COLUMNS, "honey-lines")
        self.settings = settings
        letter = (
            _micros(events.column("letter_earliest"))
            if "letter_earliest" in events.column_names
            else pa.nulls(events.num_rows, pa.int64())
        )
        contacts_in = pa.table(
            {
                "contact_id": contacts.column("contact_id").cast(pa.string()),
                "t": _micros(contacts.column("time_utc")),
                "number": contacts.column("number").cast(pa.string()),
                "direction": contacts.column("direction").cast(pa.string()),
                "agent_id": contacts.column("agent_id").cast(pa.string()),
                "campaign_id": contacts.column("campaign_id").cast(pa.string()),
            }
        )
        events_in = pa.table(
            {
                "number": events.column("number").cast(pa.string()),
                "kind": events.column("kind").cast(pa.string()),
                "event_t": _micros(events.column("at")),
                "letter": letter,
            }
        )
        honey_in = pa.table(
            {
                "number": honey.column("number").cast(pa.string()),
                "t0": _micros(honey.column("created_at")),
            }
        )
        self.engine = DuckDBEngine() if engine is None else engine
        self.dialect = self.engine.dialect
        self.engine.register("contacts_in", contacts_in)
        self.engine.register("events_in", events_in)
        self.engine.register("population_in", pa.table({"number": population.cast(pa.string())}))
        self.engine.register("honey_in", honey_in)
        self.engine.create(
            "pop", "SELECT DISTINCT number FROM population_in WHERE number IS NOT NULL"
        )
        self.lines = self._count("SELECT count(*) FROM pop")
        self.engine.create("outbound", _outbound_sql(self.dialect, micros(settings.explain_window)))
        self.engine.create(
            "subject_contacts",
            """
            SELECT 'campaign_id' AS kind, campaign_id AS id, contact_id, t, number, explained
            FROM outbound WHERE campaign_id IS NOT NULL
            UNION ALL
            SELECT 'agent_id', agent_id, contact_id, t, number, explained
            FROM outbound WHERE agent_id IS NOT NULL AND agent_id <> ''
            """,
        )

    def query(self, sql: str) -> pa.Table:
        """The result of `sql` as an Arrow table."""
        return self.engine.query(sql)

    def close(self) -> None:
        self.engine.close()

    def _count(self, sql: str) -> int:
        return int(self.query(sql).column(0)[0].as_py())

    def merged(self, name: str, intervals_sql: str) -> Exposure:
        """Create table `name` (number, s, e) of the intervals [s, e) that `intervals_sql`
        selects (columns number, s, e), merged per line and limited to the population;
        register `name_steps` (point, exposed: the exposed lines from each change point on,
        with a point at every UTC midnight between the first and the last, see
        `Exposure.daily_steps`) and return their `Exposure`."""
        self.engine.create(
            name,
            f"""
            WITH iv AS (
                SELECT number, s, e FROM ({intervals_sql}) AS x {self.dialect.semi_join} pop
                USING (number)
                WHERE s IS NOT NULL AND e > s
            ), m AS (
                SELECT *, max(e) OVER (
                    PARTITION BY number ORDER BY s, e
                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end
                FROM iv
            ), g AS (
                SELECT *, sum(CASE WHEN prev_end IS NULL OR s > prev_end THEN 1 ELSE 0 END)
                    OVER (PARTITION BY number ORDER BY s, e ROWS UNBOUNDED PRECEDING) AS grp
                FROM m
            )
            SELECT number, min(s) AS s, max(e) AS e FROM g GROUP BY number, grp
            """,
        )
        bounds = self.query(f"SELECT s, e FROM {name}")
        exposure = Exposure.of(
            bounds.column("s").to_numpy().astype(np.int64),
            bounds.column("e").to_numpy().astype(np.int64),
        )
        points, exposed = exposure.daily_steps()
        self.engine.register(f"{name}_steps", pa.table({"point": points, "exposed": exposed}))
        return exposure


def _outbound_sql(dialect: Dialect, explain_us: int) -> str:
    """The counted outbound contacts, each `explained` when its line's latest inbound
    contact at or before it is at most `explain_us` earlier."""
    common = f"""
        WITH o AS (
            SELECT contact_id, t, number, agent_id, NULLIF(campaign_id, '') AS campaign_id
            FROM contacts_in {dialect.semi_join} pop USING (number)
            WHERE direction = 'OUTBOUND' AND t IS NOT NULL
        ), i AS (
            SELECT number, t FROM contacts_in WHERE direction = 'INBOUND' AND t IS NOT NULL
        )"""
    if dialect.asof_join:
        return f"""{common}
        SELECT o.*, coalesce(o.t - i.t <= {explain_us}, false) AS explained
        FROM o ASOF LEFT JOIN i ON o.number = i.number AND o.t >= i.t
        """
    # Spark has no ASOF JOIN: the latest inbound instant at or before each outbound
    # contact is the running max of inbound instants over the line's contacts in time
    # order, an inbound contact sorting before an outbound one at the same instant
    # (`o.t >= i.t` above). Same rows, same `explained`.
    return f"""{common}, u AS (
            SELECT contact_id, t, number, agent_id, campaign_id, 1 AS src FROM o
            UNION ALL
            SELECT CAST(NULL AS STRING), t, number, CAST(NULL AS STRING),
                   CAST(NULL AS STRING), 0 FROM i
        ), w AS (
            SELECT *, max(CASE WHEN src = 0 THEN t END) OVER (
                PARTITION BY number ORDER BY t, src ROWS UNBOUNDED PRECEDING) AS last_in
            FROM u
        )
        SELECT contact_id, t, number, agent_id, campaign_id,
               coalesce(t - last_in <= {explain_us}, false) AS explained
        FROM w WHERE src = 1
        """


@dataclass(frozen=True, slots=True)
class Exposure:
    """The number of exposed lines as a step function of time, and its integral."""

    points: np.ndarray  # sorted change points
    exposed: np.ndarray  # exposed lines just after each point
    integral: np.ndarray  # exposed line-time from the first point up to each point

    @classmethod
    def of(cls, starts: np.ndarray, ends: np.ndarray) -> Exposure:
        points = np.concatenate([starts, ends])
        steps = np.concatenate([np.ones(len(starts)), -np.ones(len(ends))])
        order = np.argsort(points, kind="stable")
        points, steps = points[order], steps[order]
        exposed = np.cumsum(steps)
        widths = np.diff(points).astype(np.float64)
        integral = np.concatenate([[0.0], np.cumsum(exposed[:-1] * widths)])
        return cls(points, exposed, integral)

    def steps(self) -> tuple[np.ndarray, np.ndarray]:
        """Each distinct change point and the exposed lines from it until the next."""
        last = len(self.points) - 1 - np.unique(self.points[::-1], return_index=True)[1]
        return self.points[last], self.exposed[last].astype(np.int64)

    def daily_steps(self) -> tuple[np.ndarray, np.ndarray]:
        """`steps()` with a point added at every UTC midnight from the day of the first
        point to the day of the last (the same step function): a look-up of the exposed
        lines at an instant then finds a point on the instant's own day, which is what the
        Spark form of the timing look-up needs (a window per day, timing.py); DuckDB's
        ASOF JOIN reads the same table."""
        points, exposed = self.steps()
        if len(points) == 0:
            return points, exposed
        days = np.arange(points[0] // DAY_US, points[-1] // DAY_US + 1, dtype=np.int64) * DAY_US
        days = days[~np.isin(days, points)]
        k = np.searchsorted(points, days, side="right") - 1
        at_days = np.where(k >= 0, exposed[np.maximum(k, 0)], 0).astype(np.int64)
        merged = np.concatenate([points, days])
        order = np.argsort(merged, kind="stable")
        return merged[order], np.concatenate([exposed, at_days])[order]

    def upto(self, t: np.ndarray) -> np.ndarray:
        """Exposed line-time before each instant of `t`."""
        t = np.asarray(t, dtype=np.int64)
        if len(self.points) == 0:
            return np.zeros(len(t))
        k = np.searchsorted(self.points, t, side="right") - 1
        inside = k >= 0
        kk = np.where(inside, k, 0)
        value = self.integral[kk] + self.exposed[kk] * (t - self.points[kk])
        result: np.ndarray = np.where(inside, value, 0.0)
        return result

    def between(self, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """Exposed line-time in [start, end), per pair."""
        result: np.ndarray = self.upto(end) - self.upto(start)
        return result


def micros(span: timedelta) -> int:
    """A duration in whole microseconds, the detectors' unit of time."""
    return span // timedelta(microseconds=1)
