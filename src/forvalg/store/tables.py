"""The tables. Every column has a data category in the catalog (wall/catalog.py)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from forvalg.store.types import UtcDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite needs INTEGER (not BIGINT) for an auto-incrementing rowid primary key.
Serial = BigInteger().with_variant(Integer(), "sqlite")

operators = Table(
    "operators",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("csc", String(4), nullable=False, unique=True),
    Column("agreement_active", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

operator_api_keys = Table(
    "operator_api_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("operator_id", String(32), ForeignKey("operators.id"), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
)

lines = Table(
    "lines",
    metadata,
    Column("number", String(8), primary_key=True),
    Column("postcode", String(4), nullable=False),
    Column("line_type", String(16), nullable=False),
    Column("status", String(64), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

HOLDING = "state IN ('VALIDATED', 'COMMITTED') AND type <> 'CANCEL_OTHER'"
PENDING = "next_due_at IS NOT NULL"
REJECTED = "state = 'REJECTED'"

orders = Table(
    "orders",
    metadata,
    Column("seq", Serial, primary_key=True, autoincrement=True),
    Column("id", String(32), nullable=False, unique=True),
    Column("type", String(16), nullable=False),
    Column("number", String(8), nullable=False, index=True),
    Column("operator_id", String(32), ForeignKey("operators.id"), nullable=False),
    Column("option", String(16), nullable=True),
    Column("postcode", String(4), nullable=True),
    Column("auth_reference", String(100), nullable=True),
    Column("auth_signed_at", Date, nullable=True),
    Column("auth_channel", String(32), nullable=True),
    Column("requested_date", Date, nullable=True),
    Column("target_order", String(32), nullable=True),
    Column("cancel_reason", String(32), nullable=True),
    Column("state", String(16), nullable=False),
    Column("reason_code", String(40), nullable=True),
    Column("due_date", Date, nullable=True),
    Column("next_due_at", UtcDateTime, nullable=True),
    Column("idempotency_key", String(200), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("operator_id", "idempotency_key", name="uq_orders_idempotency"),
    # At most one order holds a line at a time: enforced here, not only in Python.
    Index(
        "uq_orders_one_holding_per_line",
        "number",
        unique=True,
        sqlite_where=text(HOLDING),
        postgresql_where=text(HOLDING),
    ),
    Index("ix_orders_operator_seq", "operator_id", "seq"),
    # The processor's queue: due orders in due order; final orders are not in it.
    Index(
        "ix_orders_due",
        "next_due_at",
        "seq",
        sqlite_where=text(PENDING),
        postgresql_where=text(PENDING),
    ),
    # The work queue's rejected lately (store/work_queue.py): rejected orders only.
    Index(
        "ix_orders_rejected",
        "updated_at",
        "seq",
        sqlite_where=text(REJECTED),
        postgresql_where=text(REJECTED),
    ),
)

order_history = Table(
    "order_history",
    metadata,
    Column("seq", Serial, primary_key=True, autoincrement=True),
    Column("order_id", String(32), ForeignKey("orders.id"), nullable=False, index=True),
    Column("state", String(16), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("reason_code", String(40), nullable=True),
    Column("recorded_at", UtcDateTime, nullable=False),
)

# An operator's own cancel that was refused (`E_TOO_LATE` past the cut-off, `E_CONFLICT`
# once final): it changes no order, but the equivalence report counts the cut-off misses.
cancel_refusals = Table(
    "cancel_refusals",
    metadata,
    Column("seq", Serial, primary_key=True, autoincrement=True),
    Column("order_id", String(32), ForeignKey("orders.id"), nullable=False, index=True),
    Column("reason_code", String(40), nullable=False),
    Column("at", UtcDateTime, nullable=False),
)

CURRENT = "valid_to IS NULL"

# Bitemporal: valid_from/valid_to is when the preselection holds in the network;
# recorded_at/closed_at is when forvalg learnt that it starts/ends. Rows are only ever
# inserted, and closed once (valid_to, closed_at, closed_by_order set together).
preselections = Table(
    "preselections",
    metadata,
    Column("id", Serial, primary_key=True, autoincrement=True),
    Column("number", String(8), nullable=False, index=True),
    Column("operator_id", String(32), ForeignKey("operators.id"), nullable=False),
    Column("option", String(16), nullable=False),
    Column("valid_from", UtcDateTime, nullable=False),
    Column("valid_to", UtcDateTime, nullable=True),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("closed_at", UtcDateTime, nullable=True),
    Column("order_id", String(32), ForeignKey("orders.id"), nullable=False),
    Column("closed_by_order", String(32), ForeignKey("orders.id"), nullable=True),
    # At most one active preselection per line.
    Index(
        "uq_preselections_one_current_per_line",
        "number",
        unique=True,
        sqlite_where=text(CURRENT),
        postgresql_where=text(CURRENT),
    ),
)

# Routing table versions (docs/ROUTING.md): one row per completed order that changed the
# current preselections, numbered without gaps in completion order; never updated.
routing_versions = Table(
    "routing_versions",
    metadata,
    Column("version", BigInteger, primary_key=True, autoincrement=False),
    Column("content_hash", String(64), nullable=False),
    Column("effective_at", UtcDateTime, nullable=False),
    Column("order_id", String(32), ForeignKey("orders.id"), nullable=False, unique=True),
    Column("row_count", BigInteger, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
)

# The digest and row count of each bucket (numbers sharing their first 4 digits) of the
# latest version, so that a version re-hashes one bucket, not the table.
routing_buckets = Table(
    "routing_buckets",
    metadata,
    Column("prefix", String(4), primary_key=True),
    Column("digest", LargeBinary(32), nullable=False),
    Column("row_count", BigInteger, nullable=False),
)

operator_events = Table(
    "operator_events",
    metadata,
    Column("seq", Serial, primary_key=True, autoincrement=True),
    Column("operator_id", String(32), ForeignKey("operators.id"), nullable=False),
    Column("type", String(24), nullable=False),
    Column("number", String(8), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Index("ix_operator_events_operator_seq", "operator_id", "seq"),
)

customer_letters = Table(
    "customer_letters",
    metadata,
    Column("seq", Serial, primary_key=True, autoincrement=True),
    Column("number", String(8), nullable=False),
    Column("order_id", String(32), ForeignKey("orders.id"), nullable=False),
    Column("template", String(40), nullable=False),
    Column("fields", JSON, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime, nullable=True),
)

staff_users = Table(
    "staff_users",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("role", String(40), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
)

# Work items: "no work item, no data". A staff read names one, and the wall checks that
# the data touched belongs to it: the lines on a fault ticket or subscriber request, the
# operator invoiced by a settlement run, the period of a regulator's inquiry.
work_items = Table(
    "work_items",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("kind", String(24), nullable=False),
    Column("operator_id", String(32), ForeignKey("operators.id"), nullable=True),
    Column("period", String(7), nullable=True),  # YYYY-MM: settlement runs, inquiries
    Column("summary", Text, nullable=False),
    Column("opened_by", String(64), nullable=False),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("due_at", UtcDateTime, nullable=True),  # an inquiry's deadline
    Column("closed_at", UtcDateTime, nullable=True),
)

work_item_lines = Table(
    "work_item_lines",
    metadata,
    Column("work_item_id", String(40), ForeignKey("work_items.id"), primary_key=True),
    Column("number", String(8), primary_key=True),
)

# Settlement statements (docs/TRAFFIC.md): one row per operator, period and version. A
# re-run of a period adds a version, and the API serves the latest; none is rewritten.
# `body` is the statement's JSON exactly as `forvalg settle` wrote DIR/<operator>.json.
statements = Table(
    "statements",
    metadata,
    Column("operator_id", String(32), ForeignKey("operators.id"), primary_key=True),
    Column("period", String(7), primary_key=True),  # YYYY-MM
    Column("version", Integer, primary_key=True),
    Column("run_id", String(40), ForeignKey("work_items.id"), nullable=False),
    Column("body", Text, nullable=False),
    Column("sha256", String(64), nullable=False),  # of the JSON body's UTF-8 bytes
    Column("csv_sha256", String(64), nullable=False),  # of DIR/<operator>.csv
    Column("created_at", UtcDateTime, nullable=False),
)

# The retail CRM's contacts, copied into the compliance zone for detection. Retail may
# insert and nothing else (not even read back what it wrote); a contact id is unique per
# source, so a re-import inserts nothing twice (ON CONFLICT DO NOTHING).
retail_contacts = Table(
    "retail_contacts",
    metadata,
    Column("source", String(32), primary_key=True),  # the CRM it came from
    Column("contact_id", String(64), primary_key=True),
    Column("time_utc", UtcDateTime, nullable=False),
    Column("number", String(8), nullable=False, index=True),
    Column("channel", String(8), nullable=False),  # PHONE | SMS | EMAIL | LETTER | VISIT
    Column("direction", String(8), nullable=False),  # OUTBOUND | INBOUND
    Column("agent_id", String(64), nullable=False),
    Column("campaign_id", String(64), nullable=True),
    Column("outcome", String(500), nullable=True),
    Column("imported_at", UtcDateTime, nullable=False),
    # Retail may insert but not read back: no RETURNING.
    implicit_returning=False,
)

# Honey-lines (docs/DETECTION.md): which inventory lines are canaries, with the decoy
# order each was given. Compliance's secret; the operator API reads it only to hide the
# decoys from the operator they name.
honey_lines = Table(
    "honey_lines",
    metadata,
    Column("number", String(8), primary_key=True),
    Column("order_id", String(32), nullable=False, unique=True),
    Column("operator_id", String(32), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(64), nullable=False),
)

# Incidents opened from findings (docs/INCIDENTS.md), in the compliance zone. The latest
# detection's severity, summary and statistics are on the incident; every change is an
# event. At most one incident per finding is not closed: enforced here, not only in Python.
NOT_CLOSED = "state <> 'closed'"
incidents = Table(
    "incidents",
    metadata,
    Column("id", String(16), primary_key=True),  # INC-<12 hex>
    Column("finding_id", String(64), nullable=False),
    Column("detector", String(32), nullable=False),
    Column("severity", String(8), nullable=False),
    Column("subject", JSON, nullable=False),
    Column("summary", Text, nullable=False),
    Column("statistics", JSON, nullable=False),
    Column("state", String(16), nullable=False),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index(
        "uq_incidents_one_live_per_finding",
        "finding_id",
        unique=True,
        sqlite_where=text(NOT_CLOSED),
        postgresql_where=text(NOT_CLOSED),
    ),
    Index("ix_incidents_finding_opened", "finding_id", "opened_at"),
)

incident_events = Table(
    "incident_events",
    metadata,
    Column("incident_id", String(16), ForeignKey("incidents.id"), primary_key=True),
    Column("seq", Integer, primary_key=True),  # 1, 2, ... per incident
    Column("kind", String(16), nullable=False),  # opened | moved | redetected
    Column("at", UtcDateTime, nullable=False),
    Column("by", String(80), nullable=False),
    Column("from_state", String(16), nullable=True),
    Column("to_state", String(16), nullable=False),
    Column("note", Text, nullable=True),
    Column("severity", String(8), nullable=True),
    Column("statistics", JSON, nullable=True),
)

# Evidence is a copy taken when attached; an item is attached once per incident (a
# re-detection adds only what is new: ON CONFLICT DO NOTHING).
incident_evidence = Table(
    "incident_evidence",
    metadata,
    Column("incident_id", String(16), ForeignKey("incidents.id"), primary_key=True),
    Column("kind", String(16), primary_key=True),  # contact | cps_event | ledger_entry
    Column("reference", String(128), primary_key=True),
    Column("payload", JSON, nullable=False),
    Column("added_at", UtcDateTime, nullable=False),
)

# The answers to regulator inquiries (docs/INQUIRIES.md): one row per evidence bundle
# given, with the checkpoint it is proved against and the bundle's bytes, so the
# regulator downloads exactly what was recorded. Rows are never updated.
inquiry_answers = Table(
    "inquiry_answers",
    metadata,
    Column("seq", Serial, primary_key=True, autoincrement=True),
    Column("inquiry_id", String(40), ForeignKey("work_items.id"), nullable=False, index=True),
    Column("answered_at", UtcDateTime, nullable=False),
    Column("answered_by", String(80), nullable=False),
    Column("bundle_sha256", String(64), nullable=False),
    Column("tree_size", BigInteger, nullable=False),
    Column("root", String(44), nullable=False),  # base64
    Column("checkpoint", Text, nullable=False),  # the signed note
    Column("previous_size", BigInteger, nullable=True),
    Column("entry_count", Integer, nullable=False),
    Column("bundle", LargeBinary, nullable=False),
)

# Raised by the wall on every denial and break-glass access, in the deciding transaction.
compliance_alerts = Table(
    "compliance_alerts",
    metadata,
    Column("seq", Serial, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("kind", String(24), nullable=False),  # denial | break_glass
    Column("principal", String(64), nullable=False),
    Column("purpose", String(40), nullable=False),
    Column("work_item", String(80), nullable=True),
    Column("category", String(40), nullable=False),
    Column("reason", Text, nullable=False),
    Column("acknowledged_at", UtcDateTime, nullable=True),
    # Zones may insert but not read it back: no RETURNING of the new key.
    implicit_returning=False,
)

# A subscriber proves control of a line with a one-time code sent to it (a letter or an
# SMS); the code, then the session it buys, are stored only as hashes.
subscriber_codes = Table(
    "subscriber_codes",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("number", String(8), nullable=False, index=True),
    Column("code_hash", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("used_at", UtcDateTime, nullable=True),
    Column("session_hash", String(64), nullable=True, unique=True),
    Column("session_expires_at", UtcDateTime, nullable=True),
    Column("work_item_id", String(40), ForeignKey("work_items.id"), nullable=True),
)

# The one-time codes on their way to the line: a letter or an SMS whose body carries the
# code in clear until it is sent, so it lives in the compliance zone only.
subscriber_messages = Table(
    "subscriber_messages",
    metadata,
    Column("seq", Serial, primary_key=True, autoincrement=True),
    Column("code_id", String(32), ForeignKey("subscriber_codes.id"), nullable=False),
    Column("number", String(8), nullable=False),
    Column("channel", String(8), nullable=False),  # letter | sms
    Column("body", Text, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime, nullable=True),
)

# The ledger (docs/LEDGER.md). Access events are queued in the inbox inside the
# transaction that made the decision; the sequencer moves them into the Merkle tree in
# batches. Nothing here is ever updated; only the sequencer deletes from the inbox.
ledger_inbox = Table(
    "ledger_inbox",
    metadata,
    Column("seq", Serial, primary_key=True, autoincrement=True),
    Column("event", Text, nullable=False),  # canonical JSON (RFC 8785)
    # Zones may insert but not read it back: no RETURNING of the new key.
    implicit_returning=False,
)

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("idx", Serial, primary_key=True, autoincrement=False),
    Column("entry", Text, nullable=False),  # the leaf data, canonical JSON
    Column("leaf", LargeBinary(32), nullable=False),  # its leaf hash: the level-0 node
    # The complete subtrees this leaf completes, levels 1, 2, ... (32 bytes each): every
    # node above the leaves is stored once, in the row of its last leaf.
    Column("closes", LargeBinary, nullable=False),
)

# One row per integrated batch: the tree size and root after it.
ledger_heads = Table(
    "ledger_heads",
    metadata,
    Column("size", Serial, primary_key=True, autoincrement=False),
    Column("root", LargeBinary(32), nullable=False),
    Column("integrated_at", UtcDateTime, nullable=False),
)

ledger_checkpoints = Table(
    "ledger_checkpoints",
    metadata,
    Column("seq", Serial, primary_key=True, autoincrement=True),
    Column("size", BigInteger, nullable=False, index=True),
    Column("signed_at", UtcDateTime, nullable=False),
    Column("note", Text, nullable=False),
)

# The subject index: which entries touched a subscriber's line. `key` is a pseudonym the
# entry names, or the digest of a bulk decision's subjects; `ledger_subject_sets` keeps
# the members of each bulk set. Outside the tree: the entries themselves are the record.
ledger_subjects = Table(
    "ledger_subjects",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("idx", BigInteger, primary_key=True),
)

ledger_subject_sets = Table(
    "ledger_subject_sets",
    metadata,
    Column("pseudonym", String(64), primary_key=True),
    Column("digest", String(64), primary_key=True),
    # Zones may insert but not read it back: no RETURNING of the new key.
    implicit_returning=False,
)

LEDGER_TABLES = ("ledger_entries", "ledger_heads", "ledger_checkpoints")
