"""Resident accounts: verified registration, my appeals, resets, login back-off."""

import re

from app.models import Account, Appeal, LoginThrottle, OutboxMessage
from app.services import throttle
from tests.conftest import GOOD_APPEAL, csrf, post_form, submit_appeal, unique

PASSWORD = "a-long-resident-password"


async def _link(to: str, kind: str) -> str:
    mail = await OutboxMessage.filter(to_address=to, kind=kind).order_by("-id").first()
    assert mail is not None, f"no {kind} mail to {to}"
    return re.search(r"(/[a-z/]+\?token=[A-Za-z0-9_\-]+)", mail.text_body).group(1)


async def _confirm(client, link: str, data: dict | None = None):
    path, token = link.split("?token=")
    page = await client.get(link)
    assert page.status_code == 200 and token in page.text  # GET never spends the token
    return await client.post(path, data={"csrf_token": await csrf(client, link), "token": token,
                                         **(data or {})})


async def _registered(client) -> str:
    email = f"{unique('r')}@example.com"
    done = await post_form(client, "/account/register",
                           {"email": email, "password": PASSWORD, "name": "王大爷"},
                           "/account/register")
    assert done.status_code == 200 and "请查收邮件" in done.text
    return email


async def test_account_works_only_after_the_mailed_link_is_opened(database, new_client):
    browser = new_client()
    email = await _registered(browser)
    assert not (await Account.get(username=email)).is_active
    early = await post_form(browser, "/account/login", {"email": email, "password": PASSWORD},
                            "/account/login")
    assert early.status_code == 400

    link = await _link(email, "verification")
    activated = await _confirm(browser, link)
    assert activated.status_code == 200 and "已激活" in activated.text
    again = await _confirm(browser, link)
    assert again.status_code == 400  # a link works once

    ok = await post_form(browser, "/account/login", {"email": email, "password": PASSWORD},
                         "/account/login")
    assert ok.status_code == 303


async def test_my_appeals_lists_mine_and_nobody_elses(database, new_client):
    mine, other = new_client(), new_client()
    for browser in (mine, other):
        email = await _registered(browser)
        await _confirm(browser, await _link(email, "verification"))
        await post_form(browser, "/account/login", {"email": email, "password": PASSWORD},
                        "/account/login")
    my_title, other_title = unique("我的"), unique("别人的")
    await submit_appeal(mine, title=my_title)
    theirs = await submit_appeal(other, title=other_title)
    listing = await mine.get("/account/appeals")
    assert my_title in listing.text and other_title not in listing.text
    assert (await mine.get(f"/account/appeals/{theirs['number']}")).status_code == 404
    own = await Appeal.get(title=my_title)
    assert (await mine.get(f"/account/appeals/{own.tracking_number}")).status_code == 200


async def test_registration_does_not_reveal_existing_accounts(database, new_client):
    browser = new_client()
    email = await _registered(browser)
    again = await post_form(browser, "/account/register",
                            {"email": email, "password": PASSWORD}, "/account/register")
    assert again.status_code == 200 and "请查收邮件" in again.text
    assert await Account.filter(username=email).count() == 1
    assert await OutboxMessage.filter(to_address=email, kind="verification").count() == 1


async def test_password_reset_by_mail_link(database, new_client):
    browser = new_client()
    email = await _registered(browser)
    await _confirm(browser, await _link(email, "verification"))
    unknown = await post_form(browser, "/account/reset", {"email": "nobody@example.com"},
                              "/account/reset")
    known = await post_form(browser, "/account/reset", {"email": email}, "/account/reset")
    assert unknown.status_code == known.status_code == 200
    assert unknown.text == known.text
    assert not await OutboxMessage.exists(to_address="nobody@example.com")
    link = await _link(email, "password_reset")
    short = await _confirm(browser, link, {"password": "short"})
    assert short.status_code == 400 and "至少 10 位" in short.text
    done = await _confirm(browser, link, {"password": "a-brand-new-password"})
    assert done.status_code == 200 and "密码已更新" in done.text
    ok = await post_form(browser, "/account/login",
                         {"email": email, "password": "a-brand-new-password"}, "/account/login")
    assert ok.status_code == 303


async def test_tracking_password_reset_only_through_the_contact_given(database, new_client):
    browser, stranger = new_client(), new_client()
    email = f"{unique('q')}@example.com"
    receipt = await submit_appeal(browser, contact_email=email)
    await post_form(stranger, "/track/reset",
                    {"tracking_number": receipt["number"], "email": "thief@example.com"},
                    "/track/reset")
    assert not await OutboxMessage.exists(to_address="thief@example.com")
    await post_form(browser, "/track/reset",
                    {"tracking_number": receipt["number"], "email": email.upper()},
                    "/track/reset")
    done = await _confirm(browser, await _link(email, "password_reset"))
    new_password = re.search(r'id="tracking-password">([^<]+)<', done.text).group(1)
    assert new_password != receipt["password"]
    old = await post_form(browser, "/track", {"username": receipt["username"],
                                              "password": receipt["password"]}, "/track")
    assert old.status_code == 400
    new = await post_form(browser, "/track", {"username": receipt["username"],
                                              "password": new_password}, "/track")
    assert new.status_code == 303


async def test_wrong_passwords_are_slowed_then_refused(database, new_client):
    browser = new_client()
    email = await _registered(browser)
    await _confirm(browser, await _link(email, "verification"))
    statuses = []
    for _ in range(8):
        answer = await post_form(browser, "/account/login", {"email": email, "password": "wrong"},
                                 "/account/login")
        statuses.append(answer.status_code)
    assert statuses[:5] == [400] * 5
    assert 429 in statuses[5:]
    locked = await post_form(browser, "/account/login", {"email": email, "password": PASSWORD},
                             "/account/login")
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) >= 1
    # The same for a name that does not exist: nothing tells the two apart.
    ghost = "ghost-" + email
    for _ in range(6):
        await post_form(browser, "/account/login", {"email": ghost, "password": "wrong"},
                        "/account/login")
    assert (await post_form(browser, "/account/login", {"email": ghost, "password": "x"},
                            "/account/login")).status_code == 429
    await LoginThrottle.all().delete()  # leave no lock behind for other tests


async def test_lock_grows_with_each_failure(database):
    name = unique("grow")
    for _ in range(throttle.FREE_FAILURES + 3):
        await throttle.failed(throttle.account_name(name))
    row = await LoginThrottle.get(key=throttle.key(throttle.account_name(name)))
    assert row.failures == throttle.FREE_FAILURES + 3
    from app.services.workflow import now_utc

    wait = (row.locked_until - now_utc()).total_seconds()
    assert 6 <= wait <= 8.5  # 2 ** 3 seconds


async def test_submission_while_logged_in_belongs_to_the_account(database, new_client):
    browser = new_client()
    email = await _registered(browser)
    await _confirm(browser, await _link(email, "verification"))
    await post_form(browser, "/account/login", {"email": email, "password": PASSWORD},
                    "/account/login")
    title = unique("登录提交")
    await post_form(browser, "/submit", {**GOOD_APPEAL, "title": title}, "/submit")
    appeal = await Appeal.get(title=title)
    assert appeal.resident_id == (await Account.get(username=email)).id
