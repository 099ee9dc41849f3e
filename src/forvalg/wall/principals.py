"""Who is asking and why."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

INCUMBENT_WHOLESALE = "incumbent:wholesale"


class PrincipalKind(StrEnum):
    OPERATOR = "operator"
    STAFF = "staff"
    SYSTEM = "system"
    ANONYMOUS = "anonymous"


class Purpose(StrEnum):
    ORDER_MANAGEMENT = "order_management"  # a CPS operator managing its own orders
    PROVISIONING = "provisioning"
    FAULT_REPAIR = "fault_repair"
    SETTLEMENT = "settlement"
    COMPLIANCE_AUDIT = "compliance_audit"
    REGULATORY_INSPECTION = "regulatory_inspection"
    SUBSCRIBER_REQUEST = "subscriber_request"
    ADMINISTRATION = "administration"
    MARKETING = "marketing"
    SALES = "sales"


@dataclass(frozen=True, slots=True)
class Principal:
    id: str
    kind: PrincipalKind
    organisation: str
    roles: frozenset[str]


def operator_principal(operator_id: str) -> Principal:
    return Principal(
        f"operator:{operator_id}", PrincipalKind.OPERATOR, operator_id, frozenset({"cps_operator"})
    )


def system_job(name: str, role: str) -> Principal:
    return Principal(f"system:{name}", PrincipalKind.SYSTEM, INCUMBENT_WHOLESALE, frozenset({role}))


ANONYMOUS = Principal("anonymous", PrincipalKind.ANONYMOUS, "unknown", frozenset())
ORDER_PROCESSOR = system_job("order-processor", "order_processor")
WHOLESALE_ADMIN = system_job("wholesale-admin", "wholesale_admin")
REPORTER = Principal(
    "system:reporter",
    PrincipalKind.SYSTEM,
    "incumbent:compliance",
    frozenset({"compliance_reporter"}),
)
