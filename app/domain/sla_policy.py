"""Service-level policies per appeal type, read from routing_rules/clocks.yaml."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from app.domain.types import TYPE_LABELS
from app.rules_error import RulesError

_TOP_KEYS = {"ack_days", "types"}
_POLICY_KEYS = ("reply_days", "warn_before_days", "max_extension_days")


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


class Policies:
    """The reply policy of every appeal type and the acknowledgement (签收) window."""

    def __init__(self, policies: dict[str, Policy], ack_days: int):
        self._policies = dict(policies)
        self.ack_days = ack_days

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


def _count(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def load_policies(path: str | Path) -> Policies:
    """Parse clocks.yaml; every problem is reported at once as RulesError(file, entry, msg)."""
    path = Path(path)
    file = str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise RulesError([(file, "(file)", f"cannot read: {e.strerror or e}")]) from None
    except yaml.YAMLError as e:
        raise RulesError([(file, "(file)", f"not valid YAML: {e}")]) from None
    if not isinstance(data, dict):
        raise RulesError([(file, "(file)", "expected a mapping with ack_days and types")])

    problems: list[tuple[str, str, str]] = []
    for key in sorted(set(map(str, data)) - _TOP_KEYS):
        problems.append((file, key, f"unknown key (allowed: {', '.join(sorted(_TOP_KEYS))})"))

    ack_days = _count(data.get("ack_days"))
    if "ack_days" not in data:
        problems.append((file, "ack_days", "missing"))
    elif ack_days is None or ack_days < 0:
        got = data["ack_days"]
        problems.append((file, "ack_days", f"must be a whole number >= 0, got {got!r}"))

    types = data.get("types")
    policies: dict[str, Policy] = {}
    if not isinstance(types, dict):
        problems.append((file, "types", "missing or not a mapping of appeal type to policy"))
        types = {}
    for name in TYPE_LABELS:
        if name not in types:
            problems.append((file, f"types.{name}", "missing policy for this appeal type"))
    for name, spec in types.items():
        entry = f"types.{name}"
        if name not in TYPE_LABELS:
            problems.append((file, entry, f"unknown appeal type (known: {', '.join(TYPE_LABELS)})"))
            continue
        if not isinstance(spec, dict):
            problems.append((file, entry, f"expected a mapping with {', '.join(_POLICY_KEYS)}"))
            continue
        for key in sorted(set(map(str, spec)) - set(_POLICY_KEYS)):
            problems.append((file, entry, f"unknown key {key!r}"))
        values: dict[str, int] = {}
        for key in _POLICY_KEYS:
            if key not in spec:
                problems.append((file, entry, f"missing {key}"))
                continue
            n = _count(spec[key])
            lowest = 1 if key == "reply_days" else 0
            if n is None or n < lowest:
                problems.append(
                    (file, entry, f"{key} must be a whole number >= {lowest}, got {spec[key]!r}")
                )
            else:
                values[key] = n
        if len(values) < len(_POLICY_KEYS):
            continue
        if values["warn_before_days"] >= values["reply_days"]:
            problems.append(
                (file, entry, "warn_before_days must be smaller than reply_days")
            )
            continue
        policies[name] = Policy(name, **values)
    if problems:
        raise RulesError(problems)
    assert ack_days is not None
    ordered = {name: policies[name] for name in TYPE_LABELS}
    return Policies(ordered, ack_days)
