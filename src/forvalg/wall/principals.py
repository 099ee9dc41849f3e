"""Who is asking and why."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from forvalg.store.zones import Zone

INCUMBENT_WHOLESALE = "incumbent:wholesale"
INCUMBENT_COMPLIANCE = "incumbent:compliance"
REGULATOR = "regulator"


class PrincipalKind(StrEnum):
    OPERATOR = "operator"
    STAFF = "staff"
    SYSTEM = "system"
    SUBSCRIBER = "subscriber"
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
    CRM_SYNC = "crm_sync"  # retail writing its CRM's contacts for compliance


class StaffRole(StrEnum):
    """The staff roles of DOMAIN.md's actors. Retail roles may write their CRM's contacts
    (purpose `crm_sync`) and are refused everything else."""

    WHOLESALE_OPS = "wholesale_ops"
    NETWORK_PROVISIONING = "network_provisioning"
    WHOLESALE_BILLING = "wholesale_billing"
    RETAIL_SALES = "retail_sales"
    RETAIL_MARKETING = "retail_marketing"
    RETAIL_CUSTOMER_SERVICE = "retail_customer_service"
    COMPLIANCE_OFFICER = "compliance_officer"
    REGULATOR = "regulator"

    @property
    def organisation(self) -> str:
        """The unit the user belongs to, as the ledger names it."""
        return _ORGANISATIONS[self]


_ORGANISATIONS = {
    StaffRole.WHOLESALE_OPS: INCUMBENT_WHOLESALE,
    StaffRole.NETWORK_PROVISIONING: "incumbent:network",
    StaffRole.WHOLESALE_BILLING: "incumbent:billing",
    StaffRole.RETAIL_SALES: "incumbent:retail",
    StaffRole.RETAIL_MARKETING: "incumbent:retail",
    StaffRole.RETAIL_CUSTOMER_SERVICE: "incumbent:retail",
    StaffRole.COMPLIANCE_OFFICER: INCUMBENT_COMPLIANCE,
    StaffRole.REGULATOR: REGULATOR,
}


# The database zone each role works in (PostgreSQL; store/zones.py). A unit of work
# enters its principal's zone before it touches a table, so a wrong query in the code
# finds only what that zone may see.
_ZONES = {
    "cps_operator": Zone.API,
    StaffRole.WHOLESALE_OPS: Zone.WHOLESALE,
    StaffRole.NETWORK_PROVISIONING: Zone.WHOLESALE,
    "order_processor": Zone.WHOLESALE,
    "routing_exporter": Zone.WHOLESALE,
    "wholesale_admin": Zone.WHOLESALE,
    StaffRole.WHOLESALE_BILLING: Zone.BILLING,
    "traffic_rater": Zone.BILLING,
    "settlement_run": Zone.BILLING,
    StaffRole.RETAIL_SALES: Zone.RETAIL,
    StaffRole.RETAIL_MARKETING: Zone.RETAIL,
    StaffRole.RETAIL_CUSTOMER_SERVICE: Zone.RETAIL,
    "crm_sync": Zone.RETAIL,
    StaffRole.COMPLIANCE_OFFICER: Zone.COMPLIANCE,
    "compliance_detector": Zone.COMPLIANCE,
    "canary_keeper": Zone.COMPLIANCE,
    "incident_clerk": Zone.COMPLIANCE,
    "inquiry_clerk": Zone.COMPLIANCE,
    "subscriber": Zone.COMPLIANCE,
    "subscriber_desk": Zone.COMPLIANCE,
    "compliance_reporter": Zone.COMPLIANCE,
    "ledger_clerk": Zone.COMPLIANCE,
    "user_admin": Zone.COMPLIANCE,
    StaffRole.REGULATOR: Zone.REGULATOR,
}


@dataclass(frozen=True, slots=True)
class Statement:
    """What a request states about itself (headers `X-Forvalg-Purpose`,
    `X-Forvalg-Work-Item`, `X-Forvalg-Break-Glass`). Staff and subscribers must state a
    purpose and a work item; operators and system jobs act for the service's purpose."""

    purpose: Purpose | None = None
    work_item: str | None = None
    break_glass: str | None = None  # a written justification


UNSTATED = Statement()


@dataclass(frozen=True, slots=True)
class Principal:
    id: str
    kind: PrincipalKind
    organisation: str
    roles: frozenset[str]


def zone_of(principal: Principal) -> Zone:
    """The zone of the principal's role; a principal with no known role (or roles of two
    zones) gets retail's, which reads nothing. Asked at every decision, hence cached."""
    return _zone_of_roles(principal.roles)


@lru_cache(maxsize=64)
def _zone_of_roles(roles: frozenset[str]) -> Zone:
    found = {_ZONES[r] for r in roles if r in _ZONES}
    return found.pop() if len(found) == 1 else Zone.RETAIL


def operator_principal(operator_id: str) -> Principal:
    return Principal(
        f"operator:{operator_id}", PrincipalKind.OPERATOR, operator_id, frozenset({"cps_operator"})
    )


def staff_principal(user_id: str, role: StaffRole) -> Principal:
    return Principal(f"user:{user_id}", PrincipalKind.STAFF, role.organisation, frozenset({role}))


def system_job(name: str, role: str) -> Principal:
    return Principal(f"system:{name}", PrincipalKind.SYSTEM, INCUMBENT_WHOLESALE, frozenset({role}))


SUBSCRIBER_ROLE = "subscriber"
SUBSCRIBER_PREFIX = "subscriber:"


def subscriber_principal(request_id: str) -> Principal:
    """A subscriber who proved control of a line: named by the subscriber request (a work
    item naming the line) their session serves, never by the number."""
    return Principal(
        SUBSCRIBER_PREFIX + request_id,
        PrincipalKind.SUBSCRIBER,
        "subscriber",
        frozenset({SUBSCRIBER_ROLE}),
    )


def subscriber_statement(principal: Principal) -> Statement:
    """A subscriber always acts for their own request."""
    return Statement(Purpose.SUBSCRIBER_REQUEST, principal.id.removeprefix(SUBSCRIBER_PREFIX))


ANONYMOUS = Principal("anonymous", PrincipalKind.ANONYMOUS, "unknown", frozenset())
ORDER_PROCESSOR = system_job("order-processor", "order_processor")
WHOLESALE_ADMIN = system_job("wholesale-admin", "wholesale_admin")
# `forvalg routing export`: the routing table for the exchanges (docs/ROUTING.md).
ROUTING_EXPORTER = system_job("routing-exporter", "routing_exporter")
USER_ADMIN = system_job("user-admin", "user_admin")
REPORTER = Principal(
    "system:reporter",
    PrincipalKind.SYSTEM,
    INCUMBENT_COMPLIANCE,
    frozenset({"compliance_reporter"}),
)
# Sends subscribers their one-time codes and opens their requests.
SUBSCRIBER_DESK = Principal(
    "system:subscriber-desk",
    PrincipalKind.SYSTEM,
    INCUMBENT_COMPLIANCE,
    frozenset({"subscriber_desk"}),
)
# `forvalg traffic rate`: one settlement access per rating run.
RATER = Principal(
    "system:traffic-rater", PrincipalKind.SYSTEM, "incumbent:billing", frozenset({"traffic_rater"})
)
# `forvalg ledger checkpoint | export | prove`, run by compliance on the server.
LEDGER_CLERK = Principal(
    "system:ledger-cli", PrincipalKind.SYSTEM, INCUMBENT_COMPLIANCE, frozenset({"ledger_clerk"})
)
# `forvalg settle`: one settlement run per period, in the billing zone.
SETTLEMENT_JOB = Principal(
    "system:settlement", PrincipalKind.SYSTEM, "incumbent:billing", frozenset({"settlement_run"})
)
# `forvalg contacts import`: the retail CRM's contacts, written into the compliance zone.
CRM_SYNC = Principal(
    "system:crm-sync", PrincipalKind.SYSTEM, "incumbent:retail", frozenset({"crm_sync"})
)
# `forvalg canary add`: creates honey-lines and their decoy orders (docs/DETECTION.md).
CANARY_KEEPER = Principal(
    "system:canary-keeper",
    PrincipalKind.SYSTEM,
    INCUMBENT_COMPLIANCE,
    frozenset({"canary_keeper"}),
)
# The detectors (`forvalg detect`): one read of each input per run, and the incidents
# opened or updated from the run's findings (docs/INCIDENTS.md).
DETECTOR = Principal(
    "system:detector",
    PrincipalKind.SYSTEM,
    INCUMBENT_COMPLIANCE,
    frozenset({"compliance_detector"}),
)
# `forvalg incidents ...`, run by compliance on the server: lists, shows and moves
# incidents, naming in the history the person who stated they made the move (--by).
INCIDENT_CLERK = Principal(
    "system:incident-cli",
    PrincipalKind.SYSTEM,
    INCUMBENT_COMPLIANCE,
    frozenset({"incident_clerk"}),
)
# `forvalg inquiries ...`, run by compliance on the server: lists inquiries, answers them
# with evidence bundles (reading the ledger under the inquiry), and records the ones the
# regulator sends by letter, naming in the ledger the person it acts for (--by).
INQUIRY_CLERK = Principal(
    "system:inquiry-cli",
    PrincipalKind.SYSTEM,
    INCUMBENT_COMPLIANCE,
    frozenset({"inquiry_clerk"}),
)
