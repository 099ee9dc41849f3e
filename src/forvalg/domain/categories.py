"""Data categories: what a piece of stored data is, in the words the policy uses.

Every column of every table has exactly one category: what reading it reveals (the data
catalog, wall/catalog.py and docs/DATA-CATALOG.md, checked against the schema by a test).
Every access the wall decides names the categories it touches, and the policy grants per
category. Everything in a `cps.*` category is competitor-derived: the incumbent learns it
only because it provides preselection, and may use it only for provisioning, fault repair,
wholesale billing and regulatory reporting; retail gets none of it.
"""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    ORDER = "cps.order"  # CPS orders, their history and idempotency keys
    ROUTING = "cps.routing"  # which operator carries a line's calls, with which option, when
    EVENT = "cps.event"  # an operator's notification feed: state changes, loss notices
    LETTER = "cps.letter"  # letters and SMS to subscribers: their orders, one-time codes
    TRAFFIC = "cps.traffic"  # call records and rated calls
    SETTLEMENT = "cps.settlement"  # statements per operator and period
    EVIDENCE = "cps.evidence"  # an incident's evidence: copies of CPS events, contacts, entries
    OPERATOR = "cps.operator"  # the register of CPS operators, agreements, selection codes
    SUBSCRIBER = "personal.subscriber"  # who a line belongs to: number, postcode (inventory)
    LINE = "line.inventory"  # line type and status; a WLR status names a wholesale client
    ELIGIBILITY = "line.eligibility"  # can a line take preselection: a derived yes/no
    CONTACT = "retail.contact"  # the retail CRM's contacts, imported for compliance
    CANARY = "compliance.canary"  # which lines are honey-lines, and their decoy orders
    ACCESS_LOG = "ledger.access"  # the ledger's entries: who read what, why, decided how
    LEDGER_PROOF = "ledger.proof"  # tree heads, checkpoints, proofs: hashes, no entry's content
    WORK_ITEM = "work.item"  # tickets, runs, inquiries, subscriber requests; their lines
    ALERT = "compliance.alert"  # denials and break-glass accesses raised to compliance
    INCIDENT = "compliance.incident"  # incidents opened from findings, their life cycle
    STAFF_USER = "staff.user"  # staff accounts and their roles
    CREDENTIAL = "secret.credential"  # hashes of API keys, staff tokens, one-time codes

    @property
    def family(self) -> str:
        """The part before the dot; `cps` is everything competitor-derived."""
        return self.value.split(".", 1)[0]
