"""Rotation of the pseudonym key (docs/SECURITY.md, "Key rotation"): new entries name
subjects under the new key and say so (`subjects_key`); the retired key is kept, so a
subscriber's page and compliance's search still find the entries written before the
rotation; a one-time code and a cursor issued before it still work; a cursor sealed
under a key no longer kept is refused cleanly (422)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from forvalg.bootstrap import (
    PSEUDONYM_KEY_FILE,
    RETIRED_PSEUDONYM_DIR,
    bootstrap,
    read_pseudonym_key,
    read_retired_pseudonym_keys,
    rotate_pseudonym_key,
)
from forvalg.domain.clock import FixedClock
from forvalg.settings import Settings
from forvalg.wall.pseudonyms import Pseudonymiser, key_id

from ..conftest import LEDGER_SIGNER, PSEUDONYM_KEY, T0
from .test_subscriber import code_for, session
from .world import Operator, World, cease, problem, provide

LINE, OTHER = "22334455", "22334466"
OLD = Pseudonymiser(PSEUDONYM_KEY)


def _rotate(settings: Settings, clock: FixedClock) -> None:
    """The key files as `forvalg init` leaves them, with the tests' key current, then
    `forvalg keys rotate-pseudonym`."""
    settings.key_dir.mkdir(parents=True, exist_ok=True)
    (settings.key_dir / PSEUDONYM_KEY_FILE).write_text(PSEUDONYM_KEY.hex() + "\n")
    rotate_pseudonym_key(settings, at=clock.now())


@pytest.fixture
def rotated(world: World, settings: Settings, clock: FixedClock) -> Iterator[World]:
    """The same database served after the rotation, by processes restarted on the key
    files (the current key and the retired one)."""
    _rotate(settings, clock)
    services = bootstrap(settings, clock=clock, ledger_signers=[LEDGER_SIGNER])
    found = World(services, clock, services.engine, world.tmp_path)
    yield found
    found.close()
    services.close()


def test_the_subscribers_page_lists_accesses_from_before_and_after_the_rotation(
    world: World, alpha: Operator, rotated: World
) -> None:
    world.preselect(alpha, LINE)  # before: entries under the old key
    after = replace(alpha, client=rotated.client(alpha.token))
    after.order(cease(LINE))  # after: under the new key
    new = rotated.services.wall.pseudonymiser
    assert new.pseudonym(LINE) != OLD.pseudonym(LINE)

    response = session(rotated).get("/v1/subscriber/accesses")

    assert response.status_code == 200, response.text
    listed = {t["index"]: t["entry"]["event"] for t in response.json()["entries"]}
    size = response.json()["size"]
    truth = {
        i: e
        for i, e in enumerate(rotated.access_log())
        if i < size and {OLD.pseudonym(LINE), new.pseudonym(LINE)} & set(e["subjects"])
    }
    assert set(truth) <= set(listed)
    keys = {e["subjects_key"] for e in truth.values()}
    assert keys == {OLD.key_id, new.key_id}
    assert any(
        e["principal"] == "operator:alfatel"
        for e in truth.values()
        if e["subjects_key"] == OLD.key_id
    )
    assert any(
        e["principal"] == "operator:alfatel"
        for e in truth.values()
        if e["subjects_key"] == new.key_id
    )
    for e in truth.values():
        name = OLD.pseudonym(LINE) if e["subjects_key"] == OLD.key_id else new.pseudonym(LINE)
        assert name in e["subjects"]
    assert LINE not in response.text


def test_compliances_search_by_line_finds_entries_from_before_the_rotation(
    world: World, alpha: Operator, rotated: World
) -> None:
    world.preselect(alpha, LINE)
    officer = rotated.add_staff("compliance_officer")
    audit = officer.opened("compliance_audit", kind="audit", summary="who read the line")

    response = officer.get(
        "/v1/compliance/access-log",
        purpose="compliance_audit",
        work_item=audit,
        line=LINE,
        limit=200,
    )

    assert response.status_code == 200, response.text
    found = {item["index"] for item in response.json()["items"]}
    before = {i for i, e in enumerate(world.access_log()) if OLD.pseudonym(LINE) in e["subjects"]}
    assert before
    assert before <= found


def test_a_code_sent_before_the_rotation_opens_a_session_after_it(
    world: World, settings: Settings, clock: FixedClock
) -> None:
    sent = world.client().post("/v1/subscriber/codes", json={"number": LINE})
    assert sent.status_code == 202
    _rotate(settings, clock)
    services = bootstrap(settings, clock=clock, ledger_signers=[LEDGER_SIGNER])
    after = World(services, clock, services.engine, world.tmp_path)
    try:
        opened = after.client().post(
            "/v1/subscriber/sessions", json={"number": LINE, "code": code_for(world, LINE)}
        )
        assert opened.status_code == 201, opened.text
    finally:
        after.close()
        services.close()


def test_cursors_from_before_the_rotation_work_until_their_key_is_gone(
    world: World, alpha: Operator, rotated: World, settings: Settings, clock: FixedClock
) -> None:
    for number in (LINE, OTHER):
        alpha.order(provide(number))
    world.process()  # validated: state changes in the feed
    first = alpha.list_orders(limit=1).json()
    events = alpha.events(limit=1).json()
    assert first["next_cursor"]
    assert events["next_cursor"]
    client = rotated.client(alpha.token)

    rest = client.get("/v1/orders", params={"limit": 1, "cursor": first["next_cursor"]})
    feed = client.get("/v1/events", params={"limit": 1, "after": events["next_cursor"]})

    assert rest.status_code == 200, rest.text
    assert [o["number"] for o in rest.json()["items"]] == [LINE]  # newest first
    assert feed.status_code == 200, feed.text
    # A new cursor is sealed under the new key: the old processes cannot open it.
    newer = client.get("/v1/orders", params={"limit": 1}).json()["next_cursor"]
    problem(alpha.client.get("/v1/orders", params={"cursor": newer}), 422, "E_VALIDATION")
    # Had the retired key been deleted, the old cursor would be refused, cleanly.
    forgetful = bootstrap(
        settings, clock=clock, pseudonym_key=os.urandom(32), ledger_signers=[LEDGER_SIGNER]
    )
    gone = World(forgetful, clock, forgetful.engine, world.tmp_path)
    try:
        refused = gone.client(alpha.token).get(
            "/v1/orders", params={"cursor": first["next_cursor"]}
        )
        body = problem(refused, 422, "E_VALIDATION")
        assert "not a cursor this API gave you" in str(body)
    finally:
        gone.close()
        forgetful.close()


def test_rotation_keeps_every_retired_key_owner_only(tmp_path: Path) -> None:
    settings = Settings(key_dir=tmp_path / "keys")
    clock = FixedClock(T0)
    _rotate(settings, clock)
    first = read_pseudonym_key(settings)
    clock.at = T0.replace(hour=10)
    second = rotate_pseudonym_key(settings, at=clock.now())

    assert second.retired == key_id(first)
    assert read_retired_pseudonym_keys(settings) == [first, PSEUDONYM_KEY]  # newest first
    current = read_pseudonym_key(settings)
    assert key_id(current) == second.current
    assert current not in (first, PSEUDONYM_KEY)
    assert len(current) == 32
    folder = settings.key_dir / RETIRED_PSEUDONYM_DIR
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in (settings.key_dir / PSEUDONYM_KEY_FILE, *folder.iterdir()):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert sorted(p.name for p in settings.key_dir.iterdir()) == [
        PSEUDONYM_KEY_FILE,
        RETIRED_PSEUDONYM_DIR,
    ]  # no temporary file left behind
    both = Pseudonymiser(current, read_retired_pseudonym_keys(settings))
    assert both.key_ids == (key_id(current), key_id(first), key_id(PSEUDONYM_KEY))
    assert both.pseudonyms(LINE)[2] == OLD.pseudonym(LINE)
