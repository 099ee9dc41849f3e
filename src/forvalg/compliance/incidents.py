"""Incidents: findings of severity medium or above open them, compliance works them
through open -> investigating -> reported -> closed, with evidence a regulator can check
(docs/INCIDENTS.md).

`IncidentDesk.open_from_findings` is what `forvalg detect` calls after a run: one unit of
work as the detectors' job (`system:detector`), one decision to read the findings'
incidents, then per finding what `domain.incidents.on_detection` says (open, update, or
nothing). Evidence comes from two places: the caller's `evidence_for(finding)` (the
contacts and CPS events the run read; `evidence_from_tables` builds it from the run's
Arrow tables) and the ledger entries a finding names (`evidence["entry_indices"]`),
which are attached with their inclusion proofs against the latest signed checkpoint and
that checkpoint's signed note, so that `verify_evidence` (or the regulator's
`forvalg-verify inclusion`) can check them with nothing but the log's public key.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from forvalg.compliance.detectors.findings import Finding
from forvalg.domain.incidents import (
    MIN_SEVERITY,
    Detection,
    Evidence,
    EvidenceKind,
    Incident,
    IncidentError,
    IncidentState,
    Outcome,
    on_detection,
    open_incident,
)
from forvalg.domain.statistics import Severity
from forvalg.ledger.entries import read_seal
from forvalg.ledger.merkle import ProofError, leaf_hash, verify_inclusion
from forvalg.ledger.note import Checkpoint, NoteError, Verifier
from forvalg.ledger.wire import InclusionProof
from forvalg.wall import Principal, PrincipalKind, Purpose, Wall
from forvalg.wall.incidents import IncidentRecord, UnknownIncident
from forvalg.wall.ledger import LedgerKeeper
from forvalg.wall.principals import DETECTOR, UNSTATED, Statement

__all__ = [
    "EvidenceCheck",
    "EvidenceSource",
    "IncidentDesk",
    "IncidentRecord",
    "OpenReport",
    "UnknownIncident",
    "evidence_from_tables",
    "new_incident_id",
    "verify_evidence",
]

INCIDENT_PREFIX = "INC-"
# Given a finding, the contacts and CPS events it rests on (ledger entries are added by
# the desk from the finding's `entry_indices`).
EvidenceSource = Callable[[Finding], Iterable[Evidence]]


def new_incident_id() -> str:
    return INCIDENT_PREFIX + secrets.token_hex(6)


def no_evidence(_finding: Finding) -> Iterable[Evidence]:
    return ()


def detection_of(finding: Finding) -> Detection:
    return Detection(
        finding_id=finding.id,
        detector=finding.detector,
        severity=finding.severity,
        subject=dict(finding.subject),
        summary=finding.summary,
        statistics=dict(finding.statistics),
    )


def entry_indices(finding: Finding) -> list[int]:
    """The ledger entries a finding names as evidence (`evidence.entry_indices`)."""
    raw = finding.evidence.get("entry_indices") or []
    if not isinstance(raw, list | tuple) or not all(type(i) is int and i >= 0 for i in raw):
        raise IncidentError(f"finding {finding.id}: entry_indices must be entry indices")
    return sorted(set(raw))


@dataclass
class OpenReport:
    """What one `open_from_findings` did, by finding id."""

    opened: dict[str, str] = field(default_factory=dict)  # finding -> new incident
    updated: dict[str, str] = field(default_factory=dict)  # finding -> incident re-detected
    kept_closed: dict[str, str] = field(default_factory=dict)  # finding -> closed incident
    below: list[str] = field(default_factory=list)  # below the threshold, nothing open
    evidence_added: int = 0
    checkpoint: str | None = None  # the signed note ledger evidence was proved against


@dataclass(frozen=True, slots=True)
class EvidenceCheck:
    kind: EvidenceKind
    reference: str
    ok: bool
    message: str


class IncidentDesk:
    def __init__(self, *, wall: Wall, keeper: LedgerKeeper) -> None:
        self._wall = wall
        self._keeper = keeper

    def open_from_findings(
        self,
        findings: Iterable[Finding],
        *,
        evidence_for: EvidenceSource = no_evidence,
        min_severity: Severity = MIN_SEVERITY,
        principal: Principal = DETECTOR,
        label: str = "incidents:from-findings",
    ) -> OpenReport:
        """Open an incident for every finding at or above `min_severity` that has none
        open, update the open ones (new severity, statistics, evidence), and leave closed
        ones closed unless the finding came back more severe (domain.incidents). All in
        one unit of work as `principal` (the detectors' job), ledgered."""
        # One finding per id (ids are per detector, test and subject): the most severe.
        ranked = sorted(findings, key=lambda f: f.severity.rank)
        found = list({f.id: f for f in ranked}.values())
        report = OpenReport()
        if not found:
            return report
        wanted = {f.id: entry_indices(f) for f in found}
        signed = None
        if any(wanted.values()):
            # The latest signed checkpoint, or a fresh one if the entries are newer.
            signed = self._keeper.checkpoint(fresh=False)
            if max(max(i) for i in wanted.values() if i) >= signed.checkpoint.size:
                signed = self._keeper.checkpoint()
            report.checkpoint = signed.note
        with self._wall.access(principal, Purpose.COMPLIANCE_AUDIT, label) as guard:
            latest = guard.incidents.latest(list(wanted))
            now = self._wall.clock.now()
            plan: list[tuple[Finding, Outcome]] = []
            for finding in found:
                outcome = on_detection(
                    latest.get(finding.id), detection_of(finding), min_severity=min_severity
                )
                if outcome is Outcome.BELOW:
                    report.below.append(finding.id)
                elif outcome is Outcome.KEEP_CLOSED:
                    report.kept_closed[finding.id] = latest[finding.id].id
                else:
                    plan.append((finding, outcome))
            indices = sorted({i for f, _ in plan for i in wanted[f.id]})
            proven: dict[int, Evidence] = {}
            if indices and signed is not None:
                size = signed.checkpoint.size
                for index, entry, path in guard.ledger.proven(indices, size=size):
                    proof = InclusionProof(index, size, leaf_hash(entry.encode()), path)
                    payload = {"entry": entry, "proof": proof.to_json(), "checkpoint": signed.note}
                    proven[index] = Evidence(EvidenceKind.LEDGER_ENTRY, str(index), payload)
            for finding, outcome in plan:
                items = [*evidence_for(finding), *(proven[i] for i in wanted[finding.id])]
                detection = detection_of(finding)
                if outcome is Outcome.UPDATE:
                    incident, added = guard.incidents.redetect(
                        latest[finding.id].id, detection, items
                    )
                    report.updated[finding.id] = incident.id
                    report.evidence_added += added
                    continue
                previous = latest.get(finding.id)
                incident = open_incident(
                    new_incident_id(), detection, by=principal.id, at=now, previous=previous
                )
                report.evidence_added += guard.incidents.open(incident, items)
                report.opened[finding.id] = incident.id
        return report

    def find(
        self,
        principal: Principal,
        stated: Statement = UNSTATED,
        *,
        state: IncidentState | None = None,
    ) -> list[Incident]:
        """Incidents, newest first, as far as the principal may see them."""
        with self._wall.access_for(principal, stated, Purpose.COMPLIANCE_AUDIT, "incidents") as g:
            return g.incidents.find(state)

    def show(
        self, principal: Principal, incident_id: str, stated: Statement = UNSTATED
    ) -> IncidentRecord:
        """The incident, its history and its evidence; `UnknownIncident` if the principal
        may not see it or there is none (the look is ledgered either way)."""
        label = f"incident:{incident_id}"
        with self._wall.access_for(principal, stated, Purpose.COMPLIANCE_AUDIT, label) as g:
            record = g.incidents.show(incident_id)
        if record is None:
            raise UnknownIncident(incident_id)
        return record

    def move(
        self,
        principal: Principal,
        incident_id: str,
        to: IncidentState,
        *,
        note: str | None = None,
        by: str | None = None,
        stated: Statement = UNSTATED,
    ) -> Incident:
        """Move the incident to `to`, ledgered in the same transaction. Staff move as
        themselves; a system job (the CLI) names the person it acts for in `by`.
        `UnknownIncident`, `IllegalTransition`, `NoteRequired`: nothing changes."""
        actor = principal.id
        if principal.kind is PrincipalKind.SYSTEM and by is not None:
            actor = by
        label = f"incident:{incident_id}"
        with self._wall.access_for(principal, stated, Purpose.COMPLIANCE_AUDIT, label) as g:
            return g.incidents.move(incident_id, to, by=actor, note=note)

    def verify(
        self, principal: Principal, incident_id: str, stated: Statement = UNSTATED
    ) -> list[EvidenceCheck]:
        """Check the incident's ledger evidence against the log's public key."""
        return verify_evidence(self.show(principal, incident_id, stated).evidence, self.verifier)

    @property
    def verifier(self) -> Verifier:
        return self._keeper.verifier


# ---------------------------------------------------------------- verifying evidence


def check_ledger_entry(payload: Mapping[str, Any], verifier: Verifier) -> str:
    """Check one ledger-entry item: the checkpoint's signature, the entry's leaf hash,
    the index it is sealed with, and the audit path from the leaf to the checkpoint's
    root. What held, or `ProofError` / `NoteError` saying what did not."""
    entry = payload.get("entry")
    note = payload.get("checkpoint")
    if not isinstance(entry, str) or not isinstance(note, str):
        raise ProofError("a ledger entry item carries the entry and the checkpoint as text")
    checkpoint = Checkpoint.open(note, verifier)
    proof = InclusionProof.from_json(payload.get("proof"))
    if proof.size != checkpoint.size:
        raise ProofError(
            f"the proof is for a tree of size {proof.size}, the checkpoint for {checkpoint.size}"
        )
    data = entry.encode()
    if leaf_hash(data) != proof.leaf_hash:
        raise ProofError(f"the entry does not hash to the proof's leaf hash (index {proof.index})")
    sealed = read_seal(data)
    if sealed is None or sealed.index != proof.index:
        raise ProofError(f"the entry is not sealed as entry {proof.index}")
    verify_inclusion(proof.leaf_hash, proof.index, proof.size, proof.hashes, checkpoint.root)
    return f"entry {proof.index} is in the tree of size {proof.size} signed by {verifier.name}"


def verify_evidence(items: Iterable[Evidence], verifier: Verifier) -> list[EvidenceCheck]:
    """One check per ledger-entry item (contacts and CPS events are copies, with no proof
    of their own): recompute the leaf hash from the stored entry and the root from the
    audit path, and compare with the root of the signed checkpoint."""
    checks = []
    for item in items:
        if item.kind is not EvidenceKind.LEDGER_ENTRY:
            continue
        try:
            message, ok = check_ledger_entry(item.payload, verifier), True
        except (ProofError, NoteError) as exc:
            message, ok = str(exc), False
        checks.append(EvidenceCheck(item.kind, item.reference, ok, message))
    return checks


def evidence_json(item: Evidence) -> dict[str, Any]:
    return {
        "kind": item.kind.value,
        "reference": item.reference,
        "added_at": None if item.added_at is None else _stamp(item.added_at),
        "payload": dict(item.payload),
    }


def record_json(record: IncidentRecord) -> dict[str, Any]:
    """An incident with its history and evidence, as `forvalg incidents show` prints it."""
    i = record.incident
    return {
        "id": i.id,
        "finding_id": i.finding_id,
        "detector": i.detector,
        "severity": i.severity.value,
        "subject": dict(i.subject),
        "summary": i.summary,
        "statistics": dict(i.statistics),
        "state": i.state.value,
        "opened_at": _stamp(i.opened_at),
        "updated_at": _stamp(i.updated_at),
        "history": [
            {
                "kind": e.kind.value,
                "at": _stamp(e.at),
                "by": e.by,
                "from_state": None if e.from_state is None else e.from_state.value,
                "to_state": e.to_state.value,
                "note": e.note,
                "severity": None if e.severity is None else e.severity.value,
                "statistics": None if e.statistics is None else dict(e.statistics),
            }
            for e in i.history
        ],
        "evidence": [evidence_json(e) for e in record.evidence],
    }


def _stamp(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


# ---------------------------------------------------------------- evidence from a run


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in table.to_pylist()]


def _plain(value: Any) -> Any:
    """A cell as JSON: instants as ISO 8601 UTC, other non-JSON values as text."""
    if isinstance(value, datetime):
        return _stamp(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def evidence_from_tables(
    contacts: pa.Table, events: pa.Table, *, window: timedelta = timedelta(days=30)
) -> EvidenceSource:
    """Evidence from a detection run's inputs: the contacts a finding samples
    (`evidence.sample_contact_ids`) and the CPS events on their lines from `window`
    before the earliest of them up to the latest. The contacts table has the §4 columns
    (and `source` if read from the store); the events table `number`, `kind`, `at` and
    whatever else it carries (`letter_earliest`, an order id)."""

    def evidence_for(finding: Finding) -> list[Evidence]:
        ids = finding.evidence.get("sample_contact_ids") or []
        if not isinstance(ids, list | tuple) or not ids:
            return []
        picked = contacts.filter(pc.is_in(contacts.column("contact_id"), pa.array(ids)))
        items = [
            Evidence(EvidenceKind.CONTACT, _contact_reference(row), row) for row in _rows(picked)
        ]
        if not picked.num_rows:
            return items
        times = picked.column("time_utc")
        at, kind = events.column("at"), events.schema.field("at").type
        start = pa.scalar(pc.min(times).as_py() - window, kind)
        end = pa.scalar(pc.max(times).as_py(), kind)
        on_lines = pc.is_in(events.column("number"), picked.column("number").unique())
        near = events.filter(
            pc.and_(on_lines, pc.and_(pc.greater_equal(at, start), pc.less_equal(at, end)))
        )
        items += [
            Evidence(EvidenceKind.CPS_EVENT, _event_reference(row), row) for row in _rows(near)
        ]
        return items

    return evidence_for


def _contact_reference(row: Mapping[str, Any]) -> str:
    source = row.get("source")
    return f"{source}:{row['contact_id']}" if source else str(row["contact_id"])


def _event_reference(row: Mapping[str, Any]) -> str:
    order = row.get("order_id")
    key = json.dumps([row["number"], row["kind"], row["at"]], separators=(",", ":"))
    return f"{order}:{row['kind']}" if order else key
