"""The ledger: the record of every access decision.

This package needs only the standard library (and later `cryptography`); the regulator's
verifier runs from it alone. Today it defines the port the wall writes to; the Merkle
log with signed checkpoints replaces the append-only table behind the same port.
"""
