"""`forvalg keys`: the pseudonym key and the web session key rotated from the command
line, as an operator of the service would."""

from __future__ import annotations

import re
import stat

from .helpers import Cli


def test_rotate_pseudonym_keeps_the_old_key_and_lists_both(initialised: Cli) -> None:
    keys = initialised.cwd / ".forvalg"
    before = (keys / "pseudonym.key").read_text()

    done = initialised.ok("keys", "rotate-pseudonym")

    retired, current = re.findall(r"pseudonym key ([0-9a-f]{8})", done.stdout)
    assert retired != current
    assert "restart" in done.stdout
    [kept] = (keys / "pseudonym.retired").iterdir()
    assert kept.read_text() == before
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert stat.S_IMODE((keys / "pseudonym.key").stat().st_mode) == 0o600
    assert (keys / "pseudonym.key").read_text() != before
    listed = initialised.ok("keys", "list").stdout
    assert f"pseudonym key {current} (current)" in listed
    assert f"pseudonym key {retired} (retired, kept for lookups)" in listed
    # No key material is printed, only ids.
    assert before.strip() not in done.stdout + listed
    # The service still starts on the rotated keys.
    initialised.ok("operators", "add", "--id", "alfatel", "--name", "Alfa", "--csc", "1501")


def test_rotate_web_replaces_the_session_key(initialised: Cli) -> None:
    path = initialised.cwd / ".forvalg" / "web.key"
    before = path.read_text() if path.exists() else None

    done = initialised.ok("keys", "rotate-web")

    assert "signed out" in done.stdout
    assert path.read_text() != before
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_keys_before_init_is_one_clear_line(cli: Cli) -> None:
    failed = cli.fails("keys", "rotate-pseudonym")
    assert "run `forvalg init` first" in failed.error_line


def test_users_revoke_revokes_once_and_names_an_unknown_id(initialised: Cli) -> None:
    token = initialised.ok("users", "add", "--name", "Cecilie", "--role", "regulator").last_line
    user_id = token.split("_")[1]

    assert f"revoked {user_id}" in initialised.ok("users", "revoke", "--id", user_id).stdout

    again = initialised.fails("users", "revoke", "--id", user_id)
    assert f"--id {user_id}: no live user with that id" in again.error_line
