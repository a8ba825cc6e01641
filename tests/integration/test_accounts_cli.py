"""`minsheng admin` and `minsheng accounts` against a fresh database, on either engine: the
one-time password is the last line and works once, refusals are clear and exit non-zero,
and every change is in the audit log under "命令行"."""

import asyncio

import pytest

from tests.conftest import USE_PG, drop_pg_database, fresh_database_url
from tests.integration.test_cli_database import minsheng


async def _database_rows(url: str, query: str) -> list[tuple]:
    if url.startswith("sqlite://"):
        import sqlite3

        conn = sqlite3.connect(url.removeprefix("sqlite://"))
        try:
            return list(conn.execute(query))
        finally:
            conn.close()
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return [tuple(row) for row in await conn.fetch(query)]
    finally:
        await conn.close()


async def _verifies(url: str, username: str, password: str) -> bool:
    from argon2 import PasswordHasher, Type, extract_parameters
    from argon2.exceptions import VerificationError

    rows = await _database_rows(url, "SELECT username, password_hash FROM account")
    stored = dict(rows)[username]
    # What the CLI writes is argon2id at the library's recommended cost (the tests' own process
    # hashes at the lowest: tests/conftest.py).
    recommended, written = PasswordHasher(), extract_parameters(stored)
    assert (written.type, written.time_cost, written.memory_cost, written.parallelism) == \
        (Type.ID, recommended.time_cost, recommended.memory_cost, recommended.parallelism)
    try:
        return PasswordHasher().verify(stored, password)
    except VerificationError:
        return False


def _run(url: str, *args: str):
    # The CLI runs its own event loop: keep ours free while it does.
    return asyncio.to_thread(minsheng, url, *args)


async def _installed(tmp_path):
    url = await fresh_database_url(tmp_path)
    assert (await _run(url, "db", "upgrade")).returncode == 0
    assert (await _run(url, "rules", "load")).returncode == 0
    return url


@pytest.fixture
async def fresh(tmp_path):
    url = await _installed(tmp_path)
    yield url
    if USE_PG:
        await drop_pg_database(url)


@pytest.fixture(scope="module")
async def untouched(tmp_path_factory):
    """One installed database for the refusals, which must leave it as it was."""
    url = await _installed(tmp_path_factory.mktemp("cli"))
    yield url
    if USE_PG:
        await drop_pg_database(url)


async def test_first_admin_and_a_handler_from_the_shell(fresh):
    first = await _run(fresh, "admin", "create", "chief", "--name", "信息中心 王")
    assert first.returncode == 0, first.stderr
    password = first.stdout.strip().splitlines()[-1]
    assert len(password) >= 10 and " " not in password
    assert await _verifies(fresh, "chief", password)

    made = await _run(fresh, "accounts", "create", "zhang", "--role", "handler",
                      "--department", "990100-zhujian", "--name", "张伟")
    assert made.returncode == 0, made.stderr
    handler_password = made.stdout.strip().splitlines()[-1]
    assert handler_password != password
    rows = await _database_rows(
        fresh, "SELECT a.username, a.role, d.code, a.must_change_password FROM account a "
               "LEFT JOIN department d ON d.id = a.department_id ORDER BY a.username")
    assert [(u, r, d, bool(m)) for u, r, d, m in rows] == [
        ("chief", "admin", None, True), ("zhang", "handler", "990100-zhujian", True)]

    listed = await _run(fresh, "accounts", "list")
    assert listed.returncode == 0
    assert "zhang\thandler\t990100-zhujian\t张伟\t待修改密码" in listed.stdout
    assert "共 2 个工作人员账号" in listed.stdout

    reset = await _run(fresh, "accounts", "reset", "zhang")
    assert reset.returncode == 0, reset.stderr
    new_password = reset.stdout.strip().splitlines()[-1]
    assert await _verifies(fresh, "zhang", new_password)
    assert not await _verifies(fresh, "zhang", handler_password)

    disabled = await _run(fresh, "accounts", "disable", "zhang")
    assert disabled.returncode == 0, disabled.stderr
    assert "zhang\thandler\t990100-zhujian\t张伟\t已停用" in \
        (await _run(fresh, "accounts", "list")).stdout
    enabled = await _run(fresh, "accounts", "enable", "zhang")
    assert enabled.returncode == 0, enabled.stderr
    enabled_password = enabled.stdout.strip().splitlines()[-1]
    assert await _verifies(fresh, "zhang", enabled_password)
    assert not await _verifies(fresh, "zhang", new_password)
    again = await _run(fresh, "accounts", "enable", "zhang")
    assert again.returncode == 1 and "该账号未停用" in again.stderr

    audit = await _database_rows(fresh, "SELECT action, actor_label, actor_id, details "
                                        "FROM audit_entry ORDER BY id")
    assert [(a, label, actor) for a, label, actor, _ in audit] == [
        ("account_create", "命令行", None), ("account_create", "命令行", None),
        ("account_reset", "命令行", None), ("account_disable", "命令行", None),
        ("account_enable", "命令行", None)]
    details = " ".join(str(row[3]) for row in audit)
    for secret in (password, handler_password, new_password, enabled_password, "argon2"):
        assert secret not in details


@pytest.mark.parametrize(("args", "message"), [
    (("accounts", "create", "li", "--role", "mayor"), "--role"),
    (("accounts", "create", "li", "--role", "handler", "--department", "nowhere"),
     "没有名称或编码为“nowhere”的部门"),
    (("accounts", "create", "li", "--role", "handler"), "须选择所属部门"),
    (("accounts", "create", "li", "--role", "inspector", "--department", "990100-zhujian"),
     "不属于任何部门"),
    (("accounts", "create", "Li Si", "--role", "dispatcher"), "USERNAME"),
    (("accounts", "disable", "nobody"), "没有用户名为“nobody”的工作人员账号"),
    (("accounts", "reset", "nobody"), "没有用户名为“nobody”的工作人员账号"),
])
async def test_refusals_say_what_is_wrong_and_exit_non_zero(untouched, args, message):
    fresh = untouched
    result = await _run(fresh, *args)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert await _database_rows(fresh, "SELECT id FROM account") == []
    assert await _database_rows(fresh, "SELECT id FROM audit_entry") == []


async def test_a_username_is_taken_once(fresh):
    assert (await _run(fresh, "accounts", "create", "wang", "--role", "inspector")) \
        .returncode == 0
    again = await _run(fresh, "accounts", "create", "wang", "--role", "dispatcher")
    assert again.returncode != 0 and "已被使用" in again.stderr


async def test_a_database_never_migrated_is_named_as_the_problem(tmp_path):
    url = await fresh_database_url(tmp_path)
    try:
        result = await _run(url, "admin", "create", "chief")
        assert result.returncode != 0
        assert "minsheng db upgrade" in result.stderr
        assert "Traceback" not in result.stderr
    finally:
        if USE_PG:
            await drop_pg_database(url)
