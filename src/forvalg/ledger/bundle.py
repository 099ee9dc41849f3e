"""Evidence bundles: the zip that answers a regulator's inquiry, and its offline check
(docs/LEDGER.md, "Evidence bundles"; `forvalg-verify bundle FILE.zip`).

A published format, so it lives with the verifier and needs nothing but the standard
library and `cryptography`. The bundle holds:

    manifest.json        format, inquiry, answer, checkpoint, entries and why, files + SHA-256
    checkpoint           the signed checkpoint (C2SP tlog-checkpoint) every proof leads to
    key.pub              the log's verifier key (pin your own with --key)
    entries.jsonl        the selected entries, line k = exactly the leaf data of entry k
    inclusion.jsonl      line k = entry k's inclusion proof (INTERFACES §6 JSON)
    previous-checkpoint  the checkpoint the regulator held before (optional)
    consistency.json     the consistency proof from it to `checkpoint` (with the previous)
    report/...           the compliance report's files (optional)

The manifest is not signed: what it asserts about the log is checked against the
signed checkpoint (each entry's leaf hash and audit path, the consistency proof). Its
file hashes bind the rest (the report) to it, and the SHA-256 of the whole zip is
ledgered when the answer is recorded, so the next bundle proves it.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from forvalg.ledger.entries import read_seal
from forvalg.ledger.merkle import ProofError, leaf_hash, verify_consistency, verify_inclusion
from forvalg.ledger.note import Checkpoint, NoteError, Verifier
from forvalg.ledger.wire import ConsistencyProof, InclusionProof, b64

FORMAT = "forvalg-evidence-bundle/1"
MANIFEST = "manifest.json"
CHECKPOINT = "checkpoint"
KEY = "key.pub"
ENTRIES = "entries.jsonl"
INCLUSION = "inclusion.jsonl"
PREVIOUS = "previous-checkpoint"
CONSISTENCY = "consistency.json"
REPORT_DIR = "report/"
# Every member's timestamp: the zip's bytes depend on its contents alone.
_EPOCH = (1980, 1, 1, 0, 0, 0)
MAX_MEMBER_BYTES = 1 << 30


class BundleError(ValueError):
    """The bundle does not verify; the message is one line saying what and where."""


@dataclass(frozen=True)
class Selected:
    """One entry chosen for the bundle: its index, leaf data, proof and reasons."""

    index: int
    entry: bytes
    proof: InclusionProof
    why: tuple[str, ...]


@dataclass(frozen=True)
class Contents:
    inquiry: Mapping[str, Any]  # id, question, period, opened_at, deadline, ...
    answer: Mapping[str, Any]  # answered_at, answered_by, deadline_status, ...
    checkpoint: str  # the signed note
    key: str  # the verifier key string
    entries: Sequence[Selected]
    selection: str  # the rule, in words
    previous: str | None = None  # the previous signed note
    consistency: ConsistencyProof | None = None
    report: Mapping[str, bytes] = field(default_factory=dict)


def _jsonl(items: Sequence[bytes]) -> bytes:
    return b"".join(item + b"\n" for item in items)


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode()


def build(contents: Contents, checkpoint: Checkpoint) -> bytes:
    """The bundle's bytes: a zip whose members are in name order with a fixed timestamp,
    so the same contents always give the same zip."""
    files: dict[str, bytes] = {
        CHECKPOINT: contents.checkpoint.encode(),
        KEY: (contents.key.strip() + "\n").encode(),
        ENTRIES: _jsonl([s.entry for s in contents.entries]),
        INCLUSION: _jsonl(
            [
                json.dumps(s.proof.to_json(), separators=(",", ":")).encode()
                for s in contents.entries
            ]
        ),
    }
    previous = None
    if contents.previous is not None and contents.consistency is not None:
        files[PREVIOUS] = contents.previous.encode()
        files[CONSISTENCY] = _json(contents.consistency.to_json())
        previous = {"size": contents.consistency.old}
    for name, data in contents.report.items():
        files[REPORT_DIR + name] = data
    manifest = {
        "format": FORMAT,
        "inquiry": dict(contents.inquiry),
        "answer": dict(contents.answer),
        "checkpoint": {"size": checkpoint.size, "root": b64(checkpoint.root)},
        "previous": previous,
        "selection": contents.selection,
        "entries": [{"index": s.index, "why": list(s.why)} for s in contents.entries],
        "files": [
            {"name": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
            for name, data in sorted(files.items())
        ],
    }
    files[MANIFEST] = _json(manifest)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, _EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, files[name])
    return out.getvalue()


# ---------------------------------------------------------------- verifying


@dataclass(frozen=True)
class Verified:
    inquiry: str
    size: int
    root: bytes
    entries: int
    key: str  # whose key signed the checkpoint
    pinned: bool  # the caller's key (True) or the bundle's own (False)
    extends: int | None  # the previous checkpoint's size, if one was checked
    report: tuple[str, ...]

    def lines(self) -> list[str]:
        source = "your key" if self.pinned else "the bundle's own key (pin yours with --key)"
        extends = (
            f"; the log extends the previous checkpoint (size {self.extends})"
            if self.extends is not None
            else "; no previous checkpoint to check consistency against"
        )
        report = ", ".join(self.report) or "none"
        return [
            f"OK: evidence bundle for {self.inquiry}",
            f"  checkpoint: size {self.size}, root {b64(self.root)}, signed by {self.key} "
            f"(checked with {source})",
            f"  {self.entries} entries, each included in that checkpoint{extends}",
            f"  report files: {report}",
        ]


def _members(data: bytes) -> dict[str, bytes]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise BundleError("not a zip file") from None
    members: dict[str, bytes] = {}
    with zf:
        for info in zf.infolist():
            name = info.filename
            if info.is_dir() or name.startswith("/") or ".." in name.split("/"):
                raise BundleError(f"{name}: not a plain file of the bundle")
            if name in members:
                raise BundleError(f"{name}: twice in the zip")
            if info.file_size > MAX_MEMBER_BYTES:
                raise BundleError(f"{name}: larger than {MAX_MEMBER_BYTES} bytes")
            try:
                members[name] = zf.read(info)
            except (zipfile.BadZipFile, ValueError, OSError) as exc:
                raise BundleError(f"{name}: cannot be read from the zip ({exc})") from None
    return members


def _manifest(members: Mapping[str, bytes]) -> dict[str, Any]:
    if MANIFEST not in members:
        raise BundleError(f"no {MANIFEST} in the bundle")
    try:
        manifest = json.loads(members[MANIFEST])
    except ValueError as exc:
        raise BundleError(f"{MANIFEST}: not JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleError(f"{MANIFEST}: not a {FORMAT} manifest")
    return manifest


def _check_files(manifest: Mapping[str, Any], members: Mapping[str, bytes]) -> None:
    listed = manifest.get("files")
    if not isinstance(listed, list):
        raise BundleError(f"{MANIFEST}: files must be a list")
    names = set()
    for item in listed:
        name, digest = (item.get("name"), item.get("sha256")) if isinstance(item, dict) else (0, 0)
        if not isinstance(name, str) or not isinstance(digest, str):
            raise BundleError(f"{MANIFEST}: every file needs a name and a sha256")
        if name not in members:
            raise BundleError(f"{name}: listed in the manifest but missing from the zip")
        if hashlib.sha256(members[name]).hexdigest() != digest:
            raise BundleError(f"{name}: its SHA-256 does not match the manifest (file changed)")
        names.add(name)
    extra = sorted(set(members) - names - {MANIFEST})
    if extra:
        raise BundleError(f"{extra[0]}: in the zip but not listed in the manifest")
    for required in (CHECKPOINT, KEY, ENTRIES, INCLUSION):
        if required not in names:
            raise BundleError(f"{required}: missing from the bundle")


def _lines(data: bytes, name: str) -> list[bytes]:
    if data and not data.endswith(b"\n"):
        raise BundleError(f"{name}: the last line is not terminated (truncated?)")
    return data.split(b"\n")[:-1] if data else []


def _open(note: bytes, verifier: Verifier, name: str) -> Checkpoint:
    try:
        return Checkpoint.open(note, verifier)
    except NoteError as exc:
        raise BundleError(f"{name}: {exc}") from None


def _check_entries(
    manifest: Mapping[str, Any], members: Mapping[str, bytes], checkpoint: Checkpoint
) -> int:
    listed = manifest.get("entries")
    if not isinstance(listed, list):
        raise BundleError(f"{MANIFEST}: entries must be a list")
    entries = _lines(members[ENTRIES], ENTRIES)
    proofs = _lines(members[INCLUSION], INCLUSION)
    if not len(entries) == len(proofs) == len(listed):
        raise BundleError(
            f"{ENTRIES} has {len(entries)} lines, {INCLUSION} {len(proofs)}, the manifest "
            f"lists {len(listed)} entries: they must match"
        )
    for k, (entry, raw, item) in enumerate(zip(entries, proofs, listed, strict=True)):
        where = f"{ENTRIES} line {k + 1}"
        try:
            proof = InclusionProof.from_json(json.loads(raw))
        except ValueError as exc:  # ProofError is a ValueError too
            raise BundleError(f"{INCLUSION} line {k + 1}: not an inclusion proof ({exc})") from None
        index = item.get("index") if isinstance(item, dict) else None
        if proof.index != index:
            raise BundleError(f"{where}: the manifest says entry {index}, the proof {proof.index}")
        if proof.size != checkpoint.size:
            raise BundleError(
                f"{where}: the proof is for a tree of size {proof.size}, the checkpoint's "
                f"is {checkpoint.size}"
            )
        seal = read_seal(entry)
        if seal is None or seal.index != proof.index:
            raise BundleError(f"{where}: not sealed as ledger entry {proof.index}")
        if leaf_hash(entry) != proof.leaf_hash:
            raise BundleError(
                f"{where}: entry {proof.index} was altered (its hash is not the leaf's)"
            )
        try:
            verify_inclusion(
                proof.leaf_hash, proof.index, proof.size, proof.hashes, checkpoint.root
            )
        except ProofError as exc:
            raise BundleError(
                f"{where}: entry {proof.index} is not in the checkpoint: {exc}"
            ) from None
    return len(entries)


def _check_previous(
    members: Mapping[str, bytes], previous: bytes | None, verifier: Verifier, new: Checkpoint
) -> int | None:
    note = previous if previous is not None else members.get(PREVIOUS)
    name = "--previous" if previous is not None else PREVIOUS
    if note is None:
        return None
    old = _open(note, verifier, name)
    if old.size > new.size:
        raise BundleError(
            f"{name}: size {old.size} is larger than the bundle's checkpoint ({new.size}): "
            "the log does not extend it"
        )
    if old.size == new.size:
        if old.root != new.root:
            raise BundleError(f"{name}: same size as the checkpoint, different root: a fork")
        return old.size
    if CONSISTENCY not in members:
        raise BundleError(f"{CONSISTENCY}: missing, so nothing proves the log extends {name}")
    try:
        proof = ConsistencyProof.from_json(json.loads(members[CONSISTENCY]))
    except ValueError as exc:
        raise BundleError(f"{CONSISTENCY}: not a consistency proof ({exc})") from None
    if (proof.old, proof.new) != (old.size, new.size):
        raise BundleError(
            f"{CONSISTENCY}: the proof is from size {proof.old} to {proof.new}, not from "
            f"{name}'s {old.size} to {new.size}"
        )
    try:
        verify_consistency(old.size, new.size, old.root, new.root, proof.hashes)
    except ProofError as exc:
        raise BundleError(f"{CONSISTENCY}: the log does not extend {name}: {exc}") from None
    return old.size


def verify(data: bytes, *, key: Verifier | None = None, previous: bytes | None = None) -> Verified:
    """Check a bundle; `BundleError` names the first thing that does not hold. `key` is
    the regulator's pinned key (else the bundle's own is used, and `Verified` says so);
    `previous` a checkpoint the regulator holds (else the bundle's previous one)."""
    members = _members(data)
    manifest = _manifest(members)
    _check_files(manifest, members)
    bundled = members[KEY].decode("utf-8", "replace")
    try:
        verifier = key if key is not None else Verifier.parse(bundled)
    except NoteError as exc:
        raise BundleError(f"{KEY}: {exc}") from None
    checkpoint = _open(members[CHECKPOINT], verifier, CHECKPOINT)
    stated = manifest.get("checkpoint") or {}
    if stated.get("size") != checkpoint.size or stated.get("root") != b64(checkpoint.root):
        raise BundleError(f"{MANIFEST}: its checkpoint is not the signed one")
    count = _check_entries(manifest, members, checkpoint)
    extends = _check_previous(members, previous, verifier, checkpoint)
    inquiry = manifest.get("inquiry") or {}
    report = tuple(sorted(n.removeprefix(REPORT_DIR) for n in members if n.startswith(REPORT_DIR)))
    return Verified(
        inquiry=str(inquiry.get("id", "?")),
        size=checkpoint.size,
        root=checkpoint.root,
        entries=count,
        key=f"{verifier.name}+{verifier.id.hex()}",
        pinned=key is not None,
        extends=extends,
        report=report,
    )
