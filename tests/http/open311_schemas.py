"""GeoReport v2 response schemas, written from the specification's field tables
(http://wiki.open311.org/GeoReport_v2; no official XSD or JSON Schema is published): a
JSON Schema per resource, and the same structure checked element by element for XML.
Standard fields must be there with their standard types; extension fields (ours are
minsheng_*) are allowed, as the specification allows extra fields."""

from __future__ import annotations

from xml.etree import ElementTree as ET  # noqa: N817

import jsonschema

NULLABLE_TEXT = {"type": ["string", "null"]}
DATETIME = {"type": ["string", "null"],
            "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$"}

SERVICE = {
    "type": "object",
    "required": ["service_code", "service_name", "description", "metadata", "type",
                 "keywords", "group"],
    "properties": {
        "service_code": {"type": "string", "minLength": 1},
        "service_name": {"type": "string", "minLength": 1},
        "description": NULLABLE_TEXT,
        "metadata": {"type": "boolean"},
        "type": {"enum": ["realtime", "batch", "blackbox"]},
        "keywords": NULLABLE_TEXT,
        "group": NULLABLE_TEXT,
    },
}
SERVICES = {"type": "array", "items": SERVICE}

ATTRIBUTE = {
    "type": "object",
    "required": ["variable", "code", "datatype", "required", "datatype_description", "order",
                 "description"],
    "properties": {
        "variable": {"type": "boolean"},
        "code": {"type": "string", "minLength": 1},
        "datatype": {"enum": ["string", "number", "datetime", "text", "singlevaluelist",
                              "multivaluelist"]},
        "required": {"type": "boolean"},
        "datatype_description": NULLABLE_TEXT,
        "order": {"type": "integer", "minimum": 1},
        "description": {"type": "string"},
        "values": {"type": "array", "items": {
            "type": "object", "required": ["key", "name"],
            "properties": {"key": {"type": ["string", "number"]}, "name": {"type": "string"}}}},
    },
}
SERVICE_DEFINITION = {
    "type": "object", "required": ["service_code", "attributes"],
    "properties": {"service_code": {"type": "string"},
                   "attributes": {"type": "array", "items": ATTRIBUTE}},
}

REQUEST = {
    "type": "object",
    "required": ["service_request_id", "status", "service_name", "service_code",
                 "description", "requested_datetime", "address"],
    "properties": {
        "service_request_id": {"type": "string", "minLength": 1},
        "status": {"enum": ["open", "closed"]},
        "status_notes": NULLABLE_TEXT,
        "service_name": NULLABLE_TEXT,
        "service_code": NULLABLE_TEXT,
        "description": NULLABLE_TEXT,
        "agency_responsible": NULLABLE_TEXT,
        "service_notice": NULLABLE_TEXT,
        "requested_datetime": DATETIME,
        "updated_datetime": DATETIME,
        "expected_datetime": DATETIME,
        "address": NULLABLE_TEXT,
        "address_id": NULLABLE_TEXT,
        "zipcode": NULLABLE_TEXT,
        "lat": {"type": ["number", "null"]},
        "long": {"type": ["number", "null"]},
        "media_url": NULLABLE_TEXT,
    },
}
REQUESTS = {"type": "array", "items": REQUEST}

POSTED = {"type": "array", "minItems": 1, "items": {
    "type": "object", "required": ["service_request_id"],
    "properties": {"service_request_id": {"type": "string", "minLength": 1},
                   "token": NULLABLE_TEXT, "service_notice": NULLABLE_TEXT,
                   "account_id": NULLABLE_TEXT}}}
TOKENS = {"type": "array", "items": {
    "type": "object", "required": ["service_request_id", "token"],
    "properties": {"service_request_id": {"type": ["string", "null"]},
                   "token": {"type": "string"}}}}
ERRORS = {"type": "array", "minItems": 1, "items": {
    "type": "object", "required": ["code", "description"],
    "properties": {"code": {"type": "integer"}, "description": {"type": "string"}}}}
DISCOVERY = {
    "type": "object", "required": ["changeset", "contact", "key_service", "endpoints"],
    "properties": {"changeset": DATETIME, "endpoints": {"type": "array", "minItems": 1, "items": {
        "type": "object", "required": ["specification", "url", "changeset", "type", "formats"],
        "properties": {"type": {"enum": ["production", "test"]},
                       "formats": {"type": "array", "items": {"type": "string"}}}}}},
}


def check_json(document, schema) -> None:
    jsonschema.validate(document, schema, format_checker=jsonschema.FormatChecker())


# --- XML: the same structure, element by element ----------------------------------------

BOOLEAN = ("true", "false")
ROOTS = {"services": "service", "service_requests": "request", "errors": "error"}


def parse_xml(text: str) -> ET.Element:
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>'), text[:60]
    return ET.fromstring(text.encode("utf-8"))  # noqa: S314 - our own server's answer


def _children(element: ET.Element) -> dict[str, ET.Element]:
    found: dict[str, ET.Element] = {}
    for child in element:
        assert child.tag not in found, f"<{child.tag}> twice in <{element.tag}>"
        found[child.tag] = child
    return found


def _check_fields(element: ET.Element, schema: dict) -> dict[str, ET.Element]:
    """Each standard field present as a child, its text of the standard type."""
    children = _children(element)
    for name in schema["required"]:
        assert name in children, f"<{element.tag}> lacks <{name}>"
    for name, rule in schema["properties"].items():
        if name not in children or rule.get("type") == "array":
            continue
        text = children[name].text
        kinds = rule.get("type", "string")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if text is None:
            assert "null" in kinds or rule.get("minLength") is None, f"<{name}> empty"
            continue
        if "enum" in rule:
            assert text in rule["enum"], f"<{name}>{text}"
        elif "boolean" in kinds:
            assert text in BOOLEAN, f"<{name}>{text}"
        elif "integer" in kinds:
            assert text.isdigit(), f"<{name}>{text}"
        elif "number" in kinds and "string" not in kinds:
            float(text)
        if "pattern" in rule:
            jsonschema.validate(text, {"type": "string", "pattern": rule["pattern"]})
    return children


def check_xml(text: str, root: str) -> ET.Element:
    """The document's root is `root`; every item (and nested list) has its standard fields."""
    element = parse_xml(text)
    assert element.tag == root, element.tag
    if root == "service_definition":
        children = _check_fields(element, SERVICE_DEFINITION)
        for attribute in children["attributes"]:
            assert attribute.tag == "attribute"
            fields = _check_fields(attribute, ATTRIBUTE)
            for value in fields.get("values", []):
                assert value.tag == "value"
                _check_fields(value, ATTRIBUTE["properties"]["values"]["items"])
        return element
    if root == "discovery":
        children = _check_fields(element, DISCOVERY)
        for endpoint in children["endpoints"]:
            assert endpoint.tag == "endpoint"
            fields = _check_fields(endpoint, DISCOVERY["properties"]["endpoints"]["items"])
            assert [f.tag for f in fields["formats"]] == ["format"] * len(fields["formats"])
        return element
    item_schema = {"services": SERVICE, "errors": ERRORS["items"]}.get(root)
    for item in element:
        assert item.tag == ROOTS[root], item.tag
        if item_schema is None:  # requests, a POST's answer or a token's
            names = {c.tag for c in item}
            schema = REQUEST if "status" in names else \
                TOKENS["items"] if "token" in names and "minsheng_tracking_password" not in names \
                else POSTED["items"]
            _check_fields(item, schema)
        else:
            _check_fields(item, item_schema)
    return element
