"""Near-valid inputs for the parsers' property tests: a valid file with a few bytes
changed, the way a truncated transfer, an editor or a hostile sender changes one."""

from __future__ import annotations

from hypothesis import strategies as st

# Bytes that mean something to a CSV reader, a UTF-8 decoder or a signed note.
SPECIAL = [b'"', b",", b"\n", b"\r", b"\r\n", b"\x00", b"\xff", b"\xef\xbb\xbf", b" ", b"+"]
SPECIAL += [b"\xe2\x80\x94 ", b"=", b"-", b"9" * 20, b"\xc3", b"\t", b"\x85", "\u2028".encode()]


@st.composite
def mutated(draw: st.DrawFn, valid: bytes, max_edits: int = 4) -> bytes:
    """`valid` with 1 to `max_edits` edits: a byte replaced, bytes inserted (random or
    special), a span deleted or repeated, or the end cut off."""
    data = bytearray(valid)
    for _ in range(draw(st.integers(1, max_edits))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["replace", "insert", "special", "delete", "repeat", "cut"]))
        if kind == "replace" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "special":
            data[at:at] = draw(st.sampled_from(SPECIAL))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 16))]
        elif kind == "repeat":
            data[at:at] = data[at : at + draw(st.integers(1, 40))]
        elif kind == "cut":
            del data[at:]
    return bytes(data)
