"""What every request reaches through its app: the settings and the routing rules it was
built with. The one module that knows where they are kept."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import HTTPConnection

from app.domain.rules import Rules
from app.settings import Settings


def keep_in_app(app: Starlette, settings: Settings, rules: Rules) -> None:
    app.state.settings = settings
    app.state.rules = rules


def rules_of(request: HTTPConnection) -> Rules:
    return request.app.state.rules


def settings_of(request: HTTPConnection) -> Settings:
    return request.app.state.settings
