"""The new-order form read through the API's own schema (`api.schemas.OrderCreate`), so
the page accepts exactly what `POST /v1/orders` accepts; pydantic's errors are mapped back
to the form's fields to be shown next to them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import TypeAdapter, ValidationError

from forvalg.api.schemas import OrderCreate
from forvalg.domain.orders import OrderType

ORDER_CREATE: TypeAdapter[Any] = TypeAdapter(OrderCreate)

# The form's fields (name -> label); `auth_*` are the authorisation's members.
FIELDS = {
    "type": "Order type",
    "number": "Number",
    "postcode": "Postcode",
    "option": "Option",
    "auth_reference": "Authorisation reference",
    "auth_signed_at": "Signed on",
    "auth_channel": "Channel",
    "requested_date": "Requested date",
    "target_order": "Order to cancel",
    "reason": "Reason",
}
# What each type takes (the form shows all fields; the rest are ignored for the type).
TAKES = {
    OrderType.PROVIDE.value: {"number", "postcode", "option", "authorisation", "requested_date"},
    OrderType.TRANSFER.value: {"number", "postcode", "option", "authorisation", "requested_date"},
    OrderType.MODIFY.value: {"number", "postcode", "option", "authorisation", "requested_date"},
    OrderType.CEASE.value: {"number", "postcode", "authorisation", "requested_date"},
    OrderType.CANCEL_OTHER.value: {"number", "target_order", "reason"},
}


def order_body(form: Mapping[str, str]) -> dict[str, Any]:
    """The JSON body the form stands for: blank fields are absent, fields the type does
    not take are dropped."""
    values = {k: (form.get(k) or "").strip() for k in FIELDS}
    body: dict[str, Any] = {"type": values["type"]} if values["type"] else {}
    for name in ("number", "postcode", "option", "requested_date", "target_order", "reason"):
        if values[name]:
            body[name] = values[name]
    auth = {
        member: values[f"auth_{member}"]
        for member in ("reference", "signed_at", "channel")
        if values[f"auth_{member}"]
    }
    if auth:
        body["authorisation"] = auth
    takes = TAKES.get(values["type"])
    if takes is not None:
        body = {k: v for k, v in body.items() if k == "type" or k in takes}
    return body


def validate(body: dict[str, Any]) -> tuple[Any, dict[str, str]]:
    """(the OrderCreate, {}) or (None, {form field: reason})."""
    try:
        return ORDER_CREATE.validate_python(body), {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            errors.setdefault(_field(error), _reason(error))
        return None, errors


def _field(error: Mapping[str, Any]) -> str:
    loc = [str(p) for p in error.get("loc", ())]
    if error.get("type", "").startswith("union_tag") or not loc:
        return "type"
    if loc[0] in OrderType.__members__:
        loc = loc[1:]
    if not loc:
        return "type"
    if loc[0] == "authorisation":
        return f"auth_{loc[1]}" if len(loc) > 1 else "auth_reference"
    return loc[0] if loc[0] in FIELDS else "type"


def _reason(error: Mapping[str, Any]) -> str:
    kind = error.get("type", "")
    if kind in ("union_tag_not_found", "union_tag_invalid"):
        return "choose one of " + ", ".join(t.value for t in OrderType)
    if kind == "missing":
        return "required"
    if kind == "string_pattern_mismatch":
        return {
            "number": "an 8-digit number, like 22334455",
            "postcode": "a 4-digit postcode, like 0150",
        }.get(str(error.get("loc", ("",))[-1]), "not in the right form")
    return str(error.get("msg", "invalid"))
