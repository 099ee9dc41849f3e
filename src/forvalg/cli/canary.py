"""`forvalg canary add`: honey-lines with decoy preselection orders (INTERFACES.md §1;
docs/DETECTION.md, "Honey-lines")."""

from __future__ import annotations

from typing import Annotated

import typer

from forvalg.cli.common import console, fail, services
from forvalg.compliance.canaries import MAX_PER_RUN, CanaryError


def register(app: typer.Typer) -> None:
    canary = typer.Typer(help="Honey-lines, for compliance.", no_args_is_help=True)
    app.add_typer(canary, name="canary")

    @canary.command("add")
    def canary_add(
        count: Annotated[int, typer.Option("--count", help=f"How many (1-{MAX_PER_RUN})")],
        operator: Annotated[
            str | None, typer.Option("--operator", help="The operator the decoys name")
        ] = None,
    ) -> None:
        """Create honey-lines: new lines in the inventory, each with a decoy PROVIDE from
        an operator with an active agreement (at random unless --operator), all in one
        transaction. Prints the lines, for compliance only: reserve each against
        marketing in the CRM, and let `forvalg orders process` work the decoys like any
        order."""
        with services() as svc:
            try:
                made = svc.canaries.add(count, operator=operator)
            except CanaryError as exc:
                raise fail(str(exc)) from None
        for honey in made:
            console.print(
                f"{honey.number}  postcode {honey.postcode}  decoy {honey.order_id} "
                f"from {honey.operator_id}",
                highlight=False,
                markup=False,
            )
        console.print(f"{len(made)} honey-line(s) created", highlight=False, markup=False)
