"""The operator API's published shapes (INTERFACES.md §2), apart from tables and domain."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
)

from forvalg.domain.incidents import IncidentState
from forvalg.domain.lines import LineView
from forvalg.domain.orders import CancelReason, Option, Order, OrderState, OrderType
from forvalg.domain.subscribers import Channel
from forvalg.domain.work_items import WorkItem, WorkItemKind

Number = Annotated[
    str,
    Field(pattern=r"^[0-9]{8}$", description="8-digit national number", examples=["22334455"]),
]
Postcode = Annotated[str, Field(pattern=r"^[0-9]{4}$", examples=["0150"])]


def _iso_date(value: object) -> object:
    """Dates come as ISO 8601 strings; a JSON number is a type error, not a timestamp."""
    if not isinstance(value, str | date):
        raise ValueError("must be a date string like 2026-11-20")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]


def _no_nul(value: Any) -> Any:
    """A NUL character in any string, however deep: PostgreSQL cannot store one in text,
    so it is a malformed request here, never a 500 there (found by schemathesis)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("must not contain the NUL character (U+0000)")
    elif isinstance(value, list | tuple):
        for item in value:
            _no_nul(item)
    return value


class Strict(BaseModel):
    """Unknown fields are errors. (Pydantic never turns a JSON number into a string.)
    No string may hold a NUL character."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _refuse_nul(cls, value: Any) -> Any:
        return _no_nul(value)


class AuthorisationIn(Strict):
    reference: Annotated[str, Field(min_length=1, max_length=100)]
    signed_at: IsoDate
    channel: Annotated[str, Field(min_length=1, max_length=32)]


class _LineOrder(Strict):
    number: Number
    postcode: Postcode | None = None
    requested_date: IsoDate | None = None


class ProvideCreate(_LineOrder):
    type: Literal[OrderType.PROVIDE]
    postcode: Postcode
    option: Option
    authorisation: AuthorisationIn | None = None


class TransferCreate(_LineOrder):
    type: Literal[OrderType.TRANSFER]
    postcode: Postcode
    option: Option
    authorisation: AuthorisationIn | None = None


class ModifyCreate(_LineOrder):
    type: Literal[OrderType.MODIFY]
    option: Option
    authorisation: AuthorisationIn | None = None


class CeaseCreate(_LineOrder):
    type: Literal[OrderType.CEASE]
    authorisation: AuthorisationIn | None = None


class CancelOtherCreate(Strict):
    type: Literal[OrderType.CANCEL_OTHER]
    number: Number
    target_order: Annotated[str, Field(min_length=1, max_length=32)]
    reason: CancelReason


OrderCreate = Annotated[
    ProvideCreate | TransferCreate | ModifyCreate | CeaseCreate | CancelOtherCreate,
    Field(discriminator="type"),
]


class HistoryItem(BaseModel):
    state: OrderState
    at: datetime
    reason_code: str | None


class OrderPublic(BaseModel):
    id: str
    type: OrderType
    number: str
    operator: str
    option: Option | None
    state: OrderState
    reason_code: str | None
    due_date: date | None
    created_at: datetime
    updated_at: datetime
    history: list[HistoryItem]

    @classmethod
    def of(cls, order: Order) -> OrderPublic:
        return cls(
            id=order.id,
            type=order.type,
            number=order.number,
            operator=order.operator_id,
            option=order.option,
            state=order.state,
            reason_code=None if order.reason_code is None else order.reason_code.value,
            due_date=order.due_date,
            created_at=order.created_at,
            updated_at=order.updated_at or order.created_at,
            history=[
                HistoryItem(
                    state=h.state,
                    at=h.at,
                    reason_code=None if h.reason_code is None else h.reason_code.value,
                )
                for h in order.history
            ],
        )


class OrderList(BaseModel):
    items: list[OrderPublic]
    next_cursor: str | None


class Eligibility(BaseModel):
    eligible: bool
    reason_code: str | None


class EventList(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None


class ProblemError(BaseModel):
    pointer: str | None = None
    parameter: str | None = None
    reason: str


class Problem(BaseModel):
    """RFC 9457 problem details with forvalg's reason `code`."""

    type: str
    title: str
    status: int
    code: str
    detail: str | None = None
    errors: list[ProblemError] | None = None


class EntryList(BaseModel):
    entries: list[dict[str, Any]] = Field(
        description="Ledger entries {event, index, prev}; the leaf data is their RFC 8785 JSON"
    )


class InclusionProofPublic(BaseModel):
    index: int
    size: int
    leaf_hash: str = Field(description="base64 SHA-256(0x00 || entry)")
    hashes: list[str] = Field(description="The audit path, bottom-up, base64")


class ConsistencyProofPublic(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: int = Field(alias="from")
    to: int
    hashes: list[str] = Field(description="RFC 9162 §2.1.4 proof, base64")


class WorkItemCreate(Strict):
    kind: WorkItemKind = Field(description="fault_ticket, settlement_run, inquiry, audit or queue")
    summary: str = Field(min_length=1, max_length=2000)
    lines: list[Number] = Field(default_factory=list, max_length=100)
    operator: str | None = Field(default=None, max_length=32)
    period: str | None = Field(default=None, pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")
    due_at: AwareDatetime | None = None


class WorkItemPublic(BaseModel):
    id: str
    kind: WorkItemKind
    summary: str
    lines: list[str]
    operator: str | None
    period: str | None
    opened_by: str
    opened_at: datetime
    due_at: datetime | None
    closed_at: datetime | None

    @classmethod
    def of(cls, item: WorkItem) -> WorkItemPublic:
        return cls(
            id=item.id,
            kind=item.kind,
            summary=item.summary,
            lines=sorted(item.lines),
            operator=item.operator_id,
            period=item.period,
            opened_by=item.opened_by,
            opened_at=item.opened_at,
            due_at=item.due_at,
            closed_at=item.closed_at,
        )


class RoutePublic(BaseModel):
    """Where a call from the line, dialling `dialled` at `at`, must go and why: the
    columns the rating engine adds to a CDR (INTERFACES.md §3), by the same rule."""

    number: str
    dialled: str
    at: datetime
    call_class: str
    expected_carrier: str
    route_reason: str
    order_id: str | None


class LinePublic(BaseModel):
    """A line as the caller's view shows it: fields the view masks are absent (null)."""

    number: str
    preselected: bool
    carrier_code: str | None
    option: str | None
    operator: str | None
    operator_name: str | None
    since: datetime | None
    order_id: str | None
    open_order: str | None
    postcode: str | None
    line_type: str | None
    status: str | None

    @classmethod
    def of(cls, view: LineView) -> LinePublic:
        return cls(
            number=view.number,
            preselected=view.preselected,
            carrier_code=view.carrier_code,
            option=view.option,
            operator=view.operator_id,
            operator_name=view.operator_name,
            since=view.since,
            order_id=view.order_id,
            open_order=view.open_order,
            postcode=view.postcode,
            line_type=view.line_type,
            status=view.status,
        )


class AlertPublic(BaseModel):
    seq: int
    at: datetime
    kind: str
    principal: str
    purpose: str
    work_item: str | None
    category: str
    reason: str


class AlertList(BaseModel):
    items: list[AlertPublic]
    next_cursor: str | None


class CodeRequest(Strict):
    number: Number
    channel: Channel = Channel.LETTER


class CodeRequested(BaseModel):
    detail: str


class SessionRequest(Strict):
    number: Number
    code: str = Field(pattern=r"^[0-9]{8}$", description="the 8-digit one-time code")


class SessionPublic(BaseModel):
    token: str = Field(description="Bearer token for /v1/subscriber/*, shown once")
    request: str = Field(description="the subscriber request (work item) it serves")
    expires_at: datetime


class SubscriberLine(BaseModel):
    number: str
    preselected: bool
    operator_name: str | None
    option: str | None
    since: datetime | None


class Touch(BaseModel):
    index: int
    entry: dict[str, Any]
    proof: InclusionProofPublic


class AccessList(BaseModel):
    checkpoint: str = Field(description="the signed checkpoint the proofs are against")
    size: int
    entries: list[Touch]


Text = Annotated[str | None, Field(max_length=600)]


class ContactIn(Strict):
    """One contact as the CRM exports it (INTERFACES.md §4). Every member is a string (or
    null); its value is checked by forvalg, and a bad value rejects the item, not the call."""

    contact_id: Text = None
    time_utc: Text = Field(default=None, examples=["2026-11-20T10:00:00Z"])
    number: Text = Field(default=None, examples=["22334455"])
    channel: Text = Field(default=None, examples=["PHONE"])
    direction: Text = Field(default=None, examples=["OUTBOUND"])
    agent_id: Text = None
    campaign_id: Text = None
    outcome: Text = None


class ContactPush(Strict):
    contacts: Annotated[list[ContactIn], Field(min_length=1, max_length=10_000)]
    source: Annotated[
        str,
        Field(
            pattern=r"^[A-Za-z0-9._-]{1,32}$",
            description="The CRM the contacts come from: contact ids are unique per source",
        ),
    ] = "crm"


class ContactPushResult(BaseModel):
    source: str
    received: int = Field(description="Contacts in the request")
    imported: int = Field(description="Stored now")
    duplicates: int = Field(description="Already stored for the source: skipped")
    rejected: int = Field(description="Items with a bad value: not stored")
    errors: list[ProblemError] = Field(
        description="Per rejected item and field: `pointer` (/contacts/<index>/<field>), `reason`"
    )


class IncidentEventPublic(BaseModel):
    kind: Literal["opened", "moved", "redetected"]
    at: datetime
    by: str
    from_state: IncidentState | None
    to_state: IncidentState
    note: str | None
    severity: str | None = Field(description="The finding's, when opened or re-detected")
    statistics: dict[str, float | int] | None


class IncidentPublic(BaseModel):
    """An incident opened from a finding (docs/INCIDENTS.md), with its history."""

    id: str
    finding_id: str
    detector: str
    severity: str = Field(description="The latest detection's")
    subject: dict[str, str]
    summary: str
    statistics: dict[str, float | int]
    state: IncidentState
    opened_at: datetime
    updated_at: datetime
    history: list[IncidentEventPublic]


class EvidencePublic(BaseModel):
    kind: Literal["contact", "cps_event", "ledger_entry"]
    reference: str
    added_at: datetime | None
    payload: dict[str, Any] = Field(
        description="A copy of the contact or CPS event; for a ledger entry `entry` (its leaf "
        "data), `proof` (as GET /v1/log/proof/inclusion gives it) and `checkpoint` (the signed "
        "note the proof leads to)"
    )


class IncidentDetail(IncidentPublic):
    evidence: list[EvidencePublic]


class IncidentList(BaseModel):
    items: list[IncidentPublic]


class IncidentMove(Strict):
    to: Literal["investigating", "reported", "closed"]
    note: Annotated[
        str | None, Field(max_length=2000, description="Why; required when closing")
    ] = None


class LoggedAccessPublic(BaseModel):
    """One ledger entry's event, as the ledger holds it, with its index in the tree."""

    index: int
    at: datetime
    principal: str
    organisation: str
    roles: list[str]
    purpose: str
    work_item: str | None
    action: str
    resource: str = Field(description="The data category decided on")
    decision: str = Field(description="allow or deny")
    reason: str | None
    break_glass: bool
    subject_count: int
    subjects: list[str] = Field(description="Pseudonyms, when the entry names them")


class AccessLogPagePublic(BaseModel):
    size: int = Field(description="The tree size searched; pass next_cursor for older entries")
    items: list[LoggedAccessPublic]
    next_cursor: str | None
