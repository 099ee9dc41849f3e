"""`forvalg-verify`: the regulator's offline verifier (INTERFACES §6).

Needs nothing but this package and `cryptography`. Exit status 0 when everything
holds, 1 when something does not verify, 2 when an input cannot be read or parsed.

    forvalg-verify --key key.pub --checkpoint checkpoint --entries entries.jsonl
                   [--previous OLD_CHECKPOINT]
    forvalg-verify --export DIR [--previous OLD_CHECKPOINT]
    forvalg-verify inclusion --key K --checkpoint C --proof P.json
                   [--entries entries.jsonl | --entry ENTRY_FILE]
    forvalg-verify consistency --key K --previous OLD --checkpoint NEW --proof P.json
    forvalg-verify bundle FILE.zip [--key VKEY_FILE] [--previous OLD_CHECKPOINT]
    forvalg-verify witness --state DIR --key K
                   (--checkpoint C [--proof P.json | --entries entries.jsonl]
                    | --url BASE_URL --token TOKEN --work-item AUD-... [--purpose P])
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from forvalg.ledger import bundle
from forvalg.ledger.audit import ExportError, read_lines, verify_export
from forvalg.ledger.merkle import ProofError, leaf_hash, verify_consistency, verify_inclusion
from forvalg.ledger.note import Checkpoint, NoteError, Verifier
from forvalg.ledger.wire import ConsistencyProof, InclusionProof, b64
from forvalg.ledger.witness import Witness, by_entries, by_proof

EXPORT_FILES = {"key": "key.pub", "checkpoint": "checkpoint", "entries": "entries.jsonl"}


class InputError(Exception):
    """A file or URL that cannot be read or parsed (exit 2)."""


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{what} {path}: {exc.strerror or exc}") from None


def _verifier(path: Path) -> Verifier:
    try:
        return Verifier.parse(_read(path, "key").decode("utf-8", "replace"))
    except NoteError as exc:
        raise InputError(f"key {path}: {exc}") from None


def _checkpoint(path: Path, verifier: Verifier) -> Checkpoint:
    try:
        return Checkpoint.open(_read(path, "checkpoint"), verifier)
    except NoteError as exc:
        raise NoteError(f"checkpoint {path}: {exc}") from None


def _json(path: Path) -> Any:
    try:
        return json.loads(_read(path, "proof"))
    except ValueError as exc:
        raise InputError(f"proof {path}: not JSON ({exc})") from None


def _entry_at(entries: Path, index: int) -> bytes:
    position = 0
    with entries.open("rb") as handle:
        for lines in read_lines(handle):
            if index < position + len(lines):
                return lines[index - position]
            position += len(lines)
    raise InputError(f"{entries} has {position} entries; there is no entry {index}")


def check_export(args: argparse.Namespace) -> str:
    verifier = _verifier(args.key)
    checkpoint = _checkpoint(args.checkpoint, verifier)
    previous = None
    if args.previous:
        old = _checkpoint(args.previous, verifier)
        if old.size > checkpoint.size:
            raise ProofError(
                f"the previous checkpoint (size {old.size}) is larger than the new one "
                f"({checkpoint.size}): the log does not extend it"
            )
        previous = (old.size, old.root)
    if not args.entries.is_file():
        raise InputError(f"entries {args.entries}: no such file")
    verify_export(args.entries, checkpoint.size, checkpoint.root, previous)
    extends = f"; extends size {previous[0]}" if previous else ""
    return (
        f"OK: {checkpoint.size} entries, root {b64(checkpoint.root)}, "
        f"signed by {verifier.name}{extends}"
    )


def check_inclusion(args: argparse.Namespace) -> str:
    verifier = _verifier(args.key)
    checkpoint = _checkpoint(args.checkpoint, verifier)
    proof = InclusionProof.from_json(_json(args.proof))
    if proof.size != checkpoint.size:
        raise ProofError(
            f"the proof is for a tree of size {proof.size}, the checkpoint for {checkpoint.size}"
        )
    entry = None
    if args.entry:
        entry = _read(args.entry, "entry").removesuffix(b"\n")
    elif args.entries:
        entry = _entry_at(args.entries, proof.index)
    if entry is not None and leaf_hash(entry) != proof.leaf_hash:
        raise ProofError(
            f"the entry does not hash to the proof's leaf hash for index {proof.index}"
        )
    verify_inclusion(proof.leaf_hash, proof.index, proof.size, proof.hashes, checkpoint.root)
    what = "the entry" if entry is not None else f"leaf hash {b64(proof.leaf_hash)}"
    return f"OK: {what} is at index {proof.index} of the tree of size {proof.size}"


def check_consistency(args: argparse.Namespace) -> str:
    verifier = _verifier(args.key)
    old = _checkpoint(args.previous, verifier)
    new = _checkpoint(args.checkpoint, verifier)
    proof = ConsistencyProof.from_json(_json(args.proof))
    if (proof.old, proof.new) != (old.size, new.size):
        raise ProofError(
            f"the proof is from size {proof.old} to {proof.new}; "
            f"the checkpoints are {old.size} and {new.size}"
        )
    verify_consistency(old.size, new.size, old.root, new.root, proof.hashes)
    return f"OK: size {new.size} extends size {old.size}"


def check_bundle(args: argparse.Namespace) -> str:
    """An evidence bundle answering an inquiry (docs/LEDGER.md, "Evidence bundles")."""
    key = _verifier(args.key) if args.key else None
    previous = _read(args.previous, "previous checkpoint") if args.previous else None
    data = _read(args.file, "bundle")
    try:
        found = bundle.verify(data, key=key, previous=previous)
    except bundle.BundleError as exc:
        raise bundle.BundleError(f"{args.file}: {exc}") from None
    return "\n".join(found.lines())


Fetch = Callable[[str], bytes]


def _server(base: str, token: str, purpose: str, work_item: str) -> Fetch:
    """GET a path of the forvalg server as a staff user: the bearer token, the purpose
    and the work item (an audit or inquiry) every staff read must state."""
    headers = {
        "Authorization": f"Bearer {token}",
        "X-Forvalg-Purpose": purpose,
        "X-Forvalg-Work-Item": work_item,
    }
    return lambda path: _fetch(base + path, headers)


def _fetch(url: str, headers: dict[str, str]) -> bytes:
    if not url.startswith(("http://", "https://")):
        raise InputError(f"{url}: only http and https URLs")
    request = urllib.request.Request(url, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            body: bytes = response.read()
            return body
    except urllib.error.HTTPError as exc:
        raise InputError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise InputError(f"{url}: {exc}") from None


def _proof_file(path: Path) -> Callable[[int, int], list[bytes]]:
    def fetch(old: int, new: int) -> list[bytes]:
        proof = ConsistencyProof.from_json(_json(path))
        if (proof.old, proof.new) != (old, new):
            raise ProofError(f"the proof is from {proof.old} to {proof.new}, not {old} to {new}")
        return proof.hashes

    return fetch


def _proof_url(get: Fetch) -> Callable[[int, int], list[bytes]]:
    def fetch(old: int, new: int) -> list[bytes]:
        body = get(f"/v1/log/proof/consistency?from={old}&to={new}")
        try:
            return ConsistencyProof.from_json(json.loads(body)).hashes
        except ValueError as exc:
            raise InputError(f"the consistency proof is not JSON ({exc})") from None

    return fetch


def _no_proof(old: int, new: int) -> list[bytes]:
    raise InputError(
        f"the checkpoint (size {new}) is larger than the witnessed one (size {old}): "
        "give --proof, --entries or --url"
    )


def check_witness(args: argparse.Namespace) -> str:
    verifier = _verifier(args.key)
    base = (args.url or "").rstrip("/")
    if base and not (args.token and args.work_item):
        raise InputError(
            "--url needs --token (a regulator or compliance credential) and --work-item "
            "(the audit or inquiry this witnessing is for)"
        )
    get = _server(base, args.token, args.purpose, args.work_item) if base else None
    if args.checkpoint:
        note = _read(args.checkpoint, "checkpoint")
    elif get:
        note = get("/v1/log/checkpoint")
    else:
        raise InputError("give --checkpoint or --url")
    if args.proof:
        extension = by_proof(_proof_file(args.proof))
    elif args.entries:
        extension = by_entries(args.entries)
    elif get:
        extension = by_proof(_proof_url(get))
    else:
        extension = by_proof(_no_proof)
    seen = Witness(args.state, verifier).observe(note, extension)
    return f"OK: {seen.describe()}; state in {args.state}"


def _parsers() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    main = argparse.ArgumentParser(
        prog="forvalg-verify",
        description="Verify a forvalg ledger export: recompute the root from the entries, "
        "check the checkpoint's signature, and with --previous that the log extends an "
        "older checkpoint. Subcommands: inclusion, consistency, witness, bundle "
        "(forvalg-verify SUBCOMMAND --help).",
    )
    main.add_argument("--export", type=Path, help="a `forvalg ledger export` directory")
    main.add_argument("--key", type=Path, help="the log's verifier key (key.pub)")
    main.add_argument("--checkpoint", type=Path, help="the signed checkpoint")
    main.add_argument("--entries", type=Path, help="entries.jsonl, line i = entry i")
    main.add_argument("--previous", type=Path, help="an older checkpoint the log must extend")
    subs: dict[str, argparse.ArgumentParser] = {}
    inclusion = subs["inclusion"] = argparse.ArgumentParser(
        prog="forvalg-verify inclusion",
        description="Check that an entry is in the log at the checkpoint's size.",
    )
    inclusion.add_argument("--key", type=Path, required=True)
    inclusion.add_argument("--checkpoint", type=Path, required=True)
    inclusion.add_argument("--proof", type=Path, required=True, help="inclusion proof JSON")
    which = inclusion.add_mutually_exclusive_group()
    which.add_argument("--entries", type=Path, help="entries.jsonl: take the proof's index")
    which.add_argument("--entry", type=Path, help="a file holding exactly the entry")
    consistency = subs["consistency"] = argparse.ArgumentParser(
        prog="forvalg-verify consistency",
        description="Check that the log at --checkpoint extends the log at --previous.",
    )
    consistency.add_argument("--key", type=Path, required=True)
    consistency.add_argument("--previous", type=Path, required=True)
    consistency.add_argument("--checkpoint", type=Path, required=True)
    consistency.add_argument("--proof", type=Path, required=True, help="consistency proof JSON")
    evidence = subs["bundle"] = argparse.ArgumentParser(
        prog="forvalg-verify bundle",
        description="Check an evidence bundle answering an inquiry: the manifest's file "
        "hashes, the checkpoint's signature, every entry's inclusion proof, and that the "
        "log extends the previous checkpoint (the bundle's, or --previous).",
    )
    evidence.add_argument("file", type=Path, metavar="FILE.zip", help="the evidence bundle")
    evidence.add_argument(
        "--key", type=Path, help="your pinned verifier key (default: the bundle's key.pub)"
    )
    evidence.add_argument(
        "--previous", type=Path, help="the last checkpoint you hold (default: the bundle's)"
    )
    witness = subs["witness"] = argparse.ArgumentParser(
        prog="forvalg-verify witness",
        description="Accept a checkpoint only if it extends the last one accepted (kept in "
        "--state); refuse any other history.",
    )
    witness.add_argument("--state", type=Path, required=True, help="the witness's directory")
    witness.add_argument("--key", type=Path, required=True)
    witness.add_argument("--checkpoint", type=Path, help="the new checkpoint (else from --url)")
    source = witness.add_mutually_exclusive_group()
    source.add_argument("--proof", type=Path, help="consistency proof JSON from the last size")
    source.add_argument("--entries", type=Path, help="recompute from an export's entries")
    witness.add_argument("--url", help="the forvalg server, e.g. https://forvalg.example")
    witness.add_argument("--token", help="a regulator or compliance bearer token")
    witness.add_argument("--work-item", help="with --url: the audit or inquiry (AUD-..., INQ-...)")
    witness.add_argument(
        "--purpose",
        default="regulatory_inspection",
        help="with --url: regulatory_inspection (default) or compliance_audit",
    )
    return main, subs


CHECKS: dict[str, Callable[[argparse.Namespace], str]] = {
    "inclusion": check_inclusion,
    "consistency": check_consistency,
    "witness": check_witness,
    "bundle": check_bundle,
}


def main(argv: Sequence[str] | None = None) -> int:
    args_in = list(sys.argv[1:] if argv is None else argv)
    main_parser, subs = _parsers()
    if args_in and args_in[0] in CHECKS:
        args = subs[args_in[0]].parse_args(args_in[1:])
        check = CHECKS[args_in[0]]
    else:
        args = main_parser.parse_args(args_in)
        for name, file in EXPORT_FILES.items():
            if getattr(args, name) is None:
                if args.export is None:
                    main_parser.error(f"--{name} (or --export DIR) is required")
                setattr(args, name, args.export / file)
        check = check_export
    try:
        print(check(args))
    except InputError as exc:
        print(f"forvalg-verify: error: {exc}", file=sys.stderr)
        return 2
    except (NoteError, ProofError, ExportError, bundle.BundleError) as exc:
        print(f"forvalg-verify: FAILED: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
