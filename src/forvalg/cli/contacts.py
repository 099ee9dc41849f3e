"""`forvalg contacts import`: the retail CRM's contacts into the compliance zone
(INTERFACES.md §1, §4; docs/CONTACTS.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from forvalg.cli.common import console, fail, progress_bar, services
from forvalg.compliance.contacts import DEFAULT_SOURCE, ContactFileError
from forvalg.domain.contacts import check_source


def register(app: typer.Typer) -> None:
    contacts = typer.Typer(help="Retail CRM contacts, for compliance.", no_args_is_help=True)
    app.add_typer(contacts, name="contacts")

    @contacts.command("import")
    def contacts_import(
        file: Annotated[Path, typer.Argument(help="Contacts, CSV or Parquet (INTERFACES §4)")],
        source: Annotated[
            str, typer.Option(help="The CRM the file comes from: contact ids are unique per source")
        ] = DEFAULT_SOURCE,
        rejects: Annotated[
            Path | None, typer.Option(help="Rejected rows, CSV (default: FILE.rejects.csv)")
        ] = None,
    ) -> None:
        """Load retail CRM contacts into the compliance zone in one transaction. Bad rows
        go to the rejects file with a reason each and the good rows are kept; contacts
        already stored for the source are skipped and counted; a file whose schema is
        wrong (a missing column, a wrong Parquet type) fails at once and imports nothing."""
        try:
            check_source(source)
        except ValueError as exc:
            raise fail(f"--source: {exc}") from None
        with services() as svc, progress_bar() as bar:
            task = bar.add_task("importing contacts", total=None)
            try:
                report = svc.contacts.import_file(
                    file,
                    source=source,
                    rejects=rejects,
                    progress=lambda rows: bar.update(task, completed=rows),
                )
            except ContactFileError as exc:
                raise fail(str(exc)) from None
        console.print(
            f"{file}: {report.rows} rows: imported {report.imported}, skipped "
            f"{report.duplicates} already stored (source {report.source}), rejected "
            f"{report.rejected}",
            highlight=False,
            markup=False,
        )
        for reason, count in sorted(report.reasons.items(), key=lambda kv: (-kv[1], kv[0])):
            console.print(f"  rejected {count}: {reason}", highlight=False, markup=False)
        if report.rejected:
            console.print(f"rejected rows: {report.rejects}", highlight=False, markup=False)
