"""/v1/log over HTTP: the regulator and compliance read checkpoints, the key, entries and
proofs, and verify them with the ledger's own checks; operators are refused, and the
refusal is in the ledger; no entry names a subscriber by number."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from forvalg.ledger.merkle import ProofError, leaf_hash, verify_consistency, verify_inclusion
from forvalg.ledger.note import Checkpoint, Verifier
from forvalg.store import ledger as ledger_store
from forvalg.store.ledger import Sequencer
from forvalg.wall.pseudonyms import Pseudonymiser

from ..conftest import LEDGER_SIGNER, PSEUDONYM_KEY
from .world import LINES, UNKNOWN_NUMBER, Operator, TestClient, World, problem, provide, transfer

PURPOSES = {"regulator": "regulatory_inspection", "compliance_officer": "compliance_audit"}
ROLES = list(PURPOSES)


@dataclass
class Staff:
    user_id: str
    role: str
    client: TestClient

    @property
    def principal(self) -> str:
        return f"user:{self.user_id}"

    def checkpoint(self) -> Checkpoint:
        response = self.client.get("/v1/log/checkpoint")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/plain"), response.headers
        return Checkpoint.open(response.text, LEDGER_SIGNER.verifier, "forvalg.local/ledger")

    def json(self, path: str, **params: Any) -> dict[str, Any]:
        response = self.client.get(path, params=params)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json", response.headers
        found: dict[str, Any] = response.json()
        return found

    def entries(self, start: int, end: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.json("/v1/log/entries", start=start, end=end)["entries"]
        return found

    def inclusion(self, index: int, size: int) -> dict[str, Any]:
        return self.json("/v1/log/proof/inclusion", index=index, size=size)

    def consistency(self, old: int, new: int) -> dict[str, Any]:
        return self.json("/v1/log/proof/consistency", **{"from": old, "to": new})


def _staff(world: World, role: str, name: str = "Nkom tilsyn") -> Staff:
    """A regulator or compliance user who has opened an audit and states it, with the
    purpose, on every request."""
    user = world.services.users.add(name, role)
    client = world.client(user.token)
    stated = {"X-Forvalg-Purpose": PURPOSES[role]}
    audit = {"kind": "audit", "summary": "reading the ledger"}
    opened = client.post("/v1/work-items", json=audit, headers=stated)
    assert opened.status_code == 201, opened.text
    client.headers.update(stated | {"X-Forvalg-Work-Item": opened.json()["id"]})
    return Staff(user.user_id, role, client)


@pytest.fixture(params=ROLES)
def staff(world: World, request: pytest.FixtureRequest) -> Staff:
    return _staff(world, request.param)


@pytest.fixture
def regulator(world: World) -> Staff:
    return _staff(world, "regulator", "Nkom")


def _canonical(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _hashes(proof: dict[str, Any]) -> list[bytes]:
    return [base64.b64decode(h, validate=True) for h in proof["hashes"]]


def _stored_entries(world: World, end: int) -> list[str]:
    with world.engine.connect() as connection:
        return ledger_store.entries(connection, start=0, end=end)


def _busy(world: World, alpha: Operator, beta: Operator) -> dict[str, Any]:
    """Some order traffic for the ledger to record; alpha's order."""
    order = alpha.order(provide("22334455"))
    beta.order(provide(UNKNOWN_NUMBER))
    world.process()
    alpha.get(order["id"])
    alpha.list_orders(number="22334455")
    beta.eligibility("22334466")
    beta.order(transfer("22334466"))
    return order


# Reading the log.


def test_staff_can_read_all_five_endpoints(world: World, alpha: Operator, staff: Staff) -> None:
    alpha.order(provide("22334455"))
    checkpoint = staff.checkpoint()
    n = checkpoint.size

    key = staff.client.get("/v1/log/key")
    entries = staff.entries(0, n)
    inclusion = staff.inclusion(n - 1, n)
    consistency = staff.consistency(1, n)

    assert key.status_code == 200, key.text
    assert key.headers["content-type"].startswith("text/plain")
    assert key.text.strip() == str(LEDGER_SIGNER.verifier)
    assert Verifier.parse(key.text) == LEDGER_SIGNER.verifier
    assert len(entries) == n
    assert (inclusion["index"], inclusion["size"]) == (n - 1, n)
    assert (consistency["from"], consistency["to"]) == (1, n)
    # Each read is an allowed decision by this user, in the ledger itself: the entries are
    # ledger.access, the checkpoint, key and proofs (hashes only) ledger.proof.
    reads = [
        e
        for e in world.access_log()
        if e["principal"] == staff.principal and e["resource"].startswith("ledger.")
    ]
    assert [e["resource"] for e in reads] == ["ledger.proof"] * 2 + ["ledger.access"] + [
        "ledger.proof"
    ] * 2
    assert {(e["decision"], e["action"]) for e in reads} == {("allow", "read")}
    assert {e["purpose"] for e in reads} == {PURPOSES[staff.role]}
    assert {tuple(e["roles"]) for e in reads} == {(staff.role,)}


def test_checkpoint_covers_the_requests_own_entry(
    world: World, alpha: Operator, staff: Staff
) -> None:
    alpha.order(provide("22334455"))

    checkpoint = staff.checkpoint()

    with world.engine.connect() as connection:
        head = ledger_store.head(connection)
        assert ledger_store.pending(connection) == 0
    assert (checkpoint.size, checkpoint.root) == (head.size, head.root)
    last = json.loads(_stored_entries(world, checkpoint.size)[-1])
    assert last["index"] == checkpoint.size - 1
    event = last["event"]
    assert event["principal"] == staff.principal
    assert event["resource"] == "ledger.proof"
    assert event["decision"] == "allow"

    # The next read is in the next checkpoint, and the one after that covers it too.
    again = staff.checkpoint()
    assert again.size == checkpoint.size + 1


def test_entries_hash_to_the_leaves_the_proofs_name(
    world: World, alpha: Operator, beta: Operator, staff: Staff
) -> None:
    _busy(world, alpha, beta)
    checkpoint = staff.checkpoint()
    n = checkpoint.size
    assert n > 10

    entries = staff.entries(0, n)

    assert len(entries) == n
    stored = _stored_entries(world, n)
    prev = bytes(32)
    for index, entry in enumerate(entries):
        data = _canonical(entry)
        assert data.decode() == stored[index], index
        assert entry["index"] == index
        assert entry["prev"] == prev.hex()
        prev = leaf_hash(data)
        proof = staff.inclusion(index, n)
        assert base64.b64decode(proof["leaf_hash"]) == leaf_hash(data), index
        verify_inclusion(leaf_hash(data), index, n, _hashes(proof), checkpoint.root)


def test_a_slice_of_entries_matches_the_whole(
    world: World, alpha: Operator, beta: Operator, regulator: Staff
) -> None:
    _busy(world, alpha, beta)
    n = regulator.checkpoint().size
    whole = regulator.entries(0, n)

    assert regulator.entries(3, 7) == whole[3:7]
    assert regulator.entries(n, n) == []
    assert regulator.entries(0, 0) == []


def test_proofs_verify_against_two_checkpoints(
    world: World, alpha: Operator, beta: Operator, staff: Staff
) -> None:
    alpha.order(provide("22334455"))
    first = staff.checkpoint()
    _busy(world, alpha, beta)
    second = staff.checkpoint()
    assert second.size > first.size + 5

    proof = staff.consistency(first.size, second.size)

    assert (proof["from"], proof["to"]) == (first.size, second.size)
    verify_consistency(first.size, second.size, first.root, second.root, _hashes(proof))
    # Both checkpoints' sizes, and sizes that were never a checkpoint, prove inclusion.
    entries = staff.entries(0, second.size)
    for index, size, root in [
        (0, first.size, first.root),
        (first.size - 1, first.size, first.root),
        (0, second.size, second.root),
        (first.size, second.size, second.root),
        (second.size - 1, second.size, second.root),
    ]:
        leaf = leaf_hash(_canonical(entries[index]))
        included = staff.inclusion(index, size)
        assert base64.b64decode(included["leaf_hash"]) == leaf
        verify_inclusion(leaf, index, size, _hashes(included), root)
    # A proof between equal sizes is empty, and a proof from a checkpoint to itself checks.
    same = staff.consistency(first.size, first.size)
    assert same["hashes"] == []
    verify_consistency(first.size, first.size, first.root, first.root, [])


def test_a_proof_from_another_size_does_not_verify(
    world: World, alpha: Operator, beta: Operator, regulator: Staff
) -> None:
    first = regulator.checkpoint()
    _busy(world, alpha, beta)
    second = regulator.checkpoint()
    proof = regulator.consistency(first.size + 1, second.size)

    with pytest.raises(ProofError):
        verify_consistency(first.size, second.size, first.root, second.root, _hashes(proof))


# Who may not.

LOG_PATHS = [
    "/v1/log/checkpoint",
    "/v1/log/key",
    "/v1/log/entries?start=0&end=1",
    "/v1/log/proof/inclusion?index=0&size=1",
    "/v1/log/proof/consistency?from=0&to=1",
]


@pytest.mark.parametrize("path", LOG_PATHS)
def test_an_operator_is_refused_and_the_refusal_is_logged(
    world: World, alpha: Operator, path: str
) -> None:
    alpha.order(provide("22334455"))
    world.services.keeper.integrate()
    before = world.last_log_seq()

    response = alpha.client.get(path)

    problem(response, 403, "E_FORBIDDEN")
    assert "forvalg.local" not in response.text
    [event] = world.access_log(before)
    assert event["principal"] == "operator:alfatel"
    assert event["organisation"] == "alfatel"
    entries = path.startswith("/v1/log/entries")
    assert event["resource"] == ("ledger.access" if entries else "ledger.proof")
    assert event["action"] == "read"
    assert event["decision"] == "deny"
    assert event["reason"]
    # The denial reaches the tree too.
    world.services.keeper.integrate()
    last = json.loads(_stored_entries(world, world.last_log_seq())[-1])["event"]
    assert last == event


@pytest.mark.parametrize("path", LOG_PATHS)
def test_no_token_is_refused_with_e_auth(world: World, path: str) -> None:
    before = world.last_log_seq()

    response = world.client().get(path)

    problem(response, 401, "E_AUTH")
    [event] = world.access_log(before)
    assert (event["principal"], event["decision"]) == ("anonymous", "deny")


def test_a_revoked_or_made_up_staff_token_is_refused(world: World, regulator: Staff) -> None:
    response = world.client("fvu_u000000000000_notarealtoken").get("/v1/log/checkpoint")
    problem(response, 401, "E_AUTH")


def _names(body: dict[str, Any]) -> set[str]:
    errors = body.get("errors")
    assert isinstance(errors, list), body
    assert errors, body
    return {e.get("parameter") for e in errors}


@pytest.mark.parametrize(
    ("path", "parameters"),
    [
        ("/v1/log/proof/inclusion?index=0&size={beyond}", {"size"}),
        ("/v1/log/proof/inclusion?index={n}&size={n}", {"index"}),
        ("/v1/log/proof/inclusion?index={beyond}&size={n}", {"index"}),
        ("/v1/log/proof/inclusion?index=0&size=0", {"index"}),
        # Both are out of range here; either may be named.
        ("/v1/log/proof/inclusion?index={beyond}&size={beyond}", {"index", "size"}),
        ("/v1/log/proof/consistency?from=1&to={beyond}", {"to"}),
        ("/v1/log/proof/consistency?from={beyond}&to={beyond}", {"to"}),
        ("/v1/log/proof/consistency?from={n}&to=1", {"from"}),
        ("/v1/log/proof/consistency?from={far}&to={beyond}", {"from", "to"}),
        ("/v1/log/entries?start=0&end={beyond}", {"end"}),
        ("/v1/log/entries?start=2&end=1", {"end"}),
    ],
)
def test_beyond_the_tree_is_a_validation_problem_naming_the_parameter(
    world: World, alpha: Operator, regulator: Staff, path: str, parameters: set[str]
) -> None:
    alpha.order(provide("22334455"))
    n = regulator.checkpoint().size

    response = regulator.client.get(path.format(n=n, beyond=n + 50, far=n + 90))

    body = problem(response, 422, "E_VALIDATION")
    assert _names(body) & parameters, body.get("errors")


@pytest.mark.parametrize(
    "params",
    [
        {"start": 0, "end": 1001},
        {"start": 5, "end": 1006},
        {"start": 0, "end": 5000},
    ],
)
def test_more_than_a_thousand_entries_at_once_is_refused(
    regulator: Staff, params: dict[str, int]
) -> None:
    response = regulator.client.get("/v1/log/entries", params=params)
    body = problem(response, 422, "E_VALIDATION")
    assert "end" in _names(body)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/log/entries?start=-1&end=1",
        "/v1/log/entries?start=0",
        "/v1/log/proof/inclusion?index=x&size=1",
        "/v1/log/proof/consistency?from=0",
        "/v1/log/proof/inclusion?index=0&size=72057594037927937",
    ],
)
def test_malformed_parameters_are_a_validation_problem(regulator: Staff, path: str) -> None:
    problem(regulator.client.get(path), 422, "E_VALIDATION")


def test_exactly_a_thousand_entries_at_once_is_allowed(world: World, regulator: Staff) -> None:
    synthetic = [b'{"synthetic":%d}' % i for i in range(1200)]
    Sequencer(world.engine).append(synthetic, at=world.clock.now())
    n = regulator.checkpoint().size
    assert n > 1200

    for start in (0, 1, n - 1000):
        found = regulator.entries(start, start + 1000)
        assert [e["index"] for e in found] == list(range(start, start + 1000))


def test_the_regulator_gets_no_order_data(
    world: World, alpha: Operator, beta: Operator, regulator: Staff
) -> None:
    order = _busy(world, alpha, beta)
    before = world.last_log_seq()

    answers = [
        regulator.client.get("/v1/orders"),
        regulator.client.get("/v1/orders", params={"number": "22334455"}),
        regulator.client.get(f"/v1/orders/{order['id']}"),
        regulator.client.get("/v1/events"),
        regulator.client.get("/v1/lines/22334455/eligibility"),
        regulator.client.post(
            "/v1/orders", json=provide("22334499"), headers={"Idempotency-Key": "reg-1"}
        ),
    ]

    for response in answers:
        _no_order_data(response, order)
    refusals = world.access_log(before)
    assert len(refusals) == len(answers)
    for event in refusals:
        assert event["principal"] == regulator.principal
        assert event["decision"] == "deny", event


def _no_order_data(response: httpx.Response, order: dict[str, Any]) -> None:
    assert response.status_code in (200, 403, 404), response.text
    if response.status_code == 403:
        problem(response, 403, "E_FORBIDDEN")
    if response.status_code == 200:
        body = response.json()
        assert body.get("items", []) == [], body
    assert order["id"] not in response.text
    for number in LINES:
        assert number not in response.text
    assert "alfatel" not in response.text
    assert "betanett" not in response.text


# No subscriber numbers in the ledger.


def test_no_entry_names_a_subscriber_number(
    world: World, alpha: Operator, beta: Operator, regulator: Staff
) -> None:
    order = _busy(world, alpha, beta)
    alpha.cancel(order["id"])
    world.process()
    n = regulator.checkpoint().size

    entries = regulator.entries(0, n)

    raw = json.dumps(entries)
    stored = "\n".join(_stored_entries(world, n))
    for number in [*LINES, UNKNOWN_NUMBER]:
        assert number not in raw, number
        assert number not in stored, number
    # The subscriber is named, by pseudonym only.
    pseudonym = Pseudonymiser(PSEUDONYM_KEY).pseudonym("22334455")
    named = [e for e in entries if pseudonym in e["event"]["subjects"]]
    assert named
    assert {e["event"]["principal"] for e in named} >= {"operator:alfatel"}
