"""Revealing one masked value of an appeal, on the record (DESIGN.md, "Personal data").

Staff pages show every phone number, mail address and ID number masked, in the contact
fields and in what the resident wrote. Someone who must call back reveals one value: a
contact field, or the n-th value found in one text of the appeal (its title, body, a note
of its trail, a reply), addressed by that place and position, never by the value. Each
reveal is an event on the appeal (kind and place and reason, not the value) and a row of
`reveal`, which counts a person's reveals of a day against the limit and lists them for
inspectors. The value itself goes only into the one page that answers the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from tortoise.functions import Count
from tortoise.transactions import in_transaction

from app.domain.clock import start_of_day, to_local
from app.domain.masking import KIND_LABELS, find_personal_data, mask_email, mask_phone
from app.domain.states import Event
from app.models import Account, Appeal, AppealEvent, AppealReply, Reveal
from app.services.errors import ServiceError, ValidationFailed
from app.services.workflow import Actor, last_event, now_utc, transition

# Reasons offered on the form; "other" asks for the reason typed.
REASONS = {
    "callback": "回电联系群众",
    "verify": "核实诉求人身份或诉求内容",
    "site": "现场核查需联系群众",
    "followup": "回访",
    "other": "其他（请填写）",
}
REASON_TEXT_MAX = 200
CONTACT_LABELS = {"phone": "联系电话", "email": "电子邮箱"}
LIMIT_MESSAGE = ("您今天查看个人信息已达 {limit} 次的上限，不能继续查看。"
                 "如确有需要，请联系纪检/效能监察。")
CHOICE_ERROR = "请选择要查看的信息。"
REASON_ERROR = "请选择或填写查看理由。"
REASON_TOO_LONG = f"查看理由最多 {REASON_TEXT_MAX} 个字。"
PAGE_SIZE = 50
KIND_NAMES = {**KIND_LABELS, **CONTACT_LABELS}


def place_name(key: str) -> str:
    """A stored place, as the inspectors' list says it (the trail's notes, the replies)."""
    fixed = {**CONTACT_LABELS, "title": "标题", "body": "诉求内容"}
    if key in fixed:
        return fixed[key]
    return "办理记录" if key.startswith("event-") else \
        f"第 {key.removeprefix('reply-')} 次答复"


@dataclass(frozen=True)
class Place:
    """A text of the appeal that may hold personal data: a contact field (the whole text
    is the value) or free text (the values are found in it)."""

    key: str  # "phone", "email", "title", "body", "event-<id>", "reply-<round>"
    label: str
    text: str

    @property
    def contact(self) -> bool:
        return self.key in CONTACT_LABELS


@dataclass(frozen=True)
class Choice:
    value: str  # "<place>:<position>"
    label: str  # where it is, and the value masked


@dataclass(frozen=True)
class Revealed:
    appeal: Appeal
    label: str
    value: str
    reason: str


def places(appeal: Appeal, events: list[AppealEvent], replies: list[AppealReply], *,
           contact: bool) -> list[Place]:
    """The appeal's texts in page order; the contact fields only if this person sees them."""
    found = []
    if contact:
        found += [Place("phone", CONTACT_LABELS["phone"], appeal.contact_phone),
                  Place("email", CONTACT_LABELS["email"], appeal.contact_email)]
    found += [Place("title", "标题", appeal.title), Place("body", "诉求内容", appeal.body)]
    found += [Place(f"event-{e.id}", f"办理记录 {to_local(e.at):%m-%d %H:%M}", e.note)
              for e in events]
    found += [Place(f"reply-{r.round}", f"第 {r.round} 次答复", r.text) for r in replies]
    return [p for p in found if p.text]


def _masked_contact(place: Place) -> str:
    return mask_phone(place.text) if place.key == "phone" else mask_email(place.text)


def choices(found: list[Place]) -> list[Choice]:
    """Every masked value of these places, as the reveal form offers them."""
    offered = []
    for place in found:
        if place.contact:
            offered.append(Choice(f"{place.key}:0", f"{place.label} {_masked_contact(place)}"))
            continue
        for position, item in enumerate(find_personal_data(place.text)):
            offered.append(Choice(f"{place.key}:{position}",
                                  f"{place.label} · 第 {position + 1} 处"
                                  f"{KIND_LABELS[item.kind]} {item.masked}"))
    return offered


def _value_at(found: list[Place], choice: str) -> tuple[Place, int, str, str] | None:
    """(place, position, kind, value) the form's choice names, if the appeal has it."""
    key, _, position_text = choice.partition(":")
    if not position_text.isdigit() or len(position_text) > 4:
        return None
    position = int(position_text)
    place = next((p for p in found if p.key == key), None)
    if place is None:
        return None
    if place.contact:
        return (place, 0, place.key, place.text) if position == 0 else None
    items = find_personal_data(place.text)
    if position >= len(items):
        return None
    return place, position, items[position].kind, items[position].value


def reason_of(chosen: str, typed: str) -> str:
    typed = typed.strip()
    if "\x00" in typed:
        raise ValidationFailed({"reason_text": REASON_ERROR})
    if len(typed) > REASON_TEXT_MAX:
        raise ValidationFailed({"reason_text": REASON_TOO_LONG})
    if chosen == "other" or (not chosen and typed):
        if not typed:
            raise ValidationFailed({"reason_text": REASON_ERROR})
        return typed
    if chosen not in REASONS:
        raise ValidationFailed({"reason": REASON_ERROR})
    return f"{REASONS[chosen]}：{typed}" if typed else REASONS[chosen]


async def appeal_places(appeal: Appeal, *, contact: bool) -> list[Place]:
    events = await AppealEvent.filter(appeal_id=appeal.id).order_by("id")
    replies = await AppealReply.filter(appeal_id=appeal.id).order_by("round")
    return places(appeal, events, replies, contact=contact)


async def used_today(account: Account, now: datetime) -> int:
    day = start_of_day(to_local(now).date())
    return await Reveal.filter(actor_id=account.id, at__gte=day).count()


async def reveal(appeal: Appeal, account: Account, choice: str, reason: str, *,
                 contact: bool, limit: int) -> Revealed:
    """Reveal the value `choice` names, once, if `account` has not reached `limit` today.
    The caller has decided this account may reveal on this appeal (app.web.access)."""
    found = await appeal_places(appeal, contact=contact)
    picked = _value_at(found, choice)
    if picked is None:
        raise ValidationFailed({"choice": CHOICE_ERROR})
    place, position, kind, value = picked
    label = place.label if place.contact else \
        f"{place.label} · 第 {position + 1} 处{KIND_LABELS[kind]}"
    now = now_utc()
    async with in_transaction():
        # One person's reveals one after another, so two at once cannot both pass the limit.
        await Account.select_for_update().filter(id=account.id).first()
        if await used_today(account, now) >= limit:
            raise ServiceError(LIMIT_MESSAGE.format(limit=limit), None, "limit")
        await transition(appeal, Event.REVEAL, Actor.of(account), at=now, public=False,
                         note=f"查看{label}，理由：{reason}",
                         data={"place": place.key, "position": position, "kind": kind,
                               "reason": reason})
        event = await last_event(appeal, Event.REVEAL)
        await Reveal.create(appeal_id=appeal.id, event=event, actor=account,
                            actor_label=Actor.of(account).label, at=now, place=place.key,
                            position=position, kind=kind, reason=reason[:REASON_TEXT_MAX])
    return Revealed(appeal, label, value, reason)


# --- the inspectors' list -----------------------------------------------------------------

@dataclass(frozen=True)
class RevealFilter:
    staff: Account | None = None
    since: date | None = None
    until: date | None = None
    after: int | None = None

    def params(self) -> dict[str, str]:
        found = {"staff": self.staff.username if self.staff else "",
                 "from": self.since.isoformat() if self.since else "",
                 "to": self.until.isoformat() if self.until else ""}
        return {k: v for k, v in found.items() if v}


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


async def parse_filter(query) -> tuple[RevealFilter, dict[str, str]]:
    errors: dict[str, str] = {}
    staff = None
    name = (query.get("staff") or "").strip()
    if name:
        staff = await Account.get_or_none(username=name[:254]) if "\x00" not in name else None
        if staff is None:
            errors["staff"] = "没有这个工作人员账号。"
    bounds = {}
    for key in ("from", "to"):
        text = (query.get(key) or "").strip()
        bounds[key] = _date(text) if text else None
        if text and bounds[key] is None:
            errors[key] = "日期格式应为 YYYY-MM-DD。"
    after_text = (query.get("after") or "").strip()
    after = int(after_text) if after_text.isdigit() and len(after_text) < 19 else None
    if after_text and after is None:
        errors["after"] = "翻页参数有误，已从第一页显示。"
    return RevealFilter(staff, bounds["from"], bounds["to"], after), errors


def _narrowed(chosen: RevealFilter):
    query = Reveal.all()
    if chosen.staff is not None:
        query = query.filter(actor_id=chosen.staff.id)
    if chosen.since is not None:
        query = query.filter(at__gte=start_of_day(chosen.since))
    if chosen.until is not None:
        query = query.filter(at__lt=start_of_day(chosen.until + timedelta(days=1)))
    return query


async def listed(chosen: RevealFilter) -> tuple[list[Reveal], int | None]:
    """Reveals newest first, a page at a time (by id), and the cursor of the next page."""
    query = _narrowed(chosen)
    if chosen.after is not None:
        query = query.filter(id__lt=chosen.after)
    rows = await query.order_by("-id").limit(PAGE_SIZE + 1).prefetch_related("appeal")
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return rows, rows[-1].id if more else None


async def per_person(chosen: RevealFilter) -> list[dict]:
    """How many values each person revealed in the chosen range, most first."""
    rows = await _narrowed(chosen).annotate(count=Count("id")).group_by(
        "actor_id", "actor__username", "actor_label").order_by("-count").limit(100).values(
        "actor_id", "actor_label", "count", username="actor__username")
    return rows
