"""The data catalog: every table and every column, with its data category.

A column's category is what reading it reveals. An order row tells that a line is
leaving for a competitor, so every column of `orders` is `cps.order`, its number and
postcode included; the same number in the line inventory only says whose line it is
(`personal.subscriber`). The guarded stores name the categories each access touches and
the policy decides per category; the catalog is the record of which category every
column is, for auditors and for the tests that check it against the tables, against
the migrated schema on SQLite and PostgreSQL, and docs/DATA-CATALOG.md against
`render_markdown()` (`python -m forvalg.wall.catalog --write docs/DATA-CATALOG.md`
refreshes the page). `category_of` raises for a column it does not know rather than
guess. The wall does not consult it at run time.

Table names are bare, wherever the table lives (its zone's schema on PostgreSQL). This
module is data and imports only the domain.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from forvalg.domain.categories import Category as C

BEGIN = "<!-- catalog:begin -->"
END = "<!-- catalog:end -->"


class Uncatalogued(LookupError):
    """A table or column the catalog does not know: it has no category, so no grant."""


@dataclass(frozen=True, slots=True)
class ColumnEntry:
    name: str
    category: C
    description: str


@dataclass(frozen=True, slots=True)
class TableEntry:
    name: str
    description: str
    columns: tuple[ColumnEntry, ...]

    @property
    def categories(self) -> frozenset[C]:
        return frozenset(c.category for c in self.columns)


def _table(name: str, description: str, *columns: tuple[str, C, str]) -> TableEntry:
    return TableEntry(name, description, tuple(ColumnEntry(*c) for c in columns))


MEANINGS: dict[C, str] = {
    C.ORDER: "CPS orders and their history: that a line is leaving for (or between) "
    "competitors, to whom, when",
    C.ROUTING: "which operator carries a line's calls, with which option, from when to when",
    C.EVENT: "an operator's notification feed: its orders' state changes, loss notices",
    C.LETTER: "letters and messages to subscribers, naming the operator they chose",
    C.TRAFFIC: "call records and rated calls: how much and where a line calls",
    C.SETTLEMENT: "statements and invoices per operator and period",
    C.EVIDENCE: "an incident's evidence: copies of the CPS events, retail contacts and ledger "
    "entries (with inclusion proofs) a finding rests on; a CPS event says a line ordered "
    "preselection",
    C.OPERATOR: "the register of CPS operators: names, selection codes, agreements, API keys",
    C.SUBSCRIBER: "who a line belongs to: its number and postcode in the inventory",
    C.LINE: "the incumbent's line inventory: line type and status (a status may name the "
    "wholesale customer renting the line)",
    C.ELIGIBILITY: "whether a line can take preselection: a yes/no with a reason code",
    C.CONTACT: "the retail CRM's contacts with customers, imported for compliance",
    C.CANARY: "which lines are honey-lines and which orders are their decoys: compliance's "
    "secret, known to no one outside it",
    C.ACCESS_LOG: "the ledger's entries: each access decision, subjects by pseudonym only",
    C.LEDGER_PROOF: "the ledger's hashes, tree heads and signed checkpoints: no entry's content",
    C.WORK_ITEM: "fault tickets, settlement runs, inquiries, subscriber requests and the "
    "lines they concern",
    C.ALERT: "denials and break-glass accesses raised to compliance",
    C.INCIDENT: "incidents opened from detection findings: the finding, its severity and "
    "statistics, the state and who moved it when and why",
    C.STAFF_USER: "staff accounts and their roles",
    C.CREDENTIAL: "secrets: hashes of API keys, staff tokens, sessions; one-time codes",
}

# Categories no stored column has, each with the reason. A reservation must go when a
# column takes the category (a test checks both directions).
RESERVED: dict[C, str] = {
    C.TRAFFIC: "reserved for the traffic tables (CDRs, rated calls) of the traffic issue; "
    "until then CDR files are read and written outside the database",
    C.ELIGIBILITY: "never stored: the answer is computed from `lines.line_type` and "
    "`lines.status`; a category of its own so an operator can be granted the yes/no "
    "without the inventory behind it",
}

CATALOG: tuple[TableEntry, ...] = (
    _table(
        "operators",
        "The CPS operators the incumbent has agreements with.",
        ("id", C.OPERATOR, "the operator's id, used throughout forvalg"),
        ("name", C.OPERATOR, "its name, as printed in customer letters"),
        ("csc", C.OPERATOR, "its carrier selection code (`15NN`)"),
        ("agreement_active", C.OPERATOR, "whether it has an active agreement"),
        ("created_at", C.OPERATOR, "when it was registered"),
    ),
    _table(
        "operator_api_keys",
        "The operators' API keys: who holds which key, stored as a hash only.",
        ("id", C.OPERATOR, "the key's public id"),
        ("operator_id", C.OPERATOR, "the operator holding it"),
        ("key_hash", C.CREDENTIAL, "SHA-256 of the secret"),
        ("created_at", C.OPERATOR, "when it was issued"),
        ("revoked_at", C.OPERATOR, "when it was revoked, if it was"),
    ),
    _table(
        "lines",
        "The incumbent's line inventory, as imported; it says nothing about preselection.",
        ("number", C.SUBSCRIBER, "the line's number (8 digits)"),
        ("postcode", C.SUBSCRIBER, "the postcode of the line's address"),
        ("line_type", C.LINE, "`PSTN`, `ISDN_BRA`, `ISDN_PRA` or `PAYPHONE`"),
        ("status", C.LINE, "`ACTIVE`, `CEASED` or `WLR:<operator>` (names a wholesale client)"),
        ("updated_at", C.LINE, "when the inventory last changed the row"),
    ),
    _table(
        "orders",
        "CPS orders as placed by operators and moved through their life cycle.",
        ("seq", C.ORDER, "position in order of receipt"),
        ("id", C.ORDER, "the order's id, shown to its operator"),
        ("type", C.ORDER, "`PROVIDE`, `TRANSFER`, `MODIFY`, `CEASE` or `CANCEL_OTHER`"),
        ("number", C.ORDER, "the line the order is for"),
        ("operator_id", C.ORDER, "the operator that placed it"),
        ("option", C.ORDER, "`ALL`, `NATIONAL` or `INTERNATIONAL`"),
        ("postcode", C.ORDER, "the postcode the operator gave, checked against the line"),
        ("auth_reference", C.ORDER, "the operator's reference to the customer's consent"),
        ("auth_signed_at", C.ORDER, "when the customer signed it"),
        ("auth_channel", C.ORDER, "how the customer gave it"),
        ("requested_date", C.ORDER, "the switch date the operator asked for"),
        ("target_order", C.ORDER, "`CANCEL_OTHER`: the order it cancels"),
        ("cancel_reason", C.ORDER, "`CANCEL_OTHER`: the reason from the closed list"),
        ("state", C.ORDER, "where it is in its life cycle (`RECEIVED` ... `COMPLETED`)"),
        ("reason_code", C.ORDER, "why it was rejected"),
        ("due_date", C.ORDER, "the day the switch happens, once committed"),
        ("next_due_at", C.ORDER, "when the processor next moves it; empty once final"),
        ("idempotency_key", C.ORDER, "the operator's `Idempotency-Key`"),
        ("request_hash", C.ORDER, "digest of the request, to tell a replay from a reuse"),
        ("created_at", C.ORDER, "when it was received"),
        ("updated_at", C.ORDER, "when it last changed"),
    ),
    _table(
        "order_history",
        "Every state an order passed through.",
        ("seq", C.ORDER, "position in order of writing"),
        ("order_id", C.ORDER, "the order"),
        ("state", C.ORDER, "the state entered"),
        ("at", C.ORDER, "when it took effect"),
        ("reason_code", C.ORDER, "why, for a rejection"),
        ("recorded_at", C.ORDER, "when forvalg wrote it"),
    ),
    _table(
        "cancel_refusals",
        "An operator's own cancel that was refused: the cut-off misses the report counts.",
        ("seq", C.ORDER, "position in order of writing"),
        ("order_id", C.ORDER, "the order the operator asked to cancel"),
        ("reason_code", C.ORDER, "`E_TOO_LATE` (past the cut-off) or `E_CONFLICT` (final)"),
        ("at", C.ORDER, "when the cancel was asked for"),
    ),
    _table(
        "preselections",
        "Which operator carries a line's calls, bitemporally: the routing the exchanges get.",
        ("id", C.ROUTING, "row id"),
        ("number", C.ROUTING, "the preselected line"),
        ("operator_id", C.ROUTING, "the operator carrying its calls"),
        ("option", C.ROUTING, "the calls it carries: `ALL`, `NATIONAL` or `INTERNATIONAL`"),
        ("valid_from", C.ROUTING, "when it starts to hold in the network"),
        ("valid_to", C.ROUTING, "when it stops holding; empty while current"),
        ("recorded_at", C.ROUTING, "when forvalg learnt that it starts"),
        ("closed_at", C.ROUTING, "when forvalg learnt that it ends"),
        ("order_id", C.ROUTING, "the order that started it"),
        ("closed_by_order", C.ROUTING, "the order that ended it"),
    ),
    _table(
        "routing_versions",
        "Versions of the routing table, one per completed order that changed it (ROUTING.md).",
        ("version", C.ROUTING, "the version's number: 1, 2, 3, ... without gaps"),
        ("content_hash", C.ROUTING, "SHA-256 over the version's bucket digests (hex)"),
        ("effective_at", C.ROUTING, "the switch instant from which the version is in force"),
        ("order_id", C.ROUTING, "the order whose completion made it"),
        ("row_count", C.ROUTING, "how many lines the version routes to CPS operators"),
        ("recorded_at", C.ROUTING, "when forvalg wrote it"),
    ),
    _table(
        "routing_buckets",
        "The latest version's digest of each bucket of numbers sharing their first 4 digits.",
        ("prefix", C.ROUTING, "the bucket's first 4 digits"),
        ("digest", C.ROUTING, "SHA-256 of the bucket's rows, sorted by number"),
        ("row_count", C.ROUTING, "how many preselected lines the bucket holds"),
    ),
    _table(
        "operator_events",
        "Each operator's notification feed.",
        ("seq", C.EVENT, "position in the feeds (global)"),
        ("operator_id", C.EVENT, "the operator told"),
        ("type", C.EVENT, "`ORDER_STATE`, `LOSS` or `LOSS_CANCELLED`"),
        ("number", C.EVENT, "the line concerned"),
        ("at", C.EVENT, "when the event took effect"),
        ("payload", C.EVENT, "the notice as the operator reads it (JSON)"),
        ("recorded_at", C.EVENT, "when forvalg wrote it"),
    ),
    _table(
        "customer_letters",
        "Letters to subscribers about their orders.",
        ("seq", C.LETTER, "position in order of writing"),
        ("number", C.LETTER, "the line written to"),
        ("order_id", C.LETTER, "the order it is about"),
        ("template", C.LETTER, "the fixed template"),
        ("fields", C.LETTER, "its fields (JSON), the chosen operator among them"),
        ("at", C.LETTER, "when it was written"),
        ("sent_at", C.LETTER, "when it was sent"),
    ),
    _table(
        "staff_users",
        "The incumbent's staff who sign in to forvalg, with one role each.",
        ("id", C.STAFF_USER, "the user's id, as the ledger names them"),
        ("name", C.STAFF_USER, "their name"),
        ("role", C.STAFF_USER, "their role (DOMAIN.md's actors)"),
        ("token_hash", C.CREDENTIAL, "SHA-256 of their bearer token"),
        ("created_at", C.STAFF_USER, "when the account was made"),
        ("revoked_at", C.STAFF_USER, "when it was revoked, if it was"),
    ),
    _table(
        "work_items",
        "Work items, without which staff get no data: tickets, runs, inquiries, requests.",
        ("id", C.WORK_ITEM, "the work item's id, named in every read it allows"),
        ("kind", C.WORK_ITEM, "fault ticket, settlement run, inquiry, subscriber request"),
        ("operator_id", C.WORK_ITEM, "the operator it concerns (a settlement run's)"),
        ("period", C.WORK_ITEM, "the month (`YYYY-MM`) of a settlement run or an inquiry"),
        ("summary", C.WORK_ITEM, "what it is about, in free text"),
        ("opened_by", C.WORK_ITEM, "who opened it"),
        ("opened_at", C.WORK_ITEM, "when it was opened"),
        ("due_at", C.WORK_ITEM, "an inquiry's deadline"),
        ("closed_at", C.WORK_ITEM, "when it was closed; its data is then out of reach"),
    ),
    _table(
        "work_item_lines",
        "The lines a work item concerns: the wall lets it reach these and no others.",
        ("work_item_id", C.WORK_ITEM, "the work item"),
        ("number", C.WORK_ITEM, "a line on it"),
    ),
    _table(
        "statements",
        "Settlement statements as filed by `forvalg settle`: every version, per operator "
        "and period (docs/TRAFFIC.md).",
        ("operator_id", C.SETTLEMENT, "the operator invoiced"),
        ("period", C.SETTLEMENT, "the month (`YYYY-MM`, Oslo calendar) it covers"),
        ("version", C.SETTLEMENT, "1 for the first run of the period, then one more per re-run"),
        ("run_id", C.SETTLEMENT, "the settlement run (`SR-…` work item) that filed it"),
        ("body", C.SETTLEMENT, "the statement's JSON, byte for byte as `DIR/<operator>.json`"),
        ("sha256", C.SETTLEMENT, "SHA-256 of the JSON body"),
        ("csv_sha256", C.SETTLEMENT, "SHA-256 of the CSV written beside it"),
        ("created_at", C.SETTLEMENT, "when it was filed"),
    ),
    _table(
        "retail_contacts",
        "The retail CRM's contacts with customers (INTERFACES.md §4), in the compliance zone: "
        "retail writes them and reads nothing back (docs/CONTACTS.md).",
        ("source", C.CONTACT, "the CRM the contact came from; contact ids are unique per source"),
        ("contact_id", C.CONTACT, "the CRM's id of the contact"),
        ("time_utc", C.CONTACT, "when the contact happened"),
        ("number", C.CONTACT, "the subscriber's line (8 digits)"),
        ("channel", C.CONTACT, "`PHONE`, `SMS`, `EMAIL`, `LETTER` or `VISIT`"),
        ("direction", C.CONTACT, "`OUTBOUND` (retail's initiative) or `INBOUND` (the customer's)"),
        ("agent_id", C.CONTACT, "the retail agent who made or took it"),
        ("campaign_id", C.CONTACT, "the campaign it belongs to, if any"),
        ("outcome", C.CONTACT, "the CRM's free-text outcome"),
        ("imported_at", C.CONTACT, "when forvalg stored it"),
    ),
    _table(
        "honey_lines",
        'Honey-lines (docs/DETECTION.md, "Honey-lines"): lines in the inventory with decoy '
        "preselection orders that look real to everyone outside compliance.",
        ("number", C.CANARY, "the honey-line (8 digits): that it is one is the secret"),
        ("order_id", C.CANARY, "its decoy order"),
        ("operator_id", C.CANARY, "the operator the decoy order names"),
        ("created_at", C.CANARY, "when compliance created it; the decoy order is received then"),
        ("created_by", C.CANARY, "the principal that created it"),
    ),
    _table(
        "incidents",
        "Incidents opened from findings of severity medium or above, with the latest "
        "detection's numbers and the state (docs/INCIDENTS.md).",
        ("id", C.INCIDENT, "the incident's id (`INC-` and 12 hex digits)"),
        ("finding_id", C.INCIDENT, "the finding it follows (the same in every detection run)"),
        ("detector", C.INCIDENT, "the detector that made the finding"),
        ("severity", C.INCIDENT, "the latest detection's severity"),
        ("subject", C.INCIDENT, "the campaign, agent or principal the finding is about"),
        ("summary", C.INCIDENT, "the latest detection's one-sentence summary"),
        ("statistics", C.INCIDENT, "the latest detection's p-value, lift and count"),
        ("state", C.INCIDENT, "`open`, `investigating`, `reported` or `closed`"),
        ("opened_at", C.INCIDENT, "when it was opened"),
        ("updated_at", C.INCIDENT, "when it last changed"),
    ),
    _table(
        "incident_events",
        "Each incident's history: opened, moved, re-detected; who, when, from and to which "
        "state, and the note.",
        ("incident_id", C.INCIDENT, "the incident"),
        ("seq", C.INCIDENT, "1, 2, ... within the incident"),
        ("kind", C.INCIDENT, "`opened`, `moved` or `redetected`"),
        ("at", C.INCIDENT, "when"),
        ("by", C.INCIDENT, "who: a principal, or the person the command line acted for"),
        ("from_state", C.INCIDENT, "the state before (none when opened)"),
        ("to_state", C.INCIDENT, "the state after"),
        ("note", C.INCIDENT, "why (required when closing); what a re-detection changed"),
        ("severity", C.INCIDENT, "the finding's severity when opened or re-detected"),
        ("statistics", C.INCIDENT, "the finding's statistics when opened or re-detected"),
    ),
    _table(
        "incident_evidence",
        "The evidence an incident rests on, copied when attached: contacts, CPS events, "
        "ledger entries with inclusion proofs and the signed checkpoint.",
        ("incident_id", C.EVIDENCE, "the incident"),
        ("kind", C.EVIDENCE, "`contact`, `cps_event` or `ledger_entry`"),
        (
            "reference",
            C.EVIDENCE,
            "the contact's id, the CPS event (line, kind, time) or the ledger index",
        ),
        (
            "payload",
            C.EVIDENCE,
            "the copy: the contact or event as JSON, or the entry, its proof and the checkpoint",
        ),
        ("added_at", C.EVIDENCE, "when it was attached"),
    ),
    _table(
        "inquiry_answers",
        "The answers to regulator inquiries (docs/INQUIRIES.md): one row per evidence bundle "
        "given, with the checkpoint it is proved against and the bundle itself.",
        ("seq", C.WORK_ITEM, "1, 2, ... over all answers"),
        ("inquiry_id", C.WORK_ITEM, "the inquiry answered (`INQ-` and 12 hex digits)"),
        ("answered_at", C.WORK_ITEM, "when the bundle was made"),
        ("answered_by", C.WORK_ITEM, "the person who answered, as the command line named them"),
        ("bundle_sha256", C.WORK_ITEM, "SHA-256 of the zip, also in the answer's ledger entry"),
        ("tree_size", C.LEDGER_PROOF, "the size of the checkpoint the bundle is proved against"),
        ("root", C.LEDGER_PROOF, "that checkpoint's root hash (base64)"),
        ("checkpoint", C.LEDGER_PROOF, "that checkpoint's signed note"),
        ("previous_size", C.LEDGER_PROOF, "the size of the previous checkpoint it extends"),
        ("entry_count", C.WORK_ITEM, "how many ledger entries the bundle holds"),
        ("bundle", C.ACCESS_LOG, "the zip: ledger entries, proofs, checkpoint, key, report"),
    ),
    _table(
        "compliance_alerts",
        "Denials and break-glass accesses, raised to compliance by the wall.",
        ("seq", C.ALERT, "position in order of raising"),
        ("at", C.ALERT, "when the access was tried"),
        ("kind", C.ALERT, "`denial` or `break_glass`"),
        ("principal", C.ALERT, "who tried"),
        ("purpose", C.ALERT, "for which purpose"),
        ("work_item", C.ALERT, "naming which work item, if any"),
        ("category", C.ALERT, "the data category asked for"),
        ("reason", C.ALERT, "the policy's reason, or the break-glass justification"),
        ("acknowledged_at", C.ALERT, "when compliance acknowledged it"),
    ),
    _table(
        "subscriber_codes",
        "A subscriber's proof of control of a line for a request: a one-time code, then a session.",
        ("id", C.WORK_ITEM, "the code's id"),
        ("number", C.WORK_ITEM, "the line the subscriber asks about"),
        ("code_hash", C.CREDENTIAL, "hash of the one-time code sent to the line"),
        ("created_at", C.WORK_ITEM, "when the code was made"),
        ("expires_at", C.WORK_ITEM, "when it stops working"),
        ("attempts", C.WORK_ITEM, "wrong codes tried so far"),
        ("used_at", C.WORK_ITEM, "when the right code was given"),
        ("session_hash", C.CREDENTIAL, "hash of the session token it bought"),
        ("session_expires_at", C.WORK_ITEM, "when the session ends"),
        ("work_item_id", C.WORK_ITEM, "the subscriber request it serves"),
    ),
    _table(
        "subscriber_messages",
        "Letters and SMS carrying one-time codes to lines, waiting to be sent.",
        ("seq", C.WORK_ITEM, "position in order of writing"),
        ("code_id", C.WORK_ITEM, "the code it carries"),
        ("number", C.WORK_ITEM, "the line it goes to"),
        ("channel", C.WORK_ITEM, "`letter` or `sms`"),
        ("body", C.CREDENTIAL, "the text, with the one-time code in clear"),
        ("at", C.WORK_ITEM, "when it was written"),
        ("sent_at", C.WORK_ITEM, "when it was sent"),
    ),
    _table(
        "ledger_inbox",
        "Access decisions queued in the deciding transaction, not yet in the tree.",
        ("seq", C.ACCESS_LOG, "position in the queue"),
        ("event", C.ACCESS_LOG, "the decision as canonical JSON (pseudonyms only)"),
    ),
    _table(
        "ledger_entries",
        "The ledger's leaves, and the tree nodes each completes.",
        ("idx", C.ACCESS_LOG, "the entry's index in the tree"),
        ("entry", C.ACCESS_LOG, "the leaf data, canonical JSON (pseudonyms only)"),
        ("leaf", C.LEDGER_PROOF, "its leaf hash"),
        ("closes", C.LEDGER_PROOF, "the hashes of the complete subtrees it closes"),
    ),
    _table(
        "ledger_heads",
        "The tree's size and root after each integrated batch.",
        ("size", C.LEDGER_PROOF, "the tree size"),
        ("root", C.LEDGER_PROOF, "the root hash at that size"),
        ("integrated_at", C.LEDGER_PROOF, "when the batch was integrated"),
    ),
    _table(
        "ledger_checkpoints",
        "Signed checkpoints (C2SP signed notes) of the tree.",
        ("seq", C.LEDGER_PROOF, "position in order of signing"),
        ("size", C.LEDGER_PROOF, "the tree size signed"),
        ("signed_at", C.LEDGER_PROOF, "when it was signed"),
        ("note", C.LEDGER_PROOF, "the signed note"),
    ),
    _table(
        "ledger_subjects",
        "The subject index: which entries touched a subject (outside the tree).",
        ("key", C.ACCESS_LOG, "a pseudonym an entry names, or a bulk decision's digest"),
        ("idx", C.ACCESS_LOG, "the entry"),
    ),
    _table(
        "ledger_subject_sets",
        "The members of each bulk decision's subject set, by pseudonym.",
        ("pseudonym", C.ACCESS_LOG, "a subject's pseudonym"),
        ("digest", C.ACCESS_LOG, "the digest of a bulk set it belongs to"),
    ),
)

_BY_NAME = {t.name: t for t in CATALOG}
_COLUMNS = {(t.name, c.name): c for t in CATALOG for c in t.columns}


def tables() -> tuple[TableEntry, ...]:
    """Every table of the application, in the catalog's order."""
    return CATALOG


def table(name: str) -> TableEntry:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise Uncatalogued(f"table {name!r} is not in the data catalog") from None


def category_of(table_name: str, column: str) -> C:
    try:
        return _COLUMNS[table_name, column].category
    except KeyError:
        raise Uncatalogued(f"column {table_name}.{column} is not in the data catalog") from None


def categories_of(table_name: str, columns: Iterable[str] | None = None) -> frozenset[C]:
    """The categories of a table's columns: all of them, or only those named."""
    if columns is None:
        return table(table_name).categories
    return frozenset(category_of(table_name, c) for c in columns)


def render_markdown() -> str:
    """The catalog as Markdown: what docs/DATA-CATALOG.md holds between the markers."""
    used: dict[C, list[str]] = {}
    for t in CATALOG:
        for category in sorted(t.categories):
            used.setdefault(category, []).append(f"`{t.name}`")
    out = [
        "## Categories",
        "",
        "| category | competitor-derived | meaning | where |",
        "|---|---|---|---|",
    ]
    for category in C:
        reserved = RESERVED.get(category, "**none given**")
        where = ", ".join(used.get(category, [])) or f"*no column:* {reserved}"
        derived = "yes" if category.family == "cps" else "no"
        out.append(f"| `{category}` | {derived} | {MEANINGS[category]} | {where} |")
    out += ["", "## Tables"]
    for t in CATALOG:
        out += ["", f"### `{t.name}`", "", t.description, "", "| column | category | meaning |"]
        out.append("|---|---|---|")
        out += [f"| `{c.name}` | `{c.category}` | {c.description} |" for c in t.columns]
    return "\n".join(out) + "\n"


def _markers(lines: list[str]) -> tuple[int, int]:
    marks = [(i, line.rstrip("\r\n")) for i, line in enumerate(lines)]
    begins = [i for i, text in marks if BEGIN in text]
    ends = [i for i, text in marks if END in text]
    if (
        len(begins) != 1
        or len(ends) != 1
        or begins[0] > ends[0]
        or marks[begins[0]][1] != BEGIN
        or marks[ends[0]][1] != END
    ):
        raise ValueError(f"the document needs one {BEGIN} and, after it, one {END}, each alone")
    return begins[0], ends[0]


def embedded(document: str) -> str:
    """The text between the document's markers."""
    lines = document.splitlines(keepends=True)
    begin, end = _markers(lines)
    return "".join(lines[begin + 1 : end])


def embed(document: str, body: str) -> str:
    """The document with the text between its markers replaced by `body`."""
    lines = document.splitlines(keepends=True)
    begin, end = _markers(lines)
    return "".join(lines[: begin + 1]) + body + "".join(lines[end:])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m forvalg.wall.catalog",
        description="Print the data catalog as Markdown, or refresh it in a document.",
    )
    parser.add_argument(
        "--write", type=Path, metavar="DOC", help="replace the catalog block in DOC in place"
    )
    args = parser.parse_args(argv)
    if args.write is None:
        sys.stdout.write(render_markdown())
        return 0
    path: Path = args.write
    path.write_text(embed(path.read_text(encoding="utf-8"), render_markdown()), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
