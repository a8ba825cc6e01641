"""Loading and validating routing_rules/: regions, departments, categories, routing, clocks."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from app.domain.clock import WorkingCalendar, load_calendar
from app.domain.sla_policy import Policies, load_policies
from app.rules_error import RulesError

LEVELS = ("province", "city", "county")
FILES = ("regions.yaml", "categories.yaml", "routing.yaml", "clocks.yaml", "calendar.yaml")


@dataclass(frozen=True)
class RegionSpec:
    code: str
    name: str
    level: str
    parent_code: str | None


@dataclass(frozen=True)
class DepartmentSpec:
    code: str
    name: str
    kind: str
    region_code: str
    head_name: str
    email: str


@dataclass(frozen=True)
class KeywordRule:
    name: str
    words: tuple[str, ...]
    department_kind: str
    category: str | None


@dataclass(frozen=True)
class Routing:
    confidence_threshold: float
    reports_to: str
    category_department: dict[str, str]
    level_overrides: dict[str, dict[str, str]]
    keyword_rules: tuple[KeywordRule, ...]


@dataclass
class Rules:
    regions: dict[str, RegionSpec]
    departments: dict[str, DepartmentSpec]
    categories: dict[str, list[str]]
    routing: Routing
    policies: Policies
    calendar: WorkingCalendar
    hash: str
    hot_topics: list[str] = field(default_factory=list)

    def department_of(self, region_code: str, kind: str) -> DepartmentSpec | None:
        code: str | None = region_code
        while code is not None:
            found = self.departments.get(f"{code}-{kind}")
            if found is not None:
                return found
            code = self.regions[code].parent_code
        return None

    def region_path(self, code: str) -> list[RegionSpec]:
        path = []
        current: str | None = code
        while current is not None:
            path.append(self.regions[current])
            current = self.regions[current].parent_code
        return list(reversed(path))


def _read(path: Path, problems: list) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append((path.name, "-", "文件不存在"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        problems.append((path.name, "-", f"无法解析：{exc}"))
    return None


def _regions(data: Any, problems: list) -> tuple[dict, dict]:
    regions: dict[str, RegionSpec] = {}
    departments: dict[str, DepartmentSpec] = {}
    if not isinstance(data, dict) or not isinstance(data.get("regions"), list):
        problems.append(("regions.yaml", "regions", "需要 regions 列表"))
        return regions, departments
    kinds = data.get("department_kinds") or {}
    if not isinstance(kinds, dict):
        problems.append(("regions.yaml", "department_kinds", "需要映射"))
        kinds = {}

    def walk(items: Any, parent: RegionSpec | None, where: str) -> None:
        if not isinstance(items, list):
            problems.append(("regions.yaml", where, "children 必须是列表"))
            return
        for i, item in enumerate(items):
            entry = f"{where}[{i}]"
            if not isinstance(item, dict):
                problems.append(("regions.yaml", entry, "必须是映射"))
                continue
            code, name, level = str(item.get("code", "")), item.get("name"), item.get("level")
            entry = f"{entry} ({code or '?'})"
            if not code or not name:
                problems.append(("regions.yaml", entry, "缺少 code 或 name"))
                continue
            if code in regions:
                problems.append(("regions.yaml", entry, f"区划代码 {code} 重复"))
                continue
            expected = LEVELS[LEVELS.index(parent.level) + 1] if parent else "province"
            if parent and parent.level == "county":
                problems.append(("regions.yaml", entry, "区县下不能再有下级区划"))
                continue
            if level != expected:
                problems.append(("regions.yaml", entry, f"level 应为 {expected}，实为 {level}"))
                continue
            region = RegionSpec(code, str(name), level, parent.code if parent else None)
            regions[code] = region
            heads = item.get("heads") or {}
            emails = item.get("emails") or {}
            for kind in item.get("departments") or []:
                names = kinds.get(kind)
                if not isinstance(names, dict) or level not in names:
                    problems.append(
                        ("regions.yaml", f"{entry}.departments", f"未知部门类型 {kind}")
                    )
                    continue
                dept_name = f"{name}{names[level]}"
                departments[f"{code}-{kind}"] = DepartmentSpec(
                    code=f"{code}-{kind}",
                    name=dept_name,
                    kind=kind,
                    region_code=code,
                    head_name=str(heads.get(kind, f"{dept_name}负责人")),
                    email=str(emails.get(kind, f"{kind}.{code}@gov.example.cn")),
                )
            walk(item.get("children") or [], region, f"{entry}.children")

    walk(data["regions"], None, "regions")
    if not any(r.level == "province" for r in regions.values()):
        problems.append(("regions.yaml", "regions", "至少需要一个省级区划"))
    return regions, departments


def _categories(data: Any, problems: list) -> dict[str, list[str]]:
    cats = data.get("categories") if isinstance(data, dict) else None
    if not isinstance(cats, dict) or not cats:
        problems.append(("categories.yaml", "categories", "需要非空映射：一级分类 → 二级分类列表"))
        return {}
    result = {}
    for name, children in cats.items():
        if not isinstance(children, list) or not all(isinstance(c, str) for c in children):
            problems.append(("categories.yaml", f"categories.{name}", "二级分类必须是文字列表"))
            continue
        result[str(name)] = children
    return result


def _routing(data: Any, categories: dict, kinds: set[str], problems: list) -> Routing:
    f = "routing.yaml"
    data = data if isinstance(data, dict) else {}
    threshold = data.get("confidence_threshold")
    if not isinstance(threshold, int | float) or isinstance(threshold, bool) or not (
        0 <= threshold <= 1
    ):
        problems.append((f, "confidence_threshold", "必须是 0 到 1 之间的数"))
        threshold = 1.0
    reports_to = data.get("reports_to")
    if reports_to not in kinds:
        problems.append((f, "reports_to", f"未知部门类型 {reports_to}"))
    mapping = data.get("category_department") or {}
    for cat, kind in mapping.items():
        if cat not in categories:
            problems.append((f, f"category_department.{cat}", "未知分类"))
        if kind not in kinds:
            problems.append((f, f"category_department.{cat}", f"未知部门类型 {kind}"))
    for cat in categories:
        if cat not in mapping:
            problems.append((f, "category_department", f"分类 {cat} 没有对应部门"))
    overrides = data.get("level_overrides") or {}
    for level, items in overrides.items():
        if level not in LEVELS or not isinstance(items, dict):
            problems.append((f, f"level_overrides.{level}", "未知层级或格式错误"))
            continue
        for cat, kind in items.items():
            if cat not in categories or kind not in kinds:
                problems.append((f, f"level_overrides.{level}.{cat}", "未知分类或部门类型"))
    rules = []
    for i, rule in enumerate(data.get("keyword_rules") or []):
        entry = f"keyword_rules[{i}]"
        if not isinstance(rule, dict):
            problems.append((f, entry, "必须是映射"))
            continue
        entry = f"{entry} ({rule.get('name', '?')})"
        words = rule.get("any")
        if not isinstance(words, list) or not words or not all(isinstance(w, str) and w
                                                               for w in words):
            problems.append((f, entry, "any 必须是非空关键词列表"))
            continue
        if rule.get("department") not in kinds:
            problems.append((f, entry, f"未知部门类型 {rule.get('department')}"))
            continue
        if rule.get("category") is not None and rule["category"] not in categories:
            problems.append((f, entry, f"未知分类 {rule['category']}"))
            continue
        rules.append(KeywordRule(str(rule.get("name", entry)), tuple(words),
                                 rule["department"], rule.get("category")))
    return Routing(float(threshold), str(reports_to), dict(mapping),
                   {k: dict(v) for k, v in overrides.items() if isinstance(v, dict)},
                   tuple(rules))


def rules_hash(rules_dir: Path) -> str:
    digest = hashlib.sha256()
    for name in FILES:
        path = rules_dir / name
        if path.exists():
            digest.update(name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def load_rules(rules_dir: str | Path) -> Rules:
    """Read and validate every file; raise RulesError listing every problem found."""
    rules_dir = Path(rules_dir)
    problems: list[tuple[str, str, str]] = []
    regions, departments = _regions(_read(rules_dir / "regions.yaml", problems), problems)
    categories = _categories(_read(rules_dir / "categories.yaml", problems), problems)
    kinds = {d.kind for d in departments.values()}
    routing = _routing(_read(rules_dir / "routing.yaml", problems), categories, kinds, problems)
    policies = calendar = None
    try:
        policies = load_policies(rules_dir / "clocks.yaml")
    except RulesError as exc:
        problems.extend(exc.problems)
    try:
        calendar_path = rules_dir / "calendar.yaml"
        calendar = load_calendar(calendar_path if calendar_path.exists() else None)
    except RulesError as exc:
        problems.extend(exc.problems)
    hot_topics = []
    hot = _read(rules_dir / "hot_topics.yaml", []) if (rules_dir / "hot_topics.yaml").exists() \
        else None
    if hot is not None:
        topics = hot.get("hot_topics") if isinstance(hot, dict) else None
        if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
            problems.append(("hot_topics.yaml", "hot_topics", "必须是文字列表"))
        else:
            hot_topics = topics
    if problems:
        raise RulesError(problems)
    assert policies is not None and calendar is not None
    return Rules(regions, departments, categories, routing, policies, calendar,
                 rules_hash(rules_dir), hot_topics)
