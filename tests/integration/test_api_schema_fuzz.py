"""Schemathesis against /openapi.json, on SQLite and on PostgreSQL: every operation with
generated valid and invalid requests, and stateful runs through the spec's OpenAPI links
(an order placed, then read, cancelled, listed; a work item opened, read, closed). Each
request goes as the principal the route is for (an operator's API key, a staff user's
token, a subscriber's session). Every answer must not be a 5xx, must conform to the spec
(status code documented, content type, headers, body), and a problem+json body must carry
a reason code (`code`, `type` urn:forvalg:problem:<code>, `status` the answer's).

FORVALG_FUZZ_EXAMPLES sets the examples per operation and mode (default 6) and the
stateful scenarios (the same); docs/FUZZING.md records a longer run.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import FlakyStrategyDefinition
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi import checks as openapi_checks

from forvalg.api.app import create_app
from forvalg.api.problems import MEDIA_TYPE
from forvalg.domain.reasons import ReasonCode
from forvalg.store import tables

from .world import AUTH, Operator, World, problem, provide

EXAMPLES = int(os.environ.get("FORVALG_FUZZ_EXAMPLES", "6"))
CHECKS = [
    not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.response_schema_conformance,
]
SUBSCRIBER_LINE = "22334466"
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,  # the same requests on every run of the suite
    suppress_health_check=list(HealthCheck),
)


def check_problem(response: httpx.Response | Any) -> None:
    """An RFC 9457 answer names a reason code from REASON-CODES.md."""
    media = response.headers.get("content-type") or ""
    if isinstance(media, list):  # schemathesis's response: every value of the header
        media = media[0] if media else ""
    if not media.startswith(MEDIA_TYPE):
        assert response.status_code < 400, (response.status_code, response.headers)
        return
    body = response.json()
    assert body["code"] in ReasonCode.__members__, body
    assert body["type"] == f"urn:forvalg:problem:{body['code']}", body
    assert body["status"] == response.status_code, body
    assert body["title"], body


@dataclass
class Fuzz:
    """The app under test and whose credential each operation is called with."""

    app: FastAPI
    tokens: dict[str, str]
    statuses: Counter[int] = field(default_factory=Counter)

    def credential(self, path: str, tag: str) -> str | None:
        if path in ("/v1/subscriber/codes", "/v1/subscriber/sessions"):
            return None  # public: a code, not a credential
        if path.startswith(("/v1/compliance/", "/v1/staff/incidents")):
            return self.tokens["compliance_officer"]
        by_tag = {
            "orders": "operator",
            "lines": "operator",
            "events": "operator",
            "statements": "operator",
            "ledger": "regulator",
            "inquiries": "regulator",
            "retail": "retail_sales",
            "subscriber": "subscriber",
            "staff": "wholesale_ops",
        }
        return self.tokens[by_tag[tag]]

    def sign(self, case: Case) -> None:
        tags = case.operation.definition.raw.get("tags") or [""]
        token = self.credential(case.operation.path, tags[0])
        headers = dict(case.headers or {})
        headers.pop("Authorization", None)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        case.headers = headers

    def validate(self, case: Case, response: Any) -> None:
        self.statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKS)
        check_problem(response)


def _subscriber_token(world: World, client: Any) -> str:
    sent = client.post("/v1/subscriber/codes", json={"number": SUBSCRIBER_LINE, "channel": "sms"})
    assert sent.status_code == 202, sent.text
    messages = world.rows(
        tables.subscriber_messages, tables.subscriber_messages.c.number == SUBSCRIBER_LINE
    )
    code = re.search(r"\bis ([0-9]{8})\.", messages[-1]["body"])
    assert code, messages[-1]["body"]
    opened = client.post(
        "/v1/subscriber/sessions", json={"number": SUBSCRIBER_LINE, "code": code.group(1)}
    )
    assert opened.status_code == 201, opened.text
    token: str = opened.json()["token"]
    return token


@pytest.fixture
def fuzz(world: World, alpha: Operator) -> Fuzz:
    """The API with its rate limits' clock running a second a call, so that the fuzzing's
    failed sign-ins and public calls never exhaust the client's budget (429 is documented
    everywhere and would hide every other answer)."""
    ticks = itertools.count()
    app = create_app(world.services, monotonic=lambda: float(next(ticks)))
    world.app = app  # the clients the world makes from here on talk to this app
    alpha.order(provide("22334455"))  # something to list, read and take
    world.process()
    tokens = {"operator": alpha.token}
    for role in ("regulator", "compliance_officer", "wholesale_ops", "retail_sales"):
        user = world.services.users.add(f"fuzzing {role}", role)
        tokens[role] = user.token
    tokens["subscriber"] = _subscriber_token(world, world.client())
    return Fuzz(app, tokens)


def test_the_spec_documents_problems_throttling_and_links(fuzz: Fuzz, world: World) -> None:
    spec = world.client().get("/openapi.json").json()
    operations = {
        operation["operationId"]: (path, operation)
        for path, item in spec["paths"].items()
        for operation in item.values()
    }
    links = 0
    for path, operation in operations.values():
        assert {"429", "503"} <= operation["responses"].keys(), path
        if "requestBody" in operation:
            assert "413" in operation["responses"], path
        for status, response in operation["responses"].items():
            media = set(response.get("content", {}))
            if status.startswith(("4", "5")):
                assert media == {MEDIA_TYPE}, (path, status, media)
            for link in response.get("links", {}).values():
                assert link["operationId"] in operations, link
                links += 1
    assert links >= 7
    placing = operations["place_order_v1_orders_post"][1]
    key = next(p for p in placing["parameters"] if p["name"] == "Idempotency-Key")
    assert key["required"] is True  # the server refuses an order without one


def test_a_body_that_is_not_utf8_is_a_malformed_request_not_400(
    fuzz: Fuzz, alpha: Operator
) -> None:
    response = alpha.client.post(
        "/v1/orders",
        content=b"\x9c\xff{",
        headers={"Idempotency-Key": "k1", "Content-Type": "application/json"},
    )
    body = problem(response, 422, "E_VALIDATION")
    assert body["errors"] == [{"pointer": "", "reason": "the body is not JSON text in UTF-8"}]


def test_a_nul_character_in_a_body_is_a_malformed_request_not_a_500(
    fuzz: Fuzz, world: World, alpha: Operator
) -> None:
    body = provide("22334477") | {"authorisation": {**AUTH, "reference": "LOA\x00"}}
    response = alpha.place(body)
    found = problem(response, 422, "E_VALIDATION")
    assert found["errors"][0]["pointer"] == "/authorisation/reference"
    assert world.count(tables.orders) == 1  # the fixture's order only


def test_a_nul_character_in_the_query_is_a_malformed_request_not_a_500(
    fuzz: Fuzz, world: World
) -> None:
    officer = world.client(fuzz.tokens["compliance_officer"])
    response = officer.get("/v1/compliance/access-log?role=%00")
    problem(response, 422, "E_VALIDATION")


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_as_documented(fuzz: Fuzz, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 32
    failures: dict[str, str] = {}
    for operation in operations:

        @SETTINGS
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case: Case) -> None:
            fuzz.sign(case)
            fuzz.validate(case, case.call())

        try:
            run()
        except BaseException as exc:  # schemathesis raises an exception group
            if isinstance(exc, KeyboardInterrupt):
                raise
            failures[operation.label] = str(exc)[:3000]
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
    print(f"{mode.value}: {len(operations)} operations, {sum(fuzz.statuses.values())} calls")
    print(f"{mode.value}: by status {dict(sorted(fuzz.statuses.items()))}")
    assert sum(fuzz.statuses.values()) >= len(operations) * min(EXAMPLES, 2)
    assert not any(status >= 500 for status in fuzz.statuses), fuzz.statuses
    assert 429 not in fuzz.statuses  # the limits' clock runs: the answers are the routes'


def test_stateful_runs_through_the_links(fuzz: Fuzz) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz.app)
    base = schema.as_state_machine()
    seen: Counter[str] = Counter()
    failures: list[str] = []
    sign: Callable[[Case], None] = fuzz.sign

    class Machine(base):  # type: ignore[misc, valid-type]
        def before_call(self, case: Case) -> None:
            sign(case)

        def validate_response(self, response: Any, case: Case, **kwargs: Any) -> None:
            seen[case.operation.label] += 1
            try:
                fuzz.validate(case, response)
            except BaseException as exc:
                failures.append(f"{case.operation.label}: {exc}"[:3000])
                raise

    # The scenarios share one database: a sequence that hypothesis generates again meets
    # another state (an order already placed, cancelled) and other answers, so other links
    # open, which hypothesis takes for a flaky strategy and stops. Every answer up to then
    # was checked, and any failure is recorded in `failures` whatever hypothesis does.
    with contextlib.suppress(FlakyStrategyDefinition):
        Machine.run(
            settings=settings(
                phases=[Phase.generate],
                max_examples=EXAMPLES,
                stateful_step_count=6,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
        )
    print(f"stateful: {sum(seen.values())} calls {dict(seen.most_common())}")
    print(f"stateful: by status {dict(sorted(fuzz.statuses.items()))}")
    assert not failures, "\n\n".join(failures)
    assert seen["POST /v1/orders"] > 0
    linked = {"GET /v1/orders/{order_id}", "POST /v1/orders/{order_id}/cancel", "GET /v1/orders"}
    assert linked & set(seen), seen
    assert not any(status >= 500 for status in fuzz.statuses), fuzz.statuses
