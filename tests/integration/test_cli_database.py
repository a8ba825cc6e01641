"""The database commands open their own connection and close it, on either engine."""

import os
import subprocess
import sys

from app.settings import ROOT
from tests.conftest import USE_PG, drop_pg_database, fresh_database_url


def minsheng(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "MINSHENG_DEV": "1"}
    return subprocess.run([sys.executable, "-m", "app.cli", *args], env=env,
                          capture_output=True, text=True, timeout=300, cwd=ROOT)


async def test_mail_commands_run_against_a_fresh_database_and_exit_cleanly(tmp_path):
    url = await fresh_database_url(tmp_path)
    try:
        assert minsheng(url, "db", "upgrade").returncode == 0
        retry = minsheng(url, "mail", "retry")
        assert retry.returncode == 0, retry.stderr
        assert "已将 0 封失败的邮件重新排队" in retry.stdout
        status = minsheng(url, "mail", "status")
        assert status.returncode == 0, status.stderr
        assert "失败（failed）：0" in status.stdout
    finally:
        if USE_PG:
            await drop_pg_database(url)



def test_a_database_it_cannot_reach_is_one_line_not_a_traceback(tmp_path):
    """A wrong DATABASE_URL (nothing listening, a database that does not exist) says so on
    stderr and exits 1; no traceback, and the URL's password is not repeated."""
    for url in ("postgres://minsheng:s3cret-pw@127.0.0.1:1/minsheng",
                "postgres://postgres:s3cret-pw@127.0.0.1:5432/no_such_db_minsheng"):
        for args in (("db", "upgrade"), ("mail", "status")):
            done = minsheng(url, *args)
            assert done.returncode == 1, (args, done.stdout, done.stderr)
            assert "无法连接数据库" in done.stderr and "Traceback" not in done.stderr, args
            assert "s3cret-pw" not in done.stderr + done.stdout
