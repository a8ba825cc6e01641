"""Similar appeals (app.services.similar.find) among 1,000,000 appeals of the last 90 days on
PostgreSQL: latency of one search for a new submission, candidates read, planted duplicates
found; and the time the signature adds to one submission.

Run by hand: .venv/bin/python tests/benchmarks/bench_similar.py [--appeals N] [--queries N]

A fresh database (bench_stats.bench_database) gets a province of CITIES cities with their
counties (the rules' two cities and four counties, plus more inserted for the benchmark;
appeals per city fall off with the city's rank, the first holds about a fifth), then N
appeals (COPY) submitted over the last 90 days with their appeal_sketch and appeal_band rows
(COPY; the band indexes built afterwards), then VACUUM ANALYZE. The texts are recombined from
phrase pools (greetings, places, problems, details, requests) so that common phrases are as
common as on a real board. Clusters of near-duplicates are planted: a base text, lightly
edited 2-8 times (characters, greeting, a number), in regions of one city. Of the --queries
new submissions (unsaved appeals, as on the intake path), two thirds are another edit of a
planted base, the rest fresh texts; a tenth carry the phone of an existing appeal. Each is
searched once after a warm-up: p50/p95/p99, candidates read (rows sharing a band key or the
person, and band-key rows before the per-key cap), and the planted members found. The
database is dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import numpy as np
from datasketch.hashfunc import sha1_hash32
from datasketch.minhash import _fmix

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app import db  # noqa: E402
from app.domain import similarity  # noqa: E402
from app.models import Appeal, SimilarPending  # noqa: E402
from app.services import similar  # noqa: E402
from tests.benchmarks.bench_search import phone_key_fast  # noqa: E402
from tests.benchmarks.bench_stats import bench_database  # noqa: E402

CITIES = 14
COUNTIES = (4, 10)  # per inserted city
WINDOW = 90
COLUMNS = ["tracking_number", "type", "title", "body", "contact_name", "contact_phone",
           "contact_email", "is_public", "status", "tracker_secret_hash", "submitted_at",
           "reply_due_at", "deadline_provisional", "sla_state", "ack_late", "extension_days",
           "extension_requested_days", "info_request", "reply_text", "rating", "updated_at",
           "department_id", "region_id", "category_id", "phone_key"]
TYPES, TYPE_WEIGHTS = ["consultation", "help", "complaint", "report", "suggestion"], \
    [25, 20, 40, 5, 10]
STATUSES, STATUS_WEIGHTS = ["assigned", "accepted", "replied", "closed"], [10, 20, 20, 50]

# --- texts -----------------------------------------------------------------------------

GREETINGS = ["尊敬的领导：您好！", "领导您好，", "您好！", "尊敬的市长：", "尊敬的书记您好！",
             "", "", "", "各位领导：", "你好，"]
SYLLABLES = list("金银华泰和顺安康乐福新城景阳光明月星海山水湖江河东南西北中兴盛隆恒瑞祥丰"
                 "春秋美丽锦绣翠竹松柏梅兰桂荷枫林")
PLACE_KINDS = ["小区", "花园", "苑", "新村", "家园", "广场", "路", "大道", "社区", "村", "镇",
               "商业街", "公寓", "国际", "城"]
WHO = ["我是{p}的居民，", "我们是{p}的业主，", "本人住在{p}，", "{p}{n}栋的住户反映：",
       "我在{p}上班，", "", "我家在{p}附近，", "我是{p}{n}组的村民，"]
PROBLEMS = [
    ("夜间施工噪音扰民", "{p}旁边的工地每天晚上施工到凌晨{h}点，噪音很大"),
    ("电梯长期故障", "{p}{n}号楼的电梯经常坏，这次已经{d}天没有修好"),
    ("物业乱收费", "物业公司每个月多收{m}元的公摊费用，也不给明细"),
    ("红绿灯损坏", "{p}路口的红绿灯坏了{d}天，上下班高峰非常危险"),
    ("垃圾站臭气熏天", "{p}门口的垃圾站很久没有清运，臭气熏天，蚊蝇很多"),
    ("拖欠工资", "{p}的建筑工地拖欠我们{n}名工人的工资共{m}元，已经{d}个月了"),
    ("餐馆油烟扰民", "楼下的餐馆把油烟管道直接排到{p}的住户窗下，家里不敢开窗"),
    ("停车位被占用", "{p}的消防通道和停车位长期被外来车辆占用"),
    ("自来水水质差", "{p}的自来水发黄有异味，已经持续{d}天"),
    ("房产证迟迟不办", "{p}交房{n}年了，开发商一直不给业主办理房产证"),
    ("学校乱收费", "{p}附近的学校要求每个学生交{m}元的资料费"),
    ("路灯不亮", "{p}的路灯坏了{d}天，晚上出行很不安全"),
    ("违章搭建", "{p}有住户在楼顶违章搭建，影响其他住户安全"),
    ("广场舞噪音", "每天晚上{p}的广场舞音响声音太大，一直跳到{h}点"),
    ("道路破损", "{p}的道路破损严重，坑洼不平，已经有人摔倒"),
    ("医保报销难", "在{p}的医院看病，医保报销要跑{n}趟，手续太麻烦"),
    ("养老金未到账", "我父亲在{p}退休，养老金已经{d}天没有到账"),
    ("公交线路取消", "{p}的{n}路公交车突然取消，居民出行很不方便"),
    ("污水直排", "{p}附近的工厂把污水直接排进河里，河水发黑发臭"),
    ("燃气管道隐患", "{p}的燃气管道老化，多次闻到燃气味，存在安全隐患"),
    ("黑车拉客", "{p}车站附近黑车拉客现象严重，价格乱收"),
    ("社保转移难", "我从外地回{p}工作，社保关系转移{d}天还没有办好"),
    ("占道经营", "{p}的商贩占道经营，早上堵得车辆无法通行"),
    ("小区绿化被毁", "{p}的绿地被物业改成停车场，树木被砍了{n}棵"),
    ("宠物扰民", "{p}有住户养了{n}条大狗，整夜叫，还不拴绳"),
    ("供暖不热", "{p}的暖气温度只有{n}度，交了供暖费却不热"),
    ("网络信号差", "{p}的手机信号很差，基站建设迟迟没有进展"),
    ("拆迁补偿不到位", "{p}拆迁已经{n}年，补偿款{m}元一直没有发放"),
    ("食品安全问题", "在{p}的超市买到过期食品，商家拒绝退换"),
    ("快递乱堆放", "{p}的快递站把包裹堆在人行道上，行人无法通过"),
]
# A detail sentence is an opening and an ending of these, with the blanks filled in.
OPENINGS = ["这个问题从{d}天前就开始了，", "我们{n}户居民联名反映过，", "上个月{n}号我打过热线电话，",
            "社区工作人员来看过一次，", "物业经理当面答应过，", "街道办说会协调，",
            "附近{w}每天都要经过这里，", "住在{n}楼的{w}说，", "我已经向{o}反映了{n}次，",
            "对方负责人姓{s}，", "{t}的时候最严重，", "据了解周边{n}个小区都有这个问题，",
            "我们拍了照片和视频，", "{o}来人看过以后，", "有位{w}上周因此受了伤，",
            "听说{o}已经立案，", "按照合同约定，", "去年{n}月也出现过同样的情况，",
            "我们交了{m}元押金，", "问了律师才知道，", "好几家商户也受到影响，",
            "孩子在{p}上学，", "我们找过开发商{n}次，", "周围邻居都很有意见，"]
ENDINGS = ["到现在还是没有结果。", "但一直没有下文。", "可是推来推去没人管。",
           "说是要等上级批复。", "一点改善都没有。", "反而越来越严重了。",
           "{w}晚上根本睡不着。", "损失已经有{m}元了。", "给出的答复根本不解决问题。",
           "让我们找{o}，{o}又让我们找回来。", "只是口头答应，不见行动。", "态度非常恶劣。",
           "说{d}天内处理，结果又拖了{d}天。", "出了事谁来负责？", "大家都很着急。",
           "这严重影响了正常的生活和工作。", "已经有{n}个人生病了。", "办事效率太低了。",
           "说这事不归他们管。", "希望尽快派人来看一看。"]
PEOPLE = ["老人", "孩子", "孕妇", "学生", "上班族", "环卫工人", "外卖骑手", "残疾人", "村民",
          "业主", "租户", "商户"]
OFFICES = ["社区", "街道办", "物业", "城管", "环保局", "住建局", "派出所", "交警大队", "人社局",
           "教育局", "卫健委", "市场监管局", "热线", "镇政府", "村委会"]
SURNAMES = list("王李张刘陈杨黄赵周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董")
TIMES = ["凌晨", "半夜", "早上七点", "中午", "傍晚", "周末", "下雨天", "节假日", "上下班高峰"]
ASKS = ["请相关部门尽快处理。", "希望领导重视，尽快解决。", "恳请政府给我们一个说法。",
        "请求有关部门依法查处。", "希望能早日解决这个问题。", "请问这种情况该怎么办？", ""]
CLOSINGS = ["谢谢！", "", "", "感谢！", "望回复。"]


class Texts:
    """Appeal texts recombined from the pools, and light edits of them."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def place(self) -> str:
        rng = self.rng
        return "".join(rng.sample(SYLLABLES, rng.choice((2, 2, 3)))) + rng.choice(PLACE_KINDS)

    def fill(self, template: str, place: str) -> str:
        rng = self.rng
        return template.format(p=place, n=rng.randint(1, 30), h=rng.randint(1, 4),
                               d=rng.randint(3, 90), m=rng.randint(2, 500) * 100,
                               w=rng.choice(PEOPLE), o=rng.choice(OFFICES),
                               s=rng.choice(SURNAMES), t=rng.choice(TIMES))

    def detail(self, place: str) -> str:
        return self.fill(self.rng.choice(OPENINGS) + self.rng.choice(ENDINGS), place)

    def new(self) -> tuple[str, str]:
        rng = self.rng
        place = self.place()
        short, problem = rng.choice(PROBLEMS)
        parts = [rng.choice(GREETINGS), self.fill(rng.choice(WHO), place),
                 self.fill(problem, place), "。"]
        if rng.random() < 0.3:
            parts += [self.fill(rng.choice(PROBLEMS)[1], place), "。"]
        parts += [self.detail(place) for _ in range(rng.randint(2, 5))]
        parts += [rng.choice(ASKS), rng.choice(CLOSINGS)]
        return (place + short)[:100], "".join(parts)

    def edit(self, title: str, body: str) -> tuple[str, str]:
        """A resident typing the same thing again: a greeting, a few characters, a number."""
        rng = self.rng
        chars = list(body)
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(chars))
            op = rng.choice("dir")
            if op == "d":
                del chars[at]
            elif op == "i":
                chars.insert(at, rng.choice(SYLLABLES))
            else:
                chars[at] = rng.choice(SYLLABLES)
        body = "".join(chars)
        if rng.random() < 0.5:
            body = rng.choice(GREETINGS) + body
        if rng.random() < 0.3:
            body = body.replace(str(rng.randint(1, 9)), str(rng.randint(1, 9)), 1)
        return title, body


# --- signatures as app.domain.similarity computes them, faster for a million -------------

class FastSketch:
    """similarity.signature for many texts at once (checked against it): each shingle is a
    number made of its characters' code points, each distinct one hashed once, and the
    minimum taken over all texts' shingles in one numpy pass. (A shingle seen twice in a
    text changes no minimum.) One by one, a million signatures would take most of the set-up.
    """

    def __init__(self):
        a, b = similarity._permutations()
        self.a, self.b = a.reshape(-1, 1), b.reshape(-1, 1)
        self.hashes: dict[int, int] = {}

    def _hash(self, ident: int) -> int:
        k = similarity.SHINGLE
        gram = "".join(chr((ident >> (21 * (k - 1 - j))) & 0x1FFFFF) for j in range(k))
        return sha1_hash32(gram.encode())

    def signatures(self, texts: list[tuple[str, str]]) -> np.ndarray:
        """One row of NUM_PERM uint32 values per (title, body) of more than SHINGLE
        characters once normalised."""
        k = similarity.SHINGLE
        normal = [similarity.normalise(title, body) for title, body in texts]
        assert all(len(t) > k for t in normal)
        codes = np.frombuffer("".join(normal).encode("utf-32-le"), dtype=np.uint32) \
            .astype(np.int64)
        lengths = np.array([len(t) for t in normal])
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        counts = lengths - k + 1
        # The start of every shingle that stays inside its text.
        starts = np.repeat(offsets - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts) \
            + np.arange(counts.sum())
        ids = np.zeros(len(starts), dtype=np.int64)
        for j in range(k):
            ids = (ids << 21) | codes[starts + j]
        unique, inverse = np.unique(ids, return_inverse=True)
        cache = self.hashes
        values = np.empty(len(unique), dtype=np.uint32)
        for n, ident in enumerate(unique.tolist()):
            value = cache.get(ident)
            if value is None:
                value = cache[ident] = self._hash(ident)
            values[n] = value
        hv = _fmix(values[inverse].reshape(1, -1), 32)
        segments = np.concatenate([[0], np.cumsum(counts)[:-1]])
        return np.minimum.reduceat(self.a * hv + self.b, segments, axis=1).T \
            .astype(np.uint32)

    def signature(self, title: str, body: str) -> np.ndarray:
        return self.signatures([(title, body)])[0]


# --- regions -------------------------------------------------------------------------------

async def region_tree(conn, rng: random.Random) -> dict[int, list[int]]:
    """Add cities and counties under the province: area (city id) → its regions' ids."""
    rows = await conn.fetch("SELECT id, code, level, parent_id FROM region ORDER BY id")
    province = next(r["id"] for r in rows if r["level"] == "province")
    codes = {r["code"] for r in rows}
    next_id = max(r["id"] for r in rows) + 1
    areas: dict[int, list[int]] = {}
    for r in rows:
        if r["level"] == "city":
            areas[r["id"]] = [r["id"]] + [c["id"] for c in rows if c["parent_id"] == r["id"]]
    new = []
    city_number = 1
    while len(areas) < CITIES:
        city_number += 1
        code = f"99{city_number:02d}00"
        if code in codes:
            continue
        city = next_id
        next_id += 1
        new.append((city, code, f"基准{city_number}市", "city", province))
        areas[city] = [city]
        for n in range(rng.randint(*COUNTIES)):
            new.append((next_id, f"99{city_number:02d}{21 + n:02d}", f"基准{city_number}市{n + 1}县",
                        "county", city))
            areas[city].append(next_id)
            next_id += 1
    await conn.copy_records_to_table("region", records=new,
                                     columns=["id", "code", "name", "level", "parent_id"])
    return areas


def pick_region(rng: random.Random, areas: list[tuple[int, list[int]]], weights) -> tuple:
    area, regions = rng.choices(areas, cum_weights=weights)[0]
    # A fifth at the city itself, the rest over its counties.
    region = regions[0] if len(regions) == 1 or rng.random() < 0.2 else rng.choice(regions[1:])
    return area, region


# --- population ----------------------------------------------------------------------------

class Planted:
    def __init__(self, base: tuple[str, str], area: int, regions: list[int]):
        self.base, self.area, self.regions = base, area, regions
        self.ids: list[int] = []


async def populate(url: str, count: int, now: datetime, clusters: int) -> dict:
    rng = random.Random(15)
    texts, sketcher = Texts(rng), FastSketch()
    for _ in range(300):
        title, body = texts.new()
        assert np.array_equal(sketcher.signature(title, body), similarity.signature(title, body))
    conn = await asyncpg.connect(url)
    timings = {}
    try:
        areas = await region_tree(conn, rng)
        ranked = sorted(areas.items())
        weights = list(np.cumsum([1 / (rank + 1) ** 0.9 for rank in range(len(ranked))]))
        departments = [r["id"] for r in await conn.fetch("SELECT id FROM department")]
        categories = [r["id"] for r in await conn.fetch("SELECT id FROM category WHERE level = 1")]
        # Planted clusters: members at random positions of the stream.
        planted = []
        slots: dict[int, Planted] = {}
        for _ in range(clusters):
            area, _region = pick_region(rng, ranked, weights)
            cluster = Planted(texts.new(), area, areas[area])
            planted.append(cluster)
            for _ in range(rng.randint(2, 8)):
                slot = rng.randrange(count)
                while slot in slots:
                    slot = rng.randrange(count)
                slots[slot] = cluster
        band_indexes = [r["indexdef"] for r in await conn.fetch(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'appeal_band' "
            "AND indexname NOT LIKE '%pkey'")]
        for index in await conn.fetch("SELECT indexname FROM pg_indexes WHERE tablename = "
                                      "'appeal_band' AND indexname NOT LIKE '%pkey'"):
            await conn.execute(f'DROP INDEX "{index["indexname"]}"')
        first = await conn.fetchval("SELECT COALESCE(MAX(id), 0) + 1 FROM appeal")
        phones = []
        t0 = time.perf_counter()
        sketch_seconds = copy_seconds = 0.0
        step = 50_000
        for start in range(0, count, step):
            appeals, sketches, bands, batch = [], [], [], []
            for i in range(start, min(count, start + step)):
                ident = first + i
                submitted = now - timedelta(days=WINDOW * (1 - (i + rng.random()) / count))
                cluster = slots.get(i)
                if cluster is None:
                    area, region = pick_region(rng, ranked, weights)
                    title, body = texts.new()
                else:
                    area, region = cluster.area, rng.choice(cluster.regions)
                    title, body = texts.edit(*cluster.base)
                    cluster.ids.append(ident)
                phone = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
                if rng.random() < 0.001:
                    phones.append((phone, area, region))
                appeals.append((
                    f"MS{20000000 + i // 100000:08d}-{i % 100000:06d}",
                    rng.choices(TYPES, TYPE_WEIGHTS)[0], title, body, "", phone, "", False,
                    rng.choices(STATUSES, STATUS_WEIGHTS)[0], "", submitted,
                    submitted + timedelta(days=15), False, "ok", False, 0, 0, "", "", "",
                    submitted, rng.choice(departments), region, rng.choice(categories),
                    phone_key_fast(phone)))
                batch.append((ident, region, area, submitted, title, body))
            s0 = time.perf_counter()
            for chunk in range(0, len(batch), 5000):
                part = batch[chunk:chunk + 5000]
                values = sketcher.signatures([(row[4], row[5]) for row in part])
                for (ident, region, area, submitted, _, _), row in zip(part, values,
                                                                        strict=True):
                    sketches.append((ident, region, submitted, similarity.to_bytes(row)))
                    bands += [(key, ident) for key in similarity.band_keys(row, area)]
            sketch_seconds += time.perf_counter() - s0
            c0 = time.perf_counter()
            await conn.copy_records_to_table("appeal", records=appeals, columns=COLUMNS)
            await conn.copy_records_to_table(
                "appeal_sketch", records=sketches,
                columns=["appeal_id", "region_id", "submitted_at", "signature"])
            await conn.copy_records_to_table("appeal_band", records=bands,
                                             columns=["key", "appeal_id"])
            copy_seconds += time.perf_counter() - c0
            if start % 200_000 == 0:
                print(f"  {start + len(appeals):,} appeals, {time.perf_counter() - t0:.0f} s",
                      flush=True)
        timings["rows and sketches"] = time.perf_counter() - t0
        timings["of which signatures and band keys"] = sketch_seconds
        timings["of which COPY"] = copy_seconds
        t0 = time.perf_counter()
        await conn.execute("SET maintenance_work_mem = '1GB'")
        for index in band_indexes:
            await conn.execute(index)
        timings["band indexes"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        for table in ("appeal", "appeal_sketch", "appeal_band"):
            await conn.execute(f"VACUUM (ANALYZE) {table}")
        timings["VACUUM ANALYZE"] = time.perf_counter() - t0
        sizes = await conn.fetchrow(
            "SELECT (SELECT COUNT(*) FROM appeal_band) AS bands, "
            "pg_size_pretty(pg_total_relation_size('appeal_band')) AS band_size, "
            "pg_size_pretty(pg_total_relation_size('appeal_sketch')) AS sketch_size, "
            "pg_size_pretty(pg_total_relation_size('appeal')) AS appeal_size")
        per_area = {area: 0 for area in areas}
        for row in await conn.fetch("SELECT region_id, COUNT(*) AS n FROM appeal_sketch "
                                    "GROUP BY region_id"):
            for area, regions in areas.items():
                if row["region_id"] in regions:
                    per_area[area] += row["n"]
        return {"timings": timings, "sizes": dict(sizes), "planted": planted, "phones": phones,
                "areas": areas, "per_area": per_area, "texts": texts, "rng": rng}
    finally:
        await conn.close()


# --- the searches ---------------------------------------------------------------------------

def queries(setup: dict, count: int) -> list[tuple[Appeal, Planted | None]]:
    rng, texts, areas = setup["rng"], setup["texts"], setup["areas"]
    ranked = sorted(areas.items())
    weights = list(np.cumsum([1 / (rank + 1) ** 0.9 for rank in range(len(ranked))]))
    found = []
    planted = [c for c in setup["planted"] if c.ids]
    for n in range(count):
        phone = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
        cluster = None
        if n % 3 != 2 and planted:
            cluster = planted[n % len(planted)]
            title, body = texts.edit(*cluster.base)
            region = rng.choice(cluster.regions)
        else:
            title, body = texts.new()
            _, region = pick_region(rng, ranked, weights)
        if n % 10 == 9 and setup["phones"]:
            # The same person as an earlier appeal, perhaps of another city: found by phone.
            phone, _, other = rng.choice(setup["phones"])
            region = region if cluster is not None else other
        appeal = Appeal(title=title, body=body, region_id=region, contact_phone=phone,
                        phone_key=phone_key_fast(phone), type="complaint", status="assigned")
        found.append((appeal, cluster))
    return found


async def band_rows(url: str, keys: list[int]) -> int:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval("SELECT COUNT(*) FROM appeal_band WHERE key = ANY($1)", keys)
    finally:
        await conn.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def search(url: str, setup: dict, count: int, policy, now: datetime) -> dict:
    asked = queries(setup, count)
    for appeal, _ in asked[:20]:  # warm-up: the area cache, the plan cache, the buffers
        await similar.find(appeal, policy, now=now)
    times, candidates, raw, matches = [], [], [], []
    members = found_members = 0
    since = now - timedelta(days=policy.window_days)
    for appeal, cluster in asked:
        t0 = time.perf_counter()
        found = await similar.find(appeal, policy, now=now)
        times.append((time.perf_counter() - t0) * 1000)
        matches.append(len(found))
        if cluster is not None:
            ids = {m.appeal_id for m in found}
            members += len(cluster.ids)
            found_members += len(ids & set(cluster.ids))
    for appeal, _ in asked:
        values = similarity.signature(appeal.title, appeal.body)
        keys = similarity.band_keys(values, await similar.area_of(appeal.region_id))
        rows = await similar._candidates(appeal, keys, await similar.neighbours(appeal.region_id),
                                         since)
        candidates.append(len(rows))
        raw.append(await band_rows(url, keys))
    return {"times": times, "candidates": candidates, "raw": raw, "matches": matches,
            "members": members, "found": found_members,
            "fresh_matches": [m for (a, c), m in zip(asked, matches, strict=True) if c is None]}


async def marking(setup: dict, policy, now: datetime, count: int = 1000) -> dict:
    """The worker's 疑似重复 marks (similar.mark_pending) for `count` queued appeals: half of
    them planted near-duplicates, half others of the window; appeals marked per second."""
    rng = setup["rng"]
    planted = [i for c in setup["planted"] for i in c.ids]
    ids = set(rng.sample(planted, min(len(planted), count // 2)))
    newest = await Appeal.all().order_by("-id").limit(count).values_list("id", flat=True)
    ids |= set(newest[:count - len(ids)])
    await SimilarPending.bulk_create([SimilarPending(appeal_id=i) for i in ids])
    t0, batches = time.perf_counter(), []
    while True:
        b0 = time.perf_counter()
        done = await similar.mark_pending(policy, now=now)
        if not done:
            break
        batches.append((time.perf_counter() - b0) / done * 1000)
    seconds = time.perf_counter() - t0
    marked = await Appeal.filter(id__in=list(ids), similar_to_id__isnull=False).count()
    return {"appeals": len(ids), "seconds": seconds, "marked": marked,
            "per_appeal": statistics.median(batches)}


def signature_cost(setup: dict, runs: int = 2000) -> float:
    """Microseconds similar.sketch_of_text takes for one submission's text."""
    texts = [setup["texts"].new() for _ in range(runs)]
    t0 = time.perf_counter()
    for title, body in texts:
        similar.sketch_of_text(title, body, 1)
    return (time.perf_counter() - t0) / runs * 1e6


async def main(count: int, count_queries: int, clusters: int) -> None:
    url, rules, drop = await bench_database(count)
    try:
        print(f"similarity: SHINGLE={similarity.SHINGLE} NUM_PERM={similarity.NUM_PERM} "
              f"BANDS={similarity.BANDS} ROWS={similarity.ROWS}; policy {rules.routing.similar}; "
              f"PER_KEY={similar.PER_KEY} CANDIDATES={similar.CANDIDATES}")
        now = datetime.now(UTC)
        t0 = time.perf_counter()
        setup = await populate(url, count, now, clusters)
        print(f"set-up: {time.perf_counter() - t0:.0f} s — "
              + ", ".join(f"{k} {v:.0f} s" for k, v in setup["timings"].items()))
        sizes = setup["sizes"]
        print(f"appeal_band {sizes['bands']:,} rows, {sizes['band_size']}; appeal_sketch "
              f"{sizes['sketch_size']}; appeal {sizes['appeal_size']} (all with indexes)")
        per_area = sorted(setup["per_area"].values(), reverse=True)
        print(f"{len(per_area)} cities, {sum(len(r) for r in setup['areas'].values())} regions; "
              f"appeals per city: largest {per_area[0]:,}, median "
              f"{int(statistics.median(per_area)):,}, smallest {per_area[-1]:,}")
        planted = [c for c in setup["planted"] if c.ids]
        print(f"planted: {len(planted)} clusters, {sum(len(c.ids) for c in planted)} appeals")
        result = await search(url, setup, count_queries, rules.routing.similar, now)
        times = result["times"]
        print(f"\nfind() for {len(times)} new submissions: p50 {percentile(times, 0.5):.1f} ms, "
              f"p95 {percentile(times, 0.95):.1f} ms, p99 {percentile(times, 0.99):.1f} ms, "
              f"max {max(times):.1f} ms, mean {statistics.mean(times):.1f} ms (target p95 < 30)")
        for label, values in (("candidates judged", result["candidates"]),
                              ("band-key rows before the per-key cap", result["raw"]),
                              ("matches returned", result["matches"])):
            print(f"  {label}: median {statistics.median(values):.0f}, p95 "
                  f"{percentile(values, 0.95):.0f}, max {max(values)}")
        fresh = result["fresh_matches"]
        capped = sum(1 for c in result["candidates"] if c >= similar.CANDIDATES)
        print(f"  searches that reached the cap of {similar.CANDIDATES} candidates: {capped}")
        print(f"  fresh texts (nothing planted): {sum(1 for m in fresh if m)} of {len(fresh)} "
              f"had a match")
        recall = result["found"] / result["members"]
        print(f"planted members found: {result['found']} of {result['members']} "
              f"({recall:.3f})")
        print(f"signature and band keys per submission (similar.sketch_of_text): "
              f"{signature_cost(setup):.0f} µs")
        marks = await marking(setup, rules.routing.similar, now)
        print(f"worker's 疑似重复 marks (similar.mark_pending, batches of "
              f"{similar.MARK_BATCH}): {marks['appeals']} appeals in {marks['seconds']:.1f} s "
              f"= {marks['appeals'] / marks['seconds']:.0f} appeals/s per worker (median "
              f"{marks['per_appeal']:.1f} ms each); {marks['marked']} marked")
        await db.disconnect()
        assert recall >= 0.95, recall
    finally:
        await drop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--appeals", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--clusters", type=int, default=400)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.appeals, arguments.queries, arguments.clusters))
