"""`forvalg incidents list | show | move | verify`: incidents for compliance at the server
(docs/INCIDENTS.md).

Like `forvalg ledger ...`, these run on the server as a system job of compliance
(`system:incident-cli`, role `incident_clerk`, purpose compliance_audit): whoever runs
them has the database and its keys already, so the command line authenticates nobody.
A move names the person making it (`--by`, required), who goes into the incident's
history and into the move's ledger entry beside the job's principal. Staff working from
their own desks use their bearer tokens over HTTP and are named by their user id.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from forvalg.cli.common import console, fail, services
from forvalg.compliance.incidents import UnknownIncident, record_json
from forvalg.domain.incidents import (
    IncidentError,
    IncidentState,
    NoteRequired,
    check_actor,
    clean_note,
)
from forvalg.wall.principals import INCIDENT_CLERK

MOVES = ", ".join(s.value for s in IncidentState if s is not IncidentState.OPEN)


def _state(text: str, option: str, allowed: list[IncidentState]) -> IncidentState:
    try:
        state = IncidentState(text)
    except ValueError:
        state = None
    if state is None or state not in allowed:
        raise fail(f"{option} {text!r}: not one of {', '.join(s.value for s in allowed)}")
    return state


def register(app: typer.Typer) -> None:
    incidents = typer.Typer(help="Incidents opened from findings.", no_args_is_help=True)
    app.add_typer(incidents, name="incidents")

    @incidents.command("list")
    def incidents_list(
        state: Annotated[
            str | None,
            typer.Option(help=", ".join(s.value for s in IncidentState) + " (default: all)"),
        ] = None,
    ) -> None:
        """List incidents, newest first: id, state, severity, detector, finding, opened,
        summary (tab-separated)."""
        wanted = None if state is None else _state(state, "--state", list(IncidentState))
        with services() as svc:
            found = svc.incidents.find(INCIDENT_CLERK, state=wanted)
        for i in found:
            opened = i.opened_at.isoformat().replace("+00:00", "Z")
            typer.echo(
                f"{i.id}\t{i.state}\t{i.severity}\t{i.detector}\t{i.finding_id}\t{opened}\t"
                f"{i.summary}"
            )

    @incidents.command("show")
    def incidents_show(
        incident_id: Annotated[str, typer.Argument(metavar="ID", help="The incident, INC-...")],
    ) -> None:
        """Print the incident as JSON: its history, and its evidence with the ledger
        entries' inclusion proofs and the signed checkpoint they lead to."""
        with services() as svc:
            try:
                record = svc.incidents.show(INCIDENT_CLERK, incident_id)
            except UnknownIncident as exc:
                raise fail(str(exc)) from None
        typer.echo(json.dumps(record_json(record), indent=2, ensure_ascii=False))

    @incidents.command("move")
    def incidents_move(
        incident_id: Annotated[str, typer.Argument(metavar="ID", help="The incident, INC-...")],
        to: Annotated[str, typer.Option("--to", help=MOVES)],
        by: Annotated[str, typer.Option("--by", help="Who makes the move (a name)")],
        note: Annotated[
            str | None, typer.Option("--note", help="Why (required when closing)")
        ] = None,
    ) -> None:
        """Move an incident: open -> investigating -> reported -> closed, or
        investigating -> closed (a false alarm). Closing needs a note. The move and who
        made it are ledgered; a move the life cycle does not allow changes nothing."""
        target = _state(to, "--to", [s for s in IncidentState if s is not IncidentState.OPEN])
        try:
            check_actor(by)
        except IncidentError as exc:
            raise fail(f"--by: {exc}") from None
        try:
            clean_note(note)
        except IncidentError as exc:
            raise fail(f"--note: {exc}") from None
        with services() as svc:
            try:
                moved = svc.incidents.move(INCIDENT_CLERK, incident_id, target, note=note, by=by)
            except UnknownIncident as exc:
                raise fail(str(exc)) from None
            except NoteRequired as exc:
                raise fail(f"--note: {exc}") from None
            except IncidentError as exc:
                raise fail(f"--to {target}: {exc}") from None
        came = moved.history[-1]
        console.print(
            f"{moved.id}: {came.from_state} -> {moved.state} (by {came.by})",
            highlight=False,
            markup=False,
        )

    @incidents.command("verify")
    def incidents_verify(
        incident_id: Annotated[str, typer.Argument(metavar="ID", help="The incident, INC-...")],
    ) -> None:
        """Check the incident's ledger evidence against the log's key: each entry's leaf
        hash, its audit path, and the signed checkpoint's root. Exits 1 if any fails."""
        with services() as svc:
            try:
                checks = svc.incidents.verify(INCIDENT_CLERK, incident_id)
            except UnknownIncident as exc:
                raise fail(str(exc)) from None
        for check in checks:
            verdict = "OK" if check.ok else "FAILED"
            console.print(
                f"{check.kind} {check.reference}: {verdict}: {check.message}",
                highlight=False,
                markup=False,
            )
        bad = [c.reference for c in checks if not c.ok]
        if bad:
            raise fail(f"{incident_id}: ledger evidence {', '.join(bad)} does not verify")
        console.print(f"{incident_id}: {len(checks)} ledger entries verified", highlight=False)
