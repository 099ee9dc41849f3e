"""`forvalg routing ...`: the routing table's versions, and exports for the exchanges."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from forvalg.cli.common import console, fail, services
from forvalg.wholesale.routing_export import (
    DEFAULT_GATEWAY,
    DEFAULT_SIP_DOMAIN,
    ExportRefused,
)


def register(app: typer.Typer) -> None:
    routing = typer.Typer(
        help="The routing table for the exchanges: versions and exports.", no_args_is_help=True
    )
    app.add_typer(routing, name="routing")

    @routing.command("versions")
    def versions() -> None:
        """List every version: number, effective instant, rows, content hash, order."""
        with services() as svc:
            found = svc.routing.versions()
        for v in found:  # tab-separated, for scripts
            typer.echo(
                f"{v.version}\t{v.effective_at.isoformat()}\t{v.rows}\t{v.content_hash}\t"
                f"{v.order_id or '-'}"
            )

    @routing.command("export")
    def export(
        out: Annotated[Path, typer.Option("--out", help="Directory to write")],
        version: Annotated[
            int | None, typer.Option("--version", min=0, help="Version N (default: the latest)")
        ] = None,
        since: Annotated[
            int | None, typer.Option("--since", min=0, help="Also the delta from version M")
        ] = None,
        gateway: Annotated[
            str, typer.Option("--gateway", help="Next hop (host[:port]) in the drouting tables")
        ] = DEFAULT_GATEWAY,
        sip_domain: Annotated[
            str, typer.Option("--sip-domain", help="SIP domain of the lines in dr_groups")
        ] = DEFAULT_SIP_DOMAIN,
    ) -> None:
        """Write routing-N.csv and routing-N.json (the full table at version N), with
        --since M routing-M-N.delta.csv, and kamailio-drouting-N/ (db_text tables for
        Kamailio's drouting module) to OUT."""
        with services() as svc:
            try:
                done = svc.routing.export(
                    out, version=version, since=since, gateway=gateway, sip_domain=sip_domain
                )
            except ExportRefused as exc:
                raise fail(str(exc)) from None
        v = done.version
        delta = (
            "" if done.delta_changes is None else f", {done.delta_changes} changes since {since}"
        )
        rows = f"{v.rows} row{'' if v.rows == 1 else 's'}"
        console.print(
            f"exported version {v.version} ({rows}, effective {v.effective_at.isoformat()}, "
            f"content hash {v.content_hash}){delta} to {out}",
            highlight=False,
        )
