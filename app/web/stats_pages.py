"""/staff/stats: the statistics table by department, and the list behind each figure."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.domain.types import DEPARTMENT_ROLES, TYPE_LABELS, Role
from app.models import Account, Category, Department, Region
from app.services import detectors, exports, misroutes, stats
from app.web import access, downloads
from app.web.context import rules_of
from app.web.render import render
from app.web.staff import _marks, staff_route


async def _scope(request: Request, account: Account) -> tuple[detectors.Scope, dict, int | None]:
    scope, errors = await stats.stats_scope(request.query_params, datetime.now(UTC))
    if Role(account.role) not in DEPARTMENT_ROLES:
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
    fmt = request.query_params.get("format")
    if fmt and fmt not in exports.FORMATS:
        errors["format"] = exports.FORMAT_ERROR
    whole = replace(scope, department_id=None, department="")
    table = await stats.table(whole if own else scope, now, rank,
                              rules_of(request).detectors.stats_min_volume, own,
                              with_trend=own is None and fmt not in exports.FORMATS)
    if fmt in exports.FORMATS:
        return await _export_table(request, account, fmt, scope, errors, table)
    # A handler's table ranks the whole city; their trend is their own department's.
    months = table.months if table.months is not None else await stats.trend(scope, now)
    # Misroutes (app.services.misroutes): the whole city's, so not on a handler's page.
    wrong = {} if own is not None else {"misroutes": await misroutes.by_category_month(now),
                                        "misroute_definition": misroutes.DEFINITION}
    return render(request, "stats.html", {**wrong,
        "months": months, "bars": stats.bars(months), "chart_height": stats.CHART_HEIGHT,
        "bar_width": stats.BAR_WIDTH, "trend_limit": stats.TREND_MONTHS,
        "table": table, "rate_bars": stats.rate_bars(table.rows),
        "rate_width": stats.RATE_WIDTH, "rate_row": stats.RATE_ROW, "scope": scope,
        "errors": errors, "rates": stats.RATES,
        "definitions": {"received": stats.RECEIVED_DEFINITION, "days": stats.DAYS_DEFINITION,
                        "ranking": stats.ranking_definition(table.min_volume),
                        "merge": stats.MERGE_DEFINITION},
        "figures": stats.BY_KEY, "periods": stats.PERIODS, "rank_title":
        stats.RATE_BY_KEY[rank].title, "handler": own is not None,
        "unassigned": detectors.UNASSIGNED,
        "regions": await Region.all().order_by("code").values("code", "name"),
        "categories": await Category.all().order_by("code").values("code", "name"),
        "types": {t.value: label for t, label in TYPE_LABELS.items()},
        "departments": [] if own else await Department.filter(active=True).order_by("code")
        .values("code", "name"),
    })


async def _export_table(request: Request, account: Account, fmt: str,
                        scope: stats.StatsScope, errors: dict[str, str],
                        table: stats.Table) -> Response:
    """The table as the page shows it (a handler: their own row, its rank, its totals),
    with the definitions, as a file."""
    if not access.may_use(account, "export_stats"):
        raise HTTPException(404)
    if (refusal := downloads.refused(request, errors)) is not None:
        return refusal
    now, title = datetime.now(UTC), stats.RATE_BY_KEY[table.rank].title
    place = await exports.scope_text(scope, await detectors.department_label(scope))
    sheet = exports.stats_sheet(table, title,
                                exports.stats_notes(place, title, table.min_volume))
    entry = await exports.start_record(account, fmt, {**scope.params(), "rank": table.rank},
                                       now, "stats")
    return await downloads.download(sheet, entry, fmt, exports.file_name(fmt, now, "stats"))


@staff_route("stats_list")
async def stats_list(request: Request, account: Account) -> Response:
    figure = stats.LIST_BY_KEY.get(request.query_params.get("figure", ""))
    if figure is None or (figure in stats.MISROUTE_FIGURES
                          and not access.may_use(account, "misroute_list")):
        raise HTTPException(404)
    scope, errors, _ = await _scope(request, account)
    fmt = request.query_params.get("format")
    if fmt in exports.FORMATS:
        return await _export_list(request, account, fmt, figure, scope, errors)
    if fmt:
        errors["format"] = exports.FORMAT_ERROR
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


async def _export_list(request: Request, account: Account, fmt: str, figure: stats.Figure,
                       scope: stats.StatsScope, errors: dict[str, str]) -> Response:
    """Every appeal behind the figure (all the list's pages), as a file."""
    if not access.may_use(account, "export_stats_list"):
        raise HTTPException(404)
    if (refusal := downloads.refused(request, errors)) is not None:
        return refusal
    now = datetime.now(UTC)

    def where(sql: detectors.Sql) -> str:
        return f"{scope.where(sql)} AND {figure.condition(sql, now)}"

    entry = await exports.start_record(account, fmt, {"figure": figure.key, **scope.params()},
                                       now, "stats_list")
    sheet = await exports.appeal_sheet(exports.matching(where, downloads.batch_size(request)),
                                       now, figure.title)
    return await downloads.download(sheet, entry, fmt,
                                    exports.file_name(fmt, now, f"stats-{figure.key}"))


routes = [
    Route("/staff/stats", stats_page, name="stats"),
    Route("/staff/stats/list", stats_list, name="stats_list"),
]
