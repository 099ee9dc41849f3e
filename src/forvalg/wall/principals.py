"""Who is asking and why."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

INCUMBENT_WHOLESALE = "incumbent:wholesale"
INCUMBENT_COMPLIANCE = "incumbent:compliance"
REGULATOR = "regulator"


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


class StaffRole(StrEnum):
    """Staff roles that exist so far; the wall issue adds the incumbent's other units."""

    COMPLIANCE_OFFICER = "compliance_officer"
    REGULATOR = "regulator"

    @property
    def organisation(self) -> str:
        return REGULATOR if self is StaffRole.REGULATOR else INCUMBENT_COMPLIANCE

    @property
    def purpose(self) -> Purpose:
        """What this role reads the ledger for."""
        if self is StaffRole.REGULATOR:
            return Purpose.REGULATORY_INSPECTION
        return Purpose.COMPLIANCE_AUDIT


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


def staff_principal(user_id: str, role: StaffRole) -> Principal:
    return Principal(f"user:{user_id}", PrincipalKind.STAFF, role.organisation, frozenset({role}))


def system_job(name: str, role: str) -> Principal:
    return Principal(f"system:{name}", PrincipalKind.SYSTEM, INCUMBENT_WHOLESALE, frozenset({role}))


ANONYMOUS = Principal("anonymous", PrincipalKind.ANONYMOUS, "unknown", frozenset())
ORDER_PROCESSOR = system_job("order-processor", "order_processor")
WHOLESALE_ADMIN = system_job("wholesale-admin", "wholesale_admin")
USER_ADMIN = system_job("user-admin", "user_admin")
REPORTER = Principal(
    "system:reporter",
    PrincipalKind.SYSTEM,
    INCUMBENT_COMPLIANCE,
    frozenset({"compliance_reporter"}),
)
# `forvalg ledger checkpoint | export | prove`, run by compliance on the server.
LEDGER_CLERK = Principal(
    "system:ledger-cli", PrincipalKind.SYSTEM, INCUMBENT_COMPLIANCE, frozenset({"ledger_clerk"})
)
