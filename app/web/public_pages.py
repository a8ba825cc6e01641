"""The public side, for anyone without logging in: published replies (/public), scorecards
(/public/stats) and open data (/public/data). Every route is rate limited per address."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from app.domain.types import TYPE_LABELS
from app.models import Category, Department
from app.services import benefits, open_data, public_replies, scorecards, stats
from app.web.context import rules_of, settings_of
from app.web.render import SECURITY_HEADERS, render
from app.web.security import client_address


def _limited(request: Request) -> None:
    request.app.state.limiter.check("public", client_address(request))


def _regions(request: Request) -> list[dict[str, str]]:
    rules = rules_of(request)
    return [{"code": r.code, "label": " / ".join(p.name for p in rules.region_path(r.code))}
            for r in rules.regions.values()]


async def replies_page(request: Request) -> Response:
    _limited(request)
    found = await public_replies.listing(request.query_params, datetime.now(UTC))
    return render(request, "public_replies.html", {
        "found": found, "values": {k: request.query_params.get(k, "") for k in
                                   ("q", "department", "region", "category", "month")},
        "errors": found.errors, "links": found.links,
        "types": {t.value: label for t, label in TYPE_LABELS.items()},
        "departments": await Department.filter(active=True).order_by("code")
        .values("code", "name"),
        "regions": _regions(request),
        "categories": await Category.filter(level=1).order_by("code").values("code", "name"),
        "benefit_totals": await benefits.public_banner(),
    })


async def stats_page(request: Request) -> Response:
    _limited(request)
    now = datetime.now(UTC)
    period, error = scorecards.period_of(request.query_params.get("period", ""), now)
    thresholds = rules_of(request).detectors
    names = {r["code"]: r["label"] for r in _regions(request)}
    card = await request.app.state.scorecards.get(period, now, thresholds.stats_min_volume,
                                                  thresholds.public_min_cell, names)
    return render(request, "public_stats.html", {
        "card": card, "errors": {"period": error} if error else {},
        "choices": scorecards.choices(now), "chart_height": stats.CHART_HEIGHT,
        "bar_width": stats.BAR_WIDTH,
        "definitions": {"received": stats.RECEIVED_DEFINITION,
                        "reply": stats.RATE_BY_KEY["reply"].definition,
                        "days": stats.DAYS_DEFINITION,
                        "satisfaction": stats.RATE_BY_KEY["satisfaction"].definition,
                        "ranking": stats.ranking_definition(card.min_volume),
                        "merge": stats.MERGE_DEFINITION},
    })


async def data_page(request: Request) -> Response:
    _limited(request)
    return render(request, "public_data.html", {"files": open_data.FILES})


async def published_file(request: Request) -> Response:
    return await _data_file(request, "published")


async def scorecards_file(request: Request) -> Response:
    return await _data_file(request, "scorecards")


async def _data_file(request: Request, name: str) -> Response:
    _limited(request)
    thresholds = rules_of(request).detectors
    now = datetime.now(UTC)
    path = await open_data.ensure(settings_of(request).var_dir, name, now,
                                  thresholds.stats_min_volume, thresholds.public_min_cell)
    day = path.stem.removeprefix(f"{name}-")
    response = FileResponse(path, media_type="text/csv; charset=utf-8",
                            filename=f"minsheng-{name}-{day}.csv")
    response.headers.update(SECURITY_HEADERS)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


routes = [
    Route("/public", replies_page, name="public_replies"),
    Route("/public/stats", stats_page, name="public_stats"),
    Route("/public/data", data_page, name="public_data"),
    Route("/public/data/published.csv", published_file, name="public_data_published"),
    Route("/public/data/scorecards.csv", scorecards_file, name="public_data_scorecards"),
]
