"""Staff ledgers with known ground truth, for the access detectors' tests: a `Book` of
entries and work items built entry by entry, and a `clean_world` of wholesale, network,
billing and compliance staff whose every access is covered by a work item."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa

from forvalg.compliance.detectors.ledger_input import ENTRY_SCHEMA, WORK_ITEM_SCHEMA
from forvalg.wall.principals import StaffRole

START = datetime(2026, 3, 1, tzinfo=UTC)
DAYS = 30
ORGANISATION = {role.value: role.organisation for role in StaffRole}
CODES = ("E_FORBIDDEN", "E_WORK_ITEM_MISMATCH", "E_PURPOSE_REQUIRED")
OPERATORS = tuple(f"op-{c}" for c in "abcde")  # operator pseudonyms (settlement subjects)


@dataclass
class Book:
    """A ledger and its work items, built entry by entry; indices in creation order."""

    entries: list[dict[str, object]] = field(default_factory=list)
    items: list[dict[str, object]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def item(
        self,
        kind: str,
        opened_by: str,
        opened_at: datetime,
        lines: Iterable[str] = (),
        closed_at: datetime | None = None,
    ) -> str:
        item_id = f"{kind}-{next(self._ids)}"
        self.items.append(
            {
                "id": item_id,
                "kind": kind,
                "opened_by": opened_by,
                "opened_at": opened_at,
                "closed_at": closed_at,
                "lines": list(lines),
            }
        )
        return item_id

    def entry(
        self,
        principal: str,
        at: datetime,
        *,
        role: str = "wholesale_ops",
        purpose: str = "fault_repair",
        work_item: str | None = None,
        action: str = "read",
        resource: str = "cps.order",
        decision: str = "allow",
        reason: str | None = None,
        subjects: Sequence[str] = (),
        break_glass: bool = False,
        why: str = "urgent fault",
    ) -> int:
        index = len(self.entries)
        if reason is None:
            reason = "granted by test" + (f"; break-glass: {why}" if break_glass else "")
        self.entries.append(
            {
                "index": index,
                "at": at,
                "principal": principal,
                "organisation": ORGANISATION.get(role, "incumbent:wholesale"),
                "roles": [role],
                "purpose": purpose,
                "work_item": work_item,
                "action": action,
                "resource": resource,
                "decision": decision,
                "reason": reason,
                "subject_count": len(subjects),
                "subjects": list(subjects),
                "break_glass": break_glass,
            }
        )
        return index

    def worked(
        self,
        principal: str,
        at: datetime,
        lines: Sequence[str],
        *,
        role: str = "wholesale_ops",
        opened_by: str | None = None,
    ) -> int:
        """A fault ticket naming `lines`, opened just before, read under it, closed later."""
        ticket = self.item(
            "fault_ticket",
            opened_by or principal,
            at - timedelta(minutes=5),
            lines,
            closed_at=at + timedelta(hours=3),
        )
        return self.entry(
            principal,
            at,
            role=role,
            purpose="provisioning" if role == "network_provisioning" else "fault_repair",
            work_item=ticket,
            resource="cps.routing" if role == "network_provisioning" else "line.inventory",
            subjects=lines,
        )

    def denied(self, principal: str, at: datetime, code: str, role: str = "wholesale_ops") -> int:
        return self.entry(
            principal, at, role=role, decision="deny", reason=f"{code}: refused in a test"
        )

    def glass(
        self,
        principal: str,
        at: datetime,
        lines: Sequence[str],
        *,
        follow_up_after: timedelta | None = timedelta(hours=2),
        follow_up_lines: Sequence[str] | None = None,
        follow_up_by: str = "user:colleague",
    ) -> int:
        """A break-glass read (a use of its own: its own justification), with a follow-up
        ticket opened `follow_up_after` later."""
        why = f"urgent fault {len(self.entries)}"
        index = self.entry(principal, at, subjects=lines, break_glass=True, why=why)
        if follow_up_after is not None:
            self.item(
                "fault_ticket",
                follow_up_by,
                at + follow_up_after,
                lines if follow_up_lines is None else follow_up_lines,
            )
        return index

    def tables(self) -> tuple[pa.Table, pa.Table]:
        return (
            pa.Table.from_pylist(self.entries, schema=ENTRY_SCHEMA),
            pa.Table.from_pylist(self.items, schema=WORK_ITEM_SCHEMA),
        )

    def touched(self, principal: str) -> set[str]:
        """The subjects of the principal's allowed entries."""
        return {
            str(subject)
            for e in self.entries
            if e["principal"] == principal and e["decision"] == "allow"
            for subject in e["subjects"]
        }

    def indices(self, principal: str, **match: object) -> set[int]:
        return {
            int(str(e["index"]))
            for e in self.entries
            if e["principal"] == principal and all(e[k] == v for k, v in match.items())
        }


@dataclass
class World:
    book: Book
    rng: np.random.Generator
    mean: float  # wholesale operations' mean lines touched in the window
    per_ticket: int = 3  # lines on a ticket: 1 to this many
    _line: itertools.count[int] = field(default_factory=itertools.count)

    def lines(self, k: int) -> list[str]:
        """`k` fresh line pseudonyms."""
        return [f"line-{next(self._line):07d}" for _ in range(k)]

    def instant(self) -> datetime:
        return START + timedelta(seconds=float(self.rng.uniform(0, DAYS * 86_400)))

    def staff(self, principal: str, role: str, rate: float, denials: float) -> None:
        """A staff member touching about `rate` lines (one to three per ticket), every
        access covered by a ticket, and refused about `denials` times."""
        for _ in range(int(self.rng.poisson(2 * rate / (1 + self.per_ticket)))):
            lines = self.lines(int(self.rng.integers(1, self.per_ticket + 1)))
            self.book.worked(principal, self.instant(), lines, role=role)
        for _ in range(int(self.rng.poisson(denials))):
            self.book.denied(principal, self.instant(), str(self.rng.choice(CODES)), role)

    def curious(self, principal: str, multiple: float) -> None:
        """Touches `multiple` times as many lines as wholesale operations did on average,
        one line per ticket of its own (so the wall allows every look)."""
        touched: dict[object, set[str]] = {}
        for e in self.book.entries:
            if e["roles"] == ["wholesale_ops"] and e["decision"] == "allow":
                touched.setdefault(e["principal"], set()).update(e["subjects"])
        average = sum(len(s) for s in touched.values()) / len(touched)
        for _ in range(round(multiple * average)):
            self.book.worked(principal, self.instant(), self.lines(1))
        for _ in range(int(self.rng.poisson(1.5))):
            self.book.denied(principal, self.instant(), str(self.rng.choice(CODES)))


def clean_world(seed: int, *, ops: int = 20, mean: float = 60.0, per_ticket: int = 3) -> World:
    """Wholesale operations, network provisioning, billing and compliance staff with
    workloads varying ±30% from person to person (a gamma law, CV 0.3) and Poisson
    noise; every access under a work item that covers it; break-glass rare and always
    followed by a ticket."""
    rng = np.random.default_rng(seed)
    world = World(Book(), rng, mean, per_ticket)
    book = world.book

    def rate() -> float:
        return float(rng.gamma(1 / 0.09, 0.09))

    for u in range(ops):
        who = f"user:ops{u:02d}"
        world.staff(who, "wholesale_ops", mean * rate(), 1.5 * rate())
        for _ in range(int(rng.poisson(0.05))):
            book.glass(who, world.instant(), world.lines(1))
    for u in range(8):
        world.staff(f"user:net{u}", "network_provisioning", 20 * rate(), 0.5 * rate())
    for u in range(6):
        who = f"user:bill{u}"
        run = book.item("settlement_run", who, START, closed_at=START + timedelta(days=DAYS))
        for _ in range(int(rng.poisson(12 * rate()))):
            subjects = sorted(rng.choice(OPERATORS, size=int(rng.integers(1, 4)), replace=False))
            book.entry(
                who,
                world.instant(),
                role="wholesale_billing",
                purpose="settlement",
                work_item=run,
                resource="cps.traffic",
                subjects=[str(s) for s in subjects],
            )
    for u in range(6):
        who = f"user:comp{u}"
        audit = book.item("audit", who, START)
        for _ in range(int(rng.poisson(8 * rate()))):
            book.entry(
                who,
                world.instant(),
                role="compliance_officer",
                purpose="compliance_audit",
                work_item=audit,
                resource="ledger.access",
                subjects=world.lines(int(rng.integers(1, 3))),
            )
    # System jobs and subscribers are not staff: never tested, whatever they do.
    for _ in range(50):
        book.entry(
            "system:order-processor",
            world.instant(),
            role="order_processor",
            purpose="provisioning",
            subjects=world.lines(5),
        )
    book.denied("subscriber:SUB-1", world.instant(), "E_FORBIDDEN", role="subscriber")
    return world


def each_unexplained_kind(book: Book, at: datetime) -> tuple[dict[str, int], dict[str, str]]:
    """Into `book`: an allowed entry of each kind the work items do not explain (users b
    to f), entries they do explain or that need none (user a), a refusal (g) and a system
    job's entry; the entries' indices by case and the work items' ids by name."""
    items = {
        "ok": book.item("fault_ticket", "user:a", at - timedelta(hours=1), ["L1", "L2"]),
        "closed": book.item("fault_ticket", "user:a", at - timedelta(days=1), ["L1"], closed_at=at),
        "order": book.item("order", "operator:OP1", at - timedelta(days=2), ["L3"]),
        "run": book.item("settlement_run", "user:bill", at - timedelta(days=3)),
    }
    ok, closed, order, run = items.values()
    e = book.entry
    later = at + timedelta(seconds=1)
    earlier = at - timedelta(hours=2)
    contact = {"purpose": "crm_sync", "action": "write", "resource": "retail.contact"}
    cases = {
        "explained": e("user:a", at, work_item=ok, subjects=["L1"]),
        "order": e("user:a", at, work_item=order, purpose="provisioning", subjects=["L3"]),
        "closing": e("user:a", at, work_item=closed, action="write", resource="work.item"),
        "inflow": e("user:a", at, subjects=["L9"], **contact),
        "work_item_not_open": e("user:b", later, work_item=closed, subjects=["L1"]),
        "before_opening": e("user:b", earlier, work_item=ok, subjects=["L1"]),
        "unknown_work_item": e("user:c", at, work_item="FT-000000000000", subjects=["L1"]),
        "lines_not_on_work_item": e("user:d", at, work_item=ok, subjects=["L1", "L7"]),
        "purpose_mismatch": e("user:e", at, work_item=ok, purpose="marketing", subjects=["L1"]),
        "purpose_mismatch_run": e("user:e", at, work_item=run, purpose="fault_repair"),
        "no_work_item": e("user:f", at, subjects=["L1"]),
        "denied": e("user:g", at, decision="deny", reason="E_WORK_ITEM_MISMATCH: no"),
        "system": e("system:x", at, role="order_processor", purpose="provisioning"),
    }
    return cases, items
