"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2): our catalogue as services,
posted requests as submissions, published appeals as service requests.

- A service is a first-level category (领域): service_code is the category's code (c01…),
  group its name; the appeal type, the region and the consent to publish are attributes of
  its definition. A report (举报) is no Open311 type: it names a unit and protects its
  sender, so it goes through the web form only, and it is never published.
- A POST goes through the same intake as every other door (validate, then submit: routing,
  clocks, notices). service_request_id is the tracking number; the tracking username and
  password come back once as extension fields. The token is the tracking number with a MAC,
  so tokens/{token} needs no table and tells nothing to whoever does not hold it.
- Listings read app.models.public.Publication rows with status "published" only
  (app.services.public_replies.published, as every public page): the text an approver
  redacted and approved, never the appeal's own words, and never a report.
- Our own facts are extension fields named minsheng_*: standard fields keep their meaning.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from app.domain.clock import to_local
from app.domain.outcomes import RATINGS
from app.domain.states import OPEN, counts_as_overdue
from app.domain.types import TYPE_LABELS, AppealType, Channel
from app.models import Category
from app.rules import Rules
from app.schemas.base import InputError
from app.schemas.limits import TITLE_MAX
from app.schemas.open311 import OPEN311_TYPES, Open311Submission
from app.services import idempotency, intake, public_replies
from app.services.workflow import now_utc

PAGE_SIZE, PAGE_SIZE_MAX, PAGE_MAX = 50, 100, 200
IDS_MAX = 100
DEFAULT_WINDOW = timedelta(days=90)  # the specification's default and widest date range
TOKEN_MAC_LENGTH = 20
PUBLIC_VALUES = (("false", "不同意公开"), ("true", "同意公开（经删除个人信息并审核后公开）"))

# Our field names → the Open311 form field that carried them, for error messages.
FORM_FIELDS = {"type": "attribute[type]", "region": "attribute[region]",
               "public": "attribute[public]", "title": "description", "body": "description",
               "category": "service_code", "contact_name": "last_name",
               "contact_phone": "phone", "contact_email": "email"}


@dataclass
class Refused(Exception):
    """A request refused as the specification says: the HTTP status and one
    (description, field) per problem."""

    status: int
    problems: list[tuple[str, str | None]] = field(default_factory=list)


def bad(status: int, description: str, form_field: str | None = None) -> Refused:
    return Refused(status, [(description, form_field)])


def iso(value: datetime | None) -> str | None:
    return to_local(value).isoformat(timespec="seconds") if value is not None else None


# --- services ---------------------------------------------------------------------------

async def categories(rules: Rules) -> dict[str, str]:
    """code → name of the live rules' first-level categories, in the rules' order."""
    rows = await Category.filter(level=1, name__in=list(rules.categories)) \
        .order_by("code").values_list("code", "name")
    return dict(rows)


def _service(code: str, name: str, children: list[str]) -> dict:
    return {"service_code": code, "service_name": name,
            "description": f"{name}领域的咨询、求助、投诉、建议和评议"
                           f"（{'、'.join(children)}）。" if children else f"{name}领域的诉求。",
            "metadata": True, "type": "realtime", "keywords": ", ".join(children),
            "group": name}


async def services(rules: Rules) -> list[dict]:
    return [_service(code, name, list(rules.categories.get(name, [])))
            for code, name in (await categories(rules)).items()]


async def definition(rules: Rules, code: str) -> dict | None:
    if code not in await categories(rules):
        return None
    regions = [{"key": r.code, "name": r.name} for r in rules.regions.values()]
    return {"service_code": code, "attributes": [
        {"variable": True, "code": "type", "datatype": "singlevaluelist", "required": True,
         "datatype_description": "诉求类型（举报请通过网站“我要留言”提交）", "order": 1,
         "description": "诉求类型",
         "values": [{"key": t, "name": TYPE_LABELS[AppealType(t)]} for t in OPEN311_TYPES]},
        {"variable": True, "code": "region", "datatype": "singlevaluelist", "required": True,
         "datatype_description": "行政区划代码", "order": 2,
         "description": "诉求事项所在地区（省、市或县）", "values": regions},
        {"variable": True, "code": "public", "datatype": "singlevaluelist", "required": False,
         "datatype_description": "true 或 false，默认 false", "order": 3,
         "description": "是否同意公开（公开前删除姓名、电话等个人信息，并经人工审核）",
         "values": [{"key": k, "name": n} for k, n in PUBLIC_VALUES]},
    ]}


# --- POST requests ----------------------------------------------------------------------

def _point(form: Mapping[str, str]) -> tuple[float, float] | None:
    """lat and long (WGS84), both or neither; out of range or not numbers: 400."""
    lat, long = form.get("lat", "").strip(), form.get("long", "").strip()
    if not lat and not long:
        return None
    try:
        point = (float(lat), float(long))
    except ValueError:
        blamed = "long" if lat and not long else "lat"
        raise bad(400, "lat 和 long 须同时给出，且为数字（WGS84）。", blamed) from None
    if not (-90 <= point[0] <= 90 and -180 <= point[1] <= 180):
        raise bad(400, "lat 须在 -90 到 90 之间，long 须在 -180 到 180 之间。", "lat")
    return point


def _title_of(description: str) -> str:
    first = next((line.strip() for line in description.splitlines() if line.strip()), "")
    return first[:TITLE_MAX]


async def submission(rules: Rules, form: Mapping[str, str]) -> intake.Submission:
    """The Open311 form as our submission, checked by intake (every problem in one 400)."""
    names = await categories(rules)
    code = form.get("service_code", "").strip()
    if not code:
        raise bad(400, "请提供 service_code。", "service_code")
    if code not in names:
        raise bad(400, f"service_code “{code[:40]}” 不存在。", "service_code")
    description = form.get("description", "").strip()
    body = description
    place = [f"地点：{address}"] if (address := form.get("address_string", "").strip()) else []
    if (point := _point(form)) is not None:
        place.append(f"坐标（纬度，经度）：{point[0]}，{point[1]}")
    if description and place:
        body = "\n".join([description, *place])
    public = form.get("attribute[public]", "").strip().lower()
    if public not in ("", "true", "false"):
        raise bad(400, "attribute[public] 只能是 true 或 false。", "attribute[public]")
    raw = {"type": form.get("attribute[type]", "").strip(),
           "region": form.get("attribute[region]", "").strip(),
           "category": names[code], "title": _title_of(description), "body": body,
           "contact_name": (form.get("last_name", "").strip()
                            + form.get("first_name", "").strip()) or None,
           "contact_phone": form.get("phone", "").strip() or None,
           "contact_email": form.get("email", "").strip() or None,
           "public": public == "true"}
    try:
        return intake.validate(raw, rules, model=Open311Submission)
    except InputError as exc:
        seen: dict[str, str] = {}
        for name, message in exc.errors.items():
            seen.setdefault(FORM_FIELDS.get(name, name), message)
        raise Refused(400, [(message, name) for name, message in seen.items()]) from None


def token_for(number: str, secret: str) -> str:
    mac = hmac.new(secret.encode(), f"open311-token:{number}".encode(), hashlib.sha256)
    return f"{number}.{mac.hexdigest()[:TOKEN_MAC_LENGTH]}"


def number_of_token(token: str, secret: str) -> str | None:
    number, dot, _ = token.partition(".")
    if not dot or len(token) > 80:
        return None
    return number if hmac.compare_digest(token_for(number, secret), token) else None


def posted(receipt: intake.Receipt, password: str | None, secret: str) -> dict:
    """The POST's answer item. Without the password (the copy kept for a retry with the
    same Idempotency-Key) it says how to get a new one instead."""
    appeal = receipt.appeal
    return {"service_request_id": appeal.tracking_number,
            "token": token_for(appeal.tracking_number, secret),
            "service_notice": "已受理。请保存查询账号和密码（仅显示这一次），"
                              "凭此在“查询进度”查看办理情况。",
            "account_id": None,
            "minsheng_tracking_username": receipt.username,
            "minsheng_tracking_password": password,
            "minsheng_password_recovery": None if password
            else idempotency.password_recovery(appeal),
            "minsheng_department": receipt.department_name,
            "minsheng_due": iso(appeal.reply_due_at)}


async def post(rules: Rules, sub: intake.Submission, secret: str, *,
               claim: idempotency.Claim | None) -> idempotency.Answer:
    """intake's submission, once per Idempotency-Key claim (app.services.idempotency)."""
    return await idempotency.submit(
        rules, sub, claim=claim, status=201, channel=Channel.API,
        render=lambda receipt, password: posted(receipt, password, secret))


def claim(client_id: int, key: str | None, form: Mapping[str, str]) -> idempotency.Claim | None:
    """The Idempotency-Key claim of a POST: scoped to the client application; the body's
    fields without the api_key are what a retry must repeat."""
    if key is None:
        return None
    fields = {name: value for name, value in form.items() if name != "api_key"}
    return idempotency.Claim(f"open311:{client_id}", key, idempotency.fingerprint(fields))


# --- GET requests -----------------------------------------------------------------------

@dataclass
class RequestQuery:
    ids: list[str] = field(default_factory=list)
    service_codes: list[str] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    statuses: list[str] = field(default_factory=list)
    page: int = 1
    page_size: int = PAGE_SIZE


def _list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _datetime(value: str, name: str) -> datetime:
    try:
        found = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise bad(400, f"{name} 须为 W3C 日期时间，如 2026-01-01T00:00:00Z。", name) from None
    if found.tzinfo is None:
        raise bad(400, f"{name} 须带时区（Z 或 +08:00）。", name)
    return found.astimezone(UTC)


def _positive(value: str, name: str, default: int, most: int) -> int:
    if not value.strip():
        return default
    if not value.strip().isdigit() or not 1 <= int(value) <= most:
        raise bad(400, f"{name} 须为 1 到 {most} 之间的整数。", name)
    return int(value)


def request_query(params: Mapping[str, str]) -> RequestQuery:
    """The standard filters (and page, page_size); a bad one is a 400 naming it."""
    query = RequestQuery(
        ids=_list(params.get("service_request_id", "")),
        service_codes=_list(params.get("service_code", "")),
        statuses=_list(params.get("status", "").lower()),
        page=_positive(params.get("page", ""), "page", 1, PAGE_MAX),
        page_size=_positive(params.get("page_size", ""), "page_size", PAGE_SIZE,
                            PAGE_SIZE_MAX))
    if len(query.ids) > IDS_MAX:
        raise bad(400, f"service_request_id 一次最多 {IDS_MAX} 个。", "service_request_id")
    if any(s not in ("open", "closed") for s in query.statuses):
        raise bad(400, "status 只能是 open 或 closed。", "status")
    if params.get("start_date", "").strip():
        query.start = _datetime(params["start_date"], "start_date")
    if params.get("end_date", "").strip():
        query.end = _datetime(params["end_date"], "end_date")
    if query.start and query.end:
        if query.end < query.start:
            raise bad(400, "end_date 不能早于 start_date。", "end_date")
        if query.end - query.start > DEFAULT_WINDOW:
            raise bad(400, "start_date 到 end_date 不能超过 90 天。", "end_date")
    return query


_COLUMNS = ("title", "question", "reply", "type", "submitted_at", "updated_at",
            "appeal__tracking_number", "appeal__status", "appeal__reply_due_at",
            "appeal__rating", "category__code", "category__name", "department__name",
            "region__name", "region__code")


def _request(row: dict, now: datetime) -> dict:
    status, due = row["appeal__status"], row["appeal__reply_due_at"]
    rating = row["appeal__rating"] or None
    return {
        "service_request_id": row["appeal__tracking_number"],
        "status": "open" if status in OPEN else "closed",
        "status_notes": row["reply"] or None,
        "service_name": row["category__name"],
        "service_code": row["category__code"],
        "description": row["question"],
        "agency_responsible": row["department__name"],
        "service_notice": None,
        "requested_datetime": iso(row["submitted_at"]),
        "updated_datetime": iso(row["updated_at"]),
        "expected_datetime": iso(due),
        "address": row["region__name"],
        "address_id": None,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
        "minsheng_title": row["title"],
        "minsheng_type": row["type"],
        "minsheng_type_name": TYPE_LABELS.get(AppealType(row["type"])) if row["type"] in
        {t.value for t in AppealType} else None,
        "minsheng_region": row["region__code"],
        "minsheng_department": row["department__name"],
        "minsheng_due": iso(due),
        "minsheng_overdue": counts_as_overdue(status, due, now),
        "minsheng_satisfaction": rating,
        "minsheng_satisfaction_name": RATINGS.get(rating) if rating else None,
    }


async def requests(query: RequestQuery, now: datetime | None = None) -> list[dict]:
    """Published appeals, newest first; service_request_id overrides every other filter,
    as the specification says. Without dates, the last 90 days."""
    now = now or now_utc()
    rows = public_replies.published()
    if query.ids:
        rows = rows.filter(appeal__tracking_number__in=query.ids)
    else:
        start, end = query.start, query.end
        if start is None and end is None:
            start = now - DEFAULT_WINDOW
        elif start is None:
            start = end - DEFAULT_WINDOW
        elif end is None:
            end = start + DEFAULT_WINDOW
        rows = rows.filter(submitted_at__gte=start)
        if end is not None:
            rows = rows.filter(submitted_at__lte=end)
        if query.service_codes:
            rows = rows.filter(category__code__in=query.service_codes)
        wanted = set(query.statuses)
        if len(wanted) == 1:
            opened = sorted(s.value for s in OPEN)
            rows = rows.filter(appeal__status__in=opened) if wanted == {"open"} \
                else rows.exclude(appeal__status__in=opened)
    found = await rows.order_by("-submitted_at", "-id") \
        .offset((query.page - 1) * query.page_size).limit(query.page_size).values(*_COLUMNS)
    return [_request(row, now) for row in found]


async def one_request(number: str) -> dict | None:
    if not number or len(number) > 40:
        return None
    found = await public_replies.published().filter(appeal__tracking_number=number) \
        .values(*_COLUMNS)
    return _request(found[0], now_utc()) if found else None
