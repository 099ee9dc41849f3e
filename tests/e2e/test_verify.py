"""`forvalg-verify`: the regulator's offline verifier, run as its own executable against real
exports of real logs, and against every way an export, a checkpoint or the database under
the log can be tampered with."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest

from forvalg.ledger.note import Checkpoint, Signer, Verifier

from .helpers import Cli, Result, copy_initialised

PYTHON = Path(sys.executable)
VERIFY = PYTHON.parent / "forvalg-verify"
HEAVY = ("sqlalchemy", "fastapi", "pydantic", "rfc8785")


def verify(*args: str | Path, cwd: Path | None = None) -> Result:
    """`forvalg-verify ARGS`, as the regulator runs it."""
    argv = tuple(str(a) for a in args)
    done = subprocess.run(
        [str(VERIFY), *argv], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )
    return Result(("(forvalg-verify)", *argv), done.returncode, done.stdout, done.stderr)


def verified(*args: str | Path) -> Result:
    result = verify(*args)
    assert result.returncode == 0, str(result)
    assert result.stdout.startswith("OK"), str(result)
    assert result.stderr == ""
    return result


def refused(*args: str | Path, code: int = 1) -> str:
    """Asserts the exit status and that nothing says OK; the one stderr line."""
    result = verify(*args)
    assert result.returncode == code, str(result)
    assert "OK" not in result.stdout, str(result)
    return result.error_line


def size_of(checkpoint: Path, key: Path) -> int:
    return Checkpoint.open(checkpoint.read_bytes(), Verifier.parse(key.read_text())).size


def lines_of(entries: Path) -> list[bytes]:
    raw = entries.read_bytes()
    assert raw.endswith(b"\n")
    return raw.split(b"\n")[:-1]


def write_lines(entries: Path, lines: list[bytes]) -> None:
    entries.write_bytes(b"".join(line + b"\n" for line in lines))


def on_database(database: Path, *statements: str) -> None:
    with closing(sqlite3.connect(database)) as connection:
        for statement in statements:
            connection.execute(statement)
        connection.commit()


@dataclass(frozen=True)
class Logs:
    """One log (`main`, a demo's directory) with an older checkpoint `c1` (the demo's own
    export) and a later export `e2` of the grown log, with the consistency proof between
    them; a fork (same signing key, other history, larger than e2); and a checkpoint signed
    by another key, with that key."""

    main: Cli
    c1: Path
    e2: Path
    c1_to_e2: Path
    fork: Path
    foreign_checkpoint: Path
    foreign_key: Path

    @property
    def key(self) -> Path:
        return self.e2 / "key.pub"

    @property
    def c2(self) -> Path:
        return self.e2 / "checkpoint"

    @property
    def entries(self) -> Path:
        return self.e2 / "entries.jsonl"


def demo(cli: Cli, out: str, *spec: str) -> Path:
    cli.ok("demo", "--lines", "100", *spec, "--out", out)
    return cli.cwd / out


def against(directory: Path) -> Cli:
    """`forvalg` on a demo's database and keys."""
    return Cli(directory).with_env(
        FORVALG_DATABASE_URL=f"sqlite:///{directory / 'forvalg.db'}",
        FORVALG_KEY_DIR=str(directory / "keys"),
    )


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory, initialised_template: Path) -> Logs:
    top = tmp_path_factory.mktemp("logs")
    user = Cli(top)
    other = copy_initialised(initialised_template, tmp_path_factory.mktemp("other-key"))
    with ThreadPoolExecutor(max_workers=2) as pool:  # independent directories, side by side
        foreign_note = pool.submit(other.ok, "ledger", "checkpoint")
        main_dir = demo(user, "main", "--days", "2", "--orders-per-day", "5", "--seed", "11")
        c1 = top / "c1.checkpoint"
        shutil.copy(main_dir / "ledger" / "checkpoint", c1)

        # The same signing key in a fresh directory, and a different history under it.
        (top / "fork" / "keys").mkdir(parents=True, mode=0o700)
        shutil.copy2(main_dir / "keys" / "ledger.key", top / "fork" / "keys" / "ledger.key")
        fork_demo = pool.submit(
            demo, user, "fork", "--days", "3", "--orders-per-day", "10", "--seed", "7"
        )

        # The demo's own export read is logged: the next export has grown past c1.
        main = against(main_dir)
        e2 = top / "e2"
        main.ok("ledger", "export", "--out", e2)
        s1, s2 = size_of(c1, e2 / "key.pub"), size_of(e2 / "checkpoint", e2 / "key.pub")
        assert 30 <= s1 < s2 <= 1000, (s1, s2)  # a small demo: a few hundred entries
        proof = top / "c1-to-e2.json"
        proof.write_text(
            main.ok("ledger", "prove", "consistency", "--from", str(s1), "--to", str(s2)).stdout
        )
        fork = fork_demo.result() / "ledger"
        foreign = other.cwd / "foreign.checkpoint"
        foreign.write_text(foreign_note.result().stdout, encoding="utf-8")

    assert (fork / "key.pub").read_text() == (e2 / "key.pub").read_text(), "not the same key"
    assert size_of(fork / "checkpoint", fork / "key.pub") > s2
    foreign_key = other.cwd / "foreign.pub"
    signer = Signer.parse((other.cwd / ".forvalg" / "ledger.key").read_text())
    foreign_key.write_text(f"{signer.verifier}\n", encoding="utf-8")
    assert foreign_key.read_text() != (e2 / "key.pub").read_text()
    return Logs(main, c1, e2, proof, fork, foreign, foreign_key)


@pytest.fixture
def tampered(logs: Logs, tmp_path: Path) -> Path:
    """A copy of the later export, to tamper with."""
    return Path(shutil.copytree(logs.e2, tmp_path / "export"))


def test_the_untouched_exports_verify(logs: Logs) -> None:
    size = size_of(logs.c2, logs.key)
    result = verified("--export", logs.e2)
    assert f"{size} entries" in result.stdout
    verified("--key", logs.key, "--checkpoint", logs.c2, "--entries", logs.entries)
    verified("--export", logs.fork)
    verified("--export", logs.main.cwd / "ledger")


def test_the_demo_export_holds_none_of_the_demo_numbers(logs: Logs) -> None:
    numbers = [
        row.split(",", 1)[0] for row in (logs.main.cwd / "lines.csv").read_text().splitlines()[1:]
    ]
    assert len(numbers) == 100
    exported = logs.entries.read_text(encoding="utf-8")
    assert '"subjects":["' in exported, "no entry names a subject: the check proves nothing"
    assert [n for n in numbers if n in exported] == []


# --- tampering with the exported entries -------------------------------------------------


def middle(lines: list[bytes]) -> int:
    return len(lines) // 2


def edit_middle(lines: list[bytes]) -> int:
    k = middle(lines)
    assert b'"decision":"allow"' in lines[k]
    lines[k] = lines[k].replace(b'"decision":"allow"', b'"decision":"deny"')
    return k


def delete_middle(lines: list[bytes]) -> int:
    k = middle(lines)
    del lines[k]
    return k


def swap_middle(lines: list[bytes]) -> int:
    k = middle(lines)
    lines[k], lines[k + 1] = lines[k + 1], lines[k]
    return k


def edit_last(lines: list[bytes]) -> int:
    last = len(lines) - 1
    assert b'"decision":"allow"' in lines[last]
    lines[last] = lines[last].replace(b'"decision":"allow"', b'"decision":"deny"')
    return last


def trailing_space(lines: list[bytes]) -> int:
    k = middle(lines)
    lines[k] += b" "
    return k


@pytest.mark.parametrize(
    "tamper",
    [edit_middle, delete_middle, swap_middle, edit_last, trailing_space],
    ids=lambda f: f.__name__,
)
def test_tampered_entries_fail_naming_the_first_bad_index(
    tampered: Path, tamper: Callable[[list[bytes]], int]
) -> None:
    lines = lines_of(tampered / "entries.jsonl")
    k = tamper(lines)
    write_lines(tampered / "entries.jsonl", lines)
    line = refused("--export", tampered)
    assert line.startswith("forvalg-verify: FAILED")
    assert f"first bad index {k}" in line, f"expected index {k}: {line}"


def test_truncated_entries_say_the_file_ends_early(tampered: Path) -> None:
    lines = lines_of(tampered / "entries.jsonl")
    write_lines(tampered / "entries.jsonl", lines[:-1])
    line = refused("--export", tampered)
    assert "ends early" in line
    assert f"first bad index {len(lines) - 1}" in line

    cut = (tampered / "entries.jsonl").read_bytes()
    (tampered / "entries.jsonl").write_bytes(cut + lines[-1][:40])  # no final newline
    assert "truncated" in refused("--export", tampered)


def test_an_appended_entry_fails(tampered: Path) -> None:
    lines = lines_of(tampered / "entries.jsonl")
    write_lines(tampered / "entries.jsonl", [*lines, lines[-1]])
    line = refused("--export", tampered)
    assert "beyond" in line
    assert str(len(lines)) in line


# --- tampering with the database under the log -------------------------------------------


def tamper_database(logs: Logs, tmp_path: Path, trigger: str, statement: str) -> Path:
    """In a copy of the log's directory: the statement is refused while the append-only
    trigger exists; with the trigger dropped it goes through; then a fresh export."""
    directory = Path(shutil.copytree(logs.main.cwd, tmp_path / "log"))
    database = directory / "forvalg.db"
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        on_database(database, statement)
    on_database(database, f"DROP TRIGGER {trigger}", statement)
    export = tmp_path / "after"
    against(directory).ok("ledger", "export", "--out", export)
    return export


def test_an_entry_updated_in_the_database_is_named(logs: Logs, tmp_path: Path) -> None:
    k = size_of(logs.c2, logs.key) // 2
    export = tamper_database(
        logs,
        tmp_path,
        "ledger_entries_no_update",
        'UPDATE ledger_entries SET entry = replace(entry, \'"decision":"allow"\', '
        f'\'"decision":"deny"\') WHERE idx = {k}',
    )
    assert b'"decision":"deny"' in lines_of(export / "entries.jsonl")[k]
    line = refused("--export", export, "--previous", logs.c2)
    assert f"first bad index {k}" in line
    assert f"first bad index {k}" in refused("--export", export)


def test_an_entry_deleted_from_the_database_is_named(logs: Logs, tmp_path: Path) -> None:
    k = size_of(logs.c2, logs.key) // 2
    export = tamper_database(
        logs, tmp_path, "ledger_entries_no_delete", f"DELETE FROM ledger_entries WHERE idx = {k}"
    )
    line = refused("--export", export, "--previous", logs.c2)
    assert f"first bad index {k}" in line, f"expected index {k}: {line}"


# --- checkpoint problems ------------------------------------------------------------------


@pytest.mark.parametrize(
    "cut",
    [
        pytest.param(lambda note: 0, id="empty"),
        pytest.param(lambda note: note.index(b"\n") + 1, id="origin-only"),
        pytest.param(lambda note: note.index(b"\n\n") - 10, id="in-the-root"),
        pytest.param(lambda note: note.index(b"\n\n") + 1, id="before-the-blank-line"),
        pytest.param(lambda note: note.index(b"\n\n") + 2, id="no-signature"),
        pytest.param(lambda note: note.index(b"\n\n") + 30, id="in-the-signature"),
        pytest.param(lambda note: len(note) - 1, id="no-final-newline"),
    ],
)
def test_a_truncated_checkpoint_fails_clearly(
    logs: Logs, tmp_path: Path, cut: Callable[[bytes], int]
) -> None:
    note = logs.c2.read_bytes()
    broken = tmp_path / "checkpoint"
    broken.write_bytes(note[: cut(note)])
    result = verify("--key", logs.key, "--checkpoint", broken, "--entries", logs.entries)
    assert result.returncode in (1, 2), str(result)
    assert "OK" not in result.stdout
    assert str(broken) in result.error_line


def test_an_altered_checkpoint_fails(logs: Logs, tmp_path: Path) -> None:
    note = logs.c2.read_bytes()
    size = size_of(logs.c2, logs.key)
    grown = tmp_path / "grown"
    grown.write_bytes(note.replace(f"\n{size}\n".encode(), f"\n{size + 1}\n".encode(), 1))
    assert grown.read_bytes() != note
    line = refused("--key", logs.key, "--checkpoint", grown, "--entries", logs.entries)
    assert "does not verify" in line

    text, _, signature = note.rpartition(b" ")
    cut = tmp_path / "cut-signature"
    cut.write_bytes(text + b" " + signature[:20] + b"\n")
    line = refused("--key", logs.key, "--checkpoint", cut, "--entries", logs.entries)
    assert str(cut) in line


def test_a_checkpoint_of_garbage_bytes_fails_clearly(logs: Logs, tmp_path: Path) -> None:
    garbage = tmp_path / "checkpoint"
    garbage.write_bytes(bytes(range(256)) * 8)
    result = verify("--key", logs.key, "--checkpoint", garbage, "--entries", logs.entries)
    assert result.returncode in (1, 2), str(result)
    assert str(garbage) in result.error_line


def test_a_checkpoint_signed_by_another_key_fails(logs: Logs) -> None:
    line = refused(
        "--key", logs.key, "--checkpoint", logs.foreign_checkpoint, "--entries", logs.entries
    )
    assert "signature" in line
    assert str(logs.foreign_checkpoint) in line


def test_the_wrong_key_fails(logs: Logs) -> None:
    line = refused("--key", logs.foreign_key, "--checkpoint", logs.c2, "--entries", logs.entries)
    assert "signature" in line


@pytest.mark.parametrize("missing", ["key", "checkpoint", "entries"])
def test_a_missing_file_exits_2_naming_it(logs: Logs, tmp_path: Path, missing: str) -> None:
    files = {"key": logs.key, "checkpoint": logs.c2, "entries": logs.entries}
    files[missing] = tmp_path / f"no-such-{missing}"
    args = [a for name, path in files.items() for a in (f"--{name}", path)]
    line = refused(*args, code=2)
    assert str(files[missing]) in line


# --- --previous ---------------------------------------------------------------------------


def test_previous_checkpoint_of_the_same_log_is_extended(logs: Logs) -> None:
    result = verified("--export", logs.e2, "--previous", logs.c1)
    assert f"extends size {size_of(logs.c1, logs.key)}" in result.stdout
    verified("--export", logs.e2, "--previous", logs.c2)


def test_previous_checkpoint_of_another_log_under_the_same_key_fails(logs: Logs) -> None:
    assert (logs.fork / "key.pub").read_text() == logs.key.read_text()
    line = refused("--export", logs.fork, "--previous", logs.c2)
    assert "previous" in line
    refused("--export", logs.e2, "--previous", logs.fork / "checkpoint")


# --- witness ------------------------------------------------------------------------------


def witness(state: Path, key: Path, checkpoint: Path, *extra: str | Path) -> Result:
    return verify("witness", "--state", state, "--key", key, "--checkpoint", checkpoint, *extra)


def test_witness_pins_then_accepts_only_extensions(logs: Logs, tmp_path: Path) -> None:
    state = tmp_path / "witness"
    pinned = witness(state, logs.key, logs.c1)
    assert pinned.returncode == 0, str(pinned)
    assert "first checkpoint pinned" in pinned.stdout
    assert (state / "checkpoint").read_bytes() == logs.c1.read_bytes()

    no_proof = witness(state, logs.key, logs.c2)
    assert no_proof.returncode != 0, str(no_proof)
    assert (state / "checkpoint").read_bytes() == logs.c1.read_bytes()

    by_proof = witness(state, logs.key, logs.c2, "--proof", logs.c1_to_e2)
    assert by_proof.returncode == 0, str(by_proof)
    assert by_proof.stdout.startswith("OK")
    assert (state / "checkpoint").read_bytes() == logs.c2.read_bytes()

    forked = witness(
        state, logs.key, logs.fork / "checkpoint", "--entries", logs.fork / "entries.jsonl"
    )
    assert forked.returncode == 1, str(forked)
    assert "refused" in forked.error_line
    assert "does not extend" in forked.error_line
    assert (state / "checkpoint").read_bytes() == logs.c2.read_bytes()

    older = witness(state, logs.key, logs.c1)
    assert older.returncode == 1, str(older)
    assert "refused" in older.error_line
    assert (state / "checkpoint").read_bytes() == logs.c2.read_bytes()

    same = witness(state, logs.key, logs.c2)
    assert same.returncode == 0, str(same)


def test_witness_accepts_an_extension_shown_by_the_entries(logs: Logs, tmp_path: Path) -> None:
    state = tmp_path / "witness"
    assert witness(state, logs.key, logs.c1).returncode == 0
    by_entries = witness(state, logs.key, logs.c2, "--entries", logs.entries)
    assert by_entries.returncode == 0, str(by_entries)
    assert f"extends size {size_of(logs.c1, logs.key)}" in by_entries.stdout
    assert (state / "checkpoint").read_bytes() == logs.c2.read_bytes()

    foreign = witness(state, logs.key, logs.foreign_checkpoint)
    assert foreign.returncode == 1, str(foreign)
    assert (state / "checkpoint").read_bytes() == logs.c2.read_bytes()


# --- standalone ---------------------------------------------------------------------------


def test_the_verifier_runs_standalone(tmp_path: Path) -> None:
    isolated = subprocess.run(
        [str(PYTHON), "-I", "-c", "import forvalg.ledger.verify"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert isolated.returncode == 0, isolated.stderr
    helped = subprocess.run(
        [str(PYTHON), "-m", "forvalg.ledger.verify", "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert helped.returncode == 0, helped.stderr
    assert "--export" in helped.stdout


def test_the_verifier_imports_nothing_of_the_server(tmp_path: Path) -> None:
    probe = (
        "import sys, forvalg.ledger.verify\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))\n"
    )
    done = subprocess.run(
        [str(PYTHON), "-I", "-c", probe],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
