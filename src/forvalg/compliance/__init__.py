"""Compliance and the regulator: staff users, the ledger's transparency interface; later
contacts, detectors, incidents, inquiries and reports."""
