"""Similar appeals (并单, issue 15): the open and recently closed appeals that say the same
thing as one appeal, found at once, by MinHash and LSH bands (app.domain.similarity).

Index. Every appeal gets a sketch row (its signature, region and submission time) and one
band row per LSH band, written in the same transaction as the appeal (app.services.intake);
the signature is computed before that transaction. The rows are pruned once they are older
than the window (`prune`, a worker job) and can be rebuilt from the appeals' text at any
time (`reindex`, `minsheng similar reindex`).

Neighbours. An appeal's area is the city-level region it belongs to (a county's city; a city
or a province is its own area). Its neighbours are the regions of the same area: itself, its
city and the city's other counties. A county beside a county of another city is not taken as
a neighbour: appeals are handled city by city, and the band keys carry the area, so one query
per appeal stays within one city's rows.

Marks (`mark_pending`). Each new appeal is queued (similar_pending, with the appeal); the
worker compares a batch of them with the index shortly after, and stores on each the most
similar earlier appeal that is not a report (疑似重复 on the lists): the search's cost stays
out of the submission, whose rate would otherwise be bounded by it. A report is never
marked: the mark would link its writer to another appeal.

Search (`find`). One query: the appeals sharing a band key with the appeal's own signature
(computed from its text, so an appeal without a sketch row is searched too), each key's
newest PER_KEY rows; and the same person's appeals (same phone, or same resident account)
of the window, wherever they are. Both joined to the sketches (neighbouring region, within
the window) and the appeals (not rejected, not the appeal itself), the best CANDIDATES of
them by shared bands. Their signatures are then compared with the appeal's at once (numpy),
and those at least min_similarity alike (same_person_similarity for the same person) are
the matches, most similar first.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from tortoise import connections
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from app.domain import similarity
from app.domain.rules import SimilarPolicy
from app.domain.states import AWAITING_RATING, OPEN, Status
from app.domain.types import AppealType
from app.models import Appeal, AppealBand, AppealSketch, Region, SimilarPending
from app.models.rows import new_row
from app.services.detectors import Sql
from app.services.workflow import now_utc

# Rows read per band key (the newest), and candidates judged per search: a phrase common to
# thousands of appeals of a city costs PER_KEY rows, never thousands.
PER_KEY = 100
CANDIDATES = 200
# The same person's appeals read per contact (phone, account), newest first.
PER_PERSON = 50
BATCH = 500
# Appeals marked per transaction (about 15 ms of search each at a million appeals).
MARK_BATCH = 100
# Statuses a match may have: open, awaiting the resident's rating, or closed (within the
# window, as every sketch is). Rejected appeals are never shown.
LISTED = tuple(sorted(s.value for s in OPEN | AWAITING_RATING | {Status.CLOSED}))


@dataclass(frozen=True)
class Match:
    appeal_id: int
    tracking_number: str
    title: str
    status: str
    type: str
    department_id: int | None
    region_id: int
    submitted_at: datetime
    similarity: float
    same_person: bool


@dataclass(frozen=True)
class Sketch:
    """What the index holds for one appeal's text in one area."""

    signature: bytes
    keys: tuple[int, ...]


# --- Areas -------------------------------------------------------------------------------

class _Areas:
    """Each region's area (its city-level ancestor), and each area's regions. The region
    table is small and changes only when the rules are loaded; an unknown id reloads it."""

    def __init__(self) -> None:
        self.area: dict[int, int] = {}
        self.members: dict[int, tuple[int, ...]] = {}

    async def refresh(self) -> None:
        rows = await Region.all().values_list("id", "level", "parent_id")
        level = {ident: kind for ident, kind, _ in rows}
        parent = {ident: up for ident, _, up in rows}
        area: dict[int, int] = {}
        for ident in level:
            area[ident] = _area(ident, level, parent)
        members: dict[int, list[int]] = {}
        for ident, top in area.items():
            members.setdefault(top, []).append(ident)
        self.area = area
        self.members = {top: tuple(sorted(ids)) for top, ids in members.items()}

    async def of(self, region_id: int) -> int:
        if region_id not in self.area:
            await self.refresh()
        return self.area.get(region_id, region_id)


def _area(ident: int, level: dict[int, str], parent: dict[int, int | None]) -> int:
    """The first city on the way up; none (a province, or a county right under one): the
    region itself."""
    seen, current = set(), ident
    while current is not None and current not in seen:
        if level.get(current) == "city":
            return current
        seen.add(current)
        current = parent.get(current)
    return ident


_areas: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # database client → areas


def _cache() -> _Areas:
    conn = connections.get("default")
    found = _areas.get(conn)
    if found is None:
        found = _areas[conn] = _Areas()
    return found


async def area_of(region_id: int) -> int:
    """The city-level ancestor of a region: a county's city; a city or a province itself."""
    return await _cache().of(region_id)


async def neighbours(region_id: int) -> tuple[int, ...]:
    """The regions whose appeals are compared with this region's: those of the same area."""
    cache = _cache()
    area = await cache.of(region_id)
    return cache.members.get(area, (region_id,))


# --- Index -------------------------------------------------------------------------------

def sketch_of_text(title: str, body: str, area: int) -> Sketch:
    values = similarity.signature(title, body)
    return Sketch(similarity.to_bytes(values), tuple(similarity.band_keys(values, area)))


async def sketch_of(title: str, body: str, region_id: int) -> Sketch:
    """The index rows' content for a new appeal: computed before its transaction."""
    return sketch_of_text(title, body, await area_of(region_id))


def sketch_row(sketch: Sketch, appeal: Appeal) -> dict:
    """Column → value of the appeal's sketch row, but appeal_id."""
    row = new_row(AppealSketch, appeal_id=0, region_id=appeal.region_id,
                  submitted_at=appeal.submitted_at, signature=sketch.signature)
    del row["appeal_id"]
    return row


async def insert(sketch: Sketch, appeal: Appeal) -> None:
    """Write the saved appeal's sketch and band rows (inside the caller's transaction)."""
    await AppealSketch.create(appeal_id=appeal.id, region_id=appeal.region_id,
                              submitted_at=appeal.submitted_at, signature=sketch.signature)
    await AppealBand.bulk_create([AppealBand(key=key, appeal_id=appeal.id)
                                  for key in sketch.keys])
    await SimilarPending.create(appeal_id=appeal.id)


async def prune(before: datetime) -> int:
    """Delete the sketches and bands of appeals submitted before `before`, a batch at a
    time; the number of sketches deleted."""
    deleted = 0
    while True:
        ids = await AppealSketch.filter(submitted_at__lt=before).order_by("submitted_at") \
            .limit(BATCH).values_list("appeal_id", flat=True)
        if not ids:
            return deleted
        async with in_transaction():
            await AppealBand.filter(appeal_id__in=ids).delete()
            deleted += await AppealSketch.filter(appeal_id__in=ids).delete()


async def reindex(since: datetime) -> int:
    """Rebuild the sketches and bands of the appeals submitted since `since`, a batch at a
    time by id (each batch: delete its rows, then insert them anew); how many appeals."""
    done, after = 0, 0
    while True:
        rows = await Appeal.filter(submitted_at__gte=since, id__gt=after).order_by("id") \
            .limit(BATCH).values("id", "title", "body", "region_id", "submitted_at")
        if not rows:
            return done
        await _rewrite(rows)
        done += len(rows)
        after = rows[-1]["id"]


async def _rewrite(rows: list[dict]) -> None:
    sketches, bands = [], []
    for row in rows:
        sketch = sketch_of_text(row["title"], row["body"], await area_of(row["region_id"]))
        sketches.append(AppealSketch(appeal_id=row["id"], region_id=row["region_id"],
                                     submitted_at=row["submitted_at"],
                                     signature=sketch.signature))
        bands += [AppealBand(key=key, appeal_id=row["id"]) for key in sketch.keys]
    ids = [row["id"] for row in rows]
    async with in_transaction():
        await AppealBand.filter(appeal_id__in=ids).delete()
        await AppealSketch.filter(appeal_id__in=ids).delete()
        await AppealSketch.bulk_create(sketches)
        await AppealBand.bulk_create(bands, batch_size=2000)


# --- Marks -------------------------------------------------------------------------------

async def mark_pending(policy: SimilarPolicy, *, now: datetime | None = None,
                       limit: int = MARK_BATCH, only: Sequence[int] | None = None) -> int:
    """One transaction: claim a batch of queued appeals, oldest first (SKIP LOCKED, so
    workers share the queue), store each one's 疑似重复 mark, dequeue them; how many were
    compared. `only`: just these appeals (tests)."""
    async with in_transaction():
        # Built inside the transaction: a query made before it would wait for its lock.
        queued = SimilarPending.all() if only is None else \
            SimilarPending.filter(appeal_id__in=list(only))
        ids = [row.appeal_id for row in await queued.order_by("appeal_id").limit(limit)
               .select_for_update(skip_locked=True)]
        if not ids:
            return 0
        found = {appeal.id: await earlier_match(appeal, policy, now=now) for appeal in
                 await Appeal.filter(id__in=ids).exclude(type=AppealType.REPORT.value)}
        # Written after every search, so the appeals' rows are locked only for the writes.
        for appeal_id, match in found.items():
            if match is not None:
                await Appeal.filter(id=appeal_id).update(
                    similar_to_id=match.appeal_id, similar_score=match.similarity,
                    similar_same_person=match.same_person)
        await SimilarPending.filter(appeal_id__in=ids).delete()
    return len(ids)


async def queue_unmarked(since: datetime) -> int:
    """Queue for marking the indexed appeals submitted since `since` that carry no mark (not
    reports): after upgrading to migration 0024, or after the thresholds changed. A batch
    at a time by id over the index (which holds only the window), so a city's older
    appeals are never read; an appeal already queued is left as it is. How many queued."""
    queued, after = 0, 0
    while True:
        batch = await AppealSketch.filter(submitted_at__gte=since, appeal_id__gt=after) \
            .order_by("appeal_id").limit(BATCH).values_list("appeal_id", flat=True)
        if not batch:
            return queued
        after = batch[-1]
        ids = await Appeal.filter(id__in=batch, similar_to_id__isnull=True) \
            .exclude(type=AppealType.REPORT.value).values_list("id", flat=True)
        waiting = set(await SimilarPending.filter(appeal_id__in=ids)
                      .values_list("appeal_id", flat=True))
        fresh = [SimilarPending(appeal_id=i) for i in ids if i not in waiting]
        await SimilarPending.bulk_create(fresh, ignore_conflicts=True)
        queued += len(fresh)


async def earlier_match(appeal: Appeal, policy: SimilarPolicy, *,
                        now: datetime | None = None) -> Match | None:
    """The most similar appeal submitted before this one that is not a report, if any."""
    for match in await find(appeal, policy, now=now, limit=CANDIDATES):
        if match.appeal_id < appeal.id and match.type != AppealType.REPORT.value:
            return match
    return None


# --- Search ------------------------------------------------------------------------------

async def find(appeal: Appeal, policy: SimilarPolicy, *, now: datetime | None = None,
               limit: int = 20, among: QuerySet[Appeal] | None = None) -> list[Match]:
    """The appeals like `appeal` (see the module's docstring), most similar first.
    `among`: only appeals of this query (app.web.access.visible_appeals), applied before
    `limit` so that a viewer's list is full whenever there are enough they may see."""
    since = (now or now_utc()) - timedelta(days=policy.window_days)
    values = similarity.signature(appeal.title, appeal.body)
    area = await area_of(appeal.region_id)
    rows = await _candidates(appeal, similarity.band_keys(values, area),
                             await neighbours(appeal.region_id), since)
    if among is not None and rows:
        allowed = set(await among.filter(id__in=[r["id"] for r in rows])
                      .values_list("id", flat=True))
        rows = [r for r in rows if r["id"] in allowed]
    if not rows:
        return []
    scores = similarity.estimates(values, [bytes(r["signature"]) for r in rows])
    person = np.array([bool(r["person"]) for r in rows])
    floor = np.where(person, policy.same_person_similarity, policy.min_similarity)
    kept = [(float(score), row) for score, row, ok in zip(scores, rows, scores >= floor,
                                                            strict=True) if ok]
    kept.sort(key=lambda pair: (-pair[0], -pair[1]["id"]))
    return [_match(row, score) for score, row in kept[:limit]]


def _match(row: dict, score: float) -> Match:
    submitted = row["submitted_at"]
    if isinstance(submitted, str):  # SQLite hands raw SQL its text
        submitted = datetime.fromisoformat(submitted)
    return Match(appeal_id=int(row["id"]), tracking_number=row["tracking_number"],
                 title=row["title"], status=row["status"], type=row["type"],
                 department_id=row["department_id"], region_id=int(row["region_id"]),
                 submitted_at=submitted, similarity=round(score, 4),
                 same_person=bool(row["person"]))


async def _candidates(appeal: Appeal, keys: Sequence[int], regions: Sequence[int],
                      since: datetime) -> list[dict]:
    # Placeholders are taken in the order they stand in the text: SQLite's are positional.
    sql = Sql()
    select = ("SELECT a.id, a.tracking_number, a.title, a.status, a.type, a.department_id, "
              f"a.region_id, a.submitted_at, s.signature, {_same_person(sql, appeal)} AS person")
    branches = [f"SELECT appeal_id, 1 AS band FROM (SELECT appeal_id FROM appeal_band "  # noqa: S608
                f"WHERE key = {sql.param(key)} ORDER BY appeal_id DESC LIMIT {PER_KEY}) "
                f"AS k{n}" for n, key in enumerate(keys)]
    for column, value in (("phone_key", appeal.phone_key or None),
                          ("resident_id", appeal.resident_id)):
        if value is not None:
            branches.append(
                f"SELECT id AS appeal_id, 0 AS band FROM (SELECT id FROM appeal "  # noqa: S608
                f"WHERE {column} = {sql.param(value)} AND submitted_at >= {sql.param(since)} "
                f"ORDER BY submitted_at DESC, id DESC LIMIT {PER_PERSON}) AS by_{column}")
    union = " UNION ALL ".join(branches)
    tables = (f"FROM (SELECT appeal_id, SUM(band) AS hits FROM ({union}) AS u "  # noqa: S608
              "GROUP BY appeal_id) AS c "
              "JOIN appeal_sketch s ON s.appeal_id = c.appeal_id "
              "JOIN appeal a ON a.id = c.appeal_id")
    where = (f"WHERE c.appeal_id <> {sql.param(appeal.id or 0)} "
             f"AND s.submitted_at >= {sql.param(since)} "
             f"AND a.status IN ({', '.join(sql.param(status) for status in LISTED)}) "
             f"AND (s.region_id IN ({', '.join(sql.param(r) for r in regions)}) "
             f"OR {_same_person(sql, appeal)} = 1)")
    query = (f"{select} {tables} {where} "  # noqa: S608 (placeholders and constants only)
             f"ORDER BY person DESC, c.hits DESC, a.id DESC LIMIT {CANDIDATES}")
    return await connections.get("default").execute_query_dict(query, sql.params)


def _same_person(sql: Sql, appeal: Appeal) -> str:
    """SQL 1 when appeal `a` has this appeal's phone or resident account, else 0."""
    tests = []
    if appeal.phone_key:
        tests.append(f"a.phone_key = {sql.param(appeal.phone_key)}")
    if appeal.resident_id is not None:
        tests.append(f"a.resident_id = {sql.param(appeal.resident_id)}")
    if not tests:
        return "0"
    return f"(CASE WHEN {' OR '.join(tests)} THEN 1 ELSE 0 END)"
