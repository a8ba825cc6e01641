"""Open311 client applications on /admin/api-clients (app.services.api_clients): issue a key
(shown once, on a page never cached), list, revoke. No appeal's content on these pages;
every action audited. Permissions are app.web.access.ROUTE_ROLES."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.models import Account
from app.services import api_clients
from app.services.errors import ServiceError
from app.services.workflow import Actor
from app.web import flash
from app.web.render import render
from app.web.security import checked_form
from app.web.staff import staff_route

LIST = "/admin/api-clients"


async def _list_page(request: Request, typed: str = "", errors: dict | None = None,
                     status: int = 200) -> Response:
    return render(request, "admin_api_clients.html", {
        "clients": await api_clients.all_clients(), "typed": typed,
        "errors": errors or {}, "name_max": api_clients.NAME_MAX}, status=status)


@staff_route("admin_api_clients")
async def admin_api_clients(request: Request, account: Account) -> Response:
    return await _list_page(request)


@staff_route("admin_api_client_create")
async def admin_api_client_create(request: Request, account: Account) -> Response:
    form = await checked_form(request)
    name = str(form.get("name", ""))
    try:
        client, key = await api_clients.issue(Actor.of(account), name)
    except ServiceError as exc:
        return await _list_page(request, name, {exc.field or "name": exc.message}, 400)
    return render(request, "admin_api_key.html", {"client": client, "key": key})


@staff_route("admin_api_client_revoke")
async def admin_api_client_revoke(request: Request, account: Account) -> Response:
    await checked_form(request)
    client = await api_clients.get(request.path_params["client_id"])
    if client is None:
        raise HTTPException(404)
    try:
        await api_clients.revoke(Actor.of(account), client)
    except ServiceError as exc:
        return await _list_page(request, errors={"client": exc.message}, status=400)
    return flash.put(request, RedirectResponse(LIST, status_code=303),
                     f"已吊销“{client.name}”的密钥，使用它的请求将被拒绝。")


routes = [
    Route(LIST, admin_api_clients, methods=["GET"], name="admin_api_clients"),
    Route(LIST, admin_api_client_create, methods=["POST"], name="admin_api_client_create"),
    Route(f"{LIST}/{{client_id:int}}/revoke", admin_api_client_revoke, methods=["POST"],
          name="admin_api_client_revoke"),
]
