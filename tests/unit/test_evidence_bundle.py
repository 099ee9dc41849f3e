"""Evidence bundles (ledger.bundle, `forvalg-verify bundle`): a bundle built from a real
tree verifies; tampering with each part (an entry, a proof, the checkpoint, the
manifest, a file, the key, the previous checkpoint) fails with one line saying what."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from forvalg.ledger import bundle
from forvalg.ledger import verify as regulator
from forvalg.ledger.entries import GENESIS_PREV, seal
from forvalg.ledger.merkle import MemoryTree, consistency_proof, inclusion_proof, leaf_hash
from forvalg.ledger.note import Checkpoint, Signer
from forvalg.ledger.wire import ConsistencyProof, InclusionProof

SIGNER = Signer("forvalg.test/ledger", Ed25519PrivateKey.from_private_bytes(bytes(32)))
OTHER = Signer("forvalg.test/ledger", Ed25519PrivateKey.from_private_bytes(bytes([1]) * 32))
ORIGIN = "forvalg.test/ledger"


def entries(n: int) -> list[bytes]:
    out, prev = [], GENESIS_PREV
    for i in range(n):
        event = json.dumps(
            {"at": f"2026-11-{1 + i % 28:02d}T10:00:00+00:00", "principal": f"user:u{i}"},
            separators=(",", ":"),
            sort_keys=True,
        ).encode()
        entry = seal(event, i, prev)
        out.append(entry)
        prev = leaf_hash(entry)
    return out


def make(
    size: int = 13, picked: tuple[int, ...] = (1, 4, 9, 12), old: int | None = 6
) -> tuple[bytes, str | None]:
    """A bundle over a tree of `size` holding `picked`, consistent with size `old`; and
    the old checkpoint's note."""
    all_entries = entries(size)
    tree = MemoryTree(all_entries)
    head = Checkpoint(ORIGIN, size, tree.root())
    note = head.sign(SIGNER)
    selected = [
        bundle.Selected(
            i,
            all_entries[i],
            InclusionProof(i, size, leaf_hash(all_entries[i]), inclusion_proof(tree, i, size)),
            ("staff",),
        )
        for i in picked
    ]
    previous = consistency = None
    if old is not None:
        previous = Checkpoint(ORIGIN, old, MemoryTree(all_entries[:old]).root()).sign(SIGNER)
        consistency = ConsistencyProof(old, size, consistency_proof(tree, old, size))
    contents = bundle.Contents(
        inquiry={"id": "INQ-0123456789ab", "question": "Who read what?", "period": "2026-11"},
        answer={"answered_at": "2026-12-01T10:00:00Z", "answered_by": "Kari"},
        checkpoint=note,
        key=str(SIGNER.verifier),
        entries=selected,
        selection="the test's",
        previous=previous,
        consistency=consistency,
        report={"report.html": b"<html></html>", "report.json": b"{}"},
    )
    return bundle.build(contents, head), previous


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def rezip(files: dict[str, bytes], *, rehash: bool = False) -> bytes:
    """The files as a zip; with `rehash`, the manifest's hashes made to fit them."""
    if rehash:
        manifest = json.loads(files["manifest.json"])
        for item in manifest["files"]:
            item["sha256"] = hashlib.sha256(files[item["name"]]).hexdigest()
        files = files | {"manifest.json": json.dumps(manifest).encode()}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return out.getvalue()


def fails(data: bytes, **kwargs: object) -> str:
    with pytest.raises(bundle.BundleError) as caught:
        bundle.verify(data, **kwargs)  # type: ignore[arg-type]
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_a_bundle_verifies_with_its_own_key_or_a_pinned_one() -> None:
    data, previous = make()
    found = bundle.verify(data)
    assert (found.inquiry, found.size, found.entries, found.extends) == (
        "INQ-0123456789ab",
        13,
        4,
        6,
    )
    assert not found.pinned
    assert "the bundle's own key" in "\n".join(found.lines())
    pinned = bundle.verify(data, key=SIGNER.verifier)
    assert pinned.pinned
    assert "your key" in "\n".join(pinned.lines())
    assert found.report == ("report.html", "report.json")
    assert previous is not None
    assert bundle.verify(data, previous=previous.encode()).extends == 6


def test_the_same_contents_give_the_same_zip() -> None:
    assert make()[0] == make()[0]


def test_a_bundle_without_a_previous_checkpoint_says_so() -> None:
    data, _ = make(old=None)
    found = bundle.verify(data)
    assert found.extends is None
    assert "no previous checkpoint" in "\n".join(found.lines())


def _edit(name: str, change: Callable[[bytes], bytes], *, rehash: bool) -> bytes:
    files = members(make()[0])
    files[name] = change(files[name])
    return rezip(files, rehash=rehash)


def test_a_changed_file_breaks_the_manifest_hash() -> None:
    altered = _edit("report/report.json", lambda _: b'{"clean": true}', rehash=False)
    assert "report/report.json: its SHA-256 does not match the manifest" in fails(altered)


def test_a_tampered_entry_fails_even_when_the_manifest_is_rehashed() -> None:
    def change(data: bytes) -> bytes:
        return data.replace(b"user:u4", b"user:u5", 1)

    assert "entries.jsonl: its SHA-256" in fails(_edit("entries.jsonl", change, rehash=False))
    message = fails(_edit("entries.jsonl", change, rehash=True))
    assert message == "entries.jsonl line 2: entry 4 was altered (its hash is not the leaf's)"


def test_a_tampered_proof_fails() -> None:
    def change(data: bytes) -> bytes:
        lines = data.split(b"\n")
        proof = json.loads(lines[0])
        proof["hashes"][0] = proof["hashes"][1]
        lines[0] = json.dumps(proof).encode()
        return b"\n".join(lines)

    message = fails(_edit("inclusion.jsonl", change, rehash=True))
    assert message.startswith("entries.jsonl line 1: entry 1 is not in the checkpoint")


def test_a_swapped_checkpoint_or_manifest_fails() -> None:
    other = Checkpoint(ORIGIN, 13, bytes(32)).sign(SIGNER)
    swapped = _edit("checkpoint", lambda _: other.encode(), rehash=True)
    assert fails(swapped) == "manifest.json: its checkpoint is not the signed one"
    forged = _edit("checkpoint", lambda d: d.replace(b"13\n", b"12\n", 1), rehash=True)
    assert "checkpoint: the signature by forvalg.test/ledger does not verify" in fails(forged)

    def fewer(data: bytes) -> bytes:
        manifest = json.loads(data)
        manifest["entries"][0]["index"] = 2
        return json.dumps(manifest).encode()

    assert "the manifest says entry 2, the proof 1" in fails(
        _edit("manifest.json", fewer, rehash=False)
    )
    extra = members(make()[0]) | {"report/extra.txt": b"x"}
    assert fails(rezip(extra)) == "report/extra.txt: in the zip but not listed in the manifest"


def test_a_wrong_key_fails() -> None:
    data, _ = make()
    message = fails(data, key=OTHER.verifier)
    assert (
        message == "checkpoint: the note carries no signature by key forvalg.test/ledger+d7eeb191"
    )
    # A bundle signed and keyed by someone else fails against the regulator's pinned key.
    files = members(data)
    files["key.pub"] = (str(OTHER.verifier) + "\n").encode()
    assert "checkpoint:" in fails(rezip(files, rehash=True))


def test_a_previous_checkpoint_of_another_history_fails() -> None:
    data, _ = make()
    fork = Checkpoint(ORIGIN, 6, bytes(32)).sign(SIGNER).encode()
    assert fails(data, previous=fork).startswith("consistency.json: the log does not extend")
    bigger = Checkpoint(ORIGIN, 20, bytes(32)).sign(SIGNER).encode()
    assert "is larger than the bundle's checkpoint" in fails(data, previous=bigger)
    other_size = make(old=5)[1]
    assert other_size is not None
    assert "the proof is from size 6 to 13, not from --previous's 5" in fails(
        data, previous=other_size.encode()
    )


def test_not_a_zip_fails() -> None:
    assert fails(b"PK nothing") == "not a zip file"


def test_forvalg_verify_bundle_exit_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, _ = make()
    good = tmp_path / "a.zip"
    good.write_bytes(data)
    key = tmp_path / "key.pub"
    key.write_text(str(SIGNER.verifier) + "\n")
    assert regulator.main(["bundle", str(good), "--key", str(key)]) == 0
    assert "OK: evidence bundle for INQ-0123456789ab" in capsys.readouterr().out
    bad = tmp_path / "b.zip"
    bad.write_bytes(_edit("entries.jsonl", lambda d: d.replace(b"u4", b"u5"), rehash=True))
    assert regulator.main(["bundle", str(bad)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"forvalg-verify: FAILED: {bad}: entries.jsonl line 2: entry 4 was altered "
        "(its hash is not the leaf's)"
    ]
    assert regulator.main(["bundle", str(tmp_path / "missing.zip")]) == 2
