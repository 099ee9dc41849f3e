"""The ledger's parsers (ledger/note.py): checkpoints (`Checkpoint.parse_text`,
`Checkpoint.open`), signed notes (`open_note`) and key strings (`Verifier.parse`,
`Signer.parse`). Whatever the input, the only error is `NoteError`; valid values
round-trip; a signed checkpoint changed anywhere either fails to open or opens as the
very same checkpoint (never as another one)."""

from __future__ import annotations

from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from forvalg.ledger.note import Checkpoint, NoteError, Signer, Verifier, open_note

from .mutations import mutated

seeds = st.binary(min_size=32, max_size=32)
# A key name: non-empty, no '+' and no white space (C2SP signed-note).
names = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp")),
    min_size=1,
    max_size=30,
).filter(lambda n: "+" not in n and not any(c.isspace() for c in n))
# A line of note text: no control characters, no newline.
line_text = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")), max_size=40
).filter(lambda t: "\x85" not in t)
checkpoints = st.builds(
    Checkpoint,
    origin=line_text.filter(bool),
    size=st.integers(0, 2**64 - 1),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(line_text.filter(bool), max_size=3).map(tuple),
)

LOG = Signer("log", Ed25519PrivateKey.from_private_bytes(bytes([7]) * 32))


def _opens_or_note_error(call: Callable[[], object]) -> object:
    """What `call` returns, or the `NoteError` it raised; any other error fails the test."""
    try:
        return call()
    except NoteError as exc:
        return exc


@settings(max_examples=300)
@given(st.text(max_size=300))
def test_any_text_is_a_checkpoint_or_note_error(text: str) -> None:
    _opens_or_note_error(lambda: Checkpoint.parse_text(text))


@settings(max_examples=300)
@given(st.binary(max_size=300))
def test_any_bytes_open_as_nothing_but_note_error(data: bytes) -> None:
    found = _opens_or_note_error(lambda: Checkpoint.open(data, LOG.verifier))
    assert isinstance(found, NoteError)  # nobody forges the log's signature by chance


@settings(max_examples=300)
@given(st.text(max_size=120))
def test_any_text_is_a_key_or_note_error(text: str) -> None:
    _opens_or_note_error(lambda: Verifier.parse(text))
    _opens_or_note_error(lambda: Signer.parse(text))
    _opens_or_note_error(lambda: Verifier.parse("name+00000000+" + text))
    _opens_or_note_error(lambda: Signer.parse("PRIVATE+KEY+name+00000000+" + text))


@settings(max_examples=150)
@given(checkpoints)
def test_a_checkpoint_round_trips_as_text_and_as_a_signed_note(checkpoint: Checkpoint) -> None:
    assert Checkpoint.parse_text(checkpoint.text()) == checkpoint
    assert Checkpoint.open(checkpoint.sign(LOG), LOG.verifier) == checkpoint


@settings(max_examples=100)
@given(names, seeds)
def test_key_strings_round_trip(name: str, seed: bytes) -> None:
    key = Signer(name, Ed25519PrivateKey.from_private_bytes(seed))
    assert Signer.parse(key.secret()).secret() == key.secret()
    assert str(Verifier.parse(str(key.verifier))) == str(key.verifier)


@settings(max_examples=300)
@given(st.data(), checkpoints)
def test_a_changed_signed_checkpoint_never_opens_as_another(
    data: st.DataObject, checkpoint: Checkpoint
) -> None:
    raw = data.draw(mutated(checkpoint.sign(LOG).encode()))
    found = _opens_or_note_error(lambda: Checkpoint.open(raw, LOG.verifier))
    assert isinstance(found, NoteError) or found == checkpoint


@settings(max_examples=200)
@given(st.data(), names, seeds)
def test_a_changed_key_string_is_the_same_key_or_note_error(
    data: st.DataObject, name: str, seed: bytes
) -> None:
    key = Signer(name, Ed25519PrivateKey.from_private_bytes(seed))
    for text, parse in ((str(key.verifier), Verifier.parse), (key.secret(), Signer.parse)):
        changed = data.draw(mutated(text.encode()))
        try:
            decoded = changed.decode()
        except UnicodeDecodeError:
            continue  # key strings are read as text
        found = _opens_or_note_error(lambda d=decoded, p=parse: p(d))  # type: ignore[misc]
        assert isinstance(found, NoteError | Signer | Verifier)
        if not isinstance(found, NoteError):
            same = found.verifier if isinstance(found, Signer) else found
            assert str(same) == str(key.verifier)


@settings(max_examples=200)
@given(st.binary(max_size=300))
def test_open_note_takes_any_bytes_with_nothing_but_note_error(data: bytes) -> None:
    _opens_or_note_error(lambda: open_note(data, LOG.verifier))
