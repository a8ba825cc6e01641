"""Staff search (/staff/search) and a department's history (/staff/history)."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.domain.masking import mask_phone
from app.domain.states import ANSWERED, STATUS_LABELS
from app.domain.types import TYPE_LABELS
from app.models import Account, Appeal, Category, Region
from app.services import search
from app.web import access
from app.web.render import render
from app.web.staff import _marks, staff_route


async def _contacts(account: Account, appeals: list[Appeal]) -> dict[int, str]:
    """Each row's contact phone, masked; nothing for a report shown to a department."""
    shown = [a.id for a in appeals if access.sees_contact(account, a)]
    rows = await Appeal.filter(id__in=shown).values_list("id", "contact_phone")
    return {ident: mask_phone(phone) for ident, phone in rows}


@staff_route("search")
async def search_page(request: Request, account: Account) -> Response:
    found = await search.search(request.query_params, access.visible_appeals(account),
                                now=datetime.now(UTC))
    listing = found.listing
    appeals = listing.page.appeals if listing else []
    return render(request, "search.html", {
        "q": found.q if listing else request.query_params.get("q", "")[:search.Q_MAX],
        "asked": listing is not None, "filters": listing.filters if listing else None,
        "appeals": appeals, "marks": _marks(request, appeals), "errors": found.errors,
        "links": found.links, "contacts": await _contacts(account, appeals),
        "statuses": STATUS_LABELS, "types": TYPE_LABELS,
        "categories": await Category.filter(level=1).order_by("code").values("code", "name"),
        "regions": await Region.all().order_by("code").values("code", "name", "level"),
    })


@staff_route("history")
async def history_page(request: Request, account: Account) -> Response:
    found = await search.history_listing(request.query_params,
                                         access.visible_appeals(account),
                                         now=datetime.now(UTC))
    appeals = found.page.appeals
    department = await account.department
    return render(request, "history.html", {
        "title": f"{department.name if department else ''} 办理历史",
        "appeals": appeals, "marks": _marks(request, appeals), "filters": found.filters,
        "errors": found.errors, "links": found.links, "types": TYPE_LABELS,
        "statuses": {k: v for k, v in STATUS_LABELS.items() if k in ANSWERED},
    })


routes = [
    Route("/staff/search", search_page, name="search"),
    Route("/staff/history", history_page, name="history"),
]
