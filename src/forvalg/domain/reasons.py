"""The one list of reason codes. docs/REASON-CODES.md is checked against it by a test."""

from __future__ import annotations

from enum import StrEnum


class ReasonCode(StrEnum):
    # Order validation: a well-formed order that breaks a business rule ends REJECTED with one.
    E_LINE_UNKNOWN = "E_LINE_UNKNOWN"
    E_LINE_NOT_ACTIVE = "E_LINE_NOT_ACTIVE"
    E_LINE_NOT_ELIGIBLE = "E_LINE_NOT_ELIGIBLE"
    E_POSTCODE_MISMATCH = "E_POSTCODE_MISMATCH"
    E_NO_AGREEMENT = "E_NO_AGREEMENT"
    E_OPTION_NOT_OFFERED = "E_OPTION_NOT_OFFERED"
    E_AUTHORISATION_MISSING = "E_AUTHORISATION_MISSING"
    E_AUTHORISATION_INVALID = "E_AUTHORISATION_INVALID"
    E_OPEN_ORDER = "E_OPEN_ORDER"
    E_LINE_PRESELECTED = "E_LINE_PRESELECTED"
    E_NOT_PRESELECTED = "E_NOT_PRESELECTED"
    E_NOT_SERVING = "E_NOT_SERVING"
    E_ALREADY_SERVING = "E_ALREADY_SERVING"
    E_SAME_OPTION = "E_SAME_OPTION"
    E_DATE_INVALID = "E_DATE_INVALID"
    E_TARGET_NOT_FOUND = "E_TARGET_NOT_FOUND"
    E_TARGET_NOT_CANCELLABLE = "E_TARGET_NOT_CANCELLABLE"
    # Why an order ended CANCELLED.
    C_CANCELLED_BY_OPERATOR = "C_CANCELLED_BY_OPERATOR"
    C_CANCELLED_BY_SERVING_OPERATOR = "C_CANCELLED_BY_SERVING_OPERATOR"
    # API problems (RFC 9457 problem+json `code`).
    E_AUTH = "E_AUTH"
    E_VALIDATION = "E_VALIDATION"
    E_NOT_FOUND = "E_NOT_FOUND"
    E_METHOD_NOT_ALLOWED = "E_METHOD_NOT_ALLOWED"
    E_TOO_LATE = "E_TOO_LATE"
    E_CONFLICT = "E_CONFLICT"
    E_RATE_LIMITED = "E_RATE_LIMITED"
    E_PAYLOAD_TOO_LARGE = "E_PAYLOAD_TOO_LARGE"
    E_FORBIDDEN = "E_FORBIDDEN"
    E_PURPOSE_REQUIRED = "E_PURPOSE_REQUIRED"
    E_WORK_ITEM_MISMATCH = "E_WORK_ITEM_MISMATCH"
    E_UNAVAILABLE = "E_UNAVAILABLE"


DESCRIPTIONS: dict[ReasonCode, str] = {
    ReasonCode.E_LINE_UNKNOWN: "The number is not a line on the incumbent's network.",
    ReasonCode.E_LINE_NOT_ACTIVE: "The line exists but is ceased.",
    ReasonCode.E_LINE_NOT_ELIGIBLE: (
        "The line cannot take preselection: payphone, ISDN-PRA, or wholesale-rented (WLR)."
    ),
    ReasonCode.E_POSTCODE_MISMATCH: "The postcode in the order is not the line's postcode.",
    ReasonCode.E_NO_AGREEMENT: "The ordering operator has no active agreement.",
    ReasonCode.E_OPTION_NOT_OFFERED: "The preselection option is not offered.",
    ReasonCode.E_AUTHORISATION_MISSING: (
        "The order lacks the customer authorisation reference, date or channel."
    ),
    ReasonCode.E_AUTHORISATION_INVALID: (
        "The authorisation is signed in the future or is older than the allowed age."
    ),
    ReasonCode.E_OPEN_ORDER: "Another order on the line is already being processed.",
    ReasonCode.E_LINE_PRESELECTED: "PROVIDE on a line that already has preselection; use TRANSFER.",
    ReasonCode.E_NOT_PRESELECTED: "TRANSFER, MODIFY or CEASE on a line without preselection.",
    ReasonCode.E_NOT_SERVING: "MODIFY, CEASE or CANCEL_OTHER by an operator not serving the line.",
    ReasonCode.E_ALREADY_SERVING: "TRANSFER to the operator that already serves the line.",
    ReasonCode.E_SAME_OPTION: "MODIFY to the option the line already has.",
    ReasonCode.E_DATE_INVALID: "The requested date is in the past or not a working day.",
    ReasonCode.E_TARGET_NOT_FOUND: "CANCEL_OTHER names no pending order on this line.",
    ReasonCode.E_TARGET_NOT_CANCELLABLE: (
        "CANCEL_OTHER names an order that is not a pending TRANSFER, or is past its cut-off."
    ),
    ReasonCode.C_CANCELLED_BY_OPERATOR: "Cancelled by the operator that placed it.",
    ReasonCode.C_CANCELLED_BY_SERVING_OPERATOR: (
        "Cancelled by the serving operator on the customer's request (CANCEL_OTHER)."
    ),
    ReasonCode.E_AUTH: "Missing, unknown or revoked credential (HTTP 401).",
    ReasonCode.E_VALIDATION: "Malformed request: the `errors` member points at each field (422).",
    ReasonCode.E_NOT_FOUND: "No such resource visible to the caller (404).",
    ReasonCode.E_METHOD_NOT_ALLOWED: "The resource exists but not with this HTTP method (405).",
    ReasonCode.E_TOO_LATE: "The cancel cut-off has passed (409).",
    ReasonCode.E_CONFLICT: (
        "The request conflicts with the current state, or an Idempotency-Key is reused "
        "with another body (409)."
    ),
    ReasonCode.E_RATE_LIMITED: "Too many requests; retry after the `Retry-After` seconds (429).",
    ReasonCode.E_PAYLOAD_TOO_LARGE: "The request body exceeds the size limit (413).",
    ReasonCode.E_FORBIDDEN: "The wall denied the access (403); the denial is in the ledger.",
    ReasonCode.E_PURPOSE_REQUIRED: (
        "A staff request without `X-Forvalg-Purpose` or `X-Forvalg-Work-Item` (403); ledgered."
    ),
    ReasonCode.E_WORK_ITEM_MISMATCH: (
        "The work item named is unknown, closed, or does not cover the data touched (403); "
        "ledgered."
    ),
    ReasonCode.E_UNAVAILABLE: (
        "The database cannot be reached just now: repeat the same request after "
        "`Retry-After` seconds (503)."
    ),
}
