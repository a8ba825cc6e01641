"""The dispatcher's hotline desk: an appeal taken by phone (/staff/intake) and the extension
requests waiting for a decision (/staff/extensions)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.domain import routing as decide_routing
from app.domain.states import Event
from app.domain.types import Channel, Role
from app.models import Account, Appeal, Department
from app.schemas import appeals as forms
from app.schemas import staff as staff_forms
from app.schemas.base import form_values, parse
from app.schemas.limits import DEPARTMENT_MAX
from app.services import desk, intake, predictor, routing
from app.services.errors import ServiceError, ValidationFailed
from app.services.workflow import Actor, transition
from app.web.context import rules_of
from app.web.public import _form_context
from app.web.render import render
from app.web.security import checked_form
from app.web.similar_pages import similar_context
from app.web.staff import staff_route

# What the intake form has beyond the submission itself: the dispatcher's department.
DESK_FIELDS = ("department", "named_unit_name")


def _typed(form) -> dict[str, str]:
    fields = (*forms.Submission.model_fields, *DESK_FIELDS)
    return {key: str(form.get(key, "")) for key in fields}


async def _form_page(request: Request, values: dict, errors: dict, *,
                     proposal: dict | None = None, status: int = 200) -> Response:
    return render(request, "desk_intake.html", {
        **_form_context(request), "values": values, "errors": errors, "proposal": proposal,
        "departments": await desk.picker_departments(),
    }, status=status)


@staff_route("intake_form")
async def intake_form(request: Request, account: Account) -> Response:
    return await _form_page(request, {"type": "consultation"}, {})


async def _resolved(form, values: dict) -> tuple[dict, dict[str, str], Department | None]:
    """The submission's fields with the named unit's name turned into its code, the
    desk's own refusals, and the department the dispatcher chose (None: let routing)."""
    raw = dict(form_values(forms.Submission, form))
    errors: dict[str, str] = {}
    if values.get("type") == "report" and values.get("named_unit_name").strip():
        try:
            unit = await desk.department_named(values["named_unit_name"][:DEPARTMENT_MAX],
                                               "named_unit")
            raw["named_unit"] = unit.code
        except ServiceError as exc:
            errors["named_unit"] = exc.message
    chosen = None
    if values.get("department", "").strip():
        try:
            chosen = await desk.department_named(values["department"])
        except ServiceError as exc:
            errors["department"] = exc.message
    return raw, errors, chosen


@staff_route("intake")
async def intake_submit(request: Request, account: Account) -> Response:
    """Preview (the classifier's proposal) or take the appeal. Refusals come back beside
    their fields with everything typed kept; nothing is stored until all is well."""
    request.app.state.limiter.check("intake", f"staff:{account.id}")
    form = await checked_form(request)
    values = _typed(form)
    rules = rules_of(request)
    raw, errors, chosen = await _resolved(form, values)
    try:
        submission = intake.validate(raw, rules)
    except ValidationFailed as exc:
        errors = {**exc.errors, **errors}
        submission = None
    if submission is not None and chosen is not None and submission.named_unit \
            and chosen.code == submission.named_unit:
        errors["department"] = "举报件不能交给被举报单位办理。"
    if errors or submission is None:
        if "named_unit" in errors and "named_unit_name" not in errors:
            errors["named_unit_name"] = errors.pop("named_unit")
        return await _form_page(request, values, errors, status=400)
    if form.get("step") == "preview":
        proposal = await _proposal(rules, submission)
        if not values["department"] and proposal["department"]:
            values["department"] = proposal["department"]
        return await _form_page(request, values, {}, proposal=proposal)
    receipt = await intake.submit(rules, submission, channel=Channel.PHONE)
    appeal = receipt.appeal
    actor = Actor.of(account)
    await transition(appeal, Event.NOTE, actor, public=False,
                     note=f"电话受理，由{actor.label}录入")
    department_name = receipt.department_name
    if chosen is not None and (appeal.status == "triage" or appeal.department_id != chosen.id):
        await routing.route_manual(rules, appeal, actor, parse(staff_forms.Route, {
            "department": chosen.code, "note": f"电话受理时人工分派至{chosen.name}"}))
        department_name = chosen.name
    stored = await Appeal.get(id=appeal.id)
    return render(request, "desk_receipt.html", {
        "receipt": receipt, "appeal": stored,
        "department_name": department_name,
        # What the desk may already know about: the same problem, or the same caller.
        **await similar_context(account, stored, rules.routing.similar),
        "spelled": {"number": _spell(appeal.tracking_number),
                    "username": _spell(receipt.username),
                    "password": _spell(receipt.password)},
        "track_url": request.url_for("track_form"),
    })


async def _proposal(rules, submission: intake.Submission) -> dict:
    """Where the platform would send it, and why: what the dispatcher confirms or changes."""
    text = f"{submission.title}\n{submission.body}"
    candidates, _ = await predictor.predict(text)
    decision = decide_routing.decide(
        rules, appeal_type=submission.type, region_code=submission.region_code, text=text,
        category=submission.category, named_unit=submission.named_unit, candidates=candidates)
    spec = rules.departments.get(decision.department_code) \
        if decision.confident and decision.department_code else None
    return {"department": spec.name if spec else "", "reason": decision.reason,
            "confident": spec is not None}


# Digits as a telephone operator reads them (幺 for 1, never confused with 七).
DIGITS = "零幺二三四五六七八九"


def _spell(text: str) -> list[dict[str, str]]:
    """Each character as it is read out: digits in Chinese, letters as letters (the
    generated credentials are lower case, without look-alikes)."""
    spoken = []
    for char in text:
        if char.isdigit():
            said = DIGITS[int(char)]
        elif char.isalpha():
            said = f"字母 {char}" if char.islower() else f"大写 {char}"
        else:
            said = {"-": "横杠"}.get(char, char)
        spoken.append({"char": char, "said": said})
    return spoken


@staff_route("pending_extensions")
async def pending_extensions(request: Request, account: Account) -> Response:
    """Requests waiting for a decision, the oldest first, paged by `?after=<request id>`.
    A department head sees their own department's; dispatchers and inspectors all."""
    raw = request.query_params.get("after", "")
    after = int(raw) if raw.isdigit() and 0 < int(raw) < 2**63 else None
    errors = {"after": "翻页参数无效，已回到第一页。"} if raw and after is None else {}
    page = desk.PendingPage([], 0, None)
    if Role(account.role) != Role.HEAD:
        page = await desk.pending_extensions(after=after)
    elif account.department_id is not None:
        page = await desk.pending_extensions(account.department_id, after)
    return render(request, "desk_extensions.html", {
        "pending": page.pending, "total": page.total, "own_id": account.id, "errors": errors,
        "links": {"next": f"?after={page.next_after}" if page.next_after else None,
                  "first": "?" if after else None},
    })


routes = [
    Route("/staff/intake", intake_form, methods=["GET"], name="intake_form"),
    Route("/staff/intake", intake_submit, methods=["POST"], name="intake"),
    Route("/staff/extensions", pending_extensions, name="pending_extensions"),
]
