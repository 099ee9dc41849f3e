"""A subscriber proves control of the line with a one-time code sent through the outbox,
then sees the line's status and every ledger entry that touched it, bulk decisions
included, each with an inclusion proof that verifies against the signed checkpoint."""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta
from typing import Any

import pytest

from forvalg.ledger.merkle import leaf_hash, verify_inclusion
from forvalg.ledger.note import Checkpoint
from forvalg.store import tables
from forvalg.wall.pseudonyms import NAMED_SUBJECTS, Pseudonymiser

from ..conftest import LEDGER_SIGNER, PSEUDONYM_KEY
from .world import UNKNOWN_NUMBER, Operator, TestClient, World, problem, provide

LINE = "22334455"
# Enough lines that one processing batch decides on more than NAMED_SUBJECTS of them.
MORE = {f"2450{i:04d}": ("0150", "PSTN", "ACTIVE") for i in range(NAMED_SUBJECTS + 5)}


def code_for(world: World, number: str) -> str:
    """The code in the last message to the line, as the subscriber reads it there."""
    messages = world.rows(tables.subscriber_messages, tables.subscriber_messages.c.number == number)
    assert messages, f"no message to {number}"
    found = re.search(r"\bis ([0-9]{8})\.", messages[-1]["body"])
    assert found, messages[-1]["body"]
    return found.group(1)


def session(world: World, number: str = LINE, channel: str = "letter") -> TestClient:
    anonymous = world.client()
    sent = anonymous.post("/v1/subscriber/codes", json={"number": number, "channel": channel})
    assert sent.status_code == 202, sent.text
    opened = anonymous.post(
        "/v1/subscriber/sessions", json={"number": number, "code": code_for(world, number)}
    )
    assert opened.status_code == 201, opened.text
    return world.client(opened.json()["token"])


@pytest.fixture
def preselected(world: World, alpha: Operator) -> dict[str, Any]:
    world.add_lines(MORE)
    for number in MORE:
        alpha.order(provide(number))
    return world.preselect(alpha, LINE)  # processed in the same batches as MORE


def test_the_code_goes_to_the_line_and_the_answer_reveals_nothing(world: World) -> None:
    anonymous = world.client()
    known = anonymous.post("/v1/subscriber/codes", json={"number": LINE, "channel": "sms"})
    unknown = anonymous.post("/v1/subscriber/codes", json={"number": UNKNOWN_NUMBER})

    assert (known.status_code, unknown.status_code) == (202, 202)
    assert known.json()["detail"].replace(LINE, "N").replace("sms", "C") == unknown.json()[
        "detail"
    ].replace(UNKNOWN_NUMBER, "N").replace("letter", "C")
    [message] = world.rows(tables.subscriber_messages)
    assert (message["number"], message["channel"]) == (LINE, "sms")
    assert "information only" in message["body"]
    assert "alfatel" not in message["body"]
    code = code_for(world, LINE)
    [stored] = world.rows(tables.subscriber_codes)
    assert code not in json.dumps(stored, default=str)
    assert world.count(tables.customer_letters) == 0


def test_the_subscriber_sees_the_lines_status_and_nothing_else(
    world: World, preselected: dict[str, Any]
) -> None:
    session(world, "22334466")  # a neighbour's request, which this subscriber must not use
    client = session(world)

    line = client.get("/v1/subscriber/line")

    assert line.status_code == 200, line.text
    assert line.json() | {"since": None} == {
        "number": LINE,
        "preselected": True,
        "operator_name": "Alfa Telecom AS",
        "option": "ALL",
        "since": None,
    }
    for path in ("/v1/orders", "/v1/log/checkpoint", "/v1/compliance/alerts"):
        assert client.get(path).status_code == 403, path
    # Whatever a subscriber states, the wall holds them to their own request and line.
    [other] = [
        r["work_item_id"] for r in world.rows(tables.work_item_lines) if r["number"] == "22334466"
    ]
    stolen = {"X-Forvalg-Purpose": "subscriber_request", "X-Forvalg-Work-Item": other}
    for path in ("/v1/log/checkpoint", "/v1/log/entries?start=0&end=3", f"/v1/work-items/{other}"):
        assert client.get(path, headers=stolen).status_code == 403, path
    assert client.get("/v1/staff/lines/22334466", headers=stolen).status_code == 403
    own = client.get(f"/v1/staff/lines/{LINE}", headers=stolen)  # the policy's status view
    assert own.status_code == 200
    assert own.json()["postcode"] is None


def test_every_entry_that_touched_the_line_with_a_proof_bulk_included(
    world: World, preselected: dict[str, Any]
) -> None:
    client = session(world)
    pseudonym = Pseudonymiser(PSEUDONYM_KEY).pseudonym(LINE)

    response = client.get("/v1/subscriber/accesses")

    assert response.status_code == 200, response.text
    body = response.json()
    checkpoint = Checkpoint.open(body["checkpoint"], LEDGER_SIGNER.verifier, "forvalg.local/ledger")
    assert checkpoint.size == body["size"]
    entries = body["entries"]
    for touch in entries:
        proof, entry = touch["proof"], touch["entry"]
        canonical = json.dumps(entry, sort_keys=True, separators=(",", ":")).encode()
        assert base64.b64decode(proof["leaf_hash"]) == leaf_hash(canonical)
        verify_inclusion(
            leaf_hash(canonical),
            touch["index"],
            checkpoint.size,
            [base64.b64decode(h) for h in proof["hashes"]],
            checkpoint.root,
        )
    events = [t["entry"]["event"] for t in entries]
    named = [e for e in events if pseudonym in e["subjects"]]
    bulk = [e for e in events if e["subject_count"] > NAMED_SUBJECTS]
    assert named
    assert bulk
    assert len(named) + len(bulk) == len(events)
    assert {e["principal"] for e in named} >= {"operator:alfatel"}
    # The inventory import and the processor's batches decided on many lines at once.
    assert {e["principal"] for e in bulk} == {"system:wholesale-admin", "system:order-processor"}
    # The import of MORE was a bulk decision too, but not about this line.
    assert not [e for e in bulk if e["subject_count"] == len(MORE)]
    assert [e for e in world.access_log() if e["subject_count"] == len(MORE)]
    # Ground truth: every entry of the whole log that touched the line is there.
    everything = [
        (i, e)
        for i, e in enumerate(world.access_log())
        if i < checkpoint.size
        and (pseudonym in e["subjects"] or e["subject_count"] > NAMED_SUBJECTS)
    ]
    named_truth = [i for i, e in everything if pseudonym in e["subjects"]]
    assert [t["index"] for t in entries if pseudonym in t["entry"]["event"]["subjects"]] == (
        named_truth
    )
    assert LINE not in response.text


def test_a_wrong_code_is_refused_ledgered_and_spends_the_code(world: World) -> None:
    anonymous = world.client()
    anonymous.post("/v1/subscriber/codes", json={"number": LINE})
    right = code_for(world, LINE)
    wrong = f"{(int(right) + 1) % 10**8:08d}"
    before = world.last_log_seq()

    for _ in range(5):
        refused = anonymous.post("/v1/subscriber/sessions", json={"number": LINE, "code": wrong})
        problem(refused, 401, "E_AUTH")
    spent = anonymous.post("/v1/subscriber/sessions", json={"number": LINE, "code": right})

    problem(spent, 401, "E_AUTH")
    denials = [e for e in world.access_log(before) if e["action"] == "authenticate"]
    assert len(denials) == 6
    assert {e["subjects"][0] for e in denials} == {Pseudonymiser(PSEUDONYM_KEY).pseudonym(LINE)}


def test_a_session_ends_after_an_hour(world: World, preselected: dict[str, Any]) -> None:
    client = session(world, channel="sms")
    assert client.get("/v1/subscriber/line").status_code == 200
    world.clock.at += timedelta(hours=1, seconds=1)
    problem(client.get("/v1/subscriber/line"), 401, "E_AUTH")


def test_a_ceased_or_unknown_line_gets_no_code(world: World) -> None:
    anonymous = world.client()
    for number in ("55501236", UNKNOWN_NUMBER):  # ceased; not a line
        assert anonymous.post("/v1/subscriber/codes", json={"number": number}).status_code == 202
    assert world.count(tables.subscriber_messages) == 0
    assert world.count(tables.subscriber_codes) == 0


def test_a_line_gets_at_most_three_codes_a_day_however_they_are_spent(world: World) -> None:
    anonymous = world.client()
    for _ in range(3):
        anonymous.post("/v1/subscriber/codes", json={"number": LINE})
        for _ in range(5):  # spend it
            wrong = {"number": LINE, "code": "99999999"}
            anonymous.post("/v1/subscriber/sessions", json=wrong)
    more = anonymous.post("/v1/subscriber/codes", json={"number": LINE})

    assert more.status_code == 202
    assert world.count(tables.subscriber_codes) == 3
    world.clock.at += timedelta(days=1, seconds=1)
    anonymous.post("/v1/subscriber/codes", json={"number": LINE})
    assert world.count(tables.subscriber_codes) == 4
