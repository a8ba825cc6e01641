"""One login back-off for every door that checks a password: the staff and resident login
forms, the tracking login and the JSON API's HTTP Basic. Locked on one door, locked on all."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.domain.types import Role
from app.models import LoginThrottle
from app.services import throttle
from app.services.workflow import now_utc
from tests.conftest import post_form
from tests.factories import PASSWORD, make_appeal, make_resident, make_staff
from tests.http.test_api import API, basic

WRONG = "wrong-password-123"


@pytest.fixture(autouse=True)
async def no_locks_left(database):
    yield
    await LoginThrottle.all().delete()  # leave no lock behind for other tests


async def _fail_on_the_form(client, path: str, name_field: str, name: str) -> None:
    for _ in range(throttle.FREE_FAILURES + 1):
        answer = await post_form(client, path, {name_field: name, "password": WRONG}, path)
        assert answer.status_code in (400, 429)


def _assert_locked(response) -> None:
    assert response.status_code == 429, response.text
    assert int(response.headers["retry-after"]) >= 1
    assert response.json()["error"]["code"] == "rate_limited"
    assert "登录失败次数过多" in response.json()["error"]["message"]


async def test_resident_locked_on_the_web_form_is_refused_by_the_api(database, client):
    resident = await make_resident()
    made = await make_appeal("assigned", resident=resident)
    url = f"{API}/appeals/{made.number}"
    assert (await client.get(url, headers=basic(resident.username, PASSWORD))).status_code == 200

    await _fail_on_the_form(client, "/account/login", "email", resident.username)
    _assert_locked(await client.get(url, headers=basic(resident.username, PASSWORD)))


async def test_tracking_login_locked_on_the_web_is_refused_by_the_api(database, client):
    made = await make_appeal("assigned")
    url = f"{API}/appeals/{made.number}"
    await _fail_on_the_form(client, "/track", "username", made.username)
    _assert_locked(await client.get(url, headers=basic(made.username, made.password)))


async def test_wrong_basic_passwords_are_counted_and_lock_the_web_form(database, client):
    resident = await make_resident()
    made = await make_appeal("assigned", resident=resident)
    url = f"{API}/appeals/{made.number}"
    answers = [(await client.get(url, headers=basic(resident.username, WRONG))).status_code
               for _ in range(throttle.FREE_FAILURES + 1)]
    assert answers == [404] * (throttle.FREE_FAILURES + 1)  # the uniform 404 until locked
    row = await LoginThrottle.get(key=throttle.key(throttle.account_name(resident.username)))
    assert row.failures == throttle.FREE_FAILURES + 1 and row.locked_until is not None

    _assert_locked(await client.get(url, headers=basic(resident.username, PASSWORD)))
    web = await post_form(client, "/account/login",
                          {"email": resident.username, "password": PASSWORD}, "/account/login")
    assert web.status_code == 429 and int(web.headers["retry-after"]) >= 1


async def test_wrong_basic_tracking_passwords_lock_the_tracking_form(database, client):
    made = await make_appeal("assigned")
    url = f"{API}/appeals/{made.number}"
    for _ in range(throttle.FREE_FAILURES + 1):
        assert (await client.get(url, headers=basic(made.username, WRONG))).status_code == 404
    web = await post_form(client, "/track",
                          {"username": made.username, "password": made.password}, "/track")
    assert web.status_code == 429


async def test_staff_name_guessed_through_the_api_is_locked_on_the_staff_login(database, client):
    staff = await make_staff(Role.HANDLER, "990100-zhujian")
    made = await make_appeal("assigned")
    for _ in range(throttle.FREE_FAILURES + 1):
        response = await client.get(f"{API}/appeals/{made.number}",
                                    headers=basic(staff.username, WRONG))
        assert response.status_code == 404
    web = await post_form(client, "/login", {"username": staff.username, "password": PASSWORD},
                          "/login")
    assert web.status_code == 429


async def test_a_right_password_starts_the_count_again(database, client):
    resident = await make_resident()
    made = await make_appeal("assigned", resident=resident)
    url = f"{API}/appeals/{made.number}"
    for _ in range(throttle.FREE_FAILURES):
        await client.get(url, headers=basic(resident.username, WRONG))
    assert (await client.get(url, headers=basic(resident.username, PASSWORD))).status_code == 200
    assert not await LoginThrottle.exists(
        key=throttle.key(throttle.account_name(resident.username)))
    assert (await client.get(url, headers=basic(resident.username, WRONG))).status_code == 404


async def test_endless_failures_keep_the_lock_at_its_ceiling(database):
    name = throttle.account_name("ceiling@example.cn")
    for _ in range(throttle.FREE_FAILURES + 12):
        await throttle.failed(name)
    row = await LoginThrottle.get(key=throttle.key(name))
    wait = row.locked_until - now_utc()
    assert throttle.MAX_LOCK - timedelta(minutes=1) < wait <= throttle.MAX_LOCK
    assert throttle.lock_for(throttle.FREE_FAILURES + 12) == throttle.MAX_LOCK
    assert throttle.lock_for(10_000) == throttle.MAX_LOCK  # no overflow, ever


async def test_names_quiet_for_a_day_are_forgotten_by_the_worker_and_locks_are_kept(database,
                                                                                    rules):
    import asyncio

    from app.notify.worker import OutboxWorker
    from app.worker import periodic_jobs, run_worker
    from tests.conftest import test_settings

    quiet, recent, locked = "quiet-name", "recent-name", "locked-name"
    await throttle.failed(quiet, recent, locked)
    for _ in range(throttle.FREE_FAILURES + 1):
        await throttle.failed(locked)
    row = await LoginThrottle.get(key=throttle.key(recent))
    assert row.failures == 1 and row.last_failed_at is not None
    now = now_utc()
    # The quiet one failed a day and a minute ago, and the locked one is still locked then.
    await LoginThrottle.filter(key=throttle.key(quiet)).update(
        last_failed_at=now - throttle.FORGET_AFTER - timedelta(minutes=1))
    await LoginThrottle.filter(key=throttle.key(locked)).update(
        last_failed_at=now - throttle.FORGET_AFTER - timedelta(minutes=1),
        locked_until=now + timedelta(minutes=5))
    settings = test_settings(database)
    jobs = periodic_jobs(settings, rules)
    assert (throttle.PURGE_SECONDS, throttle.purge) in jobs
    await run_worker(settings, asyncio.Event(), jobs, once=True,
                     outbox=OutboxWorker(settings, only_ids=[]))
    assert not await LoginThrottle.exists(key=throttle.key(quiet))
    assert await LoginThrottle.exists(key=throttle.key(recent))
    with pytest.raises(throttle.LoginLocked):
        await throttle.check(locked)  # a lock outlives the purge
    # A day after the lock ends, the locked name too starts again with its free attempts.
    assert await throttle.purge(at=now + throttle.FORGET_AFTER + timedelta(minutes=6)) >= 2
    assert not await LoginThrottle.filter(key__in=[throttle.key(n) for n in
                                                   (quiet, recent, locked)]).exists()
    await throttle.failed(quiet)
    assert (await LoginThrottle.get(key=throttle.key(quiet))).failures == 1
