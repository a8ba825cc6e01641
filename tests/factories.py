"""Test factories: staff, residents, and an appeal in any state in any department.

Appeals are built through the real services (intake, routing, handling, clocks), so their
rows and events are the ones production writes; only the people acting are made up.

    made = await make_appeal("accepted", "990100-zhujian", type="complaint", title="...")
    made.appeal, made.number, made.receipt  # receipt: number / username / password
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise import connections

from app import db
from app.domain.search_text import grams
from app.domain.types import Role
from app.models import Account, Appeal, AppealEvent, AppealReply
from app.models.public import Publication
from app.rules import Rules, load_rules
from app.schemas import appeals, staff
from app.schemas.base import parse
from app.services import accounts, clocks, handling, intake, review, routing, triage
from app.services.workflow import Actor
from app.settings import ROOT
from tests.conftest import GOOD_APPEAL, PASSWORD, unique

OWN = "990100-zhujian"  # where GOOD_APPEAL routes by itself

# Months that no test writes appeals in except through quiet_month(), which hands each out
# once per run: a test that counts a whole month's appeals owns the month it gets.
_QUIET = itertools.product((2005, 2006, 2009), range(1, 13))


def quiet_month() -> datetime:
    """The 10th, 02:00 UTC, of a long-past month no other test has written appeals in."""
    year, month = next(_QUIET)
    return datetime(year, month, 10, 2, tzinfo=UTC)

# No keyword rule matches this and no category is chosen: it waits for a dispatcher.
UNSURE_BODY = "我想问一下这个事情应该找哪个部门办理比较好，麻烦告诉我一下。"
REPLY = "经核查，已责令物业公司三日内修复电梯，并安排人员跟进。"
SECOND_REPLY = "经复查，物业公司已更换电梯主板，电梯已恢复运行，并已通过安全检验。"
QUESTION = "请补充具体的楼栋号和报修记录。"
EXTENSION_REASON = "需要会同城管部门现场勘查。"
REDO_REASON = "电梯仍然没有修好，问题没有解决。"

# How to get from "assigned" (or "triage") to each state; each step is one real service call.
STEPS: dict[str, tuple[str, ...]] = {
    "triage": (),
    "assigned": (),
    "accepted": ("acknowledge",),
    "extension_requested": ("acknowledge", "request_extension"),
    "awaiting_info": ("acknowledge", "ask_info"),
    "replied": ("acknowledge", "reply"),
    "review": ("acknowledge", "submit_reply"),  # 审核: the reply waits for the head
    "redo": ("acknowledge", "reply", "rate_unsatisfied"),
    "closed": ("acknowledge", "reply", "rate_satisfied"),
    "rejected": ("reject",),
}
STATES = tuple(STEPS)
_UNROUTED = {"triage", "rejected"}


@functools.cache
def default_rules() -> Rules:
    return load_rules(ROOT / "routing_rules")


@dataclass
class MadeAppeal:
    appeal: Appeal
    username: str  # the tracking login the quick channel issues
    password: str

    @property
    def number(self) -> str:
        return self.appeal.tracking_number

    @property
    def receipt(self) -> dict[str, str]:
        """The same keys as conftest.submit_appeal's receipt."""
        return {"number": self.number, "username": self.username, "password": self.password}


async def make_staff(role: Role = Role.HANDLER, department: str | None = None, *,
                     username: str | None = None, email: str | None = None,
                     password: str = PASSWORD) -> Account:
    username = username or unique(role.value)
    return await accounts.create_account(username, password, role, display_name=username,
                                         department_code=department, email=email)


async def make_resident(*, email: str | None = None, password: str = PASSWORD,
                        active: bool = True, **fields) -> Account:
    """A resident account as registration leaves it once verified (username = mail)."""
    email = email or f"{unique('resident')}@example.cn"
    account = await accounts.create_account(email, password, Role.RESIDENT, email=email)
    if not active or fields:
        for key, value in {"is_active": active, **fields}.items():
            setattr(account, key, value)
        await account.save()
    return account


async def handler_of(department: str) -> Actor:
    """An existing handler of the department (the oldest), or a new one."""
    account = await Account.filter(role=Role.HANDLER.value, department__code=department,
                                   is_active=True).order_by("id").first()
    return Actor.of(account or await make_staff(Role.HANDLER, department))


async def dispatcher() -> Actor:
    account = await Account.filter(role=Role.DISPATCHER.value, is_active=True) \
        .order_by("id").first()
    return Actor.of(account or await make_staff(Role.DISPATCHER))


def _form(status: str, department: str | None, fields: dict) -> dict:
    form = {**GOOD_APPEAL, "title": unique("测试诉求")}
    if department:
        form["region"] = department.split("-", 1)[0]
    if status in _UNROUTED:
        form.update(category="", body=UNSURE_BODY)
    form.update(fields)
    return form


async def make_appeal(status: str = "assigned", department: str | None = OWN, *,
                      rules: Rules | None = None, resident: Account | None = None,
                      by: Actor | None = None, at: datetime | None = None,
                      **fields) -> MadeAppeal:
    """An appeal in `status` ("triage", "assigned", "accepted", "extension_requested",
    "awaiting_info", "replied", "review", "redo", "closed", "rejected") with `department` (ignored
    for triage and rejected; None: wherever the first route sends it). `fields` override the submission form (type, title, body,
    region, category, contact_*, public...). `by` is the handler who acts (default: the
    department's oldest handler). `at` is when it was submitted."""
    if status not in STEPS:
        raise ValueError(f"no factory for state {status!r}; one of {STATES}")
    rules = rules or default_rules()
    unrouted = status in _UNROUTED
    submit_rules = rules
    if unrouted:
        strict = dataclasses.replace(rules.routing, confidence_threshold=1.0)
        submit_rules = dataclasses.replace(rules, routing=strict)
    receipt = await _submit(submit_rules, _form(status, None if unrouted else department, fields),
                            resident, at)
    appeal = receipt.appeal
    if unrouted and appeal.status == "assigned":
        await routing.return_to_triage(appeal, await handler_of(
            (await appeal.department).code), parse(staff.Return, {"reason": "不属于本部门职责。"}))
    elif not unrouted and department is not None:
        await _route_to(rules, appeal, department)
    if by is None and appeal.department_id is not None:
        by = await handler_of((await appeal.department).code)
    actor = by
    for step in STEPS[status]:
        await _STEP[step](rules, appeal, actor)
    return MadeAppeal(appeal, receipt.username, receipt.password)


async def submit(*, rules: Rules | None = None, resident: Account | None = None,
                 at: datetime | None = None, **fields) -> Appeal:
    """An appeal as its first route leaves it, wherever that is (GOOD_APPEAL by default)."""
    form = {**GOOD_APPEAL, "title": unique("测试诉求"), **fields}
    return (await _submit(rules or default_rules(), form, resident, at)).appeal


async def _submit(rules: Rules, form: dict, resident: Account | None,
                  at: datetime | None) -> intake.Receipt:
    return await intake.submit(rules, intake.validate(form, rules), resident=resident, at=at)


async def _route_to(rules: Rules, appeal: Appeal, department: str) -> None:
    current = (await appeal.department).code if appeal.department_id else None
    if appeal.status != "assigned" or current != department:
        await routing.route_manual(rules, appeal, await dispatcher(),
                                   parse(staff.Route, {"department": department}))


async def _reject(rules: Rules, appeal: Appeal, actor: Actor | None) -> None:
    await triage.reject(appeal, await dispatcher(), parse(staff.Reject, {"reason": "out_of_scope"}))


_STEP = {
    "acknowledge": lambda rules, appeal, actor: handling.acknowledge(appeal, actor),
    "request_extension": lambda rules, appeal, actor: clocks.request_extension(
        rules, appeal, actor, parse(staff.ExtensionRequest,
                                    {"days": 2, "reason": EXTENSION_REASON})),
    "ask_info": lambda rules, appeal, actor: clocks.ask_info(
        appeal, actor, parse(staff.AskInfo, {"question": QUESTION})),
    "reply": lambda rules, appeal, actor: handling.reply(
        appeal, actor, parse(staff.Reply, {"reply": REPLY}), rules.calendar),
    "submit_reply": lambda rules, appeal, actor: review.submit(
        appeal, actor, parse(staff.Reply, {"reply": REPLY})),
    "rate_unsatisfied": lambda rules, appeal, actor: clocks.rate(
        rules, appeal, parse(appeals.Rating, {"rating": "unsatisfied", "reason": REDO_REASON})),
    "rate_satisfied": lambda rules, appeal, actor: clocks.rate(
        rules, appeal, parse(appeals.Rating, {"rating": "satisfied"})),
    "reject": _reject,
}


async def as_before_replies_were_kept(appeal: Appeal) -> None:
    """Make `appeal` look answered before replies were kept (migration 0002): no stored
    reply, reply events that name no round, and a redo that kept its 不满意."""
    await AppealReply.filter(appeal_id=appeal.id).delete()
    await AppealEvent.filter(appeal_id=appeal.id, kind="reply").update(data=None)
    if await AppealEvent.exists(appeal_id=appeal.id, kind="rate_unsatisfied"):
        await Appeal.filter(id=appeal.id).update(rating="unsatisfied")


async def rerun_reply_backfill(database_url: str) -> None:
    """Run migration 0004 again on the session's database, as an upgrade would."""
    await connections.get("default").execute_query(
        "DELETE FROM tortoise_migrations WHERE name = '0004_backfill_replies'")
    await db.upgrade(database_url)


async def make_publication(status: str = "published", department: str | None = OWN, *,
                           title: str | None = None, question: str = "小区电梯坏了很久，请尽快修理。",
                           reply: str = REPLY, at: datetime | None = None,
                           rules: Rules | None = None, **fields) -> Publication:
    """A row of the publication table as app.services.publication leaves it (the text given
    here stands for what an approver approved), for a replied appeal made by make_appeal
    (`fields` go to its submission: region, category, type...; `at`: when submitted)."""
    made = await make_appeal("replied", department, rules=rules, at=at, **fields)
    appeal = made.appeal
    title = title or unique("公开答复")
    now = datetime.now(UTC)
    return await Publication.create(
        appeal_id=appeal.id, status=status, title=title, question=question, reply=reply,
        type=appeal.type, department_id=appeal.department_id, region_id=appeal.region_id,
        category_id=appeal.category_id, submitted_at=appeal.submitted_at,
        replied_at=appeal.replied_at, published_at=now, updated_at=now,
        approver_label="测试审核员", search_grams=grams(title, f"{question} {reply}"))
