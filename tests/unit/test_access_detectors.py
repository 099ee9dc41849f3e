"""Access and unexplained-access detectors on ledgers with known ground truth."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest
from scipy.stats import chi2, nbinom, poisson
from tests.staff_ledger import CODES, START, Book, clean_world, each_unexplained_kind

from forvalg.compliance.detectors.access import PeerModel, access_tests
from forvalg.compliance.detectors.findings import Finding, finalise, finding_id, findings_document
from forvalg.compliance.detectors.ledger_input import (
    AccessSettings,
    Ledger,
)
from forvalg.compliance.detectors.unexplained import PURPOSES, unexplained_tests
from forvalg.compliance.detectors.workspace import DetectionInputError
from forvalg.domain.categories import Category
from forvalg.domain.statistics import Severity
from forvalg.domain.work_items import WorkItemKind
from forvalg.wall.policy import Action, Policy, Question
from forvalg.wall.principals import Purpose, StaffRole


def run_all(book: Book, settings: AccessSettings | None = None) -> list[Finding]:
    """Both detectors as `forvalg detect` would run them: one `finalise` (the tests
    through Benjamini–Hochberg, the rule-decided results at their rule's severity)."""
    entries, items = book.tables()
    ledger = Ledger(entries, items)
    return finalise(
        [*access_tests(ledger, settings), *unexplained_tests(ledger, settings=settings)]
    )


def unexplained(
    entries: pa.Table, items: pa.Table | None = None, settings: AccessSettings | None = None
) -> list[Finding]:
    return finalise(unexplained_tests(entries, items, settings))


def glass_uses(entries: pa.Table, settings: AccessSettings | None = None) -> list[Finding]:
    return [
        f
        for f in finalise(access_tests(entries, settings))
        if f.evidence["test"] == "break_glass_uses"
    ]


def of(findings: Iterable[Finding], principal: str, test: str | None = None) -> list[Finding]:
    return [
        f
        for f in findings
        if f.subject == {"principal": principal} and (test is None or f.evidence["test"] == test)
    ]


def worst(findings: Iterable[Finding]) -> Severity:
    return max((f.severity for f in findings), key=lambda s: s.rank, default=Severity.INFO)


# ---------------------------------------------------------------- access: clean world


@pytest.mark.parametrize("seed", range(20))
def test_a_clean_world_has_no_finding_of_medium_or_above(seed: int) -> None:
    world = clean_world(seed)
    found = run_all(world.book)
    serious = [f for f in found if f.severity.at_least(Severity.MEDIUM)]
    assert serious == [], [f.summary for f in serious]
    # every access is covered by a work item: nothing is unexplained
    assert not [f for f in found if f.detector == "unexplained_access"]
    # only staff are tested, and every staff member has peers
    entries, _ = world.book.tables()
    tested = access_tests(entries)
    principals = {t.subject[1] for t in tested}
    assert all(p.startswith("user:") for p in principals)
    assert {t.subject[1] for t in tested if t.test == "volume"} == {
        str(e["principal"]) for e in world.book.entries if str(e["principal"]).startswith("user:")
    }


def test_break_glass_in_a_clean_world_is_low_and_explained() -> None:
    world = clean_world(3)
    world.book.glass("user:ops01", world.instant(), world.lines(2))
    found = run_all(world.book)
    uses = of(found, "user:ops01", "break_glass_uses")
    assert len(uses) == 1
    assert uses[0].severity is Severity.LOW
    assert uses[0].evidence["break_glass_uses"] >= 1
    assert not of(found, "user:ops01", "unexplained")


# ---------------------------------------------------------------- access: volume


@pytest.mark.parametrize(("multiple", "at_least"), [(5, Severity.MEDIUM), (10, Severity.HIGH)])
def test_a_curious_employee_is_found(multiple: float, at_least: Severity) -> None:
    for seed in range(5):
        world = clean_world(100 + seed)
        world.curious("user:curious", multiple)
        found = run_all(world.book)
        volume = of(found, "user:curious", "volume")
        assert len(volume) == 1, seed
        f = volume[0]
        assert f.detector == "access"
        assert f.severity.at_least(at_least), (seed, f.severity, f.statistics)
        assert f.id == finding_id("access", "volume", ("principal", "user:curious"))
        assert f.statistics["lift"] >= multiple * 0.9
        assert f.evidence["peer_group"]["by"] == "roles"
        assert f.evidence["peer_group"]["key"] == "wholesale_ops"
        assert f.evidence["peer_group"]["peers"] == 20
        assert f.evidence["distinct_subjects"] == len(world.book.touched("user:curious"))
        indices = f.evidence["entry_indices"]
        assert len(indices) == 10
        assert indices == sorted(indices)
        assert set(indices) <= world.book.indices("user:curious", decision="allow")
        assert "user:curious" in f.summary
        assert "times the average" in f.summary
        assert "p = " in f.summary or "p < " in f.summary
        # it did nothing the wall should have refused: only the volume gives it away
        assert not of(found, "user:curious", "unexplained")
        # and its peers stay clean
        others = [g for g in found if g.subject != {"principal": "user:curious"}]
        assert not [g for g in others if g.severity.at_least(Severity.MEDIUM)]


def test_two_curious_colleagues_do_not_hide_each_other() -> None:
    world = clean_world(7)
    world.curious("user:curious1", 6)
    world.curious("user:curious2", 6)
    found = run_all(world.book)
    for who in ("user:curious1", "user:curious2"):
        assert worst(of(found, who, "volume")).at_least(Severity.MEDIUM), who
        # the other one is left out of the yardstick
        volume = of(found, who, "volume")[0]
        assert volume.evidence["peer_group"]["peers"] == 21
        assert volume.evidence["peer_group"]["baseline_peers"] == 20
        assert "1 far-out one left aside" in volume.summary


def test_a_small_peer_group_is_a_weak_yardstick() -> None:
    """Five peers: the variance's confidence bound widens the model, so the same 5×
    excess is far less significant than among twenty."""
    rng = np.random.default_rng(1)
    few = rng.poisson(60, 5)
    many = rng.poisson(60, 20)
    settings = AccessSettings()
    p_few = PeerModel.fit(few, settings).p_at_least(300)
    p_many = PeerModel.fit(many, settings).p_at_least(300)
    assert p_many < p_few
    assert PeerModel.fit(many, settings).variance >= 60 + (0.2 * 60) ** 2


def test_the_peer_model_is_the_negative_binomial_it_says() -> None:
    counts = np.array([40, 52, 61, 75, 48, 90, 66, 58, 70, 45])
    model = PeerModel.fit(counts, AccessSettings())
    n, mean = len(counts), counts.mean()
    upper = (n - 1) / chi2.ppf(0.05, n - 1)
    variance = max(counts.var(ddof=1) * upper, mean + (0.2 * mean) ** 2) * (1 + 1 / n)
    assert model.mean == pytest.approx(mean)
    assert model.median == pytest.approx(np.median(counts))
    assert model.variance == pytest.approx(variance)
    shape = mean**2 / (variance - mean)
    for x in (1, 30, 60, 120, 300, 1000):
        expected = nbinom.sf(x - 1, shape, shape / (shape + mean))
        assert model.p_at_least(x) == pytest.approx(expected, rel=1e-9, abs=1e-300)
    flat = PeerModel(peers=10, baseline=10, mean=3.0, median=3.0, variance=3.0)
    for x in (1, 3, 10, 40):
        assert flat.p_at_least(x) == pytest.approx(poisson.sf(x - 1, 3.0), rel=1e-9, abs=1e-300)


def test_the_peer_model_sets_far_out_peers_aside() -> None:
    settings = AccessSettings()
    model = PeerModel.fit(np.array([50, 55, 60, 62, 58, 61, 57, 600]), settings)
    assert model.baseline == 7
    assert model.mean == pytest.approx(np.mean([50, 55, 60, 62, 58, 61, 57]))
    # a group of mostly zero counts keeps its occasional two or three
    zeros = PeerModel.fit(np.array([0] * 15 + [2, 3]), settings)
    assert zeros.baseline == 17
    assert zeros.mean == 0.5  # 5/17 stands at the floor of half an event
    assert PeerModel.fit(np.array([0] * 10), settings).p_at_least(0) == 1.0


def test_without_peers_of_the_same_roles_the_organisation_is_the_yardstick() -> None:
    world = clean_world(11)
    # one retail customer-service agent and six retail sales agents: the same organisation
    book = world.book
    for u in range(6):
        for _ in range(10):
            book.entry(
                f"user:sales{u}",
                world.instant(),
                role="retail_sales",
                purpose="crm_sync",
                action="write",
                resource="retail.contact",
                subjects=world.lines(1),
            )
    for _ in range(60):
        book.entry(
            "user:service",
            world.instant(),
            role="retail_customer_service",
            purpose="crm_sync",
            action="write",
            resource="retail.contact",
            subjects=world.lines(1),
        )
    entries, _ = book.tables()
    tested = {(t.subject[1], t.test): t for t in access_tests(entries)}
    service = tested["user:service", "volume"]
    assert service.evidence["peer_group"]["by"] == "organisation"
    assert service.evidence["peer_group"]["key"] == "incumbent:retail"
    assert service.evidence["peer_group"]["peers"] == 6
    assert "in incumbent:retail" in service.summary
    # a lone principal with no organisation to compare with is not tested
    book.entry("user:lonely", world.instant(), role="regulator", purpose="regulatory_inspection")
    entries, _ = book.tables()
    assert not [t for t in access_tests(entries) if t.subject[1] == "user:lonely"]
    # nor when told to want more peers than there are
    demanding = access_tests(entries, AccessSettings(min_peers=30))
    assert not [t for t in demanding if t.subject[1] == "user:service"]


def test_the_access_tests_count_the_last_30_days() -> None:
    """A colleague of long standing touched many lines before the window: not counted."""
    world = clean_world(61)
    long_ago = START - timedelta(days=90)
    for h in range(400):
        world.book.worked("user:ops03", long_ago + timedelta(hours=h), world.lines(1))
    entries, _ = world.book.tables()
    recent = {t.subject[1]: t for t in access_tests(entries) if t.test == "volume"}
    assert recent["user:ops03"].lift < 2
    assert recent["user:ops03"].evidence["window"]["from"] >= "2026-02-28"
    everything = access_tests(entries, AccessSettings(window=None))
    old = next(t for t in everything if t.test == "volume" and t.subject[1] == "user:ops03")
    assert old.lift > 4
    assert old.evidence["window"]["from"] == "2025-12-01T00:00:00Z"


# ---------------------------------------------------------------- access: denials


def test_a_prober_with_many_denials_is_found() -> None:
    world = clean_world(21)
    world.staff("user:prober", "wholesale_ops", world.mean, 0)
    for i in range(40):
        world.book.denied("user:prober", world.instant(), CODES[i % 2])
    found = run_all(world.book)
    denials = of(found, "user:prober", "denials")
    assert len(denials) == 1
    f = denials[0]
    assert f.severity.at_least(Severity.HIGH)
    assert f.evidence["denials"] == 40
    assert f.evidence["by_reason"] == {"E_FORBIDDEN": 20, "E_WORK_ITEM_MISMATCH": 20}
    assert "E_FORBIDDEN 20, E_WORK_ITEM_MISMATCH 20" in f.summary
    assert set(f.evidence["entry_indices"]) <= world.book.indices("user:prober", decision="deny")
    assert len(f.evidence["entry_indices"]) == 10
    # a handful of denials more than the others is no finding of note
    assert not worst(of(found, "user:ops00", "denials")).at_least(Severity.MEDIUM)


def test_a_few_denials_are_not_medium_even_if_peers_have_none() -> None:
    book = Book()
    for u in range(10):
        book.worked(f"user:ops{u}", START + timedelta(hours=u), [f"line-{u}"])
    for h in range(4):
        book.denied("user:ops0", START + timedelta(hours=h), "E_FORBIDDEN")
    entries, _ = book.tables()
    found = finalise(access_tests(entries))
    assert not worst(of(found, "user:ops0", "denials")).at_least(Severity.MEDIUM)


# ---------------------------------------------------------------- access: break-glass


def test_repeated_break_glass_is_medium_and_far_more_than_peers_is_tested() -> None:
    world = clean_world(31)
    glass = [world.book.glass("user:glass", world.instant(), world.lines(1)) for _ in range(8)]
    world.staff("user:glass", "wholesale_ops", world.mean, 1)
    found = run_all(world.book)
    uses = of(found, "user:glass", "break_glass_uses")
    assert len(uses) == 1
    assert uses[0].severity is Severity.MEDIUM
    assert uses[0].statistics == {"p_value": 0.0, "lift": 0.0, "n": uses[0].statistics["n"]}
    assert uses[0].evidence["break_glass_uses"] == 8
    assert uses[0].evidence["entry_indices"] == sorted(glass)
    assert uses[0].evidence["resources"] == {"cps.order": 8}
    assert "8 times" in uses[0].summary
    assert "repeated use" in uses[0].summary
    tested = of(found, "user:glass", "break_glass")
    assert worst(tested).at_least(Severity.MEDIUM)
    assert tested[0].statistics["lift"] >= 8
    # every use was followed by a ticket naming the line: nothing unexplained
    assert not of(found, "user:glass", "unexplained")


def test_break_glass_severity_by_count() -> None:
    book = Book()
    for u, uses in enumerate([1, 2, 3]):
        for h in range(uses):
            book.glass(f"user:ops{u}", START + timedelta(hours=h), [f"line-{u}-{h}"])
    entries, _ = book.tables()
    levels = {f.subject["principal"]: f.severity for f in glass_uses(entries)}
    assert levels == {
        "user:ops0": Severity.LOW,
        "user:ops1": Severity.LOW,
        "user:ops2": Severity.MEDIUM,
    }
    fewer = glass_uses(entries, AccessSettings(break_glass_repeat=2))
    assert {f.subject["principal"]: f.severity for f in fewer}["user:ops1"] is Severity.MEDIUM


# ---------------------------------------------------------------- unexplained access


def test_each_kind_of_unexplained_entry_is_found_and_high() -> None:
    book = Book()
    cases, work = each_unexplained_kind(book, START + timedelta(days=1))
    ok, closed = work["ok"], work["closed"]
    entries, items = book.tables()
    found = unexplained(entries, items)
    by = {f.subject["principal"]: f for f in found}
    assert set(by) == {"user:b", "user:c", "user:d", "user:e", "user:f"}
    for f in found:
        assert f.detector == "unexplained_access"
        assert f.severity is Severity.HIGH
        assert f.statistics["p_value"] == 0.0
        assert "which the wall should have refused" in f.summary
        subject = ("principal", f.subject["principal"])
        assert f.id == finding_id("unexplained_access", "unexplained", subject)
    assert by["user:b"].evidence["by_reason"] == {"work_item_not_open": 2}
    assert by["user:b"].evidence["entry_indices"] == sorted(
        [cases["work_item_not_open"], cases["before_opening"]]
    )
    assert {w["id"] for w in by["user:b"].evidence["work_items"]} == {closed, ok}
    closed_item = next(w for w in by["user:b"].evidence["work_items"] if w["id"] == closed)
    assert closed_item["closed_at"] == "2026-03-02T00:00:00Z"
    assert closed_item["reasons"] == ["work_item_not_open"]
    assert by["user:c"].evidence["by_reason"] == {"unknown_work_item": 1}
    unknown = {"id": "FT-000000000000", "kind": None, "opened_at": None, "closed_at": None}
    assert by["user:c"].evidence["work_items"] == [unknown | {"reasons": ["unknown_work_item"]}]
    assert by["user:d"].evidence["by_reason"] == {"lines_not_on_work_item": 1}
    assert by["user:e"].evidence["by_reason"] == {"purpose_mismatch": 2}
    assert by["user:e"].evidence["unexplained"] == 2
    assert by["user:f"].evidence["by_reason"] == {"no_work_item": 1}
    assert by["user:f"].evidence["work_items"] == []
    assert "1 naming no work item" in by["user:f"].summary
    assert "has an allowed decision that no work item explains" in by["user:f"].summary


def test_break_glass_is_explained_by_a_follow_up_ticket() -> None:
    book = Book()
    at = START + timedelta(days=2)
    book.glass("user:a", at, ["L1", "L2"], follow_up_after=timedelta(hours=23))
    # a ticket opened before and open at the time covers it too
    book.item("fault_ticket", "user:z", at - timedelta(days=1), ["L3"])
    book.glass("user:a", at, ["L3"], follow_up_after=None)
    # a break-glass that touched no line: the principal's own ticket in time explains it
    book.glass("user:a", at, [], follow_up_after=timedelta(hours=1), follow_up_by="user:a")
    late = book.glass("user:b", at, ["L4"], follow_up_after=timedelta(hours=30))
    partial = book.glass("user:c", at, ["L5", "L6"], follow_up_lines=["L5"])
    no_lines = book.glass("user:c", at, [], follow_up_after=timedelta(hours=1))  # by someone else
    closed_before = book.item(
        "fault_ticket", "user:z", at - timedelta(days=3), ["L7"], closed_at=at - timedelta(days=1)
    )
    gone = book.glass("user:d", at, ["L7"], follow_up_after=None)
    entries, items = book.tables()
    found = {f.subject["principal"]: f for f in unexplained(entries, items)}
    assert set(found) == {"user:b", "user:c", "user:d"}
    for f in found.values():
        assert f.severity is Severity.MEDIUM
        assert "without a follow-up ticket naming the lines within 24 hours" in f.summary
        assert f.evidence["unexplained"] == 0
    assert found["user:b"].evidence["entry_indices"] == [late]
    assert found["user:c"].evidence["entry_indices"] == sorted([partial, no_lines])
    assert found["user:c"].evidence["by_reason"] == {"break_glass_without_follow_up": 2}
    assert found["user:d"].evidence["entry_indices"] == [gone]
    assert closed_before.startswith("fault_ticket")
    # a longer window explains the late one
    longer = AccessSettings(follow_up_window=timedelta(hours=36))
    assert "user:b" not in {f.subject["principal"] for f in unexplained(entries, items, longer)}


def test_one_break_glass_request_is_one_use_however_many_categories_it_reads() -> None:
    """The wall ledgers a break-glass read of a line as one entry per category (routing,
    operator, inventory, subscriber, order), with the same justification."""
    book = Book()
    categories = ("cps.routing", "cps.operator", "line.inventory", "personal.subscriber")
    why = "the customer is on the phone and the line is dead"
    first = [
        book.entry("user:a", START, resource=r, subjects=["L1"], break_glass=True, why=why)
        for r in categories
    ]
    # the same justification an hour later is another use; another one at once, too
    later = START + timedelta(hours=1)
    book.entry("user:a", later, subjects=["L2"], break_glass=True, why=why)
    book.entry("user:a", START, subjects=["L3"], break_glass=True, why="another fault")
    entries, items = book.tables()
    uses = glass_uses(entries)
    assert len(uses) == 1
    assert uses[0].severity is Severity.MEDIUM  # three uses, not six
    assert uses[0].evidence["break_glass_uses"] == 3
    assert uses[0].evidence["break_glass_entries"] == 6
    assert uses[0].evidence["entry_indices"] == [first[0], 4, 5]
    assert "3 times" in uses[0].summary
    # a follow-up ticket for L1 explains the whole first use; the other two are not
    book.item("fault_ticket", "user:z", START + timedelta(hours=2), ["L1"])
    entries, items = book.tables()
    (found,) = unexplained(entries, items)
    assert found.severity is Severity.MEDIUM
    assert found.evidence["break_glass_uses"] == 3
    assert found.evidence["break_glass_unexplained"] == 2
    assert found.evidence["break_glass_unexplained_entries"] == 2
    assert "used break-glass 2 times without a follow-up" in found.summary
    # one request alone is LOW and, unexplained, MEDIUM: never HIGH for its categories
    single = Book()
    for r in categories:
        single.entry("user:b", START, resource=r, subjects=["L9"], break_glass=True, why=why)
    entries, items = single.tables()
    assert glass_uses(entries)[0].severity is Severity.LOW
    assert unexplained(entries, items)[0].severity is Severity.MEDIUM


def test_three_unexplained_break_glass_are_high_and_a_plain_one_outranks_them() -> None:
    book = Book()
    for h in range(3):
        book.glass("user:a", START + timedelta(hours=h), [f"L{h}"], follow_up_after=None)
    book.glass("user:b", START, ["L9"], follow_up_after=None)
    book.entry("user:b", START, subjects=["L8"])  # no work item
    entries, items = book.tables()
    found = {f.subject["principal"]: f for f in unexplained(entries, items)}
    assert found["user:a"].severity is Severity.HIGH
    assert found["user:a"].evidence["break_glass_unexplained"] == 3
    assert found["user:b"].severity is Severity.HIGH
    assert found["user:b"].evidence["unexplained"] == 1
    assert found["user:b"].evidence["break_glass_unexplained"] == 1
    assert " and used break-glass once" in found["user:b"].summary
    # the plain entry is quoted first
    assert found["user:b"].evidence["entry_indices"] == [3, 4]


def test_names_with_braces_survive_the_summary() -> None:
    book = Book()
    book.entry("user:{odd}", START, subjects=["L1"])
    for h in range(3):
        book.glass("user:{odd}", START + timedelta(hours=h), [f"L{h}"], follow_up_after=None)
    found = run_all(book)
    assert {f.evidence["test"] for f in found} == {"unexplained", "break_glass_uses"}
    assert all("Staff member user:{odd} (wholesale_ops)" in f.summary for f in found)


def test_the_purposes_are_the_policys() -> None:
    """Every (kind, purpose) under which the policy lets a staff member (or a subscriber)
    read anything is in PURPOSES, and every pair of PURPOSES is allowed for someone.
    Reads suffice: every staff permit that allows writing allows reading too, but for
    retail writing contacts with no work item (test_policy: retail may do nothing else)."""
    policy = Policy.load()
    askers = [("subscriber", frozenset({"subscriber"}))] + [
        ("staff", frozenset({role.value}))
        for role in StaffRole
        if role.organisation != "incumbent:retail"
    ]
    allowed = {
        (wi.value, purpose.value)
        for (kind, roles), wi, purpose, category in itertools.product(
            askers, WorkItemKind, Purpose, Category
        )
        if policy.decide(
            Question(roles, kind, Action.READ, category, purpose.value, wi.value, False)
        ).allowed
    }
    assert allowed == {(k.value, p) for k, ps in PURPOSES.items() for p in ps}


# ---------------------------------------------------------------- inputs


def test_inputs_are_checked() -> None:
    book = Book()
    book.worked("user:a", START, ["L1"])
    entries, items = book.tables()
    with pytest.raises(DetectionInputError, match="missing column"):
        access_tests(entries.drop_columns(["subjects"]))
    with pytest.raises(DetectionInputError, match="work items: missing column"):
        unexplained_tests(entries, items.drop_columns(["lines"]))
    naive = entries.set_column(
        entries.schema.get_field_index("at"), "at", entries["at"].cast(pa.timestamp("us"))
    )
    with pytest.raises(DetectionInputError, match="timezone-aware"):
        access_tests(naive)
    opened = items.schema.get_field_index("opened_at")
    naive_items = items.set_column(opened, "opened_at", items["opened_at"].cast(pa.timestamp("us")))
    with pytest.raises(DetectionInputError, match="timezone-aware"):
        unexplained_tests(entries, naive_items)
    as_text = entries.set_column(
        entries.schema.get_field_index("at"), "at", entries["at"].cast(pa.string())
    )
    with pytest.raises(DetectionInputError, match="at must be a timestamp"):
        access_tests(as_text)
    short = entries.set_column(
        entries.schema.get_field_index("subject_count"), "subject_count", pa.array([5], pa.int64())
    )
    with pytest.raises(DetectionInputError, match="fewer subjects than its subject_count"):
        access_tests(short)
    odd = entries.set_column(
        entries.schema.get_field_index("decision"), "decision", pa.array(["maybe"])
    )
    with pytest.raises(DetectionInputError, match="allow or deny"):
        access_tests(odd)
    with pytest.raises(DetectionInputError, match="unknown kind"):
        unexplained_tests(entries, items.set_column(1, "kind", pa.array(["ticket"])))
    with pytest.raises(DetectionInputError, match="more than once"):
        unexplained_tests(entries, pa.concat_tables([items, items]))
    null_principal = entries.set_column(
        entries.schema.get_field_index("principal"), "principal", pa.array([None], pa.string())
    )
    with pytest.raises(DetectionInputError, match="principal has null"):
        access_tests(null_principal)
    with pytest.raises(ValueError, match="work items are needed"):
        unexplained_tests(entries)


def test_inputs_may_come_in_other_units_zones_and_with_nulls() -> None:
    book = Book()
    book.worked("user:a", START, ["L1"])
    book.entry("user:a", START, purpose="crm_sync", action="write", resource="retail.contact")
    entries, items = book.tables()
    oslo = entries.set_column(
        entries.schema.get_field_index("at"),
        "at",
        entries["at"].cast(pa.timestamp("ns", tz="Europe/Oslo")),
    )
    nulls = oslo.set_column(
        oslo.schema.get_field_index("subjects"),
        "subjects",
        pa.array([["L1"], None], pa.list_(pa.string())),
    ).set_column(
        oslo.schema.get_field_index("break_glass"),
        "break_glass",
        pa.array([None, None], pa.bool_()),
    )
    extra = items.append_column("operator_id", pa.array([None], pa.string()))
    assert unexplained_tests(nulls, extra) == []
    ledger = Ledger(nulls)
    assert ledger.window() == {"from": "2026-03-01T00:00:00Z", "to": "2026-03-01T00:00:00Z"}
    with pytest.raises(ValueError, match="without work items"):
        unexplained_tests(ledger)


def test_an_empty_ledger_finds_nothing() -> None:
    entries, items = Book().tables()
    assert access_tests(entries) == []
    assert unexplained_tests(entries, items) == []


def test_findings_go_into_the_document_and_are_stable() -> None:
    world = clean_world(41)
    world.curious("user:curious", 10)
    world.book.entry("user:sneak", world.instant(), subjects=world.lines(2))
    first = run_all(world.book)
    again = run_all(world.book)
    assert [f.as_json() for f in first] == [f.as_json() for f in again]
    document = findings_document(first, datetime(2026, 4, 1, tzinfo=UTC))
    text = json.dumps(document, allow_nan=False)
    assert "user:curious" in text
    assert "user:sneak" in text
    detectors = {f["detector"] for f in document["findings"]}
    assert {"access", "unexplained_access"} <= detectors


def test_a_ledger_built_once_gives_the_same_results() -> None:
    world = clean_world(51)
    entries, items = world.book.tables()
    ledger = Ledger(entries, items)
    assert access_tests(ledger) == access_tests(entries)
    assert unexplained_tests(ledger) == unexplained_tests(entries, items)


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="min_peers"):
        AccessSettings(min_peers=1)
    with pytest.raises(ValueError, match="window"):
        AccessSettings(window=timedelta(0))
    with pytest.raises(ValueError, match="confidence"):
        AccessSettings(confidence=1.0)
    with pytest.raises(ValueError, match="follow_up_window"):
        AccessSettings(follow_up_window=timedelta(hours=-1))
