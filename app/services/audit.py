"""Counts for inspectors and dispatchers, computed in SQL."""

from __future__ import annotations

from tortoise.functions import Count

from app.models import AppealEvent


async def returns_by_department() -> list[dict]:
    return await AppealEvent.filter(kind="return").group_by("department__name") \
        .annotate(n=Count("id")).order_by("-n").values("department__name", "n")


async def returns_by_category() -> list[dict]:
    return await AppealEvent.filter(kind="return").group_by("appeal__category__name") \
        .annotate(n=Count("id")).order_by("-n").values("appeal__category__name", "n")
