"""The routing rules as plain data: regions, departments, categories, routing, clocks.

app.rules reads and checks routing_rules/ and builds these; the domain only reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.domain.clock import WorkingCalendar
from app.domain.sla_policy import Policies

LEVELS = ("province", "city", "county")


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
    active: bool = True  # an inactive department takes no new appeals
    review: bool = False  # 审核: the head approves a handler's reply before it goes out


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
    retrain: RetrainPolicy = field(default_factory=lambda: RetrainPolicy())
    # Top two classifier probabilities closer than this: the model cannot tell them apart.
    near_tie_margin: float = 0.0
    similar: SimilarPolicy = field(default_factory=lambda: SimilarPolicy())
    hotspots: HotspotPolicy = field(default_factory=lambda: HotspotPolicy())


@dataclass(frozen=True)
class RetrainPolicy:
    """The worker's retraining (routing.yaml `retrain:`): every N days (0: never), and only
    with at least this many labelled examples of the city's own."""

    every_days: int = 7
    min_examples: int = 200


@dataclass(frozen=True)
class SimilarPolicy:
    """Similar appeals (routing.yaml `similar:`; app.services.similar): how far back to look,
    and the estimated similarity from which an appeal is shown as saying the same thing
    (lower when the same person wrote it: same phone or account)."""

    window_days: int = 90
    min_similarity: float = 0.4
    same_person_similarity: float = 0.3


@dataclass(frozen=True)
class HotspotPolicy:
    """Hotspots (routing.yaml `hotspots:`; app.services.hotspots): the fewest appeals that
    make a group, the heat from which one 未诉先办 notice goes to the dispatchers and
    inspectors, and how often the worker rebuilds them (0: never)."""

    min_appeals: int = 5
    notify_heat: float = 20.0
    every_minutes: int = 60


@dataclass(frozen=True)
class DetectorThresholds:
    """The detectors' thresholds (routing_rules/detectors.yaml); these defaults without it."""

    period_days: int = 30
    ping_pong_returns: int = 2
    ping_pong_departments: int = 3
    perfunctory_hours: int = 24
    perfunctory_chars: int = 30
    no_contact_reply_chars: int = 50
    stats_min_volume: int = 10  # /staff/stats: fewer appeals than this are listed, not ranked
    public_min_cell: int = 5  # /public/stats: a count under this reads "<5", rates hidden
    reveal_daily_limit: int = 20  # personal data one staff member may reveal per local day


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
    detectors: DetectorThresholds = field(default_factory=DetectorThresholds)

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
