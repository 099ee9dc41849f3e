"""`forvalg ledger ...` and `forvalg users add`: checkpoints, exports, proofs and key rotation,
as compliance and the regulator use them from the command line."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from forvalg.ledger.note import Checkpoint, NoteError, Signer, Verifier

from .helpers import GOOD_ROWS, Cli, Result, query, write_csv

VERIFY = Path(sys.executable).parent / "forvalg-verify"
ORIGIN = "forvalg.local/ledger"
SIGNATURE_PREFIX = "\u2014 "  # an em dash and a space
EXPORT_FILES = ["checkpoint", "entries.jsonl", "key.pub"]
IMPORTED_NUMBERS = [row.split(",", 1)[0] for row in GOOD_ROWS]


def verify(*args: str | Path, cwd: Path) -> Result:
    """The regulator's verifier, run as its own executable."""
    argv = tuple(str(a) for a in args)
    done = subprocess.run(
        [str(VERIFY), *argv], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )
    return Result(("(forvalg-verify)", *argv), done.returncode, done.stdout, done.stderr)


def secret_of(token: str) -> str:
    """The secret part of `<prefix>_<key id>_<secret>`."""
    _prefix, _kid, secret = token.split("_", 2)
    return secret


def database_bytes(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(directory.glob("forvalg.db*")))


def signature_lines(note: str) -> list[str]:
    _text, _, signatures = note.rpartition("\n\n")
    return signatures.splitlines()


@dataclass(frozen=True)
class Ledgered:
    """A directory after init, a line import, an operator, a checkpoint taken part-way
    (`early`), a regulator, and an export; then what `ledger key` and the proofs printed,
    asked side by side as compliance and the regulator would."""

    cli: Cli
    init_output: str
    operator_token: str
    user: Result
    early: str
    export: Path
    export_output: str
    key: Result
    inclusion: Result
    beyond: Result
    consistency: Result

    @property
    def user_token(self) -> str:
        return self.user.last_line

    @property
    def verifier(self) -> Verifier:
        return Verifier.parse((self.export / "key.pub").read_text())

    @property
    def size(self) -> int:
        return Checkpoint.open((self.export / "checkpoint").read_bytes(), self.verifier).size

    def write(self, name: str, text: str) -> Path:
        path = self.cli.cwd / name
        path.write_text(text, encoding="utf-8")
        return path


@pytest.fixture(scope="module")
def ledgered(tmp_path_factory: pytest.TempPathFactory) -> Ledgered:
    directory = tmp_path_factory.mktemp("ledgered")
    cli = Cli(directory)
    init = cli.ok("init")
    cli.ok("lines", "import", write_csv(directory / "lines.csv", *GOOD_ROWS))
    token = cli.ok(
        "operators", "add", "--id", "telia", "--name", "Telia Norge", "--csc", "1505"
    ).last_line
    early = cli.ok("ledger", "checkpoint").stdout
    user = cli.ok("users", "add", "--name", "Nora Regulator", "--role", "regulator")
    export = directory / "export"
    done = cli.ok("ledger", "export", "--out", export)

    key = Verifier.parse((export / "key.pub").read_text())
    old = Checkpoint.open(early, key).size
    new = Checkpoint.open((export / "checkpoint").read_bytes(), key).size
    with ThreadPoolExecutor(max_workers=4) as pool:
        asked = [
            pool.submit(cli.run, *args)
            for args in (
                ("ledger", "key"),
                ("ledger", "prove", "inclusion", "--index", str(new // 2), "--size", str(new)),
                ("ledger", "prove", "inclusion", "--index", "0", "--size", "100000"),
                ("ledger", "prove", "consistency", "--from", str(old), "--to", str(new)),
            )
        ]
    printed = [future.result() for future in asked]
    return Ledgered(cli, init.stdout, token, user, early, export, done.stdout, *printed)


def test_checkpoint_is_a_signed_note_that_opens_with_the_printed_key(ledgered: Ledgered) -> None:
    note = ledgered.early
    text, blank, signatures = note.partition("\n\n")
    assert blank, f"no blank line in the checkpoint\n{note}"
    origin, size, root = text.split("\n")
    assert origin == ORIGIN
    assert size.isdigit()
    assert int(size) > 0, "the import and the operator left no entries"
    assert str(int(size)) == size, "the size is not plain decimal"
    assert len(base64.b64decode(root, validate=True)) == 32
    assert signatures.endswith("\n")
    [line] = signatures.splitlines()
    assert line.startswith(f"{SIGNATURE_PREFIX}{ORIGIN} ")
    blob = base64.b64decode(line.rsplit(" ", 1)[1], validate=True)
    assert len(blob) == 4 + 64, "not a 4-byte key id and an Ed25519 signature"

    assert ledgered.key.returncode == 0, str(ledgered.key)
    key = ledgered.key.stdout.strip()
    assert f"ledger verifier key: {key}" in ledgered.init_output, "init printed another key"
    verifier = Verifier.parse(key)
    assert blob[:4] == verifier.id
    opened = Checkpoint.open(note, verifier)
    assert (opened.origin, opened.size, opened.root) == (ORIGIN, int(size), base64.b64decode(root))
    assert Checkpoint.open(note, verifier, ORIGIN) == opened

    private = (ledgered.cli.cwd / ".forvalg" / "ledger.key").read_text()
    assert Signer.parse(private).verifier.id == verifier.id
    assert Signer.parse(private).secret() not in ledgered.init_output + note + key


def test_export_writes_exactly_the_entries_the_checkpoint_and_the_key(ledgered: Ledgered) -> None:
    export = ledgered.export
    assert sorted(p.name for p in export.iterdir()) == EXPORT_FILES
    assert str(export) in ledgered.export_output
    key = Verifier.parse((export / "key.pub").read_text())
    assert f"ledger verifier key: {key}" in ledgered.init_output
    checkpoint = Checkpoint.open((export / "checkpoint").read_bytes(), key, ORIGIN)
    early = Checkpoint.open(ledgered.early, key)
    assert checkpoint.size > early.size, "the work after the early checkpoint left no entries"

    raw = (export / "entries.jsonl").read_bytes()
    assert raw.endswith(b"\n")
    assert b"\r" not in raw
    lines = raw.split(b"\n")[:-1]
    assert len(lines) == checkpoint.size, "the entries and the checkpoint disagree on the size"
    prev = bytes(32)
    for i, line in enumerate(lines):
        assert line == line.strip(), f"line {i} has surrounding spaces"
        entry = json.loads(line)
        assert set(entry) == {"event", "index", "prev"}, f"line {i}: {sorted(entry)}"
        assert entry["index"] == i, f"line {i} holds entry {entry['index']}"
        assert entry["prev"] == prev.hex(), f"line {i} does not chain to line {i - 1}"
        canonical = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert line == canonical.encode(), f"line {i} is not canonical JSON"
        prev = hashlib.sha256(b"\x00" + line).digest()
    assert prev != bytes(32)

    result = verify("--export", export, cwd=ledgered.cli.cwd)
    assert result.returncode == 0, str(result)
    assert result.stdout.startswith("OK")
    assert str(checkpoint.size) in result.stdout
    assert result.stderr == ""

    by_file = verify(
        "--key",
        export / "key.pub",
        "--checkpoint",
        export / "checkpoint",
        "--entries",
        export / "entries.jsonl",
        "--previous",
        ledgered.write("early.checkpoint", ledgered.early),
        cwd=ledgered.cli.cwd,
    )
    assert by_file.returncode == 0, str(by_file)
    assert by_file.stdout.startswith("OK")


def test_export_holds_no_subscriber_number_and_no_secret(ledgered: Ledgered) -> None:
    assert query(ledgered.cli.cwd / "forvalg.db", "SELECT count(*) FROM lines") == [
        (len(GOOD_ROWS),)
    ], "the line import did not happen, so the check below proves nothing"
    exported = b"".join((ledgered.export / name).read_bytes() for name in EXPORT_FILES)
    for number in IMPORTED_NUMBERS:
        assert number.encode() not in exported, f"subscriber number {number} is in the export"
    for token in (ledgered.operator_token, ledgered.user_token):
        assert token.encode() not in exported, "a credential is in the export"
        assert secret_of(token).encode() not in exported, "a credential's secret is exported"
    private = (ledgered.cli.cwd / ".forvalg" / "ledger.key").read_text().strip()
    assert private.encode() not in exported
    assert private.rsplit("+", 1)[1].encode() not in exported, "the signing key is exported"


def test_inclusion_proof_verifies_against_the_exported_checkpoint(ledgered: Ledgered) -> None:
    export, printed = ledgered.export, ledgered.inclusion
    assert printed.returncode == 0, str(printed)
    size = ledgered.size
    index = size // 2
    proof = json.loads(printed.stdout)
    assert set(proof) == {"index", "size", "leaf_hash", "hashes"}
    assert (proof["index"], proof["size"]) == (index, size)
    line = (export / "entries.jsonl").read_bytes().split(b"\n")[index]
    assert base64.b64decode(proof["leaf_hash"]) == hashlib.sha256(b"\x00" + line).digest()
    assert all(len(base64.b64decode(h, validate=True)) == 32 for h in proof["hashes"])
    assert proof["hashes"], "a proof in a tree of more than one entry has hashes"

    proof_file = ledgered.write("inclusion.json", printed.stdout)
    common = ("--key", export / "key.pub", "--checkpoint", export / "checkpoint")
    with_entries = verify(
        "inclusion",
        *common,
        "--proof",
        proof_file,
        "--entries",
        export / "entries.jsonl",
        cwd=ledgered.cli.cwd,
    )
    assert with_entries.returncode == 0, str(with_entries)
    assert with_entries.stdout.startswith("OK")
    assert str(index) in with_entries.stdout

    entry = ledgered.write("entry.json", line.decode() + "\n")
    with_entry = verify(
        "inclusion", *common, "--proof", proof_file, "--entry", entry, cwd=ledgered.cli.cwd
    )
    assert with_entry.returncode == 0, str(with_entry)

    other = (export / "entries.jsonl").read_bytes().split(b"\n")[index - 1]
    wrong = ledgered.write("wrong-entry.json", other.decode() + "\n")
    refused = verify(
        "inclusion", *common, "--proof", proof_file, "--entry", wrong, cwd=ledgered.cli.cwd
    )
    assert refused.returncode == 1, str(refused)


def test_inclusion_proof_beyond_the_tree_fails_with_one_line(ledgered: Ledgered) -> None:
    result = ledgered.beyond
    assert result.returncode != 0, str(result)
    assert "beyond" in result.error_line
    assert "100000" in result.error_line
    assert result.stdout == ""


def test_consistency_proof_joins_the_early_checkpoint_to_the_export(ledgered: Ledgered) -> None:
    export, printed = ledgered.export, ledgered.consistency
    assert printed.returncode == 0, str(printed)
    early = Checkpoint.open(ledgered.early, ledgered.verifier)
    late = Checkpoint.open((export / "checkpoint").read_bytes(), ledgered.verifier)
    proof = json.loads(printed.stdout)
    assert set(proof) == {"from", "to", "hashes"}
    assert (proof["from"], proof["to"]) == (early.size, late.size)
    assert proof["hashes"]

    proof_file = ledgered.write("consistency.json", printed.stdout)
    early_file = ledgered.write("early-for-consistency.checkpoint", ledgered.early)
    result = verify(
        "consistency",
        "--key",
        export / "key.pub",
        "--previous",
        early_file,
        "--checkpoint",
        export / "checkpoint",
        "--proof",
        proof_file,
        cwd=ledgered.cli.cwd,
    )
    assert result.returncode == 0, str(result)
    assert result.stdout.startswith("OK")

    swapped = verify(
        "consistency",
        "--key",
        export / "key.pub",
        "--previous",
        export / "checkpoint",
        "--checkpoint",
        early_file,
        "--proof",
        proof_file,
        cwd=ledgered.cli.cwd,
    )
    assert swapped.returncode == 1, str(swapped)


def test_users_add_prints_the_token_last_and_stores_only_its_hash(ledgered: Ledgered) -> None:
    user = ledgered.user
    token = user.last_line
    assert token.startswith("fvu_")
    assert token == token.strip()
    assert len(secret_of(token)) >= 32
    assert user.stdout.count(token) == 1, "the token is printed more than once"
    assert user.stderr == ""
    _prefix, user_id, secret = token.split("_", 2)

    database = ledgered.cli.cwd / "forvalg.db"
    rows = query(database, "SELECT id, name, role, token_hash, revoked_at FROM staff_users")
    assert [r[:3] for r in rows] == [(user_id, "Nora Regulator", "regulator")]
    assert rows[0][4] is None
    assert secret not in rows[0][3]
    assert rows[0][3].encode() in database_bytes(ledgered.cli.cwd)  # the search below can see
    stored = database_bytes(ledgered.cli.cwd)
    assert token.encode() not in stored
    assert secret.encode() not in stored, "the token's secret is stored in the database"


def test_users_add_with_an_unknown_role_fails_with_one_line_and_adds_nobody(
    initialised: Cli,
) -> None:
    result = initialised.fails("users", "add", "--name", "Mallory", "--role", "superuser")
    assert "--role" in result.error_line
    assert "superuser" in result.error_line
    assert "fvu_" not in result.stdout
    assert query(initialised.cwd / "forvalg.db", "SELECT count(*) FROM staff_users") == [(0,)]


def test_rotate_key_co_signs_until_the_old_key_is_retired(initialised: Cli) -> None:
    too_early = initialised.fails("ledger", "retire-key")
    assert "rotation" in too_early.error_line

    key_file = initialised.cwd / ".forvalg" / "ledger.key"
    old = Signer.parse(key_file.read_text()).verifier
    rotated = initialised.ok("ledger", "rotate-key")
    new = Signer.parse(key_file.read_text()).verifier
    assert new.id != old.id
    assert str(old) in rotated.stdout
    assert str(new) in rotated.stdout
    assert "PRIVATE" not in rotated.stdout

    during = initialised.ok("ledger", "checkpoint").stdout
    assert len(signature_lines(during)) == 2
    assert Checkpoint.open(during, old) == Checkpoint.open(during, new)

    retired = initialised.ok("ledger", "retire-key")
    assert retired.stderr == ""
    after = initialised.ok("ledger", "checkpoint").stdout
    assert len(signature_lines(after)) == 1
    assert Checkpoint.open(after, new).size >= Checkpoint.open(during, new).size
    with pytest.raises(NoteError):
        Checkpoint.open(after, old)
