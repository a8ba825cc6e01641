"""Sessions end on the server, junk cookies are nobody, logins cannot be hammered or used
to bounce a visitor to another site."""

from __future__ import annotations

import re

import pytest

from app.domain.types import Role
from app.models import WebSession
from app.services.secrets import hash_token
from app.web.app import create_app
from app.web.security import SESSION_COOKIE
from tests import conftest
from tests.conftest import (
    PASSWORD,
    csrf,
    login,
    make_client,
    make_staff,
    post_form,
    submit_appeal,
    unique,
)

TRACK_COOKIE = "ms_track"


async def test_logout_ends_the_session_on_the_server(database, new_client, app):
    handler = new_client()
    await login(handler, await make_staff(Role.HANDLER, "990100-zhujian"))
    token = handler.cookies.get(SESSION_COOKIE)
    assert (await handler.get("/staff/queue")).status_code == 200

    out = await post_form(handler, "/logout", {}, "/staff/queue")
    assert out.status_code == 303
    assert out.headers["location"] in ("/", "/login")  # a public page
    assert not await WebSession.filter(token_hash=hash_token(token)).exists()

    async with make_client(app) as replay:  # someone who kept the old cookie
        replay.cookies.set(SESSION_COOKIE, token)
        for path in ("/staff", "/staff/queue"):
            response = await replay.get(path)
            assert response.status_code == 303
            assert response.headers["location"].startswith("/login")
        response = await post_form(replay, "/staff/appeals/MS00000000-000000/acknowledge", {},
                                   "/login")
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")


async def test_logout_ends_only_its_own_session(database, new_client):
    username = await make_staff(Role.INSPECTOR)
    phone, desk = new_client(), new_client()
    await login(phone, username)
    await login(desk, username)
    await post_form(phone, "/logout", {}, "/staff/appeals")
    assert (await phone.get("/staff/appeals")).status_code == 303
    assert (await desk.get("/staff/appeals")).status_code == 200


async def test_tracking_logout_ends_the_session_on_the_server(database, new_client, app):
    resident = new_client()
    title = unique("退出查询")
    receipt = await submit_appeal(resident, title=title)
    tracked = await post_form(resident, "/track", {"username": receipt["username"],
                                                   "password": receipt["password"]}, "/track")
    assert tracked.status_code == 303
    token = resident.cookies.get(TRACK_COOKIE)
    assert title in (await resident.get("/track/appeal")).text

    out = await post_form(resident, "/track/logout", {}, "/track/appeal")
    assert out.status_code == 303
    assert out.headers["location"] == "/track"
    assert not await WebSession.filter(token_hash=hash_token(token)).exists()

    async with make_client(app) as replay:
        replay.cookies.set(TRACK_COOKIE, token)
        response = await replay.get("/track/appeal")
        assert response.status_code == 303
        assert response.headers["location"] == "/track"


async def test_tracking_login_is_case_insensitive_as_the_page_promises(database, new_client):
    resident = new_client()
    receipt = await submit_appeal(resident, title=unique("大小写"))
    tracked = await post_form(new_client(), "/track",
                              {"username": f"  {receipt['username'].upper()} ",
                               "password": receipt["password"].upper()}, "/track")
    assert tracked.status_code == 303


JUNK = [
    "junk",
    "",
    "x" * 43,
    "x" * 101,
    "x" * 5000,
    "' OR 1=1 --",
    "%00%ff",
    "Zm9vYmFy.Zm9vYmFy.Zm9vYmFy",
]


@pytest.mark.parametrize("value", JUNK, ids=[f"junk{i}" for i in range(len(JUNK))])
async def test_junk_session_cookie_is_treated_as_anonymous(database, app, value):
    async with make_client(app) as client:
        client.cookies.set(SESSION_COOKIE, value)
        client.cookies.set(TRACK_COOKIE, value)
        for path in ("/staff", "/staff/queue", "/staff/appeals"):
            response = await client.get(path)
            assert response.status_code == 303, (path, response.text[:200])
            assert response.headers["location"].startswith("/login")
        response = await client.get("/track/appeal")
        assert response.status_code == 303
        assert response.headers["location"] == "/track"
        home = await client.get("/")
        assert home.status_code == 200
        assert "工作人员登录" in home.text  # shown as a visitor, not as someone logged in


async def test_session_of_a_deactivated_account_stops_working(database, new_client):
    from app.models import Account

    username = await make_staff(Role.DISPATCHER)
    dispatcher = new_client()
    await login(dispatcher, username)
    assert (await dispatcher.get("/staff/triage")).status_code == 200
    await Account.filter(username=username).update(is_active=False)
    response = await dispatcher.get("/staff/triage")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


OFF_SITE = [
    "//evil.example",
    "https://evil.example",
    "http://evil.example/staff",
    "/\\evil.example",
    "\\\\evil.example",
    "/staff//evil.example",
    "//evil.example/staff",
    "https:evil.example",
    "javascript:alert(1)",
    "/%2F%2Fevil.example",
    " //evil.example",
    "\t//evil.example",
]


def _is_local(location: str) -> bool:
    return location.startswith("/") and not location.startswith("//") \
        and "\\" not in location and "evil" not in location


@pytest.mark.parametrize("target", OFF_SITE, ids=[f"next{i}" for i in range(len(OFF_SITE))])
async def test_login_next_cannot_redirect_off_site(database, new_client, target):
    username = await make_staff(Role.INSPECTOR)
    client = new_client()
    form = await client.get("/login", params={"next": target})
    assert form.status_code == 200
    assert "evil" not in form.text
    response = await post_form(client, "/login", {"username": username,
                                                  "password": PASSWORD, "next": target},
                               "/login")
    assert response.status_code == 303
    location = response.headers["location"]
    assert _is_local(location), location
    assert location == "/staff"


async def test_login_next_returns_to_the_staff_page_asked_for(database, new_client):
    resident, handler = new_client(), new_client()
    receipt = await submit_appeal(resident, title=unique("登录后返回"))
    page = f"/staff/appeals/{receipt['number']}"
    bounced = await handler.get(page)
    assert bounced.status_code == 303
    assert bounced.headers["location"] == f"/login?next={page}"
    form = await handler.get(bounced.headers["location"])
    next_value = re.search(r'name="next" value="([^"]*)"', form.text).group(1)
    assert next_value == page
    response = await post_form(handler, "/login",
                               {"username": await make_staff(Role.HANDLER, "990100-zhujian"),
                                "password": PASSWORD, "next": next_value}, "/login")
    assert response.status_code == 303
    assert response.headers["location"] == page


async def test_login_sets_a_fresh_http_only_session_cookie(database, new_client):
    client = new_client()
    client.cookies.set(SESSION_COOKIE, "planted-by-an-attacker")
    response = await post_form(client, "/login", {"username": await make_staff(Role.INSPECTOR),
                                                  "password": PASSWORD}, "/login")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "planted-by-an-attacker" not in cookie
    assert "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()


@pytest.fixture
async def limited_app(database, rules):
    settings = conftest.test_settings(database, MINSHENG_RATE_LIMIT="5")
    return create_app(settings, rules, manage_db=False)


async def test_sixth_login_within_a_minute_gets_429_with_retry_after(database, limited_app):
    username = await make_staff(Role.INSPECTOR)
    async with make_client(limited_app) as client:
        token = await csrf(client, "/login")
        for attempt in range(5):
            response = await client.post("/login", data={
                "csrf_token": token, "username": username, "password": f"wrong-{attempt}"})
            assert response.status_code == 400, attempt
        response = await client.post("/login", data={
            "csrf_token": token, "username": username, "password": PASSWORD})
        assert response.status_code == 429
        retry_after = int(response.headers["retry-after"])
        assert 1 <= retry_after <= 61
        assert "操作过于频繁" in response.text
        assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
        # The tracking login shares the limit: no way round it through the other door.
        response = await client.post("/track", data={
            "csrf_token": token, "username": "nobody", "password": "nothing"})
        assert response.status_code == 429
        assert "retry-after" in response.headers


async def test_rate_limit_does_not_block_reading_pages(database, limited_app):
    async with make_client(limited_app) as client:
        token = await csrf(client, "/login")
        for _ in range(6):
            await client.post("/login", data={"csrf_token": token, "username": "nobody",
                                              "password": "nothing"})
        assert (await client.get("/")).status_code == 200
        assert (await client.get("/track")).status_code == 200


# --- a new password, or a disabled account, ends the other sessions ----------------------

async def _logged_in_resident(new_client, email: str, password: str, count: int) -> list:
    browsers = []
    for _ in range(count):
        browser = new_client()
        done = await post_form(browser, "/account/login",
                               {"email": email, "password": password}, "/account/login")
        assert done.status_code == 303, done.text
        assert (await browser.get("/account/appeals")).status_code == 200
        browsers.append(browser)
    return browsers


async def test_password_reset_ends_every_session_of_the_account(database, app, new_client):
    from tests.factories import make_resident
    from tests.http.test_residents import _confirm, _link

    account = await make_resident()
    phone, desk = await _logged_in_resident(new_client, account.username, PASSWORD, 2)
    old_token = phone.cookies.get(SESSION_COOKIE)
    stranger = new_client()
    await post_form(stranger, "/account/reset", {"email": account.username}, "/account/reset")
    done = await _confirm(stranger, await _link(account.username, "password_reset"),
                          {"password": "a-brand-new-password"})
    assert done.status_code == 200, done.text

    assert not await WebSession.filter(account_id=account.id).exists()
    for browser in (phone, desk):
        response = await browser.get("/account/appeals")
        assert response.status_code == 303
        assert response.headers["location"] == "/account/login"
    async with make_client(app) as replay:  # someone who kept the cookie
        replay.cookies.set(SESSION_COOKIE, old_token)
        assert (await replay.get("/account/appeals")).status_code == 303
    await _logged_in_resident(new_client, account.username, "a-brand-new-password", 1)


async def test_tracking_password_reset_ends_the_tracking_sessions(database, new_client):
    from tests.factories import make_appeal
    from tests.http.test_residents import _confirm, _link

    email = f"{unique('t')}@example.com"
    made = await make_appeal("assigned", contact_email=email)
    tracker = new_client()
    tracked = await post_form(tracker, "/track", {"username": made.username,
                                                  "password": made.password}, "/track")
    assert tracked.status_code == 303
    assert (await tracker.get("/track/appeal")).status_code == 200
    await post_form(tracker, "/track/reset", {"tracking_number": made.number, "email": email},
                    "/track/reset")
    done = await _confirm(new_client(), await _link(email, "password_reset"))
    assert done.status_code == 200, done.text
    response = await tracker.get("/track/appeal")
    assert response.status_code == 303 and response.headers["location"] == "/track"
    assert not await WebSession.filter(appeal_id=made.appeal.id).exists()


async def test_password_change_ends_the_other_sessions_but_not_its_own(database, new_client):
    username = await make_staff(Role.INSPECTOR)
    phone, desk = new_client(), new_client()
    await login(phone, username)
    await login(desk, username)
    assert 'href="/account/password"' in (await phone.get("/staff/appeals")).text
    changed = await post_form(phone, "/account/password",
                              {"current": PASSWORD, "password": "another-long-password"},
                              "/account/password")
    assert changed.status_code == 200 and "密码已修改" in changed.text

    assert (await phone.get("/staff/appeals")).status_code == 200
    response = await desk.get("/staff/appeals")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert await WebSession.filter(account__username=username).count() == 1
    old = await post_form(new_client(), "/login", {"username": username, "password": PASSWORD},
                          "/login")
    assert old.status_code == 400
    await login_with(new_client(), username, "another-long-password")


async def login_with(client, username: str, password: str) -> None:
    done = await post_form(client, "/login", {"username": username, "password": password},
                           "/login")
    assert done.status_code == 303, done.text


async def test_password_change_needs_the_current_password_and_a_long_new_one(
        database, new_client):
    from app.models import LoginThrottle

    username = await make_staff(Role.DISPATCHER)
    phone, desk = new_client(), new_client()
    await login(phone, username)
    await login(desk, username)
    for current, new, message in (
            ("not-my-password", "another-long-password", "当前密码不正确。"),
            ("", "another-long-password", "请填写当前密码。"),
            (PASSWORD, "short", "密码至少 10 位。")):
        refused = await post_form(phone, "/account/password",
                                  {"current": current, "password": new}, "/account/password")
        assert refused.status_code == 400 and message in refused.text
    assert (await desk.get("/staff/triage")).status_code == 200  # nothing was ended
    await login_with(new_client(), username, PASSWORD)  # nor changed
    for _ in range(6):  # the current password is a door like the others: guessing locks it
        await post_form(phone, "/account/password",
                        {"current": "guess-guess", "password": "another-long-password"},
                        "/account/password")
    locked = await post_form(phone, "/account/password",
                             {"current": PASSWORD, "password": "another-long-password"},
                             "/account/password")
    assert locked.status_code == 429
    await LoginThrottle.all().delete()


async def test_password_page_is_for_logged_in_accounts_only(database, client):
    response = await client.get("/account/password")
    assert response.status_code == 303 and response.headers["location"] == "/account/login"


async def test_disabled_account_is_logged_out_everywhere(database, new_client):
    from app.models import Account
    from app.services.accounts import deactivate

    username = await make_staff(Role.DISPATCHER)
    phone, desk = new_client(), new_client()
    await login(phone, username)
    await login(desk, username)
    account = await Account.get(username=username)
    await deactivate(account)
    assert not await WebSession.filter(account_id=account.id).exists()
    for browser in (phone, desk):
        response = await browser.get("/staff/triage")
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
    again = await post_form(new_client(), "/login", {"username": username, "password": PASSWORD},
                            "/login")
    assert again.status_code == 400
