"""The access detectors' inputs: ledger entries and work items as Arrow tables, checked.

The caller (`forvalg detect`) builds both tables from the store; the detectors stay pure.

Ledger entries (`ENTRY_SCHEMA`), one row per access decision (`forvalg.ledger.port.
AccessEvent`, with its place in the ledger):

| column          | type                    | notes                                          |
|-----------------|-------------------------|------------------------------------------------|
| `index`         | int64                   | the entry's leaf index (for inclusion proofs)  |
| `at`            | timestamp, tz-aware     | any unit and zone; read as UTC microseconds    |
| `principal`     | string                  | `user:<id>` is staff (the only ones tested)    |
| `organisation`  | string                  |                                                |
| `roles`         | list<string>            | the peer group is the sorted set of roles      |
| `purpose`       | string                  | `""` or null: none stated                      |
| `work_item`     | string, nullable        | the work item named                            |
| `action`        | string                  | `read`, `write` (`authenticate`: sign-ins)     |
| `resource`      | string                  | the data category (`cps.order`, ...)           |
| `decision`      | string                  | `allow` or `deny`                              |
| `reason`        | string, nullable        | a denial's starts with its code: `E_...: ...`  |
| `subject_count` | int64                   | the entry's count of subjects                  |
| `subjects`      | list<string>            | every subject's pseudonym; null: none          |
| `break_glass`   | bool                    | allowed by break-glass; null: false            |

`subjects` must list *every* subject of a staff entry: the ledger names them only when
there are few (at most 10), so the caller expands a bulk decision's subject set (kept
by the store) first. A staff entry with fewer subjects listed than `subject_count` is
refused rather than silently undercounted.

Work items (`WORK_ITEM_SCHEMA`), one row per work item, orders included (an order is a
work item by its own id: opened by its operator at creation, its line as its one line,
closed when it reached a final state, as `forvalg.wall.work.resolve` makes it):

| column        | type                     | notes                                       |
|---------------|--------------------------|---------------------------------------------|
| `id`          | string                   | unique                                      |
| `kind`        | string                   | a `WorkItemKind`: `order`, `fault_ticket`, ... |
| `opened_by`   | string                   | a principal id                              |
| `opened_at`   | timestamp, tz-aware      |                                             |
| `closed_at`   | timestamp, tz-aware, nullable | null: still open                       |
| `lines`       | list<string>             | the pseudonyms of its lines; null: none     |
| `operator_id`, `period` | string, nullable | optional; not used by the detectors       |

A missing column, a naive timestamp, a value of the wrong type, a null where none is
allowed, an unknown decision or kind, or a duplicate work item id is a
`DetectionInputError` naming what is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc

from forvalg.compliance.detectors.findings import Tested
from forvalg.compliance.detectors.workspace import (
    DetectionInputError,
    DuckDBEngine,
    SqlEngine,
    micros,
)
from forvalg.domain.statistics import Severity
from forvalg.domain.work_items import WorkItemKind
from forvalg.engines.dialect import Dialect

STAFF_PREFIX = "user:"  # forvalg.wall.principals.staff_principal
TIMESTAMP = pa.timestamp("us", tz="UTC")
STRINGS = pa.list_(pa.string())

ENTRY_SCHEMA = pa.schema(
    [
        pa.field("index", pa.int64(), nullable=False),
        pa.field("at", TIMESTAMP, nullable=False),
        pa.field("principal", pa.string(), nullable=False),
        pa.field("organisation", pa.string()),
        pa.field("roles", STRINGS),
        pa.field("purpose", pa.string()),
        pa.field("work_item", pa.string()),
        pa.field("action", pa.string(), nullable=False),
        pa.field("resource", pa.string(), nullable=False),
        pa.field("decision", pa.string(), nullable=False),
        pa.field("reason", pa.string()),
        pa.field("subject_count", pa.int64(), nullable=False),
        pa.field("subjects", STRINGS),
        pa.field("break_glass", pa.bool_()),
    ]
)
WORK_ITEM_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("opened_by", pa.string(), nullable=False),
        pa.field("opened_at", TIMESTAMP, nullable=False),
        pa.field("closed_at", TIMESTAMP),
        pa.field("lines", STRINGS),
    ]
)
DECISIONS = ("allow", "deny")
KINDS = tuple(k.value for k in WorkItemKind)


@dataclass(frozen=True, slots=True)
class AccessSettings:
    """The access detectors' choices (docs/DETECTION.md, "Access")."""

    # The access tests count the entries of this span up to the last entry (None: every
    # entry given). Whole history would compare a colleague of ten years with a new one.
    window: timedelta | None = timedelta(days=30)
    min_peers: int = 5  # fewer peers with the same roles: compare within the organisation
    dispersion_floor: float = 0.2  # peers' workloads are never assumed closer than ±20%
    confidence: float = 0.95  # the peers' variance is taken at this upper confidence bound
    break_glass_repeat: int = 3  # this many break-glass uses in the window: MEDIUM
    # One break-glass request is an entry per category it reads: a principal's break-glass
    # allows with the same justification, each this close to the one before, are one use.
    break_glass_gap: timedelta = timedelta(minutes=1)
    follow_up_window: timedelta = timedelta(hours=24)  # a break-glass's follow-up ticket
    sample_size: int = 10  # ledger indices quoted as evidence

    def __post_init__(self) -> None:
        if self.window is not None and self.window <= timedelta(0):
            raise ValueError("window must be positive")
        if self.min_peers < 2:
            raise ValueError("min_peers must be at least 2")
        if not 0.0 <= self.dispersion_floor < 10.0:
            raise ValueError("dispersion_floor must lie in [0, 10)")
        if not 0.5 <= self.confidence < 1.0:
            raise ValueError("confidence must lie in [0.5, 1)")
        if self.break_glass_repeat < 1:
            raise ValueError("break_glass_repeat must be at least 1")
        if self.break_glass_gap < timedelta(0):
            raise ValueError("break_glass_gap cannot be negative")
        if self.follow_up_window < timedelta(0):
            raise ValueError("follow_up_window cannot be negative")
        if self.sample_size < 1:
            raise ValueError("sample_size must be at least 1")


def ledger_entries(table: pa.Table) -> pa.Table:
    """`table` checked and cast to `ENTRY_SCHEMA` (timestamps in UTC microseconds; null
    roles, subjects, purpose and break-glass as empty or false)."""
    columns = _columns(table, ENTRY_SCHEMA, "ledger entries")
    columns["purpose"] = pc.fill_null(columns["purpose"], "")
    columns["organisation"] = pc.fill_null(columns["organisation"], "")
    columns["break_glass"] = pc.fill_null(columns["break_glass"], False)
    for name in ("roles", "subjects"):
        columns[name] = _empty_lists(columns[name])
    entries = pa.table(columns, schema=ENTRY_SCHEMA)
    unknown = pc.unique(
        pc.filter(
            entries["decision"], pc.invert(pc.is_in(entries["decision"], pa.array(DECISIONS)))
        )
    )
    if len(unknown):
        raise DetectionInputError(
            f"ledger entries: decision must be allow or deny, not {unknown[0].as_py()!r}"
        )
    staff = pc.starts_with(entries["principal"], STAFF_PREFIX)
    short = pc.and_(
        staff, pc.less(pc.list_value_length(entries["subjects"]), entries["subject_count"])
    )
    if pc.any(short).as_py():
        first = pc.filter(entries["index"], short)[0].as_py()
        raise DetectionInputError(
            "ledger entries: a staff entry lists fewer subjects than its subject_count "
            f"(index {first}); expand bulk decisions' subject sets into `subjects`"
        )
    return entries


def work_items(table: pa.Table) -> pa.Table:
    """`table` checked and cast to `WORK_ITEM_SCHEMA` (extra columns dropped); `Ledger`
    also checks that the ids are unique."""
    columns = _columns(table, WORK_ITEM_SCHEMA, "work items")
    columns["lines"] = _empty_lists(columns["lines"])
    items = pa.table(columns, schema=WORK_ITEM_SCHEMA)
    unknown = pc.unique(
        pc.filter(items["kind"], pc.invert(pc.is_in(items["kind"], pa.array(KINDS))))
    )
    if len(unknown):
        raise DetectionInputError(f"work items: unknown kind {unknown[0].as_py()!r}")
    return items


def _columns(table: pa.Table, schema: pa.Schema, what: str) -> dict[str, pa.ChunkedArray]:
    missing = [f.name for f in schema if f.name not in table.column_names]
    if missing:
        raise DetectionInputError(f"{what}: missing column(s) {', '.join(missing)}")
    columns = {}
    for f in schema:
        column = table.column(f.name)
        if pa.types.is_timestamp(f.type):
            if not pa.types.is_timestamp(column.type):
                raise DetectionInputError(
                    f"{what}: {f.name} must be a timestamp, not {column.type}"
                )
            if column.type.tz is None:
                raise DetectionInputError(f"{what}: {f.name} must be timezone-aware (UTC)")
        try:
            column = column.cast(f.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise DetectionInputError(
                f"{what}: {f.name} must be {f.type}, not {column.type}"
            ) from exc
        if not f.nullable and column.null_count:
            raise DetectionInputError(f"{what}: {f.name} has null values")
        columns[f.name] = column
    return columns


def _empty_lists(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Null lists as empty ones (a decision that touched no subject)."""
    if not column.null_count:
        return column
    empty = pa.array([[]] * len(column), type=column.type)
    return pc.if_else(pc.is_null(column), empty, column)


# The columns of a `Ledger`'s `entries` table.
ENTRY_COLUMNS = (
    "leaf",
    "t",
    "principal",
    "organisation",
    "roles",
    "purpose",
    "work_item",
    "action",
    "resource",
    "decision",
    "reason",
    "subject_count",
    "subjects",
    "break_glass",
)


class Ledger:
    """The checked inputs in one engine (`workspace.SqlEngine`: an in-memory DuckDB unless
    told, or the run's Spark session), for the access detectors to share: `entries`, the
    *staff* entries only (`leaf` their index, `t` the instant in UTC microseconds), and,
    when work items are given, `items` (`opened`, `closed` in microseconds)."""

    def __init__(
        self, entries: pa.Table, items: pa.Table | None = None, *, engine: SqlEngine | None = None
    ) -> None:
        self.engine: SqlEngine = DuckDBEngine() if engine is None else engine
        self.dialect = self.engine.dialect
        checked = ledger_entries(entries)
        t = checked["at"].cast(pa.int64())
        bounds = pc.min_max(t).as_py()
        self._first: int | None = bounds["min"]
        self._last: int | None = bounds["max"]
        # Renamed and converted here, in Arrow: `leaf` and `t` need no quoting in either
        # engine (`index` and `at` are keywords) and no dialect.
        columns = {"leaf": checked["index"], "t": t}
        columns |= {name: checked[name] for name in ENTRY_COLUMNS if name not in columns}
        work_item = checked["work_item"]
        columns["work_item"] = pc.if_else(pc.equal(work_item, ""), None, work_item)
        staff = pc.starts_with(checked["principal"], STAFF_PREFIX)
        self.engine.register("entries", pa.table(columns).filter(staff))
        self.has_items = items is not None
        if items is not None:
            checked_items = work_items(items)
            self.engine.register(
                "items",
                pa.table(
                    {
                        "id": checked_items["id"],
                        "kind": checked_items["kind"],
                        "opened_by": checked_items["opened_by"],
                        "opened": checked_items["opened_at"].cast(pa.int64()),
                        "closed": checked_items["closed_at"].cast(pa.int64()),
                        "lines": checked_items["lines"],
                    }
                ),
            )
            twice = self.query(
                "SELECT id FROM items GROUP BY id HAVING count(*) > 1 ORDER BY id LIMIT 1"
            )
            if twice.num_rows:
                raise DetectionInputError(
                    f"work items: id {twice.column(0)[0].as_py()!r} appears more than once"
                )

    def create(self, name: str, sql: str) -> None:
        """(Re)create table `name` in the engine as the result of `sql`."""
        self.engine.create(name, sql)

    def count(self, table: str) -> int:
        return int(self.query(f"SELECT count(*) FROM {table}").column(0)[0].as_py())

    def query(self, sql: str) -> pa.Table:
        return self.engine.query(sql)

    def window(self, span: timedelta | None = None) -> dict[str, str] | None:
        """The instants of the first and last entry (all, not only staff's), as ISO
        strings, or of the last `span` up to the last entry (None: no entry)."""
        start = self.start(span)
        if start is None or self._last is None:
            return None
        return {"from": iso(start), "to": iso(self._last)}

    def start(self, span: timedelta | None = None) -> int | None:
        """The first instant (UTC microseconds) of the last `span` up to the last entry,
        or of the first entry; None with no entry."""
        if self._first is None or self._last is None:
            return None
        return self._first if span is None else max(self._first, self._last - micros(span))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


BREAK_GLASS_MARK = "; break-glass: "  # forvalg.wall.guard: how a break-glass allow's reason ends


def glass_uses(dialect: Dialect, source: str, gap: timedelta) -> str:
    """SQL: the break-glass allows of `source` (a table of `Ledger` entries) with `use`,
    the use each belongs to (unique within a principal): allows of one principal with the
    same justification, each within `gap` of the one before, are one use."""
    columns = ", ".join(ENTRY_COLUMNS)
    nth = dialect.cast_text(
        "sum(fresh) OVER (PARTITION BY principal, justification ORDER BY t, leaf"
        " ROWS UNBOUNDED PRECEDING)"
    )
    return f"""
        WITH g AS (
            SELECT *, coalesce(split_part(reason, {dialect.string(BREAK_GLASS_MARK)}, 2), '')
                   AS justification
            FROM {source} WHERE decision = 'allow' AND break_glass
        ), starts AS (
            SELECT *, CASE WHEN t - lag(t) OVER w <= {micros(gap)} THEN 0 ELSE 1 END AS fresh
            FROM g WINDOW w AS (PARTITION BY principal, justification ORDER BY t, leaf)
        )
        SELECT {columns}, justification || '#' || {nth} AS use
        FROM starts
    """


def iso(t_us: int) -> str:
    """An instant in UTC microseconds as an ISO string with `Z`."""
    return (_EPOCH + timedelta(microseconds=t_us)).isoformat().replace("+00:00", "Z")


def rule_tested(
    *,
    detector: str,
    test: str,
    principal: str,
    severity: Severity,
    summary: str,
    n: int,
    hits: int,
    evidence: Mapping[str, object],
) -> Tested:
    """A result decided by a rule, not by a test (`Tested.rule`): what the ledger records
    is a fact, so its `p_value` is 0, it takes no part in the run's Benjamini–Hochberg
    adjustment, and its `lift` is 0 (nothing is compared). `summary` has no `{p}`."""
    return Tested(
        detector=detector,
        test=test,
        subject=("principal", principal),
        p_value=0.0,
        lift=0.0,
        n=n,
        hits=hits,
        summary=summary,
        evidence=evidence,
        rule=severity,
    )


def sample(indices: Sequence[int] | None) -> list[int]:
    """Ledger indices as evidence: sorted, as plain ints."""
    return sorted(int(i) for i in indices or ())


__all__ = [
    "ENTRY_SCHEMA",
    "STAFF_PREFIX",
    "WORK_ITEM_SCHEMA",
    "AccessSettings",
    "Ledger",
    "ledger_entries",
    "rule_tested",
    "work_items",
]
