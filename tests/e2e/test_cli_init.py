"""`forvalg init`: database and key files, on SQLite by default and on PostgreSQL."""

from __future__ import annotations

import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from forvalg.ledger.note import Signer
from forvalg.store.engine import make_engine

from .helpers import Cli, query

TABLES = {
    *("operators", "operator_api_keys", "lines", "orders", "order_history", "staff_users"),
    *("ledger_inbox", "ledger_entries", "ledger_heads", "ledger_checkpoints"),
}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_in_an_empty_directory_creates_database_and_private_key(cli: Cli) -> None:
    result = cli.ok("init")
    database, key = cli.cwd / "forvalg.db", cli.cwd / ".forvalg" / "pseudonym.key"
    assert database.is_file()
    assert key.is_file()
    assert mode(key) == 0o600, oct(mode(key))
    assert mode(key.parent) & 0o077 == 0, f"key directory is {oct(mode(key.parent))}"
    assert len(bytes.fromhex(key.read_text().strip())) == 32
    tables = {name for (name,) in query(database, "SELECT name FROM sqlite_master")}
    assert tables >= TABLES, TABLES - tables
    assert "database ready" in result.stdout
    assert "pseudonym key created" in result.stdout
    assert result.stderr == ""


def test_init_creates_the_ledger_signing_key_and_prints_its_verifier_key(cli: Cli) -> None:
    result = cli.ok("init")
    key = cli.cwd / ".forvalg" / "ledger.key"
    assert mode(key) == 0o600, oct(mode(key))
    signer = Signer.parse(key.read_text())
    assert signer.name == "forvalg.local/ledger"
    assert f"ledger verifier key: {signer.verifier}" in result.stdout
    assert signer.secret() not in result.stdout + result.stderr
    again = cli.ok("init")
    assert Signer.parse(key.read_text()).verifier == signer.verifier
    assert "ledger signing key kept" in again.stdout


def test_init_honours_the_ledger_key_path_and_origin(cli: Cli, tmp_path: Path) -> None:
    key = tmp_path / "hsm-mount" / "signing.key"
    env = {"FORVALG_LEDGER_KEY": str(key), "FORVALG_LEDGER_ORIGIN": "nkom.example/forvalg"}
    cli.with_env(**env).ok("init")
    assert mode(key) == 0o600
    assert Signer.parse(key.read_text()).name == "nkom.example/forvalg"
    assert not (cli.cwd / ".forvalg" / "ledger.key").exists()


def test_init_twice_keeps_the_key_and_the_data(initialised: Cli) -> None:
    key = initialised.cwd / ".forvalg" / "pseudonym.key"
    before = key.read_bytes()
    initialised.ok("operators", "add", "--id", "telia", "--name", "Telia Norge", "--csc", "1505")
    again = initialised.ok("init")
    assert key.read_bytes() == before
    assert mode(key) == 0o600
    assert "pseudonym key kept" in again.stdout
    database = initialised.cwd / "forvalg.db"
    assert query(database, "SELECT id, csc FROM operators") == [("telia", "1505")]


def test_init_honours_the_key_dir_setting(cli: Cli, tmp_path: Path) -> None:
    keys = tmp_path / "elsewhere" / "keys"
    cli.with_env(FORVALG_KEY_DIR=str(keys)).ok("init")
    assert mode(keys / "pseudonym.key") == 0o600
    assert not (tmp_path / ".forvalg").exists()


def test_commands_before_init_fail_with_one_line_naming_init(cli: Cli) -> None:
    result = cli.fails("operators", "list")
    assert "forvalg init" in result.error_line


@pytest.fixture
def fresh_postgres(postgres_server: str) -> Iterator[str]:
    """A new, empty PostgreSQL database (not migrated: that is init's job); dropped after."""
    name = f"forvalg_e2e_{uuid.uuid4().hex[:10]}"
    admin = make_engine(postgres_server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_init_on_postgresql(cli: Cli, fresh_postgres: str) -> None:
    pg = cli.with_env(FORVALG_DATABASE_URL=fresh_postgres)
    first = pg.ok("init")
    assert "database ready" in first.stdout
    key = cli.cwd / ".forvalg" / "pseudonym.key"
    assert mode(key) == 0o600
    before = key.read_bytes()
    assert not (cli.cwd / "forvalg.db").exists(), "init wrote SQLite despite the setting"

    engine = make_engine(fresh_postgres)
    try:
        assert set(inspect(engine).get_table_names()) >= TABLES
        second = pg.ok("init")
        assert "pseudonym key kept" in second.stdout
        assert key.read_bytes() == before
        token = pg.ok("operators", "add", "--id", "ice", "--name", "Ice", "--csc", "1510")
        assert token.last_line.startswith("fvg_")
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT id, csc, agreement_active FROM operators"))
            assert [tuple(r) for r in rows] == [("ice", "1510", True)]
    finally:
        engine.dispose()
    password = make_url(fresh_postgres).password
    if password:
        assert str(password) not in first.stdout, "init printed the database password"


def test_commands_against_an_uninitialised_database_fail_with_one_line(
    initialised: Cli, tmp_path: Path
) -> None:
    """The key exists but FORVALG_DATABASE_URL names a database init never made: say so in one
    line, pointing at `forvalg init`, and leave no empty database file behind."""
    other = tmp_path / "other.db"
    result = initialised.with_env(FORVALG_DATABASE_URL=f"sqlite:///{other}").fails(
        "operators", "list"
    )
    assert "forvalg init" in result.error_line
    assert not other.exists(), "a failed command created a database file"


def test_a_bad_setting_fails_with_one_line_naming_the_variable(initialised: Cli) -> None:
    result = initialised.with_env(FORVALG_LEAD_WORKING_DAYS="ten").fails("operators", "list")
    assert "FORVALG_LEAD_WORKING_DAYS" in result.error_line
    assert "ten" in result.error_line


def test_init_against_an_unreachable_database_fails_with_one_line_and_creates_nothing(
    cli: Cli,
) -> None:
    url = "postgresql+psycopg://forvalg:secret@127.0.0.1:1/nowhere"
    result = cli.with_env(FORVALG_DATABASE_URL=url).fails("init", timeout=60)
    line = result.error_line
    assert "127.0.0.1:1" in line
    assert "secret" not in line, "the password is shown"
    assert list(cli.cwd.iterdir()) == [], "a failed init left files behind"
