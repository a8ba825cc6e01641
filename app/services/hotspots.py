"""Hotspots (/staff/hotspots) and the 未诉先办 notice: groups of appeals in one region about one
topic over the last 7 and 30 days, built from the text (app.domain.hotspots says how).

A build reads the appeals of the last 60 days once (never reports: a 举报's content could
expose the reporter), clusters each region's appeals of each period, and keeps what it found:
- count: the cluster's appeals; previous: appeals of the period before (same length, same
  region) at least as similar to the cluster's centroid as its least typical tenth of members;
- people: distinct residents (one account, or one contact phone, is one person; an appeal with
  neither is a person of its own). An appeal merged into another (并单) still counts as its
  own appeal and its own resident: each of them wrote;
- rated / unsatisfied: appeals rated, and rated 不满意; departments: those holding members;
- heat: app.domain.hotspots.heat.
Hotspots are kept across builds: a new cluster takes over the hotspot of the same period and
region with which it shares at least MATCH_SHARE of the smaller one's members (ended ones of
the last period too), so it keeps its id, first_seen_at and notified_at; a hotspot no longer
found becomes inactive. A hotspot whose heat reaches notify_heat queues one notice to the
dispatchers and inspectors: notified_at is set by a conditional UPDATE … WHERE notified_at IS
NULL in the transaction that queues the mail (each copy with a dedupe key as well), and a
topic already notified in the other period is marked without a second mail.

Builds write under a lock (the row `hotspots` of sweep_mark, FOR UPDATE on PostgreSQL;
SQLite serialises writers), so two at once write one after the other and the second finds the
first's hotspots. The worker's job also claims each slot of every_minutes, so several workers
compute once per slot.
"""

# The SQL below is text of our own: every outside value is a bound parameter.
# ruff: noqa: S608
from __future__ import annotations

import os
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio.to_thread
import numpy as np
from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app.domain import hotspots as topics
from app.domain.masking import mask_free_text
from app.domain.types import Role
from app.models import Account, Department, Hotspot, HotspotMember, Region, SweepMark
from app.notify import notices
from app.notify.outbox import db_time, placeholders
from classifier.tokenize import STOP_WORDS, is_meaningful, normalize, tokenize

PERIODS = (7, 30)
MATCH_SHARE = 0.5
TYPICAL = 10  # percentile of members' similarity to the centroid that admits a previous one
WORDS = 8
TITLE_SAMPLE = 30  # titles cut with jieba per hotspot, for its words
LABEL_WORDS = 3
LOCK = "hotspots"
SLOT = "hotspots:"
CHUNK = 500
STOP = topics.stop_bigrams(STOP_WORDS)  # never a hotspot's top word
THREADS = max(1, min(4, os.cpu_count() or 1))


@dataclass
class Found:
    """One cluster of one build, before it is matched to a kept hotspot."""

    period: int
    region_id: int
    members: list[int]
    words: list[str]
    representative_id: int
    count: int
    previous: int
    people: int
    rated: int
    unsatisfied: int
    departments: list[int]  # by how many members they hold, most first
    heat: float

    @property
    def label(self) -> str:
        return "·".join(self.words[:LABEL_WORDS])[:100] or "（无关键词）"


@dataclass
class BuildResult:
    appeals: int = 0  # read (both periods and those before them)
    found: dict[int, int] = field(default_factory=dict)  # period -> hotspots
    new: int = 0
    kept: int = 0
    ended: int = 0
    notified: int = 0  # hotspots whose notice was queued by this build
    notices: int = 0  # mails queued
    seconds: float = 0.0
    skipped: bool = False  # the worker's slot was already taken


# --- reading -----------------------------------------------------------------------------

@dataclass
class Appeals:
    ids: np.ndarray
    regions: np.ndarray
    times: np.ndarray  # seconds since the epoch
    residents: list[str]  # who wrote, as a key: "r<account>", "p<phone key>" or ""
    phones: list[str]
    departments: list[int | None]
    ratings: list[str]
    titles: list[str] = field(default_factory=list)


def _seconds(value: Any) -> float:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


async def _read(start: datetime, end: datetime) -> tuple[Appeals, list[str]]:
    conn = connections.get("default")
    grams = "a.search_grams::text" if conn.capabilities.dialect == "postgres" else \
        "a.search_grams"
    marks = placeholders(conn, 2)
    rows = await conn.execute_query_dict(
        f"SELECT a.id, a.region_id, a.submitted_at, a.title, {grams} AS grams, a.phone_key, "
        "a.resident_id, a.department_id, a.rating FROM appeal a "
        f"WHERE a.submitted_at >= {marks[0]} AND a.submitted_at < {marks[1]} "
        "AND a.type <> 'report' ORDER BY a.id", [db_time(conn, start), db_time(conn, end)])
    documents = [topics.document(r["title"], "", (r["grams"] or "").replace("'", ""))
                 for r in rows]
    found = Appeals(
        ids=np.array([r["id"] for r in rows], dtype=np.int64),
        regions=np.array([r["region_id"] for r in rows], dtype=np.int64),
        times=np.array([_seconds(r["submitted_at"]) for r in rows], dtype=np.float64),
        residents=[f"r{r['resident_id']}" if r["resident_id"] else "" for r in rows],
        phones=[r["phone_key"] or "" for r in rows],
        departments=[r["department_id"] for r in rows],
        ratings=[r["rating"] or "" for r in rows],
        titles=[r["title"] or "" for r in rows])
    return found, documents


# --- computing ---------------------------------------------------------------------------

def people(appeals: Appeals, rows: np.ndarray) -> int:
    """Distinct residents among `rows`: appeals sharing an account or a phone are one."""
    parent = {int(i): int(i) for i in rows}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    seen: dict[str, int] = {}
    for i in rows:
        i = int(i)
        for key in (appeals.residents[i], "p" + appeals.phones[i] if appeals.phones[i] else ""):
            if not key:
                continue
            if key in seen:
                parent[root(i)] = root(seen[key])
            else:
                seen[key] = i
    return len({root(int(i)) for i in rows})


def _clusters(appeals: Appeals, corpus: topics.Corpus, now: float, period: int,
              min_size: int) -> list[Found]:
    span = period * 86400
    current = (appeals.times >= now - span) & (appeals.times < now)
    before = (appeals.times >= now - 2 * span) & (appeals.times < now - span)

    def region_clusters(region: int) -> list[Found]:
        rows = np.flatnonzero(current & (appeals.regions == region))
        labels = topics.cluster_matrix(corpus.matrix[rows], min_size)
        earlier = corpus.matrix[np.flatnonzero(before & (appeals.regions == region))]
        return [_describe(appeals, corpus, earlier, period, int(region), rows[labels == label])
                for label in np.unique(labels[labels >= 0])]

    # The sparse products release the GIL: the regions go on the machine's cores.
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        found = pool.map(region_clusters, np.unique(appeals.regions[current]).tolist())
        return [cluster for clusters in found for cluster in clusters]


def _describe(appeals: Appeals, corpus: topics.Corpus, earlier, period: int, region: int,
              rows: np.ndarray) -> Found:
    centre = topics.centroid(corpus.matrix, rows)
    similarity = corpus.matrix[rows] @ centre
    floor = float(np.percentile(similarity, TYPICAL))
    previous = int(np.count_nonzero(earlier @ centre >= floor)) if earlier.shape[0] else 0
    ratings = [appeals.ratings[i] for i in rows]
    rated = sum(1 for r in ratings if r)
    unsatisfied = ratings.count("unsatisfied")
    held = Counter(appeals.departments[i] for i in rows if appeals.departments[i] is not None)
    count, who = len(rows), people(appeals, rows)
    return Found(period, region, sorted(int(appeals.ids[i]) for i in rows),
                 _words(appeals, rows, centre, corpus),
                 int(appeals.ids[rows[int(np.argmax(similarity))]]), count, previous, who,
                 rated, unsatisfied, [d for d, _ in held.most_common()],
                 topics.heat(who, count, previous, rated, unsatisfied))


def _words(appeals: Appeals, rows: np.ndarray, centre: np.ndarray,
           corpus: topics.Corpus) -> list[str]:
    """The hotspot's top words as a reader says them: jieba's words of (a sample of) its
    titles that several of them share, heaviest first by the centroid weight of the word's
    bigrams; the centroid's bigram phrases when the titles share none."""
    heavy = {str(corpus.vocabulary[i]): float(centre[i]) for i in np.flatnonzero(centre)}
    titles = [appeals.titles[i] for i in rows[:TITLE_SAMPLE]] if appeals.titles else []
    held: Counter[str] = Counter()
    for title in titles:
        held.update({w for w in tokenize(normalize(title)) if len(w) >= 2 and is_meaningful(w)})
    needed = max(2, len(titles) // 4)
    scored = []
    for word, count in held.items():
        weight = sum(heavy.get(word[i:i + 2], 0.0) for i in range(len(word) - 1))
        if count >= needed and weight > 0:
            scored.append((count * weight, word))
    words = [w for _, w in sorted(scored, reverse=True)[:WORDS]]
    return words or topics.top_words(centre, corpus.vocabulary, WORDS, STOP)


def compute(appeals: Appeals, documents: list[str], now: datetime,
            min_size: int) -> dict[int, list[Found]]:
    """Every period's clusters (CPU only: run off the event loop)."""
    if not len(documents):
        return {p: [] for p in PERIODS}
    corpus = topics.vectorize(documents)
    return {p: _clusters(appeals, corpus, now.timestamp(), p, min_size) for p in PERIODS}


# --- keeping -----------------------------------------------------------------------------

async def _lock() -> None:
    """Taken inside the build's transaction: the second build waits for the first's commit."""
    try:
        async with in_transaction():
            await SweepMark.create(key=LOCK, at=datetime.now(UTC))
    except IntegrityError:
        pass


async def _kept(period: int, now: datetime) -> tuple[dict[int, Hotspot], dict[int, set[int]]]:
    """The hotspots a new cluster may continue: active ones, and those ended within the
    period; with their members."""
    since = now - timedelta(days=period)
    rows = await Hotspot.filter(period_days=period, computed_at__gte=since)
    rows += await Hotspot.filter(period_days=period, active=True, computed_at__lt=since)
    members: dict[int, set[int]] = {row.id: set() for row in rows}
    ids = list(members)
    for start in range(0, len(ids), CHUNK):
        for hotspot, appeal in await HotspotMember.filter(
                hotspot_id__in=ids[start:start + CHUNK]).values_list("hotspot_id", "appeal_id"):
            members[hotspot].add(appeal)
    return {row.id: row for row in rows}, members


def match(found: list[Found], kept: dict[int, Hotspot],
          members: dict[int, set[int]]) -> dict[int, int]:
    """index in `found` -> id of the kept hotspot it continues (greedy by shared share)."""
    owner = {a: h for h, appeals in members.items() for a in appeals}
    pairs = []
    for index, cluster in enumerate(found):
        shared = Counter(owner[a] for a in cluster.members if a in owner)
        for hotspot, overlap in shared.items():
            if kept[hotspot].region_id != cluster.region_id:
                continue
            share = overlap / min(len(cluster.members), len(members[hotspot]))
            if share >= MATCH_SHARE:
                pairs.append((share, overlap, index, hotspot))
    taken, used = {}, set()
    for _, _, index, hotspot in sorted(pairs, reverse=True):
        if index not in taken and hotspot not in used:
            taken[index] = hotspot
            used.add(hotspot)
    return taken


def _fields(cluster: Found, titles: dict[int, str], departments: dict[int, str],
            now: datetime) -> dict[str, Any]:
    return {
        "label": cluster.label, "words": cluster.words,
        "title": mask_free_text(titles.get(cluster.representative_id, ""))[:100],
        "representative_id": cluster.representative_id, "appeal_count": cluster.count,
        "previous_count": cluster.previous, "people": cluster.people, "rated": cluster.rated,
        "unsatisfied": cluster.unsatisfied,
        "departments": [departments.get(d, "") for d in cluster.departments if d in departments],
        "heat": cluster.heat, "computed_at": now, "active": True,
    }


async def _members(pairs: list[tuple[int, int]]) -> None:
    conn = connections.get("default")
    for start in range(0, len(pairs), CHUNK):
        part = pairs[start:start + CHUNK]
        marks = placeholders(conn, 2 * len(part))
        values = ", ".join(f"({marks[2 * i]}, {marks[2 * i + 1]})" for i in range(len(part)))
        await conn.execute_query(
            f"INSERT INTO hotspot_member (hotspot_id, appeal_id) VALUES {values}",
            [v for pair in part for v in pair])


async def _keep(period: int, found: list[Found], now: datetime, titles: dict[int, str],
                departments: dict[int, str], result: BuildResult) -> list[tuple[Hotspot, Found]]:
    kept, members = await _kept(period, now)
    matched = match(found, kept, members)
    live = []
    for index, cluster in enumerate(found):
        values = _fields(cluster, titles, departments, now)
        if index in matched:
            hotspot = kept[matched[index]]
            hotspot.update_from_dict(values)
            await hotspot.save()
            result.kept += 1
        else:
            hotspot = await Hotspot.create(period_days=period, region_id=cluster.region_id,
                                           first_seen_at=now, **values)
            result.new += 1
        live.append((hotspot, cluster))
    ended = [h for h, row in kept.items() if row.active and h not in matched.values()]
    if ended:
        result.ended += await Hotspot.filter(id__in=ended).update(active=False, computed_at=now)
    renewed = [h.id for h, _ in live if h.id in kept]
    for start in range(0, len(renewed), CHUNK):
        await HotspotMember.filter(hotspot_id__in=renewed[start:start + CHUNK]).delete()
    await _members([(h.id, a) for h, c in live for a in c.members])
    return live


# --- the notice --------------------------------------------------------------------------

async def _recipients() -> list[Account]:
    return await Account.filter(role__in=[Role.DISPATCHER.value, Role.INSPECTOR.value],
                                is_active=True).exclude(email=None)


def _covered(cluster: Found, notified: list[set[int]]) -> bool:
    """The topic was notified already in the other period (half of the smaller one shared)."""
    mine = set(cluster.members)
    return any(len(mine & other) >= MATCH_SHARE * min(len(mine), len(other))
               for other in notified)


async def _notify(live: dict[int, list[tuple[Hotspot, Found]]], threshold: float,
                  regions: dict[int, str], now: datetime, result: BuildResult) -> None:
    people = None
    notified: dict[int, list[set[int]]] = {p: [] for p in PERIODS}
    for period in PERIODS:
        for hotspot, cluster in live[period]:
            if hotspot.notified_at is not None:
                notified[period].append(set(cluster.members))
    for period in PERIODS:
        others = [m for p, found in notified.items() if p != period for m in found]
        for hotspot, cluster in sorted(live[period], key=lambda pair: -pair[0].heat):
            if hotspot.heat < threshold or hotspot.notified_at is not None:
                continue
            claimed = await Hotspot.filter(id=hotspot.id, notified_at__isnull=True) \
                .update(notified_at=now)
            if not claimed:
                continue  # another build got there first
            hotspot.notified_at = now
            notified[period].append(set(cluster.members))
            if _covered(cluster, others):
                continue
            if people is None:
                people = await _recipients()
            result.notified += 1
            result.notices += await notices.hotspot_found(
                hotspot, regions.get(hotspot.region_id, ""), people, f"hotspot:{hotspot.id}")


# --- the build ---------------------------------------------------------------------------

async def _names(found: dict[int, list[Found]]) -> tuple[dict[int, str], dict[int, str],
                                                        dict[int, str]]:
    wanted = [c.representative_id for clusters in found.values() for c in clusters]
    titles: dict[int, str] = {}
    from app.models import Appeal

    for start in range(0, len(wanted), CHUNK):
        titles.update(await Appeal.filter(id__in=wanted[start:start + CHUNK])
                      .values_list("id", "title"))
    departments = dict(await Department.all().values_list("id", "name"))
    regions = dict(await Region.all().values_list("id", "name"))
    return titles, departments, regions


async def build(rules: Any, *, now: datetime | None = None) -> BuildResult:
    """Compute the 7- and 30-day hotspots as of `now` (default: this instant), keep them and
    queue the notices due. `rules`: the city's Rules (rules.routing.hotspots)."""
    started = time.perf_counter()
    now = (now or datetime.now(UTC)).astimezone(UTC)
    policy = rules.routing.hotspots
    result = BuildResult()
    appeals, documents = await _read(now - timedelta(days=2 * max(PERIODS)), now)
    result.appeals = len(documents)
    found = await anyio.to_thread.run_sync(compute, appeals, documents, now,
                                           policy.min_appeals)
    titles, departments, regions = await _names(found)
    await _lock()
    async with in_transaction():
        await SweepMark.filter(key=LOCK).select_for_update().first()
        await SweepMark.filter(key=LOCK).update(at=now)
        live = {}
        for period in PERIODS:
            live[period] = await _keep(period, found[period], now, titles, departments, result)
            result.found[period] = len(found[period])
        await _notify(live, policy.notify_heat, regions, now, result)
    result.seconds = time.perf_counter() - started
    return result


async def scheduled(rules: Any, now: datetime | None = None) -> BuildResult | None:
    """The worker's job: build once per slot of every_minutes, whichever worker claims it
    first (None: off, or the slot was taken)."""
    minutes = rules.routing.hotspots.every_minutes
    if minutes <= 0:
        return None
    now = now or datetime.now(UTC)
    slot = int(now.timestamp() // (minutes * 60))
    try:
        async with in_transaction():
            await SweepMark.create(key=f"{SLOT}{minutes}:{slot}", at=now)
            await SweepMark.filter(key__startswith=SLOT, at__lt=now - timedelta(days=2)).delete()
    except IntegrityError:
        return None
    return await build(rules, now=now)


# --- reading for the pages ---------------------------------------------------------------

async def last_built() -> datetime | None:
    mark = await SweepMark.get_or_none(key=LOCK)
    return mark.at if mark is not None and await Hotspot.exists() else None


async def merged_counts(ids: list[int]) -> dict[int, int]:
    """Members merged into another appeal (并单), per hotspot."""
    if not ids:
        return {}
    conn = connections.get("default")
    marks = placeholders(conn, len(ids))
    rows = await conn.execute_query_dict(
        "SELECT m.hotspot_id AS h, COUNT(*) AS n FROM hotspot_member m JOIN appeal a "
        f"ON a.id = m.appeal_id WHERE m.hotspot_id IN ({', '.join(marks)}) "
        "AND a.merged_into_id IS NOT NULL GROUP BY m.hotspot_id", ids)
    return {int(r["h"]): int(r["n"]) for r in rows}
