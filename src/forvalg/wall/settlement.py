"""Settlement behind the wall: the settlement job's run, its one read of a period's
rated traffic, the statements it files, and an operator's read of its own statement.

Rated CDR files are not in the database: the settlement service reads them itself, in
bulk (DuckDB). What the wall adds is the decision before the first row is read, the
check that what was read belongs to the run (the operators invoiced, the period), and
one ledger entry for the whole read, whose subjects are the operators invoiced (by
pseudonym, as every subject) — never a line: a period's traffic touches every line,
and naming millions of them per run would say nothing a regulator can use.

The run is opened, used and closed in one unit of work, so a failed run leaves nothing
behind, and a filed run covers no data afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from forvalg.domain.categories import Category
from forvalg.domain.reasons import ReasonCode
from forvalg.domain.settlement import FiledStatement
from forvalg.domain.work_items import WorkItem, WorkItemKind
from forvalg.store import statements as statement_store
from forvalg.store import work_items as work_store
from forvalg.wall.policy import Action, Scope

if TYPE_CHECKING:
    from forvalg.wall.guard import Guard, Permit


class GuardedSettlement:
    """The settlement job's unit of work, which names `run` as its work item."""

    def __init__(self, guard: Guard) -> None:
        self._g = guard

    def _named(self, permit: Permit, run: WorkItem) -> None:
        if (
            run.id != self._g.work_item
            or run.kind is not WorkItemKind.SETTLEMENT_RUN
            or run.period is None
        ):
            self._g.refuse(
                permit, ReasonCode.E_WORK_ITEM_MISMATCH, f"{run.id} is not the run named"
            )

    def _covers(self, permit: Permit, run: WorkItem, operators: Iterable[str]) -> list[str]:
        invoiced = sorted(set(operators))
        why = run.uncovered((), invoiced)
        if why is not None:
            self._g.refuse(permit, ReasonCode.E_WORK_ITEM_MISMATCH, why)
        return invoiced

    def open_run(self, run: WorkItem) -> None:
        """Open the run this unit of work names (in the ledger, like every opening)."""
        permit = self._g.permit(Action.WRITE, Category.WORK_ITEM)
        self._named(permit, run)
        self._g.record(permit, ())
        work_store.add_work_item(self._g.session, item=run)

    def close_run(self, run: WorkItem) -> WorkItem:
        """Close the run: its statements are filed, and it covers no data any more."""
        permit = self._g.permit(Action.WRITE, Category.WORK_ITEM)
        self._named(permit, run)
        self._g.record(permit, ())
        now = self._g.wall.clock.now()
        work_store.close_work_item(self._g.session, item_id=run.id, at=now)
        return replace(run, closed_at=now)

    def read_traffic(self, run: WorkItem) -> Permit:
        """Decide the run's read of the period's rated traffic, before a row is read (a
        denial raises here). The read is logged by `traffic_read`, once it is known which
        operators it invoices."""
        permit = self._g.permit(Action.READ, Category.TRAFFIC)
        self._named(permit, run)
        return permit

    def traffic_read(self, permit: Permit, run: WorkItem, operators: Iterable[str]) -> None:
        """Log the run's read of the traffic, naming the operators it invoices; refused
        if the run does not cover them."""
        self._g.record(permit, self._covers(permit, run, operators))

    def file(
        self, run: WorkItem, statements: Sequence[tuple[str, str, str, str]]
    ) -> list[FiledStatement]:
        """File `(operator, JSON body, its SHA-256, the CSV's SHA-256)` for the run's
        period, each as the next version of that operator's statement for the period."""
        g = self._g
        permit = g.permit(Action.WRITE, Category.SETTLEMENT)
        self._named(permit, run)
        operators = self._covers(permit, run, (s[0] for s in statements))
        if len(operators) != len(statements):
            raise ValueError("one statement per operator and run")
        g.record(permit, operators)
        period = str(run.period)
        # Reading the versions filed before is a read of statements too.
        reading = g.permit(Action.READ, Category.SETTLEMENT)
        before = statement_store.latest_versions(g.session, period=period, operator_ids=operators)
        g.record(reading, operators)
        now = g.wall.clock.now()
        filed = [
            FiledStatement(
                operator_id=operator,
                period=period,
                version=before.get(operator, 0) + 1,
                run_id=run.id,
                body=body,
                sha256=sha256,
                csv_sha256=csv_sha256,
                created_at=now,
            )
            for operator, body, sha256, csv_sha256 in sorted(statements)
        ]
        statement_store.add_statements(g.session, filed=filed)
        return filed


class GuardedStatements:
    """Statements as their operators read them."""

    def __init__(self, guard: Guard) -> None:
        self._g = guard

    def own(self, period: str) -> FiledStatement | None:
        """The caller's own statement for the period (its latest version), or None.
        Only for an own-rows grant: the route serves an operator its own statement,
        never anyone a statement of someone else's."""
        g = self._g
        permit = g.permit(Action.READ, Category.SETTLEMENT)
        if permit.scope is not Scope.OWN:
            g.refuse(permit, ReasonCode.E_FORBIDDEN, "statements are read by their operator")
        found = statement_store.latest(
            g.session, operator_id=g.principal.organisation, period=period
        )
        g.record(permit, ())
        return found
