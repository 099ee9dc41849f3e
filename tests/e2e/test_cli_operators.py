"""`forvalg operators ...`: registering CPS operators and handling their API keys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from forvalg.bootstrap import Services, bootstrap
from forvalg.settings import Settings

from .helpers import Cli, query

TELIA = ("operators", "add", "--id", "telia", "--name", "Telia Norge", "--csc", "1505")


def key_id(token: str) -> str:
    prefix, kid, _secret = token.split("_", 2)
    assert prefix == "fvg"
    return kid


def database(cli: Cli) -> Path:
    return cli.cwd / "forvalg.db"


def database_bytes(cli: Cli) -> bytes:
    """The SQLite file and its write-ahead log, as an attacker with the disk would see them."""
    return b"".join(p.read_bytes() for p in sorted(cli.cwd.glob("forvalg.db*")))


@pytest.fixture
def services(initialised: Cli) -> Iterator[Services]:
    """The platform's own services on the same directory, to authenticate as the API would."""
    svc = bootstrap(
        Settings(
            database_url=f"sqlite:///{database(initialised)}", key_dir=initialised.cwd / ".forvalg"
        )
    )
    yield svc
    svc.close()


@pytest.fixture
def telia(initialised: Cli) -> str:
    """Telia registered through the command line; its API key."""
    return initialised.ok(*TELIA).last_line


def test_add_prints_the_api_key_last_and_stores_only_its_hash(initialised: Cli) -> None:
    result = initialised.ok(*TELIA)
    token = result.last_line
    assert token.startswith("fvg_")
    assert token == token.strip()
    assert " " not in token
    assert len(token) > 40
    assert result.stderr == ""
    kid = key_id(token)
    assert kid in result.stdout.removesuffix(token + "\n"), "the key id is not named"

    assert query(
        database(initialised), "SELECT id, name, csc, agreement_active FROM operators"
    ) == [("telia", "Telia Norge", "1505", 1)]
    rows = query(
        database(initialised), "SELECT id, operator_id, key_hash, revoked_at FROM operator_api_keys"
    )
    assert len(rows) == 1
    assert rows[0][:2] == (kid, "telia")
    assert rows[0][3] is None

    stored = database_bytes(initialised)
    assert rows[0][2].encode() in stored  # the check below can see what the file holds
    assert token.encode() not in stored
    assert token.split("_", 2)[2].encode() not in stored, "the key's secret is stored in clear"


def test_the_printed_key_authenticates_and_a_revoked_key_does_not(
    initialised: Cli, telia: str, services: Services
) -> None:
    initialised.ok("operators", "add", "--id", "ice", "--name", "Ice", "--csc", "1510")
    elsewhere = initialised.fails(
        "operators", "revoke-key", "--id", "ice", "--key-id", key_id(telia)
    )
    assert key_id(telia) in elsewhere.error_line, "revoked through another operator"
    principal = services.authenticator.principal(telia)
    assert principal is not None
    assert principal.organisation == "telia"

    second = initialised.ok("operators", "new-key", "--id", "telia").last_line
    assert second.startswith("fvg_")
    assert second != telia
    assert services.authenticator.principal(second) is not None

    result = initialised.ok("operators", "revoke-key", "--id", "telia", "--key-id", key_id(telia))
    assert key_id(telia) in result.stdout
    revoked = query(
        database(initialised), "SELECT id, revoked_at FROM operator_api_keys ORDER BY created_at"
    )
    assert dict(revoked)[key_id(telia)] is not None
    assert dict(revoked)[key_id(second)] is None
    assert services.authenticator.principal(telia) is None, "a revoked key still authenticates"
    assert services.authenticator.principal(second) is not None

    again = initialised.fails("operators", "revoke-key", "--id", "telia", "--key-id", key_id(telia))
    assert key_id(telia) in again.error_line


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("--id", "ice", "--name", "Ice", "--csc", "1600"), "--csc"),
        (("--id", "Ice AS", "--name", "Ice", "--csc", "1510"), "--id"),
    ],
    ids=["csc-1600", "id-spaces"],
)
def test_add_with_a_bad_field_fails_with_one_line_and_changes_nothing(
    initialised: Cli, args: tuple[str, ...], field: str
) -> None:
    result = initialised.fails("operators", "add", *args)
    assert field in result.error_line
    assert "fvg_" not in result.stdout
    assert query(database(initialised), "SELECT count(*) FROM operators") == [(0,)]
    assert query(database(initialised), "SELECT count(*) FROM operator_api_keys") == [(0,)]


def test_add_a_duplicate_fails_with_one_line_and_changes_nothing(
    initialised: Cli, telia: str
) -> None:
    for args in (
        ("--id", "telia", "--name", "Telia again", "--csc", "1506"),  # same id
        ("--id", "ice", "--name", "Ice", "--csc", "1505"),  # same carrier selection code
    ):
        result = initialised.fails("operators", "add", *args)
        line = result.error_line
        assert "telia" in line or "1505" in line
        assert "fvg_" not in result.stdout
        assert query(database(initialised), "SELECT id, name, csc FROM operators") == [
            ("telia", "Telia Norge", "1505")
        ]
        assert query(database(initialised), "SELECT count(*) FROM operator_api_keys") == [(1,)]


def test_list_and_agreement(initialised: Cli, telia: str) -> None:
    listed = initialised.ok("operators", "list").stdout.splitlines()
    assert [line.split() for line in listed] == [["telia", "1505", "active", "Telia", "Norge"]]

    initialised.ok("operators", "agreement", "--id", "telia", "--suspended")
    assert query(database(initialised), "SELECT agreement_active FROM operators") == [(0,)]
    listed = initialised.ok("operators", "list").stdout.splitlines()
    assert [line.split() for line in listed] == [["telia", "1505", "suspended", "Telia", "Norge"]]
    assert telia not in "".join(listed)
    initialised.ok("operators", "agreement", "--id", "telia", "--active")
    assert query(database(initialised), "SELECT agreement_active FROM operators") == [(1,)]


@pytest.mark.parametrize(
    "args",
    [
        ("operators", "new-key", "--id", "ghost"),
        ("operators", "revoke-key", "--id", "ghost", "--key-id", "k000000000000"),
    ],
    ids=["new-key", "revoke-key"],
)
def test_unknown_operator_fails_with_one_line(initialised: Cli, args: tuple[str, ...]) -> None:
    result = initialised.fails(*args)
    assert "ghost" in result.error_line
    assert "fvg_" not in result.stdout
    assert query(database(initialised), "SELECT count(*) FROM operator_api_keys") == [(0,)]
