"""/staff/hotspots: the 7- and 30-day hotspots (app.services.hotspots) with their definitions,
and /staff/hotspots/{id}: a hotspot's appeals, newest first, paged. Dispatchers and
inspectors (app.web.access); a hotspot never holds a report (举报)."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from tortoise.expressions import Subquery

from app.domain import hotspots as topics
from app.models import Account, Appeal, Hotspot, HotspotMember, Region
from app.services import hotspots, lists
from app.web.context import rules_of
from app.web.render import render
from app.web.staff import _marks, staff_route

SHOWN = 100  # hotspots on a tab, hottest first


def _period(request: Request) -> int:
    try:
        period = int(request.query_params.get("period", "7"))
    except ValueError:
        return 7
    return period if period in hotspots.PERIODS else 7


def _growth(hotspot: Hotspot) -> str:
    if not hotspot.previous_count:
        return "新出现"
    change = (hotspot.appeal_count - hotspot.previous_count) / hotspot.previous_count
    return f"{change:+.0%}"


def _share(hotspot: Hotspot) -> str:
    return f"{hotspot.unsatisfied / hotspot.rated:.0%}" if hotspot.rated else "—"


async def _regions(rows: list[Hotspot]) -> dict[int, str]:
    ids = sorted({h.region_id for h in rows})
    return dict(await Region.filter(id__in=ids).values_list("id", "name")) if ids else {}


def _definitions(request: Request) -> dict[str, str]:
    policy = rules_of(request).routing.hotspots
    return {
        "min_appeals": str(policy.min_appeals), "notify_heat": f"{policy.notify_heat:g}",
        "cap": f"{topics.GROWTH_CAP:.0%}", "threshold": f"{topics.THRESHOLD:g}",
        "every": str(policy.every_minutes),
    }


@staff_route("hotspots")
async def hotspots_page(request: Request, account: Account) -> Response:
    period = _period(request)
    rows = await Hotspot.filter(active=True, period_days=period) \
        .order_by("-heat", "-appeal_count", "id").limit(SHOWN)
    total = await Hotspot.filter(active=True, period_days=period).count()
    return render(request, "hotspots.html", {
        "period": period, "periods": hotspots.PERIODS, "hotspots": rows, "total": total,
        "shown": SHOWN, "regions": await _regions(rows),
        "growth": {h.id: _growth(h) for h in rows}, "share": {h.id: _share(h) for h in rows},
        "merged": await hotspots.merged_counts([h.id for h in rows]),
        "built": await hotspots.last_built(), "definitions": _definitions(request),
    })


@staff_route("hotspot")
async def hotspot_page(request: Request, account: Account) -> Response:
    try:
        ident = int(request.path_params["hotspot_id"])
    except ValueError:
        raise HTTPException(404) from None
    hotspot = await Hotspot.get_or_none(id=ident) if 0 < ident < 2**63 else None
    if hotspot is None:
        raise HTTPException(404)
    # A build never takes a report (举报); the list says so once more.
    members = Appeal.filter(id__in=Subquery(
        HotspotMember.filter(hotspot_id=hotspot.id).values("appeal_id"))).exclude(type="report")
    found, bad_cursor = await lists.page_or_first(
        members, lists.NEWEST_FIRST, request.query_params.get("after"), related=("department",))
    return render(request, "hotspot.html", {
        "hotspot": hotspot, "region": (await _regions([hotspot])).get(hotspot.region_id, ""),
        "growth": _growth(hotspot), "share": _share(hotspot),
        "merged": (await hotspots.merged_counts([hotspot.id])).get(hotspot.id, 0),
        "appeals": found.appeals, "marks": _marks(request, found.appeals),
        "links": found.links({}), "errors": {"after": bad_cursor} if bad_cursor else {},
        "show_department": True, "definitions": _definitions(request),
    })


routes = [
    Route("/staff/hotspots", hotspots_page, methods=["GET"], name="hotspots"),
    Route("/staff/hotspots/{hotspot_id}", hotspot_page, methods=["GET"], name="hotspot"),
]
