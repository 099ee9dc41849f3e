"""The ledger: a Merkle log of every access decision, with signed checkpoints.

RFC 6962 hashing and proofs (`merkle`), C2SP signed-note checkpoints (`note`), sealed
entries (`entries`), the wall's port (`port`) and the regulator's verifier (`verify`).
This package needs only the standard library and `cryptography`, so the regulator can
run `forvalg-verify` from it alone.
"""
