"""/staff/stats: the statistics table by department, and the list behind each figure."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.domain.types import TYPE_LABELS, Role
from app.models import Account, Category, Department, Region
from app.services import detectors, stats
from app.web.context import rules_of
from app.web.render import render
from app.web.staff import _marks, staff_route


async def _scope(request: Request, account: Account) -> tuple[detectors.Scope, dict, int | None]:
    scope, errors = await stats.stats_scope(request.query_params, datetime.now(UTC))
    if Role(account.role) != Role.HANDLER:
        return scope, errors, None
    # A handler sees their own department only, whatever the parameters say.
    own = await Department.get_or_none(id=account.department_id) \
        if account.department_id is not None else None
    if own is None:
        raise HTTPException(404)
    errors.pop("department", None)
    return replace(scope, department_id=own.id, department=own.code), errors, own.id


@staff_route("stats")
async def stats_page(request: Request, account: Account) -> Response:
    now = datetime.now(UTC)
    scope, errors, own = await _scope(request, account)
    rank = request.query_params.get("rank", "reply")
    if rank not in stats.RANKABLE:
        errors["rank"] = "排名依据无效，已按按时答复率排名。"
        rank = "reply"
    whole = replace(scope, department_id=None, department="")
    table = await stats.table(whole if own else scope, now, rank,
                              rules_of(request).detectors.stats_min_volume, own)
    months = await stats.trend(scope, now)
    return render(request, "stats.html", {
        "months": months, "bars": stats.bars(months), "chart_height": stats.CHART_HEIGHT,
        "bar_width": stats.BAR_WIDTH, "trend_limit": stats.TREND_MONTHS,
        "table": table, "rate_bars": stats.rate_bars(table.rows),
        "rate_width": stats.RATE_WIDTH, "rate_row": stats.RATE_ROW, "scope": scope,
        "errors": errors, "rates": stats.RATES,
        "figures": stats.BY_KEY, "periods": stats.PERIODS, "rank_title":
        stats.RATE_BY_KEY[rank].title, "handler": own is not None,
        "unassigned": detectors.UNASSIGNED,
        "regions": await Region.all().order_by("code").values("code", "name"),
        "categories": await Category.all().order_by("code").values("code", "name"),
        "types": {t.value: label for t, label in TYPE_LABELS.items()},
        "departments": [] if own else await Department.filter(active=True).order_by("code")
        .values("code", "name"),
    })


@staff_route("stats_list")
async def stats_list(request: Request, account: Account) -> Response:
    figure = stats.BY_KEY.get(request.query_params.get("figure", ""))
    if figure is None:
        raise HTTPException(404)
    scope, errors, _ = await _scope(request, account)
    after, bad_cursor = detectors.cursor_of(request.query_params)
    found = await stats.listing(figure, scope, datetime.now(UTC), after)
    params = {"figure": figure.key, **scope.params()}
    links = {"next": "?" + urlencode({**params, "after": found.next_after})
             if found.next_after else None,
             "first": "?" + urlencode(params) if after else None}
    return render(request, "stats_list.html", {
        "figure": figure, "scope": scope, "appeals": found.appeals,
        "marks": _marks(request, found.appeals), "total": found.total, "links": links,
        "errors": {**errors, **bad_cursor}, "overview": "?" + urlencode(scope.params()),
        "department": await detectors.department_label(scope),
    })


routes = [
    Route("/staff/stats", stats_page, name="stats"),
    Route("/staff/stats/list", stats_list, name="stats_list"),
]
