"""Routing table exports for the exchanges, and the list of versions.

An export reads the table behind the wall as the system principal
`system:routing-exporter` (purpose provisioning), in one unit of work: one decision for
the routing rows (every line read is a subject) and one for the operators' carrier
selection codes. Files are written only after that unit of work has committed, so the
ledger holds the export before any file does, and only after the rows read recompute to
the version's content hash. docs/ROUTING.md describes every file.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from forvalg.domain.routing_table import (
    RoutingRow,
    RoutingTableCorrupt,
    RoutingVersion,
    content_hash,
)
from forvalg.wall import Purpose, Wall
from forvalg.wall.principals import ROUTING_EXPORTER
from forvalg.wall.routing import SinceAfterVersion, TableAt, UnknownVersion
from forvalg.wholesale import drouting

TABLE_COLUMNS = ("number", "operator_id", "csc", "option")
DELTA_COLUMNS = ("action", *TABLE_COLUMNS)
DEFAULT_GATEWAY = "127.0.0.1:5060"
DEFAULT_SIP_DOMAIN = "localhost"


class ExportRefused(ValueError):
    """An export that cannot be made as asked (no such version, --since after it)."""


@dataclass(frozen=True, slots=True)
class Exported:
    version: RoutingVersion
    files: list[Path]
    delta_changes: int | None


def table_name(version: int) -> str:
    return f"routing-{version}.csv"


def delta_name(since: int, version: int) -> str:
    return f"routing-{since}-{version}.delta.csv"


def exchange_name(version: int) -> str:
    return f"kamailio-drouting-{version}"


class RoutingExporter:
    def __init__(self, wall: Wall) -> None:
        self._wall = wall

    def versions(self) -> list[RoutingVersion]:
        """Every version, version 0 first."""
        with self._wall.access(ROUTING_EXPORTER, Purpose.PROVISIONING, "routing-versions") as g:
            return g.routing.versions()

    def history(self) -> tuple[pa.Table, dict[str, str]]:
        """Every preselection period and the active carrier selection codes: what the
        exchanges route calls by over time (the synthetic exchange of `forvalg demo`
        loads it), in one provisioning access."""
        with self._wall.access(ROUTING_EXPORTER, Purpose.PROVISIONING, "routing-history") as g:
            return g.traffic.preselection_history(), g.traffic.carrier_codes()

    def export(
        self,
        out: Path,
        *,
        version: int | None = None,
        since: int | None = None,
        gateway: str = DEFAULT_GATEWAY,
        sip_domain: str = DEFAULT_SIP_DOMAIN,
    ) -> Exported:
        """Write the full table at `version` (default: the latest), with `since` the
        delta from that version, and the Kamailio drouting tables, into `out`."""
        label = f"routing-export:{'latest' if version is None else version}"
        try:
            with self._wall.access(ROUTING_EXPORTER, Purpose.PROVISIONING, label) as g:
                table = g.routing.table(version, since=since)
                changed = [] if table.delta is None else [c.row for c in table.delta]
                named = {r.operator_id for r in [*table.rows, *changed]}
                carriers = {o.id: o.csc for o in g.operators.standing(named).values()}
        except (UnknownVersion, SinceAfterVersion) as exc:
            raise ExportRefused(str(exc)) from None
        if content_hash(table.rows) != table.version.content_hash:
            raise RoutingTableCorrupt(
                f"the rows of version {table.version.version} do not hash to its content hash"
            )
        return _write(out, table, carriers, gateway=gateway, sip_domain=sip_domain)


def _write(
    out: Path, table: TableAt, carriers: Mapping[str, str], *, gateway: str, sip_domain: str
) -> Exported:
    at = table.version
    out.mkdir(parents=True, exist_ok=True)
    written = [out / table_name(at.version)]
    _replace(written[0], _csv(TABLE_COLUMNS, (_fields(r, carriers) for r in table.rows)))
    sidecar: dict[str, Any] = {
        "version": at.version,
        "content_hash": at.content_hash,
        "effective_at": at.effective_at.isoformat(),
        "order_id": at.order_id,
        "rows": at.rows,
        "table": table_name(at.version),
        "exchange": exchange_name(at.version),
    }
    if table.base is not None and table.delta is not None:
        name = delta_name(table.base.version, at.version)
        rows = ((c.action.value, *_fields(c.row, carriers)) for c in table.delta)
        _replace(out / name, _csv(DELTA_COLUMNS, rows))
        written.append(out / name)
        sidecar["delta"] = {
            "file": name,
            "since": table.base.version,
            "since_content_hash": table.base.content_hash,
            "changes": len(table.delta),
        }
    exchange = out / exchange_name(at.version)
    exchange.mkdir(exist_ok=True)
    files = drouting.tables(table.rows, carriers, gateway=gateway, domain=sip_domain)
    for name, text in files.items():
        _replace(exchange / name, text)
    written.append(exchange)
    sidecar_path = out / f"routing-{at.version}.json"
    _replace(sidecar_path, json.dumps(sidecar, indent=2) + "\n")
    written.append(sidecar_path)
    return Exported(at, written, None if table.delta is None else len(table.delta))


def _fields(row: RoutingRow, carriers: Mapping[str, str]) -> tuple[str, str, str, str]:
    return (row.number, row.operator_id, carriers[row.operator_id], row.option.value)


def _csv(header: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _replace(path: Path, text: str) -> None:
    """Write `path` whole or not at all: a reader never sees half a file."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
