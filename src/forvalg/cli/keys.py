"""`forvalg keys`: rotation of the pseudonym key and the web session key
(docs/SECURITY.md, "Key rotation"). API keys rotate with `operators new-key` and
`revoke-key`, the ledger's signing key with `ledger rotate-key` and `retire-key`."""

from __future__ import annotations

import typer

from forvalg.bootstrap import (
    NotInitialised,
    read_pseudonym_key,
    read_retired_pseudonym_keys,
    rotate_pseudonym_key,
)
from forvalg.cli.common import console, fail, settings
from forvalg.domain.clock import SystemClock
from forvalg.wall.pseudonyms import key_id
from forvalg.web.sessions import rotate_key


def register(app: typer.Typer) -> None:
    keys = typer.Typer(
        help="Rotation of the pseudonym key and the web session key.", no_args_is_help=True
    )
    app.add_typer(keys, name="keys")

    @keys.command("list")
    def keys_list() -> None:
        """The pseudonym keys by id: the current one, then the retired ones kept for
        lookups (never the keys themselves)."""
        config = settings()
        try:
            current = read_pseudonym_key(config)
            retired = read_retired_pseudonym_keys(config)
        except NotInitialised as exc:
            raise fail(str(exc)) from None
        console.print(f"pseudonym key {key_id(current)} (current)", highlight=False)
        for old in retired:
            console.print(
                f"pseudonym key {key_id(old)} (retired, kept for lookups)", highlight=False
            )

    @keys.command("rotate-pseudonym")
    def keys_rotate_pseudonym() -> None:
        """Retire the pseudonym key and create a new one. New ledger entries, one-time
        codes and cursors use the new key; the retired key is kept (never deleted) so a
        subscriber's page and compliance's search still find entries written under it.
        Restart `serve` and `worker` afterwards."""
        try:
            done = rotate_pseudonym_key(settings(), at=SystemClock().now())
        except NotInitialised as exc:
            raise fail(str(exc)) from None
        console.print(
            f"pseudonym key {done.retired} retired, kept for lookups in {done.kept}",
            highlight=False,
        )
        console.print(f"pseudonym key {done.current} is current", highlight=False)
        console.print("restart `forvalg serve` and `forvalg worker` to use it", highlight=False)

    @keys.command("rotate-web")
    def keys_rotate_web() -> None:
        """Replace the web session key: every web session is signed out (cookies and
        CSRF tokens sealed under the old key stop opening). Restart `serve` afterwards."""
        path = rotate_key(settings().key_dir)
        console.print(f"new web session key: {path} (mode 0600)", highlight=False)
        console.print(
            "restart `forvalg serve`: every web session is then signed out", highlight=False
        )
