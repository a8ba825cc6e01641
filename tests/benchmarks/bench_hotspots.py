"""Time of the hotspot build (app.services.hotspots.build) for a city of 100,000 appeals a month
on PostgreSQL: target under 60 s for the 7- and 30-day hotspots together.

Run by hand: .venv/bin/python tests/benchmarks/bench_hotspots.py [--appeals N] [--planted N]

A fresh database (migrated, bench_stats.bench_database) gets, by COPY, N appeals received in
the last 30 days and N more in the 30 before (the previous period, for growth), spread over
云州市 and its districts, every type (reports too: the build leaves them out), with the search
columns intake writes (search_grams, phone_key). Background texts are the clauses of the
real messages of ../shared/data/appeals_train.csv (read here only, never stored) recombined:
three to six clauses dealt from the whole set (156,000), without replacement within a region
and period (the title cut from the first), between the greetings and requests residents
write, so the vocabulary is real and no two appeals alike. --planted hotspots are added in
the last 7 days, written from fifteen families of problems (noise, property management,
wages, schooling…) with slots of several wordings: one problem at one of ~20,000 generated
places, 15 to 60 appeals each, from different residents (a few writing twice), some with
appeals the week before as well; two planted hotspots of one family in one region share
most of their wording but not their place.

Then `build` runs twice (the first creates the hotspots, the second matches them: the steady
state of the worker), timed with its phases, and each planted hotspot is looked for: the
7-day hotspot holding most of its appeals, with the share of them it holds (recall) and the
share of its members that are that topic's (purity). The database is dropped afterwards.
"""

import argparse
import asyncio
import csv
import random
import re
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app import db  # noqa: E402
from app.domain import search_text  # noqa: E402
from app.models import Hotspot, HotspotMember  # noqa: E402
from app.services import hotspots  # noqa: E402
from tests.benchmarks.bench_search import (  # noqa: E402
    COLUMNS,
    GIN,
    TYPE_WEIGHTS,
    TYPES,
    phone_key_fast,
)
from tests.benchmarks.bench_stats import bench_database, stop  # noqa: E402

CITY = ("990100", "990102", "990121")
MESSAGES = Path(__file__).resolve().parents[3] / "shared" / "data" / "appeals_train.csv"
D = timedelta(days=1)

OPEN = ["", "", "尊敬的领导：", "您好，", "领导您好！", "各位领导：", "我是附近的居民，",
        "我们是{p}的业主，", "我想反映一个问题：", "本人住在{p}，"]
CLOSE = ["", "请相关部门尽快处理。", "希望有关部门重视。", "恳请领导帮忙解决，谢谢！",
         "盼复。", "希望尽快给个说法。", "请派人来现场看看。", "已经反映多次了，一直没人管。",
         "谢谢！", "麻烦尽快处理，万分感谢。"]
WHEN = ["最近", "这段时间", "近一个月来", "从上个月开始", "每天", "经常", "一到周末", "今年以来"]
FAMILIES = {
    "噪音": (["{p}噪音扰民", "{p}附近{x}太吵", "投诉{p}{x}噪音", "{x}影响{p}居民休息"],
           ["工地", "广场舞", "烧烤摊", "酒吧", "装修", "空调外机", "货车"],
           ["{w}{p}旁边的{x}声音特别大，晚上根本睡不着", "{x}从晚上八点一直吵到凌晨",
            "家里有老人和小孩，{x}的噪音让人受不了", "打了很多次电话投诉{x}，还是照样吵",
            "{x}的音响开得很大，附近几栋楼都能听到", "孩子要考试了，{x}吵得没法学习"]),
    "物业": (["{p}物业不作为", "{p}物业乱收费", "投诉{p}物业公司{x}", "{p}物业{x}问题"],
           ["不修电梯", "停车费", "垃圾清运", "绿化", "门禁", "楼道照明"],
           ["{p}的物业公司{x}，业主意见很大", "交了物业费，{x}的事情却一直没人管",
            "找物业反映{x}好几次，每次都说等等", "{w}物业在{x}上面敷衍了事",
            "物业经理说{x}不归他们管", "业主委员会也联系不上，{x}没人负责"]),
    "工资": (["{p}拖欠{x}工资", "讨要{p}{x}的工资", "{p}项目欠薪", "{x}工资被拖欠"],
           ["农民工", "工人", "木工", "钢筋工", "保洁员", "保安"],
           ["在{p}干了几个月活，{x}工资一直没发", "包工头说开发商没给钱，{x}的工资拖着",
            "{w}去{p}要工资，老板躲着不见", "我们{x}一共十几个人，工资被拖欠",
            "年底了{x}的血汗钱还拿不到", "劳动监察说要先取证，{x}不知道怎么办"]),
    "教育": (["{p}{x}乱收费", "{p}学校{x}问题", "反映{p}{x}", "{x}的问题请教育局管管"],
           ["补课", "校服", "午餐", "课后服务", "入学", "校车"],
           ["{p}附近的学校{x}要求家长交钱", "孩子在{p}上学，{x}的安排很不合理",
            "{w}学校在{x}上面搞强制", "家长们对{x}意见很大，学校不听",
            "{x}的费用没有公示，不知道合不合规", "老师私下组织{x}，家长不敢不去"]),
    "交通": (["{p}{x}问题", "{p}路口{x}", "建议{p}增加{x}", "{x}太不方便了"],
           ["红绿灯", "公交站", "停车位", "斑马线", "减速带", "路灯"],
           ["{p}路口没有{x}，车辆行人抢行很危险", "{w}{p}附近{x}损坏，一直没修",
            "上下班高峰{p}一带因为{x}堵得厉害", "老人过马路很不安全，希望增设{x}",
            "{x}的位置不合理，经常出事故", "{p}周边{x}太少，大家只能乱停"]),
    "供水": (["{p}{x}", "{p}经常{x}", "{p}自来水{x}问题", "反映{p}{x}"],
           ["停水", "水压低", "水质发黄", "水管爆裂", "水费异常"],
           ["{w}{p}{x}，生活很不方便", "{p}的{x}已经持续好几天了", "打自来水公司电话说{x}在抢修",
            "{x}影响几百户居民，希望尽快解决", "高层住户因为{x}根本用不上水", "{x}也没有提前通知"]),
    "环境": (["{p}{x}污染", "{p}附近{x}", "举报{p}{x}", "{x}影响{p}环境"],
           ["垃圾焚烧", "污水直排", "油烟", "粉尘", "臭味", "露天烧烤"],
           ["{p}附近{x}严重，空气很差", "{w}{x}让附近居民不敢开窗", "{x}的问题环保部门来过一次就没下文了",
            "河里因为{x}已经发黑发臭", "{x}一般在夜里偷偷进行", "孩子老人因为{x}咳嗽不止"]),
    "医保": (["{x}报销问题", "咨询{x}", "{p}{x}办理", "{x}政策请解释"],
           ["医保", "门诊报销", "异地就医", "大病保险", "医保卡", "慢性病"],
           ["{x}的报销比例为什么比去年低", "在{p}办理{x}被告知材料不全", "{w}{x}报销一直没到账",
            "{x}异地结算太麻烦了", "窗口说{x}系统升级办不了", "家里老人{x}的手续不知道怎么办"]),
    "住房": (["{p}{x}问题", "{p}{x}迟迟不办", "{x}补贴未发放", "反映{p}{x}"],
           ["房产证", "公租房", "危房改造", "拆迁补偿", "公积金", "廉租房"],
           ["买了{p}的房子好几年了，{x}还办不下来", "{w}申请{x}一直在排队", "{x}的补贴说好了到现在没发",
            "开发商说{x}手续有问题", "{p}的{x}标准不公开", "去了很多次，{x}的窗口互相推诿"]),
    "市场": (["{p}{x}", "投诉{p}商家{x}", "{p}{x}问题", "{x}请市场监管处理"],
           ["缺斤短两", "虚假宣传", "价格欺诈", "过期食品", "无证经营", "预付卡跑路"],
           ["在{p}买东西遇到{x}", "{p}的商家{x}，消费者多次吃亏", "{w}{x}的情况越来越多",
            "打12315说{x}要先协商", "{x}的店还在照常营业", "老年人最容易被{x}骗"]),
    "停车": (["{p}{x}", "{p}乱停车{x}", "{x}问题请处理", "{p}车位{x}"],
           ["占用消防通道", "僵尸车", "车位被占", "收费乱", "充电桩"],
           ["{p}{x}，出了事很危险", "{w}{p}{x}的现象越来越严重", "找物业处理{x}没有效果",
            "{x}的车一停就是几个月", "晚上回家因为{x}根本没地方停", "{x}的事交警说归物业管"]),
    "供暖": (["{p}{x}", "{p}暖气{x}", "{x}请供热公司处理", "{p}冬天{x}"],
           ["暖气不热", "供暖费", "集中供暖", "暖气漏水"],
           ["{p}今年{x}，家里只有十几度", "{w}{x}，打热线一直占线", "{x}的问题每年冬天都有",
            "老人孩子因为{x}都冻感冒了", "{x}维修师傅说要排队", "交了钱还是{x}"]),
    "社保": (["{x}问题咨询", "{p}{x}", "{x}办理难", "{x}待遇未发"],
           ["养老保险", "失业金", "退休金", "社保转移", "生育津贴"],
           ["{x}的手续在{p}办了三个月还没好", "{w}{x}迟迟没有到账", "{x}的政策窗口解释不清楚",
            "单位没给交{x}，不知道怎么补", "{x}网上办理总是失败", "咨询{x}被转了好几个部门"]),
    "绿化": (["{p}{x}", "{p}绿地{x}", "{x}请园林部门处理", "{p}{x}问题"],
           ["树木倒伏", "乱砍树", "绿地被占", "杂草丛生", "树枝挡窗"],
           ["{p}{x}，存在安全隐患", "{w}{p}{x}没人管", "{x}的问题已经反映过多次",
            "{x}影响居民通行", "{x}引来很多蚊虫", "{p}的{x}一直没有处理"]),
    "农业": (["{p}{x}", "{x}补贴问题", "{p}村{x}", "反映{x}"],
           ["种粮补贴", "土地流转", "灌溉", "农机补贴", "宅基地"],
           ["{p}村里的{x}一直没发到户", "{w}{x}的钱被村干部扣着", "{x}的标准不公开不透明",
            "{x}的事找了乡镇没结果", "{p}的{x}合同有问题", "今年的{x}还没落实"]),
}
SUFFIX = ["小区", "花园", "家园", "新村", "路", "大道", "广场", "苑", "公寓", "村"]
CHARS = "金银丰华锦绣阳光翠湖滨江紫荆桂花梧桐春晓碧水蓝天明珠长青和平幸福东方新城北辰南西溪清风玉龙凤凰山河星月松柏兰竹梅雅居盛泰安康宁"


def places(rng: random.Random, count: int = 20_000) -> list[str]:
    made = set()
    while len(made) < count:
        made.add(rng.choice(CHARS) + rng.choice(CHARS) + rng.choice(SUFFIX))
    return sorted(made)


def text(rng: random.Random, family: str, place: str, detail: str | None = None,
         slot: str | None = None) -> tuple[str, str]:
    titles, slots, sentences = FAMILIES[family]
    x = slot or rng.choice(slots)
    title = rng.choice(titles).format(p=place, x=x)
    picked = rng.sample(sentences, rng.randint(2, 4))
    parts = [rng.choice(OPEN).format(p=place)]
    parts += [s.format(p=place, x=x, w=rng.choice(WHEN)) for s in picked]
    if detail:
        parts.insert(rng.randint(1, len(parts)), detail)
    parts.append(rng.choice(CLOSE))
    body = "，".join(p for p in parts if p)
    body = re.sub(r"([：！，。])，", r"\1", body)
    return title, body if body.endswith(("。", "！")) else body + "。"


def real_clauses() -> list[str]:
    """The real messages' clauses (between punctuation) of 4 to 40 characters, each once."""
    clauses = set()
    with MESSAGES.open(encoding="utf-8") as f:
        for message in csv.DictReader(f):
            clauses.update(c.strip() for c in re.split(r"[，。！？；：,.!?;:]", message["detail"])
                           if 4 <= len(c.strip()) <= 40)
    return sorted(clauses)


class Clauses:
    """Clauses dealt without replacement, reshuffled when the pack is used up: appeals of
    one region and period share a clause only once the pack has gone round."""

    def __init__(self, rng: random.Random, pool: list[str]):
        self.rng, self.pool, self.at = rng, list(pool), len(pool)

    def deal(self, count: int) -> list[str]:
        if self.at + count > len(self.pool):
            self.rng.shuffle(self.pool)
            self.at = 0
        self.at += count
        return self.pool[self.at - count:self.at]


def background(rng: random.Random, real: Clauses) -> tuple[str, str]:
    picked = real.deal(rng.randint(3, 6))
    # Greetings and requests as the planted ones have them: residents write them everywhere.
    body = "".join(c + rng.choice("，，，。") for c in picked)
    opening = rng.choice(OPEN).format(p=rng.choice(("我们小区", "我家附近", "我们村")))
    return picked[0][:30], f"{opening}{body}{rng.choice(CLOSE)}"


def row(rng, i: int, title: str, body: str, at: datetime, kind: str, department, phone: str):
    department_id, region_id = department
    return (f"MH{i:012d}", kind, title[:100], body, "", phone, "", False, "closed", "", at,
            at + 15 * D, False, "ok", False, 0, 0, "", "", rng.choice(["", "", "satisfied",
                                                                       "unsatisfied"]),
            at, department_id, region_id, None, search_text.grams(title, body),
            phone_key_fast(phone))


def phone(rng) -> str:
    return f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"


def planted(rng, count: int, spots: list[str], now: datetime, departments, first: int):
    """`count` planted hotspots: (topic key, rows)."""
    found, i = [], first
    for n in range(count):
        family = rng.choice(list(FAMILIES))
        place, slot = spots[n], rng.choice(FAMILIES[family][1])
        detail = f"{place}{rng.choice(['东门', '北侧', '三期', '二号楼', '十字路口'])}"
        department = rng.choice(departments)
        size = rng.randint(15, 60)
        earlier = rng.choice([0, 0, size // 3, size])
        people = [phone(rng) for _ in range(size)]
        rows = []
        for k in range(size + earlier):
            at = now - D * (rng.uniform(0.05, 6.9) if k < size else rng.uniform(7.1, 13.9))
            who = people[k % size] if k < size else phone(rng)
            if k and k < size and rng.random() < 0.1:
                who = people[k - 1]  # the same resident again
            title, body = text(rng, family, place, detail, slot)
            rows.append(row(rng, i, title, body, at, "complaint", department, who))
            i += 1
        found.append(((family, place, slot), size, rows))
    return found


async def populate(url: str, count: int, planted_count: int, now: datetime):
    rng = random.Random(15)
    conn = await asyncpg.connect(url)
    try:
        departments = [(r["id"], r["region_id"]) for r in await conn.fetch(
            "SELECT d.id, d.region_id FROM department d JOIN region r ON r.id = d.region_id "
            "WHERE r.code = ANY($1)", list(CITY))]
        # COPY's binary format has no tsvector encoder in asyncpg: the lexemes go in as text
        # and the column is converted once, its GIN index built after (as bench_search).
        gin = await conn.fetchval("SELECT indexdef FROM pg_indexes WHERE indexname = $1", GIN)
        await conn.execute(f"DROP INDEX {GIN}")
        await conn.execute("ALTER TABLE appeal ALTER COLUMN search_grams DROP DEFAULT, "
                           "ALTER COLUMN search_grams TYPE text")
        spots = places(rng)
        rng.shuffle(spots)
        topics = planted(rng, planted_count, spots[-planted_count:], now, departments,
                         2 * count)
        pool = real_clauses()
        # One pack per region and period, as if each had residents of its own.
        packs = {(r, half): Clauses(random.Random(f"{r}:{half}"), pool)
                 for half in (False, True) for r in {region for _, region in departments}}
        step = 50_000
        for start in range(0, 2 * count, step):
            rows = []
            for i in range(start, min(2 * count, start + step)):
                at = now - D * 60 * (1 - (i + rng.random()) / (2 * count))
                department = rng.choice(departments)
                title, body = background(rng, packs[department[1], i < count])
                rows.append(row(rng, i, title, body, at, rng.choices(TYPES, TYPE_WEIGHTS)[0],
                                department, phone(rng)))
            await conn.copy_records_to_table("appeal", records=rows, columns=COLUMNS)
        for _, _, rows in topics:
            await conn.copy_records_to_table("appeal", records=rows, columns=COLUMNS)
        await conn.execute("ALTER TABLE appeal ALTER COLUMN search_grams TYPE tsvector "
                           "USING search_grams::tsvector, "
                           "ALTER COLUMN search_grams SET DEFAULT ''")
        await conn.execute("SET maintenance_work_mem = '1GB'")
        await conn.execute(gin)
        await conn.execute("VACUUM ANALYZE appeal")
        numbers = {r["tracking_number"]: r["id"] for r in await conn.fetch(
            "SELECT id, tracking_number FROM appeal WHERE tracking_number >= $1",
            f"MH{2 * count:012d}")}
        total = await conn.fetchval("SELECT COUNT(*) FROM appeal")
        reports = await conn.fetchval("SELECT COUNT(*) FROM appeal WHERE type = 'report'")
        print(f"appeals: {total:,} over 60 days in {len(CITY)} regions "
              f"({reports:,} reports), {planted_count} planted hotspots")
        return [(key, size, {numbers[r[0]] for r in rows[:size]}) for key, size, rows in topics]
    finally:
        await conn.close()


async def timed_build(rules, now: datetime, label: str) -> hotspots.BuildResult:
    phases = {}
    read, compute = hotspots._read, hotspots.compute

    async def timed_read(*args):
        t0 = time.perf_counter()
        found = await read(*args)
        phases["read"] = time.perf_counter() - t0
        return found

    def timed_compute(*args):
        t0 = time.perf_counter()
        found = compute(*args)
        phases["cluster"] = time.perf_counter() - t0
        return found

    hotspots._read, hotspots.compute = timed_read, timed_compute
    try:
        result = await hotspots.build(rules, now=now)
    finally:
        hotspots._read, hotspots.compute = read, compute
    keep = result.seconds - phases["read"] - phases["cluster"]
    print(f"{label}: {result.seconds:.1f} s (read {phases['read']:.1f} s, vectorise and "
          f"cluster {phases['cluster']:.1f} s, keep and notify {keep:.1f} s); "
          f"{result.appeals:,} appeals read; hotspots 7 days {result.found[7]}, "
          f"30 days {result.found[30]}; new {result.new}, kept {result.kept}, "
          f"ended {result.ended}")
    return result


async def main(count: int, planted_count: int) -> None:
    url, rules, drop = await bench_database(2 * count)
    try:
        now = datetime.now(UTC)
        t0 = time.perf_counter()
        topics = await populate(url, count, planted_count, now)
        print(f"populate: {time.perf_counter() - t0:.1f} s")
        first = await timed_build(rules, now, "build (first)")
        second = await timed_build(rules, now + timedelta(minutes=60), "build (an hour on)")
        print(f"target < 60 s: {'met' if max(first.seconds, second.seconds) < 60 else 'MISSED'}")
        await recall(topics)
        await db.disconnect()
    finally:
        stop(None)
        await drop()


async def recall(topics) -> None:
    live = await Hotspot.filter(active=True, period_days=7).values_list("id", flat=True)
    members: dict[int, set[int]] = {h: set() for h in live}
    for h, a in await HotspotMember.filter(hotspot_id__in=list(live)).values_list(
            "hotspot_id", "appeal_id"):
        members[h].add(a)
    recalls, purities = [], []
    for (family, place, slot), size, planted_ids in topics:
        best = max(members.values(), key=lambda m: len(m & planted_ids), default=set())
        share = len(best & planted_ids) / size
        purity = len(best & planted_ids) / len(best) if best else 0.0
        recalls.append(share)
        purities.append(purity)
        print(f"  planted {family}/{place}/{slot}: {size} appeals, found {share:.0%} "
              f"in one hotspot of {len(best)} ({purity:.0%} of it this topic)")
    found = sum(r >= 0.8 for r in recalls)
    print(f"planted hotspots found (>= 80% of their appeals in one hotspot): {found} of "
          f"{len(topics)}; mean recall {sum(recalls) / len(recalls):.2f}, mean share of the "
          f"hotspot that is the topic "
          f"{sum(purities) / len(purities):.2f}; background hotspots (7 days): "
          f"{len(members) - found}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--appeals", type=int, default=100_000,
                        help="appeals a month (the 30 days before get as many)")
    parser.add_argument("--planted", type=int, default=20)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.appeals, arguments.planted))
