"""Configuration, read once from the environment at start."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from app.domain.attachments import Policy, PolicyError

ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET = "dev-insecure-secret-change-me"  # noqa: S105
# The demo logins' password (`minsheng demo` prints it): refused as anyone's own password
# outside dev mode.
DEMO_PASSWORD = "minsheng-demo"  # noqa: S105


class SettingsError(Exception):
    pass


def _flag(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    dev_mode: bool
    base_url: str
    rules_dir: Path
    var_dir: Path
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_tls: str = "none"
    mail_from: str = "minsheng@localhost"
    sms_kannel_url: str = ""
    sms_user: str = ""
    sms_password: str = field(default="", repr=False)
    sms_from: str = ""
    rate_limit: int = 30
    inprocess_worker: bool = False
    model_dir: Path | None = None
    classifier_processes: int = 1
    attachments_dir: Path | None = None  # None: var_dir / "attachments"
    attachments: Policy = field(default_factory=Policy)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        var_dir = Path(env.get("MINSHENG_VAR_DIR", str(ROOT / "var")))
        dev_mode = _flag(env.get("MINSHENG_DEV"), default=False)
        secret = env.get("SECRET_KEY", "")
        if not secret:
            if not dev_mode:
                raise SettingsError(
                    "SECRET_KEY 未设置：生产模式下必须提供随机密钥（开发时可设 MINSHENG_DEV=1）。"
                )
            secret = DEV_SECRET
        if not dev_mode and (secret == DEV_SECRET or len(secret) < 32):
            raise SettingsError("SECRET_KEY 过短或为默认值：生产模式需要至少 32 个字符的随机密钥。")
        try:
            smtp_port = int(env.get("SMTP_PORT", "25"))
            rate_limit = int(env.get("MINSHENG_RATE_LIMIT", "30"))
            classifier_processes = int(env.get("MINSHENG_CLASSIFIER_PROCESSES", "1"))
        except ValueError as exc:
            raise SettingsError(
                f"SMTP_PORT / MINSHENG_RATE_LIMIT / MINSHENG_CLASSIFIER_PROCESSES 必须是整数：{exc}"
            ) from None
        if classifier_processes < 0:
            raise SettingsError(
                "MINSHENG_CLASSIFIER_PROCESSES 不能为负数（0 表示在本进程内分类）。"
            )
        try:
            attachments = Policy.from_env(env)
        except PolicyError as exc:
            raise SettingsError(str(exc)) from None
        return cls(
            attachments_dir=Path(env.get("MINSHENG_ATTACHMENTS_DIR")
                                 or str(var_dir / "attachments")),
            attachments=attachments,
            database_url=env.get("DATABASE_URL") or f"sqlite://{var_dir / 'minsheng.sqlite3'}",
            secret_key=secret,
            dev_mode=dev_mode,
            base_url=env.get("BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
            rules_dir=Path(env.get("MINSHENG_RULES_DIR", str(ROOT / "routing_rules"))),
            var_dir=var_dir,
            smtp_host=env.get("SMTP_HOST", ""),
            smtp_port=smtp_port,
            smtp_user=env.get("SMTP_USER", ""),
            smtp_password=env.get("SMTP_PASSWORD", ""),
            smtp_tls=env.get("SMTP_TLS", "none"),
            mail_from=env.get("SMTP_FROM", "minsheng@localhost"),
            sms_kannel_url=env.get("SMS_KANNEL_URL", "").strip(),
            sms_user=env.get("SMS_USER", ""),
            sms_password=env.get("SMS_PASSWORD", ""),
            sms_from=env.get("SMS_FROM", "").strip(),
            rate_limit=rate_limit,
            inprocess_worker=_flag(env.get("MINSHENG_INPROCESS_WORKER")),
            model_dir=Path(env["MINSHENG_MODEL_DIR"]) if env.get("MINSHENG_MODEL_DIR") else None,
            classifier_processes=classifier_processes,
        )
