"""Reference data under /admin/: departments by region (activate, deactivate), the quick
channel's hot topics, working-day calendar overrides, keyword rules and the category →
department table, with the rules version. Each edit is app.services.reference_edits; the
edited rules are used by this process at once and by every other within seconds
(app.services.rules_store.LiveRules). No appeal's content is shown here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.domain.rules import Rules
from app.models import Account, RulesVersion
from app.schemas import reference as forms
from app.schemas.base import parse_form
from app.schemas.replies import DepartmentReview
from app.services import reference_edits
from app.services.errors import ServiceError, ValidationFailed
from app.services.reference_edits import WORKING_LABELS, Edited
from app.services.workflow import Actor
from app.web import flash
from app.web.context import live_rules_of, rules_of
from app.web.render import render
from app.web.security import checked_form
from app.web.staff import staff_route

HISTORY = 20
SOURCE_LABELS = {"files": "从文件载入", "web": "网页修改"}
Page = Callable[[Request, dict], Awaitable[Response]]


def kind_labels(rules: Rules) -> dict[str, str]:
    """Each department kind with its name, as a city names it (市住房和城乡建设局 → 住房…局)."""
    labels: dict[str, str] = {}
    for spec in sorted(rules.departments.values(),
                       key=lambda d: (rules.regions[d.region_code].level != "city", d.code)):
        region = rules.regions[spec.region_code]
        labels.setdefault(spec.kind, spec.name.removeprefix(region.name))
    return dict(sorted(labels.items()))


def _version_context(request: Request) -> dict:
    live = live_rules_of(request)
    return {"rules_hash": rules_of(request).hash, "rules_version": live.version}


async def _edit(request: Request, account: Account, model, act, page: Page, then: str,
                row: str = "") -> Response:
    """Parse the posted form, make the edit, and go back to `then` saying what was done;
    a refusal comes back on the page, beside its field, with what was typed kept."""
    form = await checked_form(request)
    try:
        edited: Edited = await act(rules_of(request), Actor.of(account),
                                   parse_form(model, form))
    except ServiceError as exc:
        if exc.code == "not_found" and exc.field is None:
            raise HTTPException(404) from None
        errors = exc.errors if isinstance(exc, ValidationFailed) else \
            {exc.field or "form": exc.message}
        typed = {key: str(form.get(key, "")) for key in model.model_fields}
        response = await page(request, {"errors": errors, "typed": typed,
                                        "row": str(form.get(row, "")) if row else ""})
        response.status_code = 409 if exc.code == "conflict" else 400
        return response
    if edited.version is not None:
        live_rules_of(request).use(edited.version.id, edited.rules)
    return flash.put(request, RedirectResponse(then, status_code=303), edited.message)


# --- the overview: version and history --------------------------------------------------

@staff_route("admin_reference")
async def reference_home(request: Request, account: Account) -> Response:
    versions = await RulesVersion.all().order_by("-id").limit(HISTORY) \
        .values("id", "hash", "source", "at", "actor_label", "summary")
    return render(request, "admin_ref_home.html", {
        **_version_context(request), "versions": versions, "sources": SOURCE_LABELS})


# --- departments --------------------------------------------------------------------------

async def _departments_page(request: Request, refused: dict | None = None) -> Response:
    rules = rules_of(request)
    regions = [(spec, rules.region_path(spec.code)) for spec in rules.regions.values()]
    code = request.query_params.get("region") or request.path_params.get("code", "") \
        .split("-", 1)[0] or next(iter(rules.regions))
    if code not in rules.regions:
        code = next(iter(rules.regions))
    departments = sorted((d for d in rules.departments.values() if d.region_code == code),
                         key=lambda d: d.code)
    return render(request, "admin_ref_departments.html", {
        **_version_context(request), "regions": regions, "region": rules.regions[code],
        "departments": departments, "refused": refused or {},
        "inactive_count": sum(not d.active for d in rules.departments.values())})


@staff_route("admin_departments")
async def departments(request: Request, account: Account) -> Response:
    return await _departments_page(request)


def _department_code(request: Request) -> str:
    code = request.path_params["code"]
    if code not in rules_of(request).departments:
        raise HTTPException(404)
    return code


@staff_route("admin_department_deactivate")
async def deactivate_department(request: Request, account: Account) -> Response:
    code = _department_code(request)

    async def act(rules: Rules, actor: Actor, form: forms.DepartmentDeactivate) -> Edited:
        edited, _ = await reference_edits.set_active(rules, actor, code, False, form)
        return edited

    async def page(request: Request, refused: dict) -> Response:
        return await _departments_page(request, {**refused, "row": code})

    region = code.split("-", 1)[0]
    return await _edit(request, account, forms.DepartmentDeactivate, act, page,
                       f"/admin/departments?region={region}")


@staff_route("admin_department_activate")
async def activate_department(request: Request, account: Account) -> Response:
    code = _department_code(request)
    await checked_form(request)
    edited, _ = await reference_edits.set_active(rules_of(request), Actor.of(account), code,
                                                 True)
    if edited.version is not None:
        live_rules_of(request).use(edited.version.id, edited.rules)
    response = RedirectResponse(f"/admin/departments?region={code.split('-', 1)[0]}",
                                status_code=303)
    return flash.put(request, response, edited.message)


@staff_route("admin_department_review")
async def review_department(request: Request, account: Account) -> Response:
    """Turn the head's review (审核) of the department's replies on or off."""
    code = _department_code(request)

    async def act(rules: Rules, actor: Actor, form: DepartmentReview) -> Edited:
        return await reference_edits.set_review(rules, actor, code, form.review == "on")

    async def page(request: Request, refused: dict) -> Response:
        return await _departments_page(request, {**refused, "row": code})

    return await _edit(request, account, DepartmentReview, act, page,
                       f"/admin/departments?region={code.split('-', 1)[0]}")


# --- hot topics -----------------------------------------------------------------------------

async def _hot_topics_page(request: Request, refused: dict | None = None) -> Response:
    return render(request, "admin_ref_hot_topics.html", {
        **_version_context(request), "topics": rules_of(request).hot_topics,
        "refused": refused or {}, "most": forms.HOT_TOPICS_MAX})


@staff_route("admin_hot_topics")
async def hot_topics(request: Request, account: Account) -> Response:
    return await _hot_topics_page(request)


@staff_route("admin_hot_topics_edit")
async def edit_hot_topics(request: Request, account: Account) -> Response:
    return await _edit(request, account, forms.HotTopicEdit, reference_edits.edit_hot_topics,
                       _hot_topics_page, "/admin/hot-topics", row="topic")


# --- the working-day calendar ---------------------------------------------------------------

def _calendar_overrides(rules: Rules) -> list[dict]:
    """The administrator's overrides, from the rules' calendar, by date."""
    found = []
    for day, override in sorted(rules.calendar.overrides.items()):
        found.append({"date": day, "working": override.working,
                      "label": WORKING_LABELS[override.working], "reason": override.reason})
    return found


async def _calendar_page(request: Request, refused: dict | None = None) -> Response:
    rules = rules_of(request)
    return render(request, "admin_ref_calendar.html", {
        **_version_context(request), "overrides": _calendar_overrides(rules),
        "confirmed_years": sorted(rules.calendar.confirmed_years),
        "refused": refused or {}, "today": date.today().isoformat()})


@staff_route("admin_calendar")
async def calendar(request: Request, account: Account) -> Response:
    return await _calendar_page(request)


@staff_route("admin_calendar_add")
async def add_override(request: Request, account: Account) -> Response:
    async def act(rules: Rules, actor: Actor, form: forms.CalendarOverride) -> Edited:
        return (await reference_edits.add_override(rules, actor, form))[0]

    return await _edit(request, account, forms.CalendarOverride, act, _calendar_page,
                       "/admin/calendar")


@staff_route("admin_calendar_remove")
async def remove_override(request: Request, account: Account) -> Response:
    async def act(rules: Rules, actor: Actor, form: forms.CalendarRemove) -> Edited:
        return (await reference_edits.remove_override(rules, actor, form))[0]

    return await _edit(request, account, forms.CalendarRemove, act, _calendar_page,
                       "/admin/calendar", row="date")


# --- keyword rules and the category → department table ----------------------------------

async def _routing_page(request: Request, refused: dict | None = None) -> Response:
    rules = rules_of(request)
    return render(request, "admin_ref_routing.html", {
        **_version_context(request), "routing": rules.routing, "kinds": kind_labels(rules),
        "categories": list(rules.categories), "refused": refused or {}})


@staff_route("admin_routing")
async def routing(request: Request, account: Account) -> Response:
    return await _routing_page(request)


@staff_route("admin_keyword_rule")
async def edit_keyword_rule(request: Request, account: Account) -> Response:
    return await _edit(request, account, forms.KeywordRuleEdit,
                       reference_edits.edit_keyword_rule, _routing_page, "/admin/routing",
                       row="original")


@staff_route("admin_category_department")
async def edit_category_department(request: Request, account: Account) -> Response:
    return await _edit(request, account, forms.CategoryDepartment,
                       reference_edits.set_category_department, _routing_page,
                       "/admin/routing", row="category")


routes = [
    Route("/admin/reference", reference_home, name="admin_reference"),
    Route("/admin/departments", departments, name="admin_departments"),
    Route("/admin/departments/{code}/deactivate", deactivate_department, methods=["POST"],
          name="admin_department_deactivate"),
    Route("/admin/departments/{code}/activate", activate_department, methods=["POST"],
          name="admin_department_activate"),
    Route("/admin/departments/{code}/review", review_department, methods=["POST"],
          name="admin_department_review"),
    Route("/admin/hot-topics", hot_topics, name="admin_hot_topics"),
    Route("/admin/hot-topics", edit_hot_topics, methods=["POST"], name="admin_hot_topics_edit"),
    Route("/admin/calendar", calendar, name="admin_calendar"),
    Route("/admin/calendar", add_override, methods=["POST"], name="admin_calendar_add"),
    Route("/admin/calendar/remove", remove_override, methods=["POST"],
          name="admin_calendar_remove"),
    Route("/admin/routing", routing, name="admin_routing"),
    Route("/admin/routing/keywords", edit_keyword_rule, methods=["POST"],
          name="admin_keyword_rule"),
    Route("/admin/routing/categories", edit_category_department, methods=["POST"],
          name="admin_category_department"),
]
