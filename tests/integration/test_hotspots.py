"""Hotspots (未诉先办): planted topics found with their figures, reports left out, a hotspot
kept across builds, and its notice queued once however many builds run, and at once.

Each test plants its appeals in a window of its own, years from now, so the session's other
appeals are not in it; the build is run as of that window's end."""

import asyncio
import itertools
from datetime import UTC, datetime, timedelta

import pytest

from app.domain.types import Role
from app.models import Appeal, Hotspot, HotspotMember, OutboxMessage
from app.services import hotspots
from tests.conftest import USE_PG, unique
from tests.factories import make_staff, submit

REGION = "990222"  # 白石县
OTHER_REGION = "990221"  # 青川县
_years = itertools.count(2061)

NOISE = [
    "孩子所在学校周末强制补课还收费，家长很有意见，请教育局查一查。",
    "小区电梯坏了一个多月，物业公司一直推脱不修，老人上下楼很困难。",
    "我家门口的下水道堵塞，污水漫到路上，臭气熏天，希望尽快疏通。",
    "医保报销比例为什么比去年低了，门诊费用报销政策能否解释一下？",
    "公交车班次太少，早高峰等车要半个小时，建议增加发车频次。",
    "菜市场有商贩缺斤短两，消费者多次吃亏，请市场监管部门检查。",
    "村里的危房改造补贴一直没有发放到位，请核实补贴发放情况。",
    "路灯坏了好几个星期没人修，晚上一片漆黑，行人出行很不安全。",
    "住房公积金贷款审批时间太长，已经三个月还没有放款，请督促。",
    "独生子女父母奖励金今年还没有发，请问什么时候能够发放？",
]
NOISE_TITLES = ["学校周末补课收费", "电梯坏了物业不修", "下水道堵塞污水漫溢", "医保报销比例降低",
                "公交班次太少", "菜市场缺斤短两", "危房改造补贴未发", "路灯损坏无人维修",
                "公积金贷款放款慢", "独生子女奖励金未发"]
NOISE_AT_NIGHT = [
    ("城南工地夜间施工噪音扰民", "城南大道工地每天夜里施工到凌晨两点，打桩机噪音太大，孩子睡不着觉。"),
    ("工地半夜施工噪音严重", "城南大道那个工地半夜还在打桩，噪音吵得整栋楼的人都睡不着，请管一管。"),
    ("城南大道工地深夜施工扰民", "城南大道的建筑工地深夜施工，机器轰鸣噪音扰民，夜里根本无法休息。"),
    ("夜间施工噪音扰民严重", "城南大道工地夜间施工不停，噪音大，打桩声一直持续到凌晨，老人心脏受不了。"),
    ("投诉城南工地夜里施工", "城南大道工地夜里施工噪音扰民，已经持续一个星期，晚上根本睡不着觉。"),
    ("城南大道工地凌晨施工噪音", "城南大道工地凌晨还在施工打桩，噪音很大，附近居民夜里无法入睡。"),
]
WAGES = [
    ("农民工工资被拖欠", "我们在青山花园项目干了半年活，包工头拖欠农民工工资一直不发，二十多人的血汗钱。"),
    ("青山花园项目拖欠工资", "青山花园项目的施工队拖欠我们农民工工资三个月，包工头说开发商没给钱。"),
    ("讨要被拖欠的农民工工资", "在青山花园项目做木工，工资被拖欠到现在，包工头电话不接，请帮我们讨薪。"),
    ("青山花园工地欠薪", "青山花园项目拖欠农民工工资，年底了还不发，我们一家老小等着这钱过年。"),
    ("拖欠农民工工资请求帮助", "青山花园项目包工头拖欠我们农民工工资，已经找了好几次都说没钱。"),
]


def _window() -> datetime:
    """The end of this test's window: a day of its own, years from now."""
    return datetime(next(_years), 3, 20, 12, 0, tzinfo=UTC)


async def _plant(rules, now: datetime, texts, *, region: str = REGION, days: float = 1.0,
                 phones=None, **fields) -> list[Appeal]:
    made = []
    for i, (title, body) in enumerate(texts):
        phone = phones[i] if phones else f"139{next(_phones):08d}"
        made.append(await submit(rules=rules, at=now - timedelta(days=days + i * 0.1),
                                 region=region, title=title, body=body, contact_phone=phone,
                                 **fields))
    return made


_phones = itertools.count(10_000_000)


async def _members(hotspot_id: int) -> set[int]:
    return set(await HotspotMember.filter(hotspot_id=hotspot_id)
               .values_list("appeal_id", flat=True))


async def _hotspot_of(appeal: Appeal, period: int) -> Hotspot | None:
    ids = await HotspotMember.filter(appeal_id=appeal.id).values_list("hotspot_id", flat=True)
    return await Hotspot.filter(id__in=list(ids), period_days=period, active=True).first()


async def _city(rules, now: datetime) -> dict[str, list[Appeal]]:
    """Six appeals about night works (two from one phone), two more the week before, five
    about unpaid wages, a report about the works, the works in another county (three), and
    ten unrelated appeals."""
    phones = [f"137{next(_phones):08d}" for _ in range(5)]
    night = await _plant(rules, now, NOISE_AT_NIGHT, phones=[*phones, phones[0]])
    before = await _plant(rules, now, NOISE_AT_NIGHT[:2], days=9)
    wages = await _plant(rules, now, WAGES, days=2)
    report = await _plant(rules, now, NOISE_AT_NIGHT[:1], type="report",
                          named_unit=f"{REGION}-zhujian")
    elsewhere = await _plant(rules, now, NOISE_AT_NIGHT[:3], region=OTHER_REGION)
    noise = await _plant(rules, now, list(zip(NOISE_TITLES, NOISE, strict=True)), days=0.5)
    return {"night": night, "before": before, "wages": wages, "report": report,
            "elsewhere": elsewhere, "noise": noise}


async def _rate(appeals: list[Appeal], ratings: list[str]) -> None:
    for appeal, rating in zip(appeals, ratings, strict=False):
        await Appeal.filter(id=appeal.id).update(rating=rating)


async def test_planted_topics_are_found_with_their_figures(database, rules):
    now = _window()
    city = await _city(rules, now)
    await _rate(city["night"], ["unsatisfied", "satisfied"])
    result = await hotspots.build(rules, now=now)
    assert result.found[7] >= 2

    night = await _hotspot_of(city["night"][0], 7)
    assert night is not None
    assert await _members(night.id) == {a.id for a in city["night"]}
    assert (night.appeal_count, night.previous_count, night.people) == (6, 2, 5)
    assert (night.rated, night.unsatisfied) == (2, 1)
    assert night.heat == 5 * (1 + 2.0) * (1 + 0.5)  # +200% growth, half of the rated 不满意
    assert any("施工" in word or "噪音" in word for word in night.words)
    assert night.title in {title for title, _ in NOISE_AT_NIGHT}
    assert night.representative_id in {a.id for a in city["night"]}

    wages = await _hotspot_of(city["wages"][0], 7)
    assert wages is not None and wages.id != night.id
    assert await _members(wages.id) == {a.id for a in city["wages"]}
    assert (wages.appeal_count, wages.previous_count, wages.people) == (5, 0, 5)
    assert wages.heat == 5 * 3.0  # a new topic counts +200%

    # The 30-day hotspot of the works holds the week before as well.
    month = await _hotspot_of(city["night"][0], 30)
    assert await _members(month.id) == {a.id for a in city["night"] + city["before"]}
    assert (month.appeal_count, month.previous_count, month.people) == (8, 0, 7)

    for key in ("report", "elsewhere", "noise"):  # too few in the other county: no hotspot
        for appeal in city[key]:
            assert await HotspotMember.filter(appeal_id=appeal.id).count() == 0, key


async def test_a_hotspot_keeps_its_identity_and_its_notice_goes_once(database, rules):
    inspector = await make_staff(Role.INSPECTOR, email=f"{unique('i')}@jiwei.example.cn")
    dispatcher = await make_staff(Role.DISPATCHER, email=f"{unique('d')}@12345.example.cn")
    now = _window()
    city = await _city(rules, now)
    await _rate(city["night"], ["unsatisfied", "satisfied"])
    await hotspots.build(rules, now=now)
    night = await _hotspot_of(city["night"][0], 7)
    month = await _hotspot_of(city["night"][0], 30)
    wages = await _hotspot_of(city["wages"][0], 7)
    assert night.heat >= rules.routing.hotspots.notify_heat > wages.heat
    assert night.notified_at is not None and wages.notified_at is None

    # An hour later one more resident writes: the same hotspot, grown, no second notice.
    later = now + timedelta(hours=1)
    one_more = await submit(rules=rules, at=later - timedelta(minutes=5), region=REGION,
                            title="城南大道工地夜间施工噪音", contact_phone="13600000001",
                            body="城南大道工地夜里施工打桩，噪音扰民，晚上睡不着觉，请处理。")
    result = await hotspots.build(rules, now=later)
    again = await Hotspot.get(id=night.id)
    assert again.active and again.appeal_count == 7 and again.people == 6
    assert again.first_seen_at == night.first_seen_at and again.notified_at == night.notified_at
    assert one_more.id in await _members(night.id)
    assert result.kept >= 2 and result.notified == 0
    await hotspots.build(rules, now=later + timedelta(minutes=1))

    mails = OutboxMessage.filter(dedupe_key__startswith=f"hotspot:{night.id}>")
    addresses = await mails.values_list("to_address", flat=True)
    assert {inspector.email, dispatcher.email} <= set(addresses)
    assert len(addresses) == len(set(addresses))
    # The 30-day hotspot of the same topic is marked, but sends nothing more.
    assert (await Hotspot.get(id=month.id)).notified_at is not None
    assert await OutboxMessage.filter(dedupe_key__startswith=f"hotspot:{month.id}>").count() == 0
    mail = await mails.filter(to_address=inspector.email).first()
    assert "未诉先办" in mail.subject and f"/staff/hotspots/{night.id}" in mail.text_body
    for appeal in city["night"]:  # no resident's phone in a staff mail
        assert appeal.contact_phone not in mail.text_body + mail.html_body


async def test_a_topic_that_fades_ends_its_hotspot(database, rules):
    now = _window()
    city = await _city(rules, now)
    await hotspots.build(rules, now=now)
    wages = await _hotspot_of(city["wages"][0], 7)
    await hotspots.build(rules, now=now + timedelta(days=8))
    assert not (await Hotspot.get(id=wages.id)).active
    assert (await Hotspot.get(id=wages.id)).period_days == 7


async def test_two_builds_at_once_notify_once(database, rules):
    inspector = await make_staff(Role.INSPECTOR, email=f"{unique('i')}@jiwei.example.cn")
    now = _window()
    city = await _city(rules, now)
    await _rate(city["night"], ["unsatisfied", "satisfied"])
    first, second = await asyncio.gather(hotspots.build(rules, now=now),
                                         hotspots.build(rules, now=now))
    assert first.notified + second.notified == 1
    ids = await HotspotMember.filter(appeal_id=city["night"][0].id) \
        .values_list("hotspot_id", flat=True)
    assert await Hotspot.filter(id__in=list(ids), period_days=7, active=True).count() == 1
    night = await _hotspot_of(city["night"][0], 7)
    assert await OutboxMessage.filter(dedupe_key__startswith=f"hotspot:{night.id}>",
                                      to_address=inspector.email).count() == 1


@pytest.mark.skipif(not USE_PG, reason="two machines against one PostgreSQL")
async def test_two_builds_on_separate_connections_notify_once(database, rules):
    from tortoise import Tortoise
    from tortoise.context import TortoiseContext

    from app.db import tortoise_config

    inspector = await make_staff(Role.INSPECTOR, email=f"{unique('i')}@jiwei.example.cn")
    now = _window()
    city = await _city(rules, now)
    await _rate(city["night"], ["unsatisfied", "satisfied"])

    async def other_machine():
        async with TortoiseContext():
            await Tortoise.init(config=tortoise_config(database))
            return await hotspots.build(rules, now=now)

    first, second = await asyncio.gather(hotspots.build(rules, now=now), other_machine())
    assert first.notified + second.notified == 1
    night = await _hotspot_of(city["night"][0], 7)
    assert await OutboxMessage.filter(dedupe_key__startswith=f"hotspot:{night.id}>",
                                      to_address=inspector.email).count() == 1


async def test_the_worker_builds_once_per_slot(database, rules):
    now = _window()
    city = await _city(rules, now)
    assert await hotspots.scheduled(rules, now) is not None
    assert await hotspots.scheduled(rules, now + timedelta(minutes=1)) is None  # same slot
    assert await _hotspot_of(city["wages"][0], 7) is not None


async def test_the_command_builds_and_says_what_it_found(database):
    from tests.integration.test_cli_database import minsheng

    done = await asyncio.to_thread(minsheng, database, "hotspots", "build")
    assert done.returncode == 0, done.stderr
    assert "热点 近7天" in done.stdout and "未诉先办提醒" in done.stdout
