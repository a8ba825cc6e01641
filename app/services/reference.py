"""Copy the regions, departments and categories of routing_rules/ into the database."""

from __future__ import annotations

import weakref

from tortoise import connections
from tortoise.transactions import in_transaction

from app.models import Category, Department, Region
from app.rules import Rules


async def sync_rules(rules: Rules) -> dict[str, int]:
    """Upsert by code. Idempotent; departments that left the rules are deactivated."""
    async with in_transaction():
        regions: dict[str, Region] = {}
        for spec in rules.regions.values():  # parents come before children
            parent = regions.get(spec.parent_code) if spec.parent_code else None
            region, _ = await Region.update_or_create(
                code=spec.code,
                defaults={"name": spec.name, "level": spec.level, "parent": parent},
            )
            regions[spec.code] = region
        for spec in rules.departments.values():
            await Department.update_or_create(
                code=spec.code,
                defaults={
                    "name": spec.name,
                    "kind": spec.kind,
                    "region": regions[spec.region_code],
                    "head_name": spec.head_name,
                    "email": spec.email,
                    "active": spec.active,
                },
            )
        await Department.exclude(code__in=list(rules.departments)).update(active=False)
        for position, (name, children) in enumerate(rules.categories.items(), start=1):
            top, _ = await Category.update_or_create(
                code=f"c{position:02d}", defaults={"name": name, "level": 1, "parent": None}
            )
            for sub_position, child in enumerate(children, start=1):
                await Category.update_or_create(
                    code=f"c{position:02d}{sub_position:02d}",
                    defaults={"name": child, "level": 2, "parent": top},
                )
    _ids.clear()
    return {
        "regions": len(rules.regions),
        "departments": len(rules.departments),
        "categories": len(rules.categories),
    }


class ReferenceIds:
    """Row ids of regions, level-1 categories and departments by code or name.

    Submissions need them on every request; the rows change only when the rules are loaded
    and an existing code keeps its id (upsert by code), so a process reads them once and
    again only when it meets a code it does not know yet.
    """

    def __init__(self) -> None:
        self.regions: dict[str, int] = {}
        self.categories: dict[str, int] = {}
        self.departments: dict[str, int] = {}

    async def refresh(self) -> None:
        self.regions = dict(await Region.all().values_list("code", "id"))
        self.categories = dict(await Category.filter(level=1).values_list("name", "id"))
        self.departments = dict(await Department.all().values_list("code", "id"))

    async def region(self, code: str) -> int:
        return await self._lookup(self.regions, code, "region")

    async def category(self, name: str) -> int | None:
        if name not in self.categories:
            await self.refresh()
        return self.categories.get(name)

    async def department(self, code: str) -> int:
        return await self._lookup(self.departments, code, "department")

    async def _lookup(self, table: dict[str, int], key: str, what: str) -> int:
        if key not in table:
            await self.refresh()
            table = getattr(self, f"{what}s")
        try:
            return table[key]
        except KeyError:
            raise LookupError(f"{what} {key!r} is not in the database; run `minsheng rules load`") \
                from None


# One cache per database client: tests and tools may open several databases in one process.
_ids: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def reference_ids() -> ReferenceIds:
    conn = connections.get("default")
    ids = _ids.get(conn)
    if ids is None:
        ids = _ids[conn] = ReferenceIds()
    return ids
