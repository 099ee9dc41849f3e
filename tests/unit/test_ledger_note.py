"""C2SP signed notes with Ed25519 keys, and the tlog checkpoints they carry.

The known answers come from golang.org/x/mod/sumdb/note's note_test.go (TestNewVerifier,
TestNewSigner, TestSign, TestOpen), copied verbatim; the EnochRoot key there is the
Ed25519 key of the all-zero seed.
"""

from __future__ import annotations

import base64
import re

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from forvalg.ledger.merkle import EMPTY_ROOT
from forvalg.ledger.note import (
    MAX_NOTE_BYTES,
    Checkpoint,
    NoteError,
    Signer,
    Verifier,
    open_note,
    sign,
)

GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
ENOCH_SIG = (
    "— EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)
GO_NOTE = GO_TEXT + "\n" + PETER_SIG

ORIGIN = "forvalg.example/ledger"
ROOT = bytes(range(32))


def seeded(name: str, seed: bytes) -> Signer:
    """A signer with a fixed key, so that every run sees the same key strings."""
    return Signer(name, Ed25519PrivateKey.from_private_bytes(seed))


def go_seed() -> bytes:
    """The Ed25519 seed in GO_SKEY, decoded here as Go's NewSigner does (the key's base64
    may itself contain '+', so only the first four '+' separate fields)."""
    raw = base64.b64decode(GO_SKEY.split("+", 4)[4])
    assert raw[0] == 1
    return raw[1:]


def peter() -> Signer:
    return seeded("PeterNeumann", go_seed())


def enoch() -> Signer:
    return seeded("EnochRoot", bytes(32))


LOG = seeded("log", bytes([1]) * 32)
WITNESS = seeded("witness", bytes([2]) * 32)


def checkpoint_note(size: str = "5", root: str | None = None, signer: Signer = LOG) -> str:
    """A note signed by `signer` whose checkpoint body has the given raw size and root lines."""
    root_line = base64.b64encode(ROOT).decode() if root is None else root
    return sign(f"{ORIGIN}\n{size}\n{root_line}\n", signer)


# --- the Go reference vector --------------------------------------------------------------


def test_go_verifier_key_parses() -> None:
    verifier = Verifier.parse(GO_VKEY)
    assert verifier.name == "PeterNeumann"
    assert verifier.id.hex() == "c74f20a3"
    assert str(verifier) == GO_VKEY


def test_go_note_opens_with_the_go_verifier_key() -> None:
    assert open_note(GO_NOTE, Verifier.parse(GO_VKEY)) == GO_TEXT
    assert open_note(GO_NOTE.encode(), Verifier.parse(GO_VKEY)) == GO_TEXT


def test_go_signer_key_parses_to_the_go_verifier_key() -> None:
    """GO_SKEY's base64 contains a '+'."""
    assert str(Signer.parse(GO_SKEY).verifier) == GO_VKEY


def test_go_signer_key_signs_the_go_note_byte_for_byte() -> None:
    assert sign(GO_TEXT, Signer.parse(GO_SKEY)) == GO_NOTE


def test_go_seed_signs_the_go_note_byte_for_byte() -> None:
    """The same check without Signer.parse: key ID, key strings and signature line."""
    signer = peter()
    assert str(signer.verifier) == GO_VKEY
    assert signer.secret() == GO_SKEY
    assert sign(GO_TEXT, signer) == GO_NOTE


def test_the_all_zero_seed_is_gos_enoch_root_key() -> None:
    assert str(enoch().verifier) == ENOCH_VKEY
    assert str(Verifier.parse(ENOCH_VKEY)) == ENOCH_VKEY


def test_co_signing_reproduces_gos_two_signature_note() -> None:
    assert sign(GO_TEXT, peter(), enoch()) == GO_TEXT + "\n" + PETER_SIG + ENOCH_SIG


@pytest.mark.parametrize("vkey", [GO_VKEY, ENOCH_VKEY])
def test_gos_co_signed_note_opens_with_either_key(vkey: str) -> None:
    note = GO_TEXT + "\n" + PETER_SIG + ENOCH_SIG
    assert open_note(note, Verifier.parse(vkey)) == GO_TEXT


def manglings(key: str) -> list[str]:
    """Go's TestNewVerifier / TestNewSigner: every proper substring, every byte plus one."""
    cut = [
        key[i:j]
        for i in range(len(key) + 1)
        for j in range(i + 1, len(key) + 1)
        if (i, j) != (0, len(key))
    ]
    bumped = [key[:i] + chr(ord(key[i]) + 1) + key[i + 1 :] for i in range(len(key))]
    return cut + bumped


def test_every_mangling_of_the_go_verifier_key_is_refused() -> None:
    accepted = []
    for mangled in manglings(GO_VKEY):
        try:
            Verifier.parse(mangled)
        except NoteError:
            continue
        accepted.append(mangled)
    assert accepted == []


def test_every_mangling_of_the_go_signer_key_is_refused() -> None:
    accepted = []
    for mangled in manglings(GO_SKEY):
        try:
            Signer.parse(mangled)
        except NoteError:
            continue
        accepted.append(mangled)
    assert accepted == []


@pytest.mark.parametrize(
    "vkey",
    [
        # Go: wrong length key, with adjusted key hash.
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        # Go: unknown algorithm, with adjusted key hash.
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ],
)
def test_go_bad_verifier_keys_are_refused(vkey: str) -> None:
    with pytest.raises(NoteError, match="not an Ed25519 key"):
        Verifier.parse(vkey)


@pytest.mark.parametrize(
    ("note", "reason"),
    [
        (GO_TEXT, "blank line"),
        (GO_TEXT + "\n", "truncated"),
        (GO_TEXT + "\n" + PETER_SIG[:-1], "truncated"),
        ("\xff" + GO_TEXT + "\n" + PETER_SIG, "does not verify"),
        (GO_TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Bad Name")[:-1], "truncated"),
        (GO_TEXT + "\n" + PETER_SIG + "Unexpected line.\n", "line 2 does not start"),
        (GO_TEXT + "\n" + PETER_SIG[:60] + "ABCD" + PETER_SIG[60:], "does not verify"),
        ("\x01" + GO_TEXT + "\n" + PETER_SIG, "control characters"),
    ],
    ids=[
        "text only",
        "no signatures",
        "signature without newline",
        "text altered",
        "bad name, no newline",
        "unexpected line after the signature",
        "signature altered",
        "control character",
    ],
)
def test_gos_malformed_notes_are_refused(note: str, reason: str) -> None:
    with pytest.raises(NoteError, match=reason):
        open_note(note, Verifier.parse(GO_VKEY))


@pytest.mark.parametrize(
    ("note", "reason"),
    [
        (GO_TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "CarmenSandiego"), "no signature"),
        (GO_TEXT + "\n" + PETER_SIG.replace("x08g", "xxxx"), "no signature"),
    ],
    ids=["misnamed signature", "wrong key id"],
)
def test_gos_signatures_by_another_name_or_key_id_do_not_open(note: str, reason: str) -> None:
    """Go TestOpen: the name and the key ID on the line must both be the verifier's."""
    with pytest.raises(NoteError, match=reason):
        open_note(note, Verifier.parse(GO_VKEY))


def test_a_non_utf8_note_is_refused() -> None:
    with pytest.raises(NoteError, match="not UTF-8"):
        open_note(b"\xff" + GO_NOTE.encode(), Verifier.parse(GO_VKEY))


# --- key strings ------------------------------------------------------------------------

# Seeds whose key strings have no '+' in their base64 part.
PLAIN_SEEDS = [bytes([0]) * 32, bytes([1]) * 32, bytes([2]) * 32, bytes([9]) * 32]
# bytes([8]) * 32: the public key's base64 is "AROY9ixtGkV8UbpqS189vS9p/KkyFiGNyJl+QWvRfZPK".
PLUS_IN_PUBLIC_KEY = bytes([8]) * 32


@pytest.mark.parametrize("seed", PLAIN_SEEDS, ids=lambda s: f"seed {s[0]}")
def test_verifier_key_string_parses_back(seed: bytes) -> None:
    signer = seeded("example.com/log", seed)
    parsed = Verifier.parse(str(signer.verifier))
    assert str(parsed) == str(signer.verifier)
    assert (parsed.name, parsed.id) == ("example.com/log", signer.verifier.id)
    assert open_note(sign("hello\n", signer), parsed) == "hello\n"


@pytest.mark.parametrize("seed", PLAIN_SEEDS, ids=lambda s: f"seed {s[0]}")
def test_signer_key_string_parses_back_to_the_same_key(seed: bytes) -> None:
    signer = seeded("example.com/log", seed)
    parsed = Signer.parse(signer.secret())
    assert str(parsed.verifier) == str(signer.verifier)
    assert parsed.secret() == signer.secret()
    assert sign("hello\n", parsed) == sign("hello\n", signer)


def test_verifier_key_with_a_plus_in_its_base64_parses_back() -> None:
    vkey = str(seeded("log", PLUS_IN_PUBLIC_KEY).verifier)
    assert "+" in vkey.split("+", 2)[2]  # the case this test is about
    assert str(Verifier.parse(vkey)) == vkey


def test_signer_key_with_a_plus_in_its_base64_parses_back() -> None:
    skey = peter().secret()
    assert "+" in skey.split("+", 4)[4]  # the case this test is about
    assert Signer.parse(skey).secret() == skey


def test_generated_keys_sign_and_open() -> None:
    signer = Signer.generate("example.com/log")
    assert open_note(sign("a\nb\n", signer), signer.verifier) == "a\nb\n"


def test_a_verifier_key_with_a_wrong_id_is_refused() -> None:
    with pytest.raises(NoteError, match="does not match its name and key"):
        Verifier.parse(GO_VKEY.replace("c74f20a3", "c74f20a4"))


def test_a_verifier_key_under_another_name_is_refused() -> None:
    with pytest.raises(NoteError, match="does not match its name and key"):
        Verifier.parse(GO_VKEY.replace("PeterNeumann", "PeterNeuman"))


def test_a_signer_key_with_a_wrong_id_is_refused() -> None:
    skey = LOG.secret()
    wrong = skey.replace(LOG.verifier.id.hex(), "00000000")
    with pytest.raises(NoteError, match="does not match its name and key"):
        Signer.parse(wrong)


ZERO_PUBLIC = "ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"


@pytest.mark.parametrize(
    ("vkey", "reason"),
    [
        ("", "has the form"),
        ("EnochRoot", "has the form"),
        ("EnochRoot+af0cfe78", "has the form"),
        (f"EnochRoot+af0cfe78+{ZERO_PUBLIC}+extra", "verifier key"),
        (f"+af0cfe78+{ZERO_PUBLIC}", "must be non-empty"),
        (f"Enoch Root+af0cfe78+{ZERO_PUBLIC}", "without '\\+' or spaces"),
        ("EnochRoot+af0cfe78+not*base64", "not valid base64"),
        ("EnochRoot+af0cfe78+AQID", "not an Ed25519 key"),
        ("EnochRoot+af0cfe78+" + base64.b64encode(bytes(33)).decode(), "not an Ed25519 key"),
        (f"EnochRoot+zzzzzzzz+{ZERO_PUBLIC}", "does not match"),
        (ENOCH_VKEY.replace("+A", "+", 1) + "=", "not"),
    ],
)
def test_malformed_verifier_keys_are_refused(vkey: str, reason: str) -> None:
    with pytest.raises(NoteError, match=reason):
        Verifier.parse(vkey)


@pytest.mark.parametrize(
    ("skey", "reason"),
    [
        ("", "has the form"),
        ("PRIVATE+KEY", "has the form"),
        (ENOCH_VKEY, "has the form"),
        ("KEY+PRIVATE+" + ENOCH_VKEY, "has the form"),
        ("PRIVATE+KEY+" + ENOCH_VKEY, "does not match"),  # a public key is no seed
        ("PRIVATE+KEY+EnochRoot+af0cfe78+AQ==", "not an Ed25519 key"),
        ("PRIVATE+KEY+EnochRoot+af0cfe78+not*base64", "not valid base64"),
        ("PRIVATE+KEY+Enoch Root+af0cfe78+" + "A" * 44, "without '\\+' or spaces"),
    ],
)
def test_malformed_signer_keys_are_refused(skey: str, reason: str) -> None:
    with pytest.raises(NoteError, match=reason):
        Signer.parse(skey)


@pytest.mark.parametrize("name", ["", "a b", "a+b", "tab\there", "line\nbreak"])
def test_a_key_name_with_spaces_or_plus_is_refused(name: str) -> None:
    with pytest.raises(NoteError, match="key name"):
        Signer.generate(name)


# --- notes ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["no final newline", "a\n\nb\n", "\n\n", ""])
def test_sign_refuses_text_that_cannot_be_a_note(text: str) -> None:
    with pytest.raises(NoteError, match="must end in a newline"):
        sign(text, LOG)


def test_a_note_signed_by_another_key_is_refused() -> None:
    with pytest.raises(NoteError, match="no signature by key log\\+"):
        open_note(sign("hello\n", WITNESS), LOG.verifier)


def test_a_note_signed_by_another_key_under_the_same_name_is_refused() -> None:
    impostor = seeded("log", bytes([3]) * 32)
    with pytest.raises(NoteError, match="no signature by key log\\+"):
        open_note(sign("hello\n", impostor), LOG.verifier)


def test_a_note_whose_text_was_altered_is_refused() -> None:
    note = sign("pay 10\n", LOG)
    with pytest.raises(NoteError, match="signature by log does not verify"):
        open_note(note.replace("pay 10", "pay 99"), LOG.verifier)


def test_a_signature_line_with_bad_base64_is_refused() -> None:
    with pytest.raises(NoteError, match="signature line 1 is not valid base64"):
        open_note("hello\n\n— log not*base64\n", LOG.verifier)


def test_a_signature_line_too_short_for_a_key_id_is_refused() -> None:
    with pytest.raises(NoteError, match="signature line 1 is too short"):
        open_note("hello\n\n— log AAAA\n", LOG.verifier)


def test_a_note_larger_than_the_limit_is_refused() -> None:
    text = ("x" * 99 + "\n") * (MAX_NOTE_BYTES // 100 + 1)
    with pytest.raises(NoteError, match="larger than"):
        open_note(sign(text, LOG), LOG.verifier)


@pytest.mark.parametrize("order", ["log first", "witness first"])
def test_a_co_signed_note_opens_with_either_key(order: str) -> None:
    signers = (LOG, WITNESS) if order == "log first" else (WITNESS, LOG)
    note = sign("rotating\n", *signers)
    assert open_note(note, LOG.verifier) == "rotating\n"
    assert open_note(note, WITNESS.verifier) == "rotating\n"


def test_key_rotation_a_checkpoint_co_signed_by_old_and_new_keys_opens_with_both() -> None:
    old, new = seeded("log", bytes([4]) * 32), seeded("log", bytes([5]) * 32)
    checkpoint = Checkpoint(ORIGIN, 9, ROOT)
    note = checkpoint.sign(old, new)
    assert Checkpoint.open(note, old.verifier, origin=ORIGIN) == checkpoint
    assert Checkpoint.open(note, new.verifier, origin=ORIGIN) == checkpoint
    # Before the rotation, only the old key signed: the new key does not open it.
    with pytest.raises(NoteError, match="no signature by key"):
        Checkpoint.open(checkpoint.sign(old), new.verifier)


# --- checkpoints ------------------------------------------------------------------------


def test_checkpoint_text_is_origin_size_and_base64_root() -> None:
    checkpoint = Checkpoint(ORIGIN, 5, ROOT, ("extension line",))
    assert checkpoint.text() == (
        f"{ORIGIN}\n5\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\nextension line\n"
    )


@pytest.mark.parametrize(
    "checkpoint",
    [
        Checkpoint(ORIGIN, 0, EMPTY_ROOT),
        Checkpoint(ORIGIN, 5, ROOT),
        Checkpoint(ORIGIN, 2**63, ROOT, ("a", "b c")),
    ],
    ids=["empty", "five", "extensions"],
)
def test_checkpoint_round_trips_through_a_signed_note(checkpoint: Checkpoint) -> None:
    note = checkpoint.sign(LOG)
    assert Checkpoint.open(note, LOG.verifier) == checkpoint
    assert Checkpoint.open(note.encode(), LOG.verifier, origin=ORIGIN) == checkpoint


def test_a_checkpoint_truncated_anywhere_is_refused() -> None:
    raw = Checkpoint(ORIGIN, 5, ROOT).sign(LOG).encode()
    opened = []
    for cut in range(len(raw)):
        try:
            Checkpoint.open(raw[:cut], LOG.verifier)
        except NoteError:
            continue
        opened.append(cut)
    assert opened == []


@pytest.mark.parametrize(
    ("cut", "reason"),
    [
        (0, "no blank line"),
        (len(ORIGIN) + 3, "no blank line"),  # inside the size line
        (-50, "truncated"),  # inside the signature
        (-1, "truncated"),  # without the final newline
    ],
)
def test_a_truncated_checkpoint_says_what_is_missing(cut: int, reason: str) -> None:
    raw = Checkpoint(ORIGIN, 5, ROOT).sign(LOG)
    with pytest.raises(NoteError, match=reason):
        Checkpoint.open(raw[:cut], LOG.verifier)


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"\x00" * 64,
        b"garbage",
        b"GET / HTTP/1.1\r\nHost: example\r\n\r\n",
        b"\n\n",
        b"\n\n\xe2\x80\x94 log AAAA\n",
        bytes(range(256)),
    ],
    ids=["empty", "zeros", "word", "http", "blank", "only signature", "all bytes"],
)
def test_garbage_is_refused(garbage: bytes) -> None:
    with pytest.raises(NoteError):
        Checkpoint.open(garbage, LOG.verifier)


def test_a_checkpoint_without_a_blank_line_is_refused() -> None:
    note = Checkpoint(ORIGIN, 5, ROOT).sign(LOG)
    with pytest.raises(NoteError, match="no blank line"):
        Checkpoint.open(note.replace("\n\n", "\n"), LOG.verifier)


def test_a_checkpoint_signed_by_another_key_is_refused() -> None:
    note = Checkpoint(ORIGIN, 5, ROOT).sign(WITNESS)
    with pytest.raises(NoteError, match="no signature by key"):
        Checkpoint.open(note, LOG.verifier)


@pytest.mark.parametrize(
    ("line", "altered"),
    [("\n5\n", "\n6\n"), ("\n5\n", "\n50\n"), ("AAEC", "AAED"), (ORIGIN, ORIGIN + "x")],
    ids=["size", "size grown", "root", "origin"],
)
def test_a_checkpoint_with_an_altered_line_is_refused(line: str, altered: str) -> None:
    note = Checkpoint(ORIGIN, 5, ROOT).sign(LOG)
    assert line in note
    with pytest.raises(NoteError, match="does not verify"):
        Checkpoint.open(note.replace(line, altered, 1), LOG.verifier)


@pytest.mark.parametrize("length", [1, 16, 31, 33, 64])
def test_a_root_of_the_wrong_length_is_refused(length: int) -> None:
    note = checkpoint_note(root=base64.b64encode(bytes(length)).decode())
    with pytest.raises(NoteError, match=f"root hash has {length} bytes"):
        Checkpoint.open(note, LOG.verifier)


@pytest.mark.parametrize("root", ["not*base64", "AAAA AAAA", "AAE", "=AAA"])
def test_a_root_that_is_not_base64_is_refused(root: str) -> None:
    with pytest.raises(NoteError, match="root hash is not valid base64"):
        Checkpoint.open(checkpoint_note(root=root), LOG.verifier)


@pytest.mark.parametrize(
    "size",
    [
        "x",
        "-1",
        "+1",
        " 1",
        "1 ",
        "1.0",
        "0x10",
        "1e3",
        "1_000",
        "１２",  # full-width digits
        "١٢",  # Arabic-Indic digits
        "²",  # superscript two
        "1" + "0" * 20,
    ],
)
def test_a_size_that_is_not_an_ascii_decimal_is_refused(size: str) -> None:
    with pytest.raises(NoteError, match="is not a decimal number"):
        Checkpoint.open(checkpoint_note(size=size), LOG.verifier)


@pytest.mark.parametrize("size", ["00", "01", "007"])
def test_a_size_with_a_leading_zero_is_refused(size: str) -> None:
    with pytest.raises(NoteError, match="is not a decimal number"):
        Checkpoint.open(checkpoint_note(size=size), LOG.verifier)


def test_a_checkpoint_with_too_few_lines_is_refused() -> None:
    with pytest.raises(NoteError, match="an origin, a size and a root"):
        Checkpoint.open(sign(f"{ORIGIN}\n5\n", LOG), LOG.verifier)


def test_a_checkpoint_for_another_log_is_refused() -> None:
    note = Checkpoint("other.example/log", 5, ROOT).sign(LOG)
    with pytest.raises(NoteError, match=re.escape("is for log 'other.example/log', not")):
        Checkpoint.open(note, LOG.verifier, origin=ORIGIN)
