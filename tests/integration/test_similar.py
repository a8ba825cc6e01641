"""Similar appeals (issue 15, app.services.similar): a submission finds its planted
near-duplicates — light edits, same region or a county of the same city, the same person
at a lower similarity — and not unrelated appeals, nor ones outside the window or in
another city; the index is written with the appeal, pruned and rebuilt."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from datetime import timedelta

from app.domain import similarity
from app.models import Appeal, AppealBand, AppealSketch, Region, SimilarPending
from app.services import similar
from app.services.workflow import now_utc
from tests.conftest import unique
from tests.factories import default_rules, make_appeal, submit
from tests.integration.test_intake_atomic import submit_with_a_broken_receipt

# The rules' own thresholds, as tuned (routing.yaml `similar:`).
POLICY = default_rules().routing.similar
CITY, COUNTY, OTHER_COUNTY, OTHER_CITY = "990100", "990102", "990121", "990200"
# Common characters: the texts read as random Chinese, each test's its own.
HANZI = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同" \
        "工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起" \
        "小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平"


def _text(seed: str, length: int = 100) -> str:
    pick = random.Random(seed)
    return "".join(pick.choice(HANZI) for _ in range(length))


def _edit(text: str, seed: str, changes: int = 1) -> str:
    """A light edit: a character changed, punctuation added, a phrase at the end — near
    enough that the LSH bands find it whatever the random text (similarity about 0.85)."""
    pick = random.Random(seed)
    chars = list(text)
    for _ in range(changes):
        chars[pick.randrange(len(chars))] = pick.choice(HANZI)
    cut = pick.randrange(len(chars))
    return "".join(chars[:cut]) + "，" + "".join(chars[cut:]) + "请处理"


def _title(body: str) -> str:
    return body[:12]


async def _appeal(body: str, **fields) -> Appeal:
    return await submit(title=_title(body), body=body, category="",
                        contact_phone=fields.pop("contact_phone", _phone()), **fields)


def _phone() -> str:
    return f"139{random.randrange(10**8):08d}"


def _ids(matches) -> set[int]:
    return {m.appeal_id for m in matches}


async def test_a_submission_finds_its_near_duplicates_and_nothing_else(database):
    body = _text(unique("dup"))
    first = await _appeal(body, region=CITY)
    county = await _appeal(_edit(body, "a"), region=COUNTY)
    other_county = await _appeal(_edit(body, "b"), region=OTHER_COUNTY)
    unrelated = await _appeal(_text(unique("other")), region=CITY)
    elsewhere = await _appeal(_edit(body, "c"), region=OTHER_CITY)
    old = await _appeal(_edit(body, "d"), region=CITY, at=now_utc() - timedelta(days=100))
    new = await _appeal(_edit(body, "e"), region=CITY)

    found = await similar.find(new, POLICY)

    assert _ids(found) == {first.id, county.id, other_county.id}
    assert unrelated.id not in _ids(found) and elsewhere.id not in _ids(found)
    assert old.id not in _ids(found) and new.id not in _ids(found)
    assert [m.similarity for m in found] == sorted((m.similarity for m in found), reverse=True)
    assert all(m.similarity >= POLICY.min_similarity and not m.same_person for m in found)
    match = next(m for m in found if m.appeal_id == county.id)
    assert (match.tracking_number, match.title, match.region_id) == (
        county.tracking_number, county.title, county.region_id)
    # The old one is found once the window reaches back to it.
    wider = await similar.find(new, dataclasses.replace(POLICY, window_days=120))
    assert old.id in _ids(wider)


async def test_an_appeal_without_a_sketch_row_is_searched_from_its_text(database):
    body = _text(unique("nosketch"))
    planted = await _appeal(body)
    later = await _appeal(_edit(body, "x"))
    await AppealBand.filter(appeal_id=later.id).delete()
    await AppealSketch.filter(appeal_id=later.id).delete()
    assert _ids(await similar.find(later, POLICY)) == {planted.id}


async def test_rejected_appeals_are_left_out_closed_ones_listed(database):
    body = _text(unique("states"))
    rejected = await make_appeal("rejected", title=_title(body), body=body)
    closed = await make_appeal("closed", title=_title(body), body=_edit(body, "c"),
                               category="")
    new = await _appeal(_edit(body, "n"))
    found = {m.appeal_id: m for m in await similar.find(new, POLICY)}
    assert rejected.appeal.id not in found
    assert found[closed.appeal.id].status == "closed"


def _halfway(body: str) -> str:
    """A text whose estimated similarity to `body` is between the two thresholds."""
    low = POLICY.same_person_similarity + 0.02
    high = POLICY.min_similarity - 0.02
    for attempt in range(400):
        cut = 35 + attempt % 40
        other = body[:cut] + _text(f"{body}{attempt}", len(body) - cut)
        score = similarity.estimate(similarity.signature(_title(body), body),
                                    similarity.signature(_title(body), other))
        if low <= score <= high:
            return other
    raise AssertionError("no text halfway alike")


async def test_the_same_person_is_recognised_by_phone_at_the_lower_similarity(database):
    body = _text(unique("person"))
    phone = _phone()
    mine = await submit(title=_title(body), body=body, category="", contact_phone=phone)
    stranger = await submit(title=_title(body), body=body, category="",
                            contact_phone=_phone(), region=OTHER_CITY)
    again = await submit(title=_title(body), body=_halfway(body), category="",
                         contact_phone=phone, region=OTHER_CITY)

    found = {m.appeal_id: m for m in await similar.find(again, POLICY)}

    assert set(found) == {mine.id}
    assert found[mine.id].same_person
    assert POLICY.same_person_similarity <= found[mine.id].similarity \
        < POLICY.min_similarity
    assert stranger.id not in found  # the same text, but neither the person nor the city
    # Not the same person: the lower threshold does not apply.
    again.phone_key = ""
    assert await similar.find(again, POLICY) == []


async def test_the_same_resident_account_is_the_same_person(database):
    from tests.factories import make_resident

    resident = await make_resident()
    body = _text(unique("account"))
    mine = await _appeal(body, resident=resident)
    again = await _appeal(_halfway(body), resident=resident)
    found = await similar.find(again, POLICY)
    assert [(m.appeal_id, m.same_person) for m in found] == [(mine.id, True)]


async def test_area_of_a_county_is_its_city_and_neighbours_are_the_city_s_regions(database):
    ids = dict(await Region.all().values_list("code", "id"))
    assert await similar.area_of(ids[COUNTY]) == ids[CITY]
    assert await similar.area_of(ids[CITY]) == ids[CITY]
    assert await similar.area_of(ids["990000"]) == ids["990000"]
    near = await similar.neighbours(ids[COUNTY])
    assert {ids[CITY], ids[COUNTY], ids[OTHER_COUNTY]} <= set(near)
    assert ids[OTHER_CITY] not in near and ids["990000"] not in near


async def test_the_sketch_is_written_with_the_appeal(database):
    appeal = await _appeal(_text(unique("rows")))
    sketch = await AppealSketch.get(appeal_id=appeal.id)
    assert (sketch.region_id, sketch.submitted_at) == (appeal.region_id, appeal.submitted_at)
    values = similarity.signature(appeal.title, appeal.body)
    assert bytes(sketch.signature) == similarity.to_bytes(values)
    keys = await AppealBand.filter(appeal_id=appeal.id).values_list("key", flat=True)
    area = await similar.area_of(appeal.region_id)
    assert sorted(keys) == sorted(similarity.band_keys(values, area))


async def test_a_failed_submission_leaves_no_sketch(database, rules, monkeypatch):
    before = (await AppealSketch.all().count(), await AppealBand.all().count())
    title, _ = await submit_with_a_broken_receipt(rules, monkeypatch)
    assert not await Appeal.filter(title=title).exists()
    assert (await AppealSketch.all().count(), await AppealBand.all().count()) == before


async def test_prune_removes_what_is_older_than_the_window(database):
    old = await _appeal(_text(unique("prune")), at=now_utc() - timedelta(days=200))
    recent = await _appeal(_text(unique("keep")))
    removed = await similar.prune(now_utc() - timedelta(days=150))
    assert removed >= 1
    assert not await AppealSketch.filter(appeal_id=old.id).exists()
    assert not await AppealBand.filter(appeal_id=old.id).exists()
    assert await AppealSketch.filter(appeal_id=recent.id).exists()
    assert await AppealBand.filter(appeal_id=recent.id).count() == similarity.BANDS
    assert not await AppealSketch.filter(submitted_at__lt=now_utc() - timedelta(days=150)) \
        .exists()


async def test_reindex_rebuilds_missing_and_stale_rows_once(database, monkeypatch):
    body = _text(unique("reindex"))
    lost = await _appeal(body, at=now_utc() - timedelta(days=3))
    stale = await _appeal(_edit(body, "s"), at=now_utc() - timedelta(days=2))
    await AppealBand.filter(appeal_id=lost.id).delete()
    await AppealSketch.filter(appeal_id=lost.id).delete()
    await AppealBand.filter(appeal_id=stale.id).update(key=1)
    monkeypatch.setattr(similar, "BATCH", 2)  # several batches

    since = now_utc() - timedelta(days=4)
    count = await similar.reindex(since)
    assert count == await Appeal.filter(submitted_at__gte=since).count()
    again = await similar.reindex(since)  # idempotent
    assert again == count

    for appeal in (lost, stale):
        assert await AppealSketch.filter(appeal_id=appeal.id).count() == 1
        keys = await AppealBand.filter(appeal_id=appeal.id).values_list("key", flat=True)
        values = similarity.signature(appeal.title, appeal.body)
        assert sorted(keys) == sorted(similarity.band_keys(
            values, await similar.area_of(appeal.region_id)))
    new = await _appeal(_edit(body, "n"))
    assert {lost.id, stale.id} <= _ids(await similar.find(new, POLICY))


async def test_among_limits_the_matches_before_the_limit(database):
    body = _text(unique("among"))
    planted = [await _appeal(_edit(body, str(n))) for n in range(3)]
    new = await _appeal(_edit(body, "new"))
    everyone = await similar.find(new, POLICY)
    assert _ids(everyone) == {a.id for a in planted}
    one = await similar.find(new, POLICY, limit=1,
                             among=Appeal.filter(id=planted[0].id))
    assert _ids(one) == {planted[0].id}
    assert len(await similar.find(new, POLICY, limit=2)) == 2


async def test_the_worker_prunes_sketches_older_than_the_window(database, rules):
    from app.notify.worker import OutboxWorker
    from app.worker import SIMILAR_PRUNE_SECONDS, periodic_jobs, run_worker
    from tests.conftest import test_settings

    window = rules.routing.similar.window_days
    old = await _appeal(_text(unique("worker")), at=now_utc() - timedelta(days=window + 2))
    kept = await _appeal(_text(unique("kept")), at=now_utc() - timedelta(days=window - 1))
    settings = test_settings(database)
    jobs = periodic_jobs(settings, rules)
    assert SIMILAR_PRUNE_SECONDS in [interval for interval, _ in jobs]
    await run_worker(settings, asyncio.Event(), jobs, once=True,
                     outbox=OutboxWorker(settings, only_ids=[]))
    assert not await AppealSketch.filter(appeal_id=old.id).exists()
    assert await AppealSketch.filter(appeal_id=kept.id).exists()


async def test_the_reindex_command(database):
    from tests.integration.test_cli_database import minsheng

    appeal = await _appeal(_text(unique("cli")), at=now_utc() - timedelta(days=2))
    await AppealBand.filter(appeal_id=appeal.id).delete()
    await AppealSketch.filter(appeal_id=appeal.id).delete()
    done = await asyncio.to_thread(minsheng, database, "similar", "reindex", "--days", "3")
    assert done.returncode == 0, done.stderr
    assert "已重建最近 3 天" in done.stdout
    assert await AppealSketch.filter(appeal_id=appeal.id).exists()
    assert await AppealBand.filter(appeal_id=appeal.id).count() == similarity.BANDS
    refused = await asyncio.to_thread(minsheng, database, "similar", "reindex", "--days", "0")
    assert refused.returncode == 2 and "天数应为" in refused.stderr


# --- 疑似重复 marks (similar.mark_pending) --------------------------------------------------

async def _mark(*appeals: Appeal) -> dict[int, Appeal]:
    await similar.mark_pending(POLICY, only=[a.id for a in appeals])
    return {a.id: a for a in await Appeal.filter(id__in=[a.id for a in appeals])}


async def test_each_new_appeal_is_marked_with_its_most_similar_earlier_appeal(database):
    body = _text(unique("mark"))
    first = await _appeal(body)
    dup = await _appeal(_edit(body, "m"))
    unrelated = await _appeal(_text(unique("alone")))
    copied = _edit(body, "copy", changes=3)
    report = await _appeal(copied, type="report", named_unit="990100-zhujian")
    later = await _appeal(copied)  # the report is its exact twin, yet never its mark
    phone = _phone()
    mine = await _appeal(_text(unique("mine")), contact_phone=phone)
    again = await _appeal(_edit(mine.body, "again"),
                          contact_phone=phone)
    ids = [a.id for a in (first, dup, unrelated, report, later, mine, again)]
    assert await SimilarPending.filter(appeal_id__in=ids).count() == len(ids)

    marked = await _mark(first, dup, unrelated, report, later, mine, again)

    assert not await SimilarPending.filter(appeal_id__in=ids).exists()
    best = await similar.earlier_match(marked[dup.id], POLICY)
    assert marked[dup.id].similar_to_id == first.id == best.appeal_id
    assert marked[dup.id].similar_score == best.similarity >= POLICY.min_similarity
    assert not marked[dup.id].similar_same_person
    assert marked[later.id].similar_to_id in {first.id, dup.id}
    for alone in (first, unrelated, report, mine):
        assert marked[alone.id].similar_to_id is None, alone.title
        assert marked[alone.id].similar_score is None
    assert marked[again.id].similar_to_id == mine.id and marked[again.id].similar_same_person
    # Marked once: a second pass finds nothing queued and changes nothing.
    assert await similar.mark_pending(POLICY, only=ids) == 0


async def test_workers_marking_at_once_take_each_appeal_once(database):
    body = _text(unique("race"))
    appeals = [await _appeal(body)] + [await _appeal(_edit(body, str(n))) for n in range(7)]
    ids = [a.id for a in appeals]
    done = await asyncio.gather(*(similar.mark_pending(POLICY, only=ids, limit=3)
                                  for _ in range(4)))
    while sum(done) < len(ids):  # SQLite runs them one after another, three at a time
        more = await similar.mark_pending(POLICY, only=ids, limit=3)
        assert more, done
        done.append(more)
    assert sum(done) == len(ids)
    marks = dict(await Appeal.filter(id__in=ids).values_list("id", "similar_to_id"))
    assert marks[ids[0]] is None
    assert all(marks[i] is not None and marks[i] < i for i in ids[1:])


async def test_the_worker_marks_new_appeals(database, rules):
    from app.notify.worker import OutboxWorker
    from app.worker import POLL_SECONDS, SIMILAR_MARK_SECONDS, periodic_jobs, run_worker
    from tests.conftest import test_settings

    settings = test_settings(database)
    jobs = periodic_jobs(settings, rules)
    assert SIMILAR_MARK_SECONDS <= POLL_SECONDS
    body = _text(unique("job"))
    first, dup = await _appeal(body), await _appeal(_edit(body, "job"))
    # What earlier tests queued would come first (oldest first): those tests are over.
    await SimilarPending.filter(appeal_id__lt=first.id).delete()
    await run_worker(settings, asyncio.Event(), jobs, once=True,
                     outbox=OutboxWorker(settings, only_ids=[]))
    assert not await SimilarPending.filter(appeal_id__in=[first.id, dup.id]).exists()
    assert (await Appeal.get(id=dup.id)).similar_to_id == first.id


async def test_the_mark_command_queues_the_window_s_unmarked_appeals(database):
    from tests.integration.test_cli_database import minsheng

    body = _text(unique("queue-cli"))
    first, dup = await _appeal(body), await _appeal(_edit(body, "cli"))
    report = await _appeal(_edit(body, "rep"), type="report", named_unit="990100-zhujian")
    old = await _appeal(_edit(body, "old"), at=now_utc() - timedelta(days=5))
    ids = [first.id, dup.id, report.id, old.id]
    await SimilarPending.filter(appeal_id__in=ids).delete()  # as if stored before 0024
    done = await asyncio.to_thread(minsheng, database, "similar", "mark", "--days", "2")
    assert done.returncode == 0, done.stderr
    assert "已将最近 2 天" in done.stdout
    queued = set(await SimilarPending.filter(appeal_id__in=ids)
                 .values_list("appeal_id", flat=True))
    assert queued == {first.id, dup.id}  # not the report, not the older one
    again = await asyncio.to_thread(minsheng, database, "similar", "mark", "--days", "2")
    assert again.returncode == 0
    assert await SimilarPending.filter(appeal_id__in=ids).count() == 2
    await similar.mark_pending(POLICY, only=ids)
    assert (await Appeal.get(id=dup.id)).similar_to_id == first.id
