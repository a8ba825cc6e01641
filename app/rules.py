"""Reading routing_rules/: the one place that opens the rules files.

Each YAML file is parsed into a declared model (unknown keys refused), then checked against
the other files; every problem names its file and entry, in Chinese. The domain gets the
plain data built here (app.domain.rules, app.domain.clock, app.domain.sla_policy).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, get_args, get_origin

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from app.domain.clock import DayOverride, WorkingCalendar
from app.domain.rules import (
    LEVELS,
    DepartmentSpec,
    DetectorThresholds,
    HotspotPolicy,
    KeywordRule,
    RegionSpec,
    RetrainPolicy,
    Routing,
    Rules,
    SimilarPolicy,
)
from app.domain.sla_policy import RATING_WINDOW_DAYS, FollowupPolicy, Policies, Policy
from app.domain.types import TYPE_LABELS
from app.rules_error import RulesError

__all__ = [
    "DepartmentSpec", "KeywordRule", "RegionSpec", "Routing", "Rules", "RulesError",
    "documents_hash", "dump_document", "load_calendar", "load_calendar_overrides",
    "load_policies", "load_rules", "read_documents", "rules_from_documents", "rules_hash",
]

FILES = ("regions.yaml", "categories.yaml", "routing.yaml", "clocks.yaml", "calendar.yaml")
# Every file of a rules folder, as a document: the first four must be there.
DOCUMENTS = (*FILES, "hot_topics.yaml", "detectors.yaml")
OPTIONAL = ("calendar.yaml", "hot_topics.yaml", "detectors.yaml")
WHOLE_FILE = "(文件)"

Problem = tuple[str, str, str]
Level = Literal["province", "city", "county"]
AppealTypeName = Literal[tuple(t.value for t in TYPE_LABELS)]  # type: ignore[misc]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


# --- the files, as declared models -----------------------------------------------------

class _Spec(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _blank_is_absent(cls, data: Any) -> Any:
        # `overrides:` with every entry commented out means "none", not an error.
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None}
        return data


class RegionEntry(_Spec):
    code: Text
    name: Text
    level: Level
    departments: list[Text] = []
    # Kinds of `departments` switched off by an administrator: they take no new appeals.
    inactive: list[Text] = []
    # Kinds of `departments` whose replies the head approves before they go out (审核).
    review: list[Text] = []
    heads: dict[str, Text] = {}
    emails: dict[str, Text] = {}
    children: list[RegionEntry] = []


class RegionsFile(_Spec):
    department_kinds: dict[str, dict[Level, Text]] = {}
    regions: list[RegionEntry] = Field(min_length=1)


class CategoriesFile(_Spec):
    categories: dict[str, list[Text]] = Field(min_length=1)


class KeywordRuleEntry(_Spec):
    name: Text
    words: list[Text] = Field(alias="any", min_length=1)
    department: Text
    category: Text | None = None


class RetrainEntry(_Spec):
    every_days: int = Field(default=RetrainPolicy.every_days, ge=0, le=366)
    min_examples: int = Field(default=RetrainPolicy.min_examples, ge=10, le=1_000_000)


class SimilarEntry(_Spec):
    window_days: int = Field(default=SimilarPolicy.window_days, ge=1, le=3660)
    min_similarity: float = Field(default=SimilarPolicy.min_similarity, gt=0, le=1)
    same_person_similarity: float = Field(default=SimilarPolicy.same_person_similarity, gt=0,
                                          le=1)


class HotspotEntry(_Spec):
    min_appeals: int = Field(default=HotspotPolicy.min_appeals, ge=2, le=100_000)
    notify_heat: float = Field(default=HotspotPolicy.notify_heat, gt=0)
    every_minutes: int = Field(default=HotspotPolicy.every_minutes, ge=0, le=10_080)


class RoutingFile(_Spec):
    confidence_threshold: float = Field(ge=0, le=1)
    near_tie_margin: float = Field(default=0.0, ge=0, le=1)
    reports_to: Text
    category_department: dict[str, Text] = {}
    level_overrides: dict[Level, dict[str, Text]] = {}
    keyword_rules: list[KeywordRuleEntry] = []
    retrain: RetrainEntry = Field(default_factory=lambda: RetrainEntry())
    similar: SimilarEntry = Field(default_factory=lambda: SimilarEntry())
    hotspots: HotspotEntry = Field(default_factory=lambda: HotspotEntry())


class PolicyEntry(_Spec):
    reply_days: int = Field(ge=1)
    warn_before_days: int = Field(ge=0)
    max_extension_days: int = Field(ge=0)

    @model_validator(mode="after")
    def _warning_inside_the_window(self) -> PolicyEntry:
        if self.warn_before_days >= self.reply_days:
            raise ValueError("warn_before_days 必须小于 reply_days")
        return self


class ClocksFile(_Spec):
    ack_days: int = Field(ge=0)
    rating_window_days: int = Field(default=RATING_WINDOW_DAYS, ge=1)
    # 回访 (app.domain.sla_policy.FollowupPolicy): the share of appeals other than complaints
    # and reports called back, the days after closing a call is due, unanswered calls.
    followup_share: float = Field(default=FollowupPolicy.share, ge=0, le=1)
    followup_window_days: int = Field(default=FollowupPolicy.window_days, ge=1, le=365)
    followup_attempts: int = Field(default=FollowupPolicy.attempts, ge=1, le=10)
    types: dict[AppealTypeName, PolicyEntry]


def _iso_date(value: Any) -> Any:
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"日期有误 {value!r}：应为 YYYY-MM-DD")


class OverrideEntry(_Spec):
    date: Annotated[dt.date, BeforeValidator(_iso_date)]
    working: bool
    reason: Text


class CalendarFile(_Spec):
    confirmed_years: list[Annotated[int, Field(ge=1900, le=9998)]] = []
    overrides: list[OverrideEntry] = []


class HotTopicsFile(_Spec):
    hot_topics: list[Text] = []


_DEFAULT = DetectorThresholds()


class PingPongEntry(_Spec):
    min_returns: int = Field(default=_DEFAULT.ping_pong_returns, ge=1)
    min_departments: int = Field(default=_DEFAULT.ping_pong_departments, ge=2)


class PerfunctoryEntry(_Spec):
    max_hours: int = Field(default=_DEFAULT.perfunctory_hours, ge=1, le=720)
    max_chars: int = Field(default=_DEFAULT.perfunctory_chars, ge=1, le=10000)


class NoContactEntry(_Spec):
    max_reply_chars: int = Field(default=_DEFAULT.no_contact_reply_chars, ge=1, le=10000)


class StatsEntry(_Spec):
    min_volume: int = Field(default=_DEFAULT.stats_min_volume, ge=1, le=1_000_000)
    public_min_cell: int = Field(default=_DEFAULT.public_min_cell, ge=1, le=1000)


class RevealsEntry(_Spec):
    daily_limit: int = Field(default=_DEFAULT.reveal_daily_limit, ge=1, le=1000)


class DetectorsFile(_Spec):
    period_days: int = Field(default=_DEFAULT.period_days, ge=1, le=3660)
    ping_pong: PingPongEntry = PingPongEntry()
    perfunctory: PerfunctoryEntry = PerfunctoryEntry()
    no_contact: NoContactEntry = NoContactEntry()
    stats: StatsEntry = StatsEntry()
    reveals: RevealsEntry = RevealsEntry()

    def thresholds(self) -> DetectorThresholds:
        return DetectorThresholds(
            self.period_days, self.ping_pong.min_returns, self.ping_pong.min_departments,
            self.perfunctory.max_hours, self.perfunctory.max_chars,
            self.no_contact.max_reply_chars, stats_min_volume=self.stats.min_volume,
            public_min_cell=self.stats.public_min_cell,
            reveal_daily_limit=self.reveals.daily_limit)


# --- reading and naming problems ---------------------------------------------------------

class _TextDates(yaml.SafeLoader):
    """Leaves dates as text so a bad one is reported with its entry, not as a YAML error."""


_TextDates.add_constructor(
    "tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node)
)

M = TypeVar("M", bound=BaseModel)


def _read(path: Path, label: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RulesError([(label, WHOLE_FILE, "文件不存在")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError([(label, WHOLE_FILE, f"无法读取：{exc}")]) from None
    try:
        return yaml.load(text, Loader=_TextDates)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as exc:
        raise RulesError([(label, WHOLE_FILE, f"不是有效的 YAML：{exc}")]) from None


def _parse(path: Path, model: type[M], label: str) -> M:
    """The file as its model; RulesError naming every entry that is wrong."""
    return _validate(_read(path, label), model, label)


def _validate(data: Any, model: type[M], label: str) -> M:
    try:
        return model.model_validate({} if data is None else data)
    except ValidationError as exc:
        raise RulesError([_problem(label, error, data, model) for error in exc.errors()]) \
            from None


def _problem(label: str, error: Any, data: Any, model: type[BaseModel]) -> Problem:
    loc = [part for part in error["loc"] if part != "[key]"]
    return (label, _entry_name(data, loc), _message(error, model, loc))


def _entry_name(data: Any, loc: list) -> str:
    """regions[0] (990000).children[1] (990121).level: list items carry their code or name."""
    name = ""
    for part in loc:
        if isinstance(part, int):
            item = data[part] if isinstance(data, list) and part < len(data) else None
            label = next((item[k] for k in ("code", "name", "date")
                          if isinstance(item, dict) and item.get(k) is not None), None)
            name += f"[{part}]" + (f" ({label})" if label is not None else "")
            data = item
        else:
            name += f".{part}" if name else str(part)
            data = data.get(part) if isinstance(data, dict) else None
    return name or WHOLE_FILE


_MESSAGES = {
    "int_type": "应为整数",
    "bool_type": "应为 true 或 false",
    "string_type": "应为文字",
    "float_type": "应为数字",
    "list_type": "应为列表",
    "dict_type": "应为映射",
    "model_type": "应为映射",
    "model_attributes_type": "应为映射",
    "greater_than_equal": "应不小于 {ge}",
    "less_than_equal": "应不大于 {le}",
    "too_short": "至少需要 {min_length} 项",
    "string_too_short": "不能为空",
    "literal_error": "应为 {expected} 之一",
}


def _message(error: Any, model: type[BaseModel], loc: list) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "missing":
        return "缺少此项"
    if kind == "extra_forbidden":
        owner = _model_at(model, loc[:-1])
        allowed = ", ".join(f.alias or n for n, f in owner.model_fields.items()) if owner else ""
        return f"未知的键（可用：{allowed}）" if allowed else "未知的键"
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error", error["msg"]))
    template = _MESSAGES.get(kind)
    if template is None:
        return error["msg"]
    ctx = {k: str(v).replace(", ", "、").replace(" or ", "、") for k, v in ctx.items()}
    got = repr(error.get("input"))
    return f"{template.format(**ctx)}，实为 {got if len(got) <= 60 else got[:57] + '...'}"


def _model_at(model: type[BaseModel], loc: list) -> type[BaseModel] | None:
    """The declared model of the value at loc, if it is one (to list its keys)."""
    annotation: Any = model
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields = {f.alias or n: f for n, f in annotation.model_fields.items()}
            if part not in fields:
                return None
            annotation = fields[part].annotation
        elif get_args(annotation):
            annotation = get_args(annotation)[-1]  # list[X] → X, dict[K, V] → V
        else:
            return None
    annotation = _unwrap(annotation)
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) \
        else None


def _unwrap(annotation: Any) -> Any:
    if get_origin(annotation) is Annotated:
        return get_args(annotation)[0]
    args = [a for a in get_args(annotation) if a is not type(None)]
    if len(args) == 1 and get_origin(annotation) not in (list, dict):
        return args[0]  # X | None
    return annotation


# --- from the files to the domain's data ----------------------------------------------

def _regions(spec: RegionsFile, problems: list[Problem]) -> tuple[dict, dict]:
    f = "regions.yaml"
    regions: dict[str, RegionSpec] = {}
    departments: dict[str, DepartmentSpec] = {}

    def walk(items: list[RegionEntry], parent: RegionSpec | None, where: str) -> None:
        for i, item in enumerate(items):
            entry = f"{where}[{i}] ({item.code})"
            if item.code in regions:
                problems.append((f, entry, f"区划代码 {item.code} 重复"))
                continue
            if parent and parent.level == "county":
                problems.append((f, entry, "区县下不能再有下级区划"))
                continue
            expected = LEVELS[LEVELS.index(parent.level) + 1] if parent else "province"
            if item.level != expected:
                problems.append((f, entry, f"level 应为 {expected}，实为 {item.level}"))
                continue
            region = RegionSpec(item.code, item.name, item.level, parent.code if parent else None)
            regions[item.code] = region
            for key, kinds in (("inactive", item.inactive), ("review", item.review)):
                for kind in kinds:
                    if kind not in item.departments:
                        problems.append((f, f"{entry}.{key}", f"{kind} 不是该区划的部门类型"))
            for kind in item.departments:
                names = spec.department_kinds.get(kind)
                if names is None or item.level not in names:
                    problems.append((f, f"{entry}.departments", f"未知部门类型 {kind}"))
                    continue
                name = f"{item.name}{names[item.level]}"
                departments[f"{item.code}-{kind}"] = DepartmentSpec(
                    code=f"{item.code}-{kind}",
                    name=name,
                    kind=kind,
                    region_code=item.code,
                    head_name=item.heads.get(kind, f"{name}负责人"),
                    email=item.emails.get(kind, f"{kind}.{item.code}@gov.example.cn"),
                    active=kind not in item.inactive,
                    review=kind in item.review,
                )
            walk(item.children, region, f"{entry}.children")

    walk(spec.regions, None, "regions")
    if not any(r.level == "province" for r in regions.values()):
        problems.append((f, "regions", "至少需要一个省级区划"))
    return regions, departments


def _routing(spec: RoutingFile, categories: dict, kinds: set[str],
             problems: list[Problem]) -> Routing:
    f = "routing.yaml"
    if spec.reports_to not in kinds:
        problems.append((f, "reports_to", f"未知部门类型 {spec.reports_to}"))
    for cat, kind in spec.category_department.items():
        if cat not in categories:
            problems.append((f, f"category_department.{cat}", "未知分类"))
        if kind not in kinds:
            problems.append((f, f"category_department.{cat}", f"未知部门类型 {kind}"))
    for cat in categories:
        if cat not in spec.category_department:
            problems.append((f, "category_department", f"分类 {cat} 没有对应部门"))
    for level, items in spec.level_overrides.items():
        for cat, kind in items.items():
            if cat not in categories or kind not in kinds:
                problems.append((f, f"level_overrides.{level}.{cat}", "未知分类或部门类型"))
    rules = []
    for i, rule in enumerate(spec.keyword_rules):
        entry = f"keyword_rules[{i}] ({rule.name})"
        if rule.department not in kinds:
            problems.append((f, entry, f"未知部门类型 {rule.department}"))
        elif rule.category is not None and rule.category not in categories:
            problems.append((f, entry, f"未知分类 {rule.category}"))
        else:
            rules.append(KeywordRule(rule.name, tuple(rule.words), rule.department,
                                     rule.category))
    return Routing(spec.confidence_threshold, spec.reports_to, dict(spec.category_department),
                   {level: dict(items) for level, items in spec.level_overrides.items()},
                   tuple(rules), RetrainPolicy(spec.retrain.every_days, spec.retrain.min_examples),
                   near_tie_margin=spec.near_tie_margin,
                   similar=SimilarPolicy(**spec.similar.model_dump()),
                   hotspots=HotspotPolicy(**spec.hotspots.model_dump()))


def _policies(spec: ClocksFile, label: str) -> Policies:
    missing = [name for name in TYPE_LABELS if name not in spec.types]
    if missing:
        raise RulesError([(label, f"types.{name}", "缺少该诉求类型的时限") for name in missing])
    return Policies(
        {name: Policy(str(name), **spec.types[name].model_dump()) for name in TYPE_LABELS},
        spec.ack_days, spec.rating_window_days,
        FollowupPolicy(spec.followup_share, spec.followup_window_days, spec.followup_attempts),
    )


def _overrides(spec: CalendarFile, label: str) -> dict[dt.date, DayOverride]:
    overrides: dict[dt.date, DayOverride] = {}
    first_seen: dict[dt.date, str] = {}
    problems = []
    for i, entry in enumerate(spec.overrides):
        name = f"overrides[{i}] ({entry.date.isoformat()})"
        if entry.date in first_seen:
            problems.append((label, name, f"日期重复，已见于 {first_seen[entry.date]}"))
            continue
        first_seen[entry.date] = name
        overrides[entry.date] = DayOverride(entry.working, entry.reason)
    if problems:
        raise RulesError(problems)
    return overrides


def load_policies(path: str | Path) -> Policies:
    """The reply policies of a clocks.yaml; RulesError naming file and entry when wrong."""
    return _policies(_parse(Path(path), ClocksFile, str(path)), str(path))


def load_calendar_overrides(path: str | Path) -> dict[dt.date, DayOverride]:
    """The overrides of a calendar.yaml; RulesError naming file and entry when wrong."""
    return _overrides(_parse(Path(path), CalendarFile, str(path)), str(path))


def load_calendar(path: str | Path | None) -> WorkingCalendar:
    """A calendar with the overrides and confirmed years of a calendar.yaml (None: none)."""
    if path is None:
        return WorkingCalendar()
    spec = _parse(Path(path), CalendarFile, str(path))
    return WorkingCalendar(_overrides(spec, str(path)), spec.confirmed_years)


def documents_hash(documents: Mapping[str, Any]) -> str:
    """The rules version: a hash of what the documents say (not of their comments or
    layout), the same whether they were read from files or from the database."""
    text = json.dumps(documents, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _documents(rules_dir: Path) -> tuple[dict[str, Any], list[Problem]]:
    documents: dict[str, Any] = {}
    problems: list[Problem] = []
    for name in DOCUMENTS:
        path = rules_dir / name
        if name in OPTIONAL and not path.exists():
            continue
        try:
            documents[name] = _read(path, name)
        except RulesError as exc:
            problems.extend(exc.problems)
    return documents, problems


def read_documents(rules_dir: str | Path) -> dict[str, Any]:
    """Each file of a rules folder as its YAML data (an optional file that is absent is
    left out); RulesError naming every file that cannot be read."""
    documents, problems = _documents(Path(rules_dir))
    if problems:
        raise RulesError(problems)
    return documents


def dump_document(data: Any, header: str = "") -> str:
    """A document as YAML text that read_documents gives back unchanged."""
    comment = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    return comment + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def rules_hash(rules_dir: Path) -> str:
    return documents_hash(_documents(Path(rules_dir))[0])


def load_rules(rules_dir: str | Path) -> Rules:
    """Read and check every file; raise RulesError listing every problem found."""
    documents, problems = _documents(Path(rules_dir))
    return rules_from_documents(documents, problems)


def rules_from_documents(documents: Mapping[str, Any],
                         problems: list[Problem] | None = None) -> Rules:
    """Check the documents (a file's name → its data, as read_documents gives them, or as
    the database keeps them); raise RulesError listing every problem found."""
    problems = list(problems or [])
    unreadable = {problem[0] for problem in problems}

    def attempt(build, *args):
        try:
            return build(*args)
        except RulesError as exc:
            problems.extend(exc.problems)
            return None

    def parse(name: str, model: type[M]) -> M | None:
        if name not in documents:
            if name not in unreadable:
                problems.append((name, WHOLE_FILE, "文件不存在"))
            return None
        data = documents[name]
        return attempt(_validate, data, model, name)

    regions_file = parse("regions.yaml", RegionsFile)
    categories_file = parse("categories.yaml", CategoriesFile)
    routing_file = parse("routing.yaml", RoutingFile)
    clocks_file = parse("clocks.yaml", ClocksFile)
    calendar_file = parse("calendar.yaml", CalendarFile) if "calendar.yaml" in documents \
        else CalendarFile()
    hot_file = parse("hot_topics.yaml", HotTopicsFile) if "hot_topics.yaml" in documents \
        else HotTopicsFile()
    detectors_file = parse("detectors.yaml", DetectorsFile) if "detectors.yaml" in documents \
        else DetectorsFile()

    regions, departments = _regions(regions_file, problems) if regions_file else ({}, {})
    categories = {name: list(children) for name, children in categories_file.categories.items()} \
        if categories_file else {}
    routing = None
    if routing_file and regions_file and categories_file:
        kinds = {d.kind for d in departments.values()}
        routing = _routing(routing_file, categories, kinds, problems)
    policies = attempt(_policies, clocks_file, "clocks.yaml") if clocks_file else None
    overrides = attempt(_overrides, calendar_file, "calendar.yaml") if calendar_file else None
    if problems:
        order = {name: i for i, name in enumerate(DOCUMENTS)}
        raise RulesError(sorted(problems, key=lambda problem: order.get(problem[0], 99)))
    assert routing is not None and policies is not None and overrides is not None
    assert calendar_file is not None and hot_file is not None and detectors_file is not None
    calendar = WorkingCalendar(overrides, calendar_file.confirmed_years)
    return Rules(regions, departments, categories, routing, policies, calendar,
                 documents_hash(documents), list(hot_file.hot_topics),
                 detectors_file.thresholds())
