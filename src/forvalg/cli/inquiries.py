"""`forvalg inquiries list | open | answer`: the regulator's inquiries, for compliance at
the server (docs/INQUIRIES.md).

Like `forvalg incidents ...`, these run on the server as a system job of compliance
(`system:inquiry-cli`, role `inquiry_clerk`, purpose compliance_audit, the inquiry as
the work item): whoever runs them has the database and its keys already, so the command
line authenticates nobody. `answer` names the person answering (`--by`), who goes into
the answer's record and its ledger entry. `open` records an inquiry the regulator sent
by letter: the work item is opened by the job, and its ledger entry names the
regulator's person (`--by`); the regulator opens its own over HTTP
(`POST /v1/work-items`, kind `inquiry`), as itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from forvalg.cli.common import console, fail, services
from forvalg.compliance.inquiries import InquiryError, UnknownInquiry, stamp
from forvalg.compliance.report.findings import FindingsFileError, read_findings
from forvalg.domain.inquiries import check_actor, check_period, deadline_end_of
from forvalg.domain.work_items import InvalidWorkItem
from forvalg.wall.principals import INQUIRY_CLERK

REPORT_FILES = ("report.html", "report.json")


def _report(directory: Path | None) -> dict[str, bytes] | None:
    """DIR/report.html and DIR/report.json (both must be there); None without a DIR."""
    if directory is None:
        return None
    if not directory.is_dir():
        raise fail(f"--report {directory}: not a directory")
    found = {}
    for name in REPORT_FILES:
        path = directory / name
        try:
            found[name] = path.read_bytes()
        except OSError as exc:
            raise fail(f"--report {directory}: {name}: {exc.strerror or exc}") from None
    return found


def register(app: typer.Typer) -> None:
    inquiries = typer.Typer(help="The regulator's inquiries.", no_args_is_help=True)
    app.add_typer(inquiries, name="inquiries")

    @inquiries.command("list")
    def inquiries_list() -> None:
        """List inquiries, newest first: id, period, deadline, its status, answers, the
        question (tab-separated)."""
        with services() as svc:
            views = svc.inquiries.list(INQUIRY_CLERK)
        for v in views:
            due = v.item.due_at
            typer.echo(
                f"{v.id}\t{v.item.period}\t{'' if due is None else stamp(due)}\t"
                f"{v.deadline.describe()}\t{len(v.answers)} answer(s)\t{v.question}"
            )

    @inquiries.command("open")
    def inquiries_open(
        question: Annotated[str, typer.Option("--question", help="The regulator's question")],
        period: Annotated[str, typer.Option("--period", help="The month asked about, YYYY-MM")],
        deadline: Annotated[
            str, typer.Option("--deadline", help="YYYY-MM-DD: due by the end of that Oslo day")
        ],
        by: Annotated[str, typer.Option("--by", help="The regulator's person who asked")],
    ) -> None:
        """Record an inquiry the regulator sent by letter; prints its id, last."""
        try:
            check_actor(by)
            check_period(period)
            due_at = deadline_end_of(deadline)
        except InquiryError as exc:
            raise fail(str(exc)) from None
        with services() as svc:
            try:
                item = svc.inquiries.open(question=question, period=period, due_at=due_at, by=by)
            except InvalidWorkItem as exc:
                option = {"summary": "--question", "due_at": "--deadline"}.get(exc.field, exc.field)
                raise fail(f"{option}: {exc}") from None
        console.print(
            f"inquiry for {period}, due {stamp(due_at)}, asked by {by.strip()}:",
            highlight=False,
            markup=False,
        )
        print(item.id)

    @inquiries.command("answer")
    def inquiries_answer(
        inquiry_id: Annotated[str, typer.Argument(metavar="INQ-...", help="The inquiry")],
        out: Annotated[Path, typer.Option("--out", help="The bundle to write, FILE.zip")],
        by: Annotated[str, typer.Option("--by", help="Who answers (a name)")],
        report: Annotated[
            Path | None,
            typer.Option(
                "--report",
                help="A directory with report.html and report.json (default: the report "
                "of the inquiry's period, made now)",
            ),
        ] = None,
        findings: Annotated[
            Path | None,
            typer.Option(
                "--findings", help="The findings file of `forvalg detect`, for the report"
            ),
        ] = None,
        previous: Annotated[
            Path | None,
            typer.Option(
                "--previous",
                help="The checkpoint the regulator holds (default: the last answer's)",
            ),
        ] = None,
    ) -> None:
        """Answer an inquiry with an evidence bundle (a zip): the period's staff accesses,
        denials and break-glass, and the inquiry's own entries, each with its inclusion
        proof, the signed checkpoint, the consistency proof from the previous one, the key
        and the report. The answer is recorded and ledgered; check the zip with
        `forvalg-verify bundle`."""
        files = _report(report)
        try:
            found = None if findings is None else read_findings(findings)
        except FindingsFileError as exc:
            raise fail(str(exc)) from None
        held = None
        if previous is not None:
            try:
                held = previous.read_bytes()
            except OSError as exc:
                raise fail(f"--previous {previous}: {exc.strerror or exc}") from None
        with services() as svc:
            try:
                made = svc.inquiries.answer(
                    inquiry_id,
                    out=out,
                    by=by,
                    report_files=files,
                    previous_checkpoint=held,
                    findings=found,
                )
            except UnknownInquiry as exc:
                raise fail(str(exc)) from None
            except InquiryError as exc:
                raise fail(str(exc)) from None
        a = made.answer
        extends = "" if a.previous_size is None else f", extends size {a.previous_size}"
        console.print(
            f"{inquiry_id}: {a.entry_count} entries, checkpoint size {a.tree_size}{extends}; "
            f"sha256 {a.bundle_sha256}",
            highlight=False,
            markup=False,
        )
        console.print(f"wrote {made.path}", highlight=False, markup=False)
