"""Copy the regions, departments and categories of routing_rules/ into the database."""

from __future__ import annotations

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
                    "active": True,
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
    return {
        "regions": len(rules.regions),
        "departments": len(rules.departments),
        "categories": len(rules.categories),
    }
