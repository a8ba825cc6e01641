"""One way to read input: declared pydantic models, one Chinese message per field.

A model's fields carry their Chinese label (`Field(title="标题")`) and their limits (from
`app.schemas.limits`); `parse` validates once and turns every problem into
`InputError({field: message})`, a `ValidationFailed` that also knows the API's error code of
each field. The API parses strictly (a JSON number is not text); forms and query strings
parse leniently after `form_values` has turned their strings and checkboxes into values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import PydanticCustomError

from app.schemas.limits import NO_NUL
from app.services.errors import ValidationFailed

Model = TypeVar("Model", bound=BaseModel)


class Input(BaseModel):
    """Base of every input model: text is trimmed, unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Output(BaseModel):
    """Base of every response body."""

    model_config = ConfigDict(extra="forbid")


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


# An optional field left blank is not given: its pattern applies only to what was typed.
Blank = BeforeValidator(_blank_to_none)


@dataclass(frozen=True)
class Say:
    """Messages of a field that say more than the generic ones, by kind of problem:
    missing, too_short, too_long, pattern, choice, range, invalid, and type (a form's field
    that is not a number). `{label}` and the constraint (`{min_length}`, `{max_length}`,
    `{ge}`, `{le}`) are filled in."""

    missing: str | None = None
    too_short: str | None = None
    too_long: str | None = None
    pattern: str | None = None
    choice: str | None = None
    range: str | None = None
    invalid: str | None = None
    type: str | None = None

    @classmethod
    def always(cls, message: str) -> Say:
        """The same message whatever is wrong with the value (a required choice, a format);
        a wrong JSON type keeps its own message."""
        return cls(message, message, message, message, message, message, message)


# The API's error code of each kind of problem.
CODES = {"unknown": "unknown_field", "missing": "missing_field", "type": "invalid_type"}
RANK = {"unknown": 0, "missing": 1, "type": 2}  # structural problems are named first
TYPE_WORDS = {"string": "文字", "bool": "true 或 false", "int": "整数", "float": "数字",
              "dict": "对象", "list": "列表", "model": "对象"}
GENERIC = {
    "missing": "请填写{label}。",
    "blank": "请填写{label}。",
    "too_short": "{label}至少 {min_length} 个字。",
    "too_long": "{label}不能超过 {max_length} 个字。",
    "pattern": "{label}格式不正确。",
    "bad_char": "{label}含有无效的字符。",
    "choice": "{label}（{name}）的取值无效，可选：{expected}。",
    "range": "{label}须在 {ge} 到 {le} 之间。",
    "invalid": "{label}不正确。",
}


class InputError(ValidationFailed):
    """Refused input: `errors` maps field → Chinese message, `codes` field → API code."""

    def __init__(self, errors: dict[str, str], codes: dict[str, str]):
        super().__init__(errors)
        self.codes = codes


def invalid(message: str, field: str | None = None) -> PydanticCustomError:
    """A refusal raised by a model's own validator. `field` moves the blame to another
    field (a rule about two fields is checked where both are known)."""
    return PydanticCustomError("invalid", message, {"field": field} if field else None)


def _kind(error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown"
    if kind == "missing":
        return "missing"
    if kind in ("literal_error", "enum"):
        return "choice" if isinstance(error["input"], str) else "type"
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return "type"
    if kind == "string_too_short":
        return "blank" if error["ctx"]["min_length"] == 1 else "too_short"
    if kind == "string_too_long":
        return "too_long"
    if kind == "string_pattern_mismatch":
        return "bad_char" if error["ctx"]["pattern"] == NO_NUL else "pattern"
    if kind == "string_unicode":
        return "bad_char"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return "range"
    return "invalid"


def _limits(field: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in getattr(field, "metadata", ()):
        for key in ("min_length", "max_length", "ge", "le"):
            if getattr(item, key, None) is not None:
                found[key] = getattr(item, key)
    return found


def _says(field: Any) -> Say:
    return next((m for m in getattr(field, "metadata", ()) if isinstance(m, Say)), Say())


def _message(model_cls: type[BaseModel], name: str, kind: str, error: dict[str, Any]) -> str:
    field = model_cls.model_fields.get(name)
    label = (field.title if field is not None else None) or name
    if kind == "unknown":
        return f"不认识的字段“{printable(name, 40)}”。"
    if kind == "type":
        if _says(field).type is not None:
            return _says(field).type
        named = "string" if error["type"] in ("literal_error", "enum") else error["type"]
        wanted = TYPE_WORDS.get(named.rsplit("_", 1)[0], "其他类型")
        return f"{label}（{name}）应为{wanted}。"
    said = "missing" if kind == "blank" else kind  # blank after trimming reads as missing
    template = getattr(_says(field), said, None) if said in Say.__dataclass_fields__ else None
    if template is None and kind == "invalid" and error["type"] == "invalid":
        return error["msg"]
    values = {**_limits(field), **(error.get("ctx") or {}), "label": label, "name": name,
              "expected": "、".join(str(c) for c in _choices(field))}
    return (template or GENERIC[kind]).format_map(values)


def _choices(field: Any) -> tuple:
    return getattr(getattr(field, "annotation", None), "__args__", ())


def printable(text: str, limit: int = 100) -> str:
    """An echo of client text that can always be encoded (lone surrogates escaped)."""
    return text[:limit].encode("utf-8", "backslashreplace").decode("utf-8")


def refusal(model_cls: type[BaseModel], exc: ValidationError) -> InputError:
    """A pydantic ValidationError as one Chinese message (and one API code) per field."""
    found: list[tuple[int, int, str, str, str]] = []  # rank, order, field, code, message
    order = {name: i for i, name in enumerate(model_cls.model_fields)}
    for error in exc.errors(include_url=False):
        loc = error["loc"]
        name = (error.get("ctx") or {}).get("field") or (str(loc[0]) if loc else "")
        kind = _kind(error)
        found.append((RANK.get(kind, 3), order.get(name, len(order)), printable(name),
                      CODES.get(kind, "invalid"), _message(model_cls, name, kind, error)))
    errors: dict[str, str] = {}
    codes: dict[str, str] = {}
    for _, _, name, code, message in sorted(found, key=lambda f: f[:2]):
        if name not in errors:
            errors[name], codes[name] = message, code
    return InputError(errors, codes)


def parse(model_cls: type[Model], data: Mapping[str, Any], *, strict: bool = False,
          context: dict[str, Any] | None = None) -> Model:
    """Validate `data` once against `model_cls`; refusals raise `InputError`.
    `strict` is for JSON (types must match exactly); `context` reaches model validators
    (e.g. {"rules": rules} for region and category checks)."""
    try:
        return model_cls.model_validate(data, strict=strict, context=context)
    except ValidationError as exc:
        raise refusal(model_cls, exc) from None


FALSE_WORDS = ("", "0", "off", "false", "no")


def form_values(model_cls: type[BaseModel], form: Mapping[str, Any]) -> dict[str, Any]:
    """The model's fields out of a submitted form or query string: other keys (the CSRF
    token, buttons) are left out, a checkbox is True when sent, and an empty non-text field
    counts as not sent (so its default, or "请填写…", applies)."""
    values: dict[str, Any] = {}
    for name, field in model_cls.model_fields.items():
        value = form.get(name)
        if field.annotation is bool:
            values[name] = value is not None and str(value).strip().lower() not in FALSE_WORDS
        elif isinstance(value, str) and (value.strip() or _is_text(field.annotation)):
            values[name] = value
    return values


def parse_form(model_cls: type[Model], form: Mapping[str, Any], *,
               context: dict[str, Any] | None = None) -> Model:
    return parse(model_cls, form_values(model_cls, form), context=context)


def _is_text(annotation: Any) -> bool:
    if annotation is str:
        return True
    return str in getattr(annotation, "__args__", ()) or all(
        isinstance(a, str) for a in getattr(annotation, "__args__", (0,)))


class DocumentSchema(GenerateJsonSchema):
    """JSON Schema for the OpenAPI document: a nullable value is `"type": [T, "null"]`
    (not an anyOf), as OpenAPI 3.1 readers and our fuzzing expect."""

    def nullable_schema(self, schema):  # noqa: ANN001, ANN201 - pydantic's signature
        inner = self.generate_inner(schema["schema"])
        if isinstance(inner.get("type"), str):
            nullable = {**inner, "type": [inner["type"], "null"]}
            if "enum" in inner:
                nullable["enum"] = [*inner["enum"], None]
            return nullable
        return super().nullable_schema(schema)


REF_TEMPLATE = "#/components/schemas/{model}"
