"""`forvalg ledger ...` and `forvalg users add`: the ledger for compliance at the server,
and staff credentials."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from forvalg.bootstrap import create_ledger_key, read_ledger_signers
from forvalg.cli.common import console, fail, services, settings
from forvalg.compliance.users import UnknownRole
from forvalg.ledger.merkle import ProofError
from forvalg.wall.principals import LEDGER_CLERK, StaffRole


def register(app: typer.Typer) -> None:
    ledger = typer.Typer(help="The ledger: checkpoints, exports and proofs.", no_args_is_help=True)
    prove = typer.Typer(help="Inclusion and consistency proofs, as JSON.", no_args_is_help=True)
    users = typer.Typer(help="Staff users and their bearer tokens.", no_args_is_help=True)
    app.add_typer(ledger, name="ledger")
    ledger.add_typer(prove, name="prove")
    app.add_typer(users, name="users")

    @ledger.command("checkpoint")
    def checkpoint() -> None:
        """Integrate what is queued, sign the tree head and print the checkpoint."""
        with services() as svc:
            signed = svc.transparency.checkpoint(LEDGER_CLERK)
        typer.echo(signed.note, nl=False)

    @ledger.command("export")
    def export(out: Annotated[Path, typer.Option("--out", help="Directory to write")]) -> None:
        """Write entries.jsonl (line i = entry i), checkpoint and key.pub to OUT, for
        `forvalg-verify`."""
        with services() as svc:
            done = svc.transparency.export(LEDGER_CLERK, out)
        console.print(
            f"exported {done.size} entries to {out} (entries.jsonl, checkpoint, key.pub); "
            f"verify with: forvalg-verify --export {out}",
            highlight=False,
        )

    @ledger.command("key")
    def key() -> None:
        """Print the log's verifier key (what regulators pin)."""
        with services() as svc:
            typer.echo(svc.transparency.verifier_key(LEDGER_CLERK))

    @prove.command("inclusion")
    def prove_inclusion(
        index: Annotated[int, typer.Option("--index", min=0, help="Entry index")],
        size: Annotated[int, typer.Option("--size", min=1, help="Tree size")],
    ) -> None:
        """The audit path of entry INDEX in the tree of SIZE entries."""
        with services() as svc:
            try:
                proof = svc.transparency.inclusion(LEDGER_CLERK, index, size)
            except ProofError as exc:
                raise fail(str(exc)) from None
        typer.echo(json.dumps(proof.to_json(), indent=2))

    @prove.command("consistency")
    def prove_consistency(
        old: Annotated[int, typer.Option("--from", min=0, help="The older tree size")],
        new: Annotated[int, typer.Option("--to", min=0, help="The newer tree size")],
    ) -> None:
        """The proof that the tree of size TO extends the tree of size FROM."""
        with services() as svc:
            try:
                proof = svc.transparency.consistency(LEDGER_CLERK, old, new)
            except ProofError as exc:
                raise fail(str(exc)) from None
        typer.echo(json.dumps(proof.to_json(), indent=2))

    @ledger.command("rotate-key")
    def rotate_key() -> None:
        """Start a key rotation: a new signing key; the old one co-signs until retired."""
        config = settings()
        path = config.ledger_key_path
        previous = path.with_name(path.name + ".previous")
        if previous.exists():
            raise fail(f"a rotation is in progress ({previous} exists); run retire-key first")
        old = read_ledger_signers(config)[0]
        os.replace(path, previous)
        create_ledger_key(config)
        new = read_ledger_signers(config)[0]
        console.print(f"previous key (co-signs until retired): {old.verifier}", highlight=False)
        console.print(f"new verifier key: {new.verifier}", highlight=False)

    @ledger.command("retire-key")
    def retire_key() -> None:
        """End a key rotation: checkpoints are signed by the new key only."""
        path = settings().ledger_key_path
        previous = path.with_name(path.name + ".previous")
        if not previous.exists():
            raise fail(f"no rotation in progress ({previous} does not exist)")
        previous.unlink()
        console.print(f"retired {previous}", highlight=False)

    @users.command("add")
    def users_add(
        name: Annotated[str, typer.Option("--name", help="The person's name")],
        role: Annotated[str, typer.Option("--role", help=", ".join(r.value for r in StaffRole))],
    ) -> None:
        """Create a staff user; prints a bearer token once, on its own last line."""
        with services() as svc:
            try:
                user = svc.users.add(name, role)
            except (UnknownRole, ValueError) as exc:
                raise fail(f"--role: {exc}" if isinstance(exc, UnknownRole) else str(exc)) from None
        console.print(f"user {user.user_id} ({user.name}) with role {user.role}", highlight=False)
        typer.echo(user.token)

    @users.command("revoke")
    def users_revoke(
        id: Annotated[str, typer.Option("--id", help="The user id, e.g. u1a2b3c4d5e6")],
    ) -> None:
        """Revoke a staff user's token at once (rotation: add a new user first)."""
        with services() as svc:
            if not svc.users.revoke(id):
                raise fail(f"--id {id}: no live user with that id")
        console.print(f"revoked {id}", highlight=False)
