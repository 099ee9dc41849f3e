"""C2SP `signed-note` with Ed25519 keys, and the `tlog-checkpoint` it carries.

A checkpoint is the note text

    <origin>\\n<tree size>\\n<base64 root>\\n

followed by a blank line and one signature line per key,
`— <key name> <base64(4-byte key ID || signature)>`. The key ID is the first four bytes
of SHA-256(name || 0x0A || 0x01 || public key). Keys travel as strings in the format of
Go's `golang.org/x/mod/sumdb/note`: the verifier key `<name>+<hex id>+<base64(0x01 ||
public key)>` and the signer key `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from forvalg.ledger.merkle import HASH_SIZE

ED25519 = 0x01
SIGNATURE_PREFIX = "\u2014 "  # an em dash and a space
MAX_NOTE_BYTES = 1 << 16


class NoteError(ValueError):
    """A key, note or checkpoint is malformed or its signature does not verify."""


def key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public).digest()[:4]


def _check_name(name: str) -> str:
    if not name or "+" in name or any(c.isspace() for c in name):
        raise NoteError(f"key name {name!r} must be non-empty, without '+' or spaces")
    return name


def _b64(data: str, what: str) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"{what} is not valid base64") from None


@dataclass(frozen=True)
class Verifier:
    name: str
    id: bytes
    public: Ed25519PublicKey

    @classmethod
    def parse(cls, vkey: str) -> Verifier:
        """A verifier key string `<name>+<hex id>+<base64(0x01 || public key)>`."""
        parts = vkey.strip().split("+", 2)  # base64 may contain "+"
        if len(parts) != 3:
            raise NoteError("a verifier key has the form <name>+<hex key id>+<base64 key>")
        name, hex_id, encoded = parts
        _check_name(name)
        raw = _b64(encoded, "the verifier key")
        if len(raw) != 33 or raw[0] != ED25519:
            raise NoteError("the verifier key is not an Ed25519 key (0x01 + 32 bytes)")
        public = raw[1:]
        if hex_id.lower() != key_id(name, public).hex():
            raise NoteError(f"the verifier key's id {hex_id} does not match its name and key")
        return cls(name, key_id(name, public), Ed25519PublicKey.from_public_bytes(public))

    def __str__(self) -> str:
        public = self.public.public_bytes(Encoding.Raw, PublicFormat.Raw)
        return f"{self.name}+{self.id.hex()}+{base64.b64encode(bytes([ED25519]) + public).decode()}"

    def verifies(self, text: bytes, signature: bytes) -> bool:
        try:
            self.public.verify(signature, text)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Signer:
    name: str
    private: Ed25519PrivateKey

    @classmethod
    def generate(cls, name: str) -> Signer:
        return cls(_check_name(name), Ed25519PrivateKey.generate())

    @classmethod
    def parse(cls, skey: str) -> Signer:
        """A signer key string `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>`."""
        parts = skey.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise NoteError("a signer key has the form PRIVATE+KEY+<name>+<hex id>+<base64>")
        name, hex_id, encoded = parts[2:]
        _check_name(name)
        raw = _b64(encoded, "the signer key")
        if len(raw) != 33 or raw[0] != ED25519:
            raise NoteError("the signer key is not an Ed25519 key (0x01 + 32-byte seed)")
        signer = cls(name, Ed25519PrivateKey.from_private_bytes(raw[1:]))
        if hex_id.lower() != signer.verifier.id.hex():
            raise NoteError(f"the signer key's id {hex_id} does not match its name and key")
        return signer

    @property
    def verifier(self) -> Verifier:
        public = self.private.public_key()
        raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
        return Verifier(self.name, key_id(self.name, raw), public)

    def secret(self) -> str:
        seed = self.private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        encoded = base64.b64encode(bytes([ED25519]) + seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier.id.hex()}+{encoded}"

    def signature_line(self, text: bytes) -> str:
        signature = self.verifier.id + self.private.sign(text)
        return f"{SIGNATURE_PREFIX}{self.name} {base64.b64encode(signature).decode()}\n"


def sign(text: str, *signers: Signer) -> str:
    """The signed note: the text, a blank line, one signature line per signer."""
    if not text.endswith("\n") or "\n\n" in text or _has_control(text):
        raise NoteError(
            "note text must end in a newline, contain no blank line and no control characters"
        )
    return text + "\n" + "".join(s.signature_line(text.encode()) for s in signers)


def open_note(note: str | bytes, verifier: Verifier) -> str:
    """The note's text, if `verifier` signed it; `NoteError` says what is wrong otherwise.
    Signatures by other keys are ignored, as signed-note requires."""
    raw = note.encode() if isinstance(note, str) else note
    if len(raw) > MAX_NOTE_BYTES:
        raise NoteError(f"the note is larger than {MAX_NOTE_BYTES} bytes")
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise NoteError("the note is not UTF-8 text") from None
    text, sep, signatures = decoded.rpartition("\n\n")
    if not sep or not text:
        raise NoteError("the note has no blank line before its signatures")
    text += "\n"
    if _has_control(text):
        raise NoteError("the note text contains control characters other than newline")
    if not signatures.endswith("\n"):
        raise NoteError("the note's last signature line is truncated (no final newline)")
    candidates = []
    for number, line in enumerate(signatures.splitlines(), 1):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError(f"signature line {number} does not start with '— '")
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        blob = _b64(encoded, f"signature line {number}")
        if not name:
            raise NoteError(f"signature line {number} has no key name")
        if len(blob) < 5:
            raise NoteError(f"signature line {number} is too short")
        if name == verifier.name and blob[:4] == verifier.id:
            candidates.append(blob[4:])
    if not candidates:
        raise NoteError(f"the note carries no signature by key {verifier.name}+{verifier.id.hex()}")
    if any(verifier.verifies(text.encode(), signature) for signature in candidates):
        return text
    raise NoteError(f"the signature by {verifier.name} does not verify: wrong key or altered")


def _has_control(text: str) -> bool:
    return any((c < " " and c != "\n") or c == "\x7f" for c in text)


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: `size` entries with `root`, under the log's `origin`."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode()]
        return "\n".join([*lines, *self.extensions]) + "\n"

    def sign(self, *signers: Signer) -> str:
        return sign(self.text(), *signers)

    @classmethod
    def parse_text(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise NoteError("a checkpoint has an origin, a size and a root, each on its line")
        origin, size, root, *extensions = lines[:-1]
        if not origin:
            raise NoteError("the checkpoint's origin line is empty")
        decimal = size.isascii() and size.isdigit() and (size == "0" or size[0] != "0")
        if not decimal or len(size) > 20 or int(size) >= 1 << 64:
            raise NoteError(
                f"the checkpoint's tree size {size!r} is not a decimal number (below 2^64)"
            )
        digest = _b64(root, "the checkpoint's root hash")
        if len(digest) != HASH_SIZE:
            raise NoteError(f"the checkpoint's root hash has {len(digest)} bytes, not 32")
        return cls(origin, int(size), digest, tuple(extensions))

    @classmethod
    def open(cls, note: str | bytes, verifier: Verifier, origin: str | None = None) -> Checkpoint:
        """Verify the signature, then parse; the origin must match when one is expected."""
        checkpoint = cls.parse_text(open_note(note, verifier))
        if origin is not None and checkpoint.origin != origin:
            raise NoteError(f"the checkpoint is for log {checkpoint.origin!r}, not {origin!r}")
        return checkpoint
