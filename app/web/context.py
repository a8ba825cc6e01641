"""What every request reaches through its app: the settings and the routing rules (the
database's newest version, kept fresh by app.services.rules_store.LiveRules). The one module
that knows where they are kept."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import HTTPConnection

from app.domain.rules import Rules
from app.services.rules_store import RULES_CHECK_SECONDS, LiveRules
from app.settings import Settings


def keep_in_app(app: Starlette, settings: Settings, rules: Rules) -> None:
    app.state.settings = settings
    app.state.rules = rules
    app.state.live_rules = LiveRules(app.state)
    app.state.rules_check_seconds = RULES_CHECK_SECONDS


def live_rules_of(request: HTTPConnection) -> LiveRules:
    return request.app.state.live_rules


def rules_of(request: HTTPConnection) -> Rules:
    return request.app.state.rules


def settings_of(request: HTTPConnection) -> Settings:
    return request.app.state.settings
