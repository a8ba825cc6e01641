"""Service-level policies per appeal type (app.rules reads them from routing_rules/clocks.yaml)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from app.domain.types import TYPE_LABELS

# Calendar days a resident has to rate a reply before the sweep closes the appeal.
RATING_WINDOW_DAYS = 7


@dataclass(frozen=True, slots=True)
class Policy:
    type: str
    reply_days: int
    warn_before_days: int
    max_extension_days: int

    @property
    def label(self) -> str:
        return TYPE_LABELS.get(self.type, self.type)

    @property
    def max_total_days(self) -> int:
        return self.reply_days + self.max_extension_days


@dataclass(frozen=True)
class FollowupPolicy:
    """回访 after closing (routing_rules/clocks.yaml): every complaint and report is called
    back, and `share` of the rest, chosen by id; within `window_days` calendar days of
    closing; `attempts` unanswered calls end the try."""

    share: float = 0.2
    window_days: int = 30
    attempts: int = 3


class Policies:
    """The reply policy of every appeal type and the acknowledgement (签收) window."""

    def __init__(self, policies: dict[str, Policy], ack_days: int,
                 rating_window_days: int = RATING_WINDOW_DAYS,
                 followup: FollowupPolicy | None = None):
        self._policies = dict(policies)
        self.ack_days = ack_days
        self.rating_window_days = rating_window_days
        self.followup = followup or FollowupPolicy()

    def reply(self, type: str) -> Policy:
        try:
            return self._policies[type]
        except KeyError:
            known = ", ".join(self._policies)
            raise KeyError(f"unknown appeal type {type!r} (known: {known})") from None

    def resolve_type(self, name: str) -> str | None:
        """The type key for an English key or a Chinese label (咨询 → consultation)."""
        name = name.strip()
        if name in self._policies:
            return name
        for key in self._policies:
            if TYPE_LABELS.get(key) == name:
                return key
        return None

    @property
    def types(self) -> list[str]:
        return list(self._policies)

    def __iter__(self) -> Iterator[Policy]:
        return iter(self._policies.values())
