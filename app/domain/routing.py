"""Routing decisions: which department answers an appeal, and why. No I/O."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.domain.rules import Rules
from app.domain.types import AppealType

NEAR_TIE_RESIDENT_DECIDES = "两个类别得分接近，按群众自选类别分派"


@dataclass(frozen=True)
class Candidate:
    category: str
    probability: float
    words: list[str] = field(default_factory=list)


@dataclass
class RouteDecision:
    department_code: str | None
    category: str | None
    confident: bool
    reason: str
    candidates: list[Candidate] = field(default_factory=list)
    keyword_rule: str | None = None
    vetoed: str | None = None

    def as_record(self, model_version: str | None, rules_hash: str) -> dict:
        return {
            "department": self.department_code,
            "category": self.category,
            "confident": self.confident,
            "reason": self.reason,
            "keyword_rule": self.keyword_rule,
            "vetoed": self.vetoed,
            "model_version": model_version,
            "rules_hash": rules_hash,
            "candidates": [
                {"category": c.category, "probability": round(c.probability, 4),
                 "words": c.words}
                for c in self.candidates
            ],
        }


def report_body(rules: Rules, region_code: str, named_unit: str | None) -> str | None:
    """The discipline body that takes a report: never the unit it names."""
    code: str | None = region_code
    while code is not None:
        body = rules.departments.get(f"{code}-{rules.routing.reports_to}")
        if body is not None and body.code != named_unit:
            return body.code
        code = rules.regions[code].parent_code
    return None


def department_for_category(rules: Rules, region_code: str, category: str) -> str | None:
    level = rules.regions[region_code].level
    kind = rules.routing.level_overrides.get(level, {}).get(
        category, rules.routing.category_department.get(category)
    )
    if kind is None:
        return None
    found = rules.department_of(region_code, kind)
    return found.code if found else None


def decide(
    rules: Rules,
    *,
    appeal_type: str,
    region_code: str,
    text: str,
    category: str | None = None,
    named_unit: str | None = None,
    candidates: list[Candidate] | None = None,
) -> RouteDecision:
    """Route by the report veto, then keyword rules, then the category.

    With a classifier, its top category decides when it is confident, or when it agrees
    with the category the resident chose; without one, the resident's category decides.
    A near tie of the top two goes to triage unless the resident chose one of them.
    """
    candidates = list(candidates or [])
    top = candidates[0] if candidates else None
    if appeal_type == AppealType.REPORT:
        body = report_body(rules, region_code, named_unit)
        predicted = top.category if top else category
        if body is None:
            return RouteDecision(None, predicted, False, "举报：未找到可受理的纪检监察机关",
                                 candidates, vetoed=named_unit)
        if not rules.departments[body].active:
            return RouteDecision(None, predicted, False, _closed(rules, body), candidates,
                                 vetoed=named_unit)
        return RouteDecision(body, predicted, True, "举报件交纪检监察机关办理，不交被举报单位",
                             candidates, vetoed=named_unit)

    for rule in rules.routing.keyword_rules:
        if any(word in text for word in rule.words):
            found = rules.department_of(region_code, rule.department_kind)
            if found is not None and found.code != named_unit:
                chosen = rule.category or (top.category if top else category)
                if not found.active:
                    why = f"命中关键词规则“{rule.name}”，{_closed(rules, found.code)}"
                    return RouteDecision(None, chosen, False, why, candidates,
                                         keyword_rule=rule.name)
                return RouteDecision(found.code, chosen, True, f"命中关键词规则“{rule.name}”",
                                     candidates, keyword_rule=rule.name)

    tie = near_tie(candidates, rules.routing.near_tie_margin)
    if tie is not None:
        scores = "，".join(f"“{c.category}”{c.probability:.0%}" for c in tie)
        if category not in (tie[0].category, tie[1].category):
            return RouteDecision(None, tie[0].category, False,
                                 f"两个类别得分接近（{scores}），转人工分派", candidates)
        chosen = category
        reason = f"{NEAR_TIE_RESIDENT_DECIDES}：“{chosen}”（{scores}）"
    elif top is not None:
        confident = top.probability >= rules.routing.confidence_threshold
        agrees = category is not None and category == top.category
        if not (confident or agrees):
            return RouteDecision(None, top.category, False,
                                 f"分类把握不足（{top.probability:.0%}），转人工分派", candidates)
        chosen = top.category
        reason = f"自动分类为“{chosen}”（{top.probability:.0%}）"
    elif category is not None:
        chosen, reason = category, f"按群众所选分类“{category}”分派"
    else:
        return RouteDecision(None, None, False, "未选择分类，转人工分派", candidates)

    department = department_for_category(rules, region_code, chosen)
    if department is None or department == named_unit:
        return RouteDecision(None, chosen, False, "该区划没有对应部门，转人工分派", candidates)
    if not rules.departments[department].active:
        return RouteDecision(None, chosen, False, _closed(rules, department), candidates)
    return RouteDecision(department, chosen, True, reason, candidates)


def near_tie(candidates: list[Candidate], margin: float) -> tuple[Candidate, Candidate] | None:
    """The top two candidates when their probabilities differ by less than `margin`."""
    if len(candidates) < 2 or candidates[0].probability - candidates[1].probability >= margin:
        return None
    return candidates[0], candidates[1]


def _closed(rules: Rules, code: str) -> str:
    """Why an appeal waits: the department it would go to takes no new appeals."""
    return f"承办部门“{rules.departments[code].name}”已停用，转人工分派"
