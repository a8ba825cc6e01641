"""Idempotency keys and request fingerprints: which keys are accepted, and which requests
count as the same body."""

import pytest

from app.services.idempotency import BadKey, fingerprint, parse_key

BODY = {"title": "小区电梯坏了", "type": "complaint", "public": False, "n": 1}


@pytest.mark.parametrize("key", ["a", "~" * 200, "550e8400-e29b-41d4-a716-446655440000",
                                 "!#$%&'()*+,-./:;<=>?@[\\]^_`{|}"])
def test_visible_ascii_keys_of_1_to_200_characters_are_taken_as_they_are(key):
    assert parse_key([key]) == key
    assert parse_key(key) == key


def test_no_header_is_no_key():
    assert parse_key([]) is None and parse_key(None) is None


@pytest.mark.parametrize("values", [[""], [" "], ["a b"], ["a" * 201], ["键"], ["a\tb"],
                                    ["\x7f"], ["a", "a"], ["é"]])
def test_other_keys_are_refused_naming_the_header(values):
    with pytest.raises(BadKey) as refused:
        parse_key(values)
    assert refused.value.field == "Idempotency-Key" and refused.value.code == "bad_key"


def test_the_same_object_in_any_key_order_is_the_same_request():
    same = dict(reversed(list(BODY.items())))
    assert fingerprint(BODY) == fingerprint(same) == fingerprint(BODY, [])
    assert len(fingerprint(BODY)) == 64


@pytest.mark.parametrize("other", [{**BODY, "title": "小区电梯坏了。"}, {**BODY, "public": None},
                                   {**BODY, "n": "1"}, {**BODY, "extra": 1},
                                   {k: v for k, v in BODY.items() if k != "n"}])
def test_any_changed_value_is_another_request(other):
    assert fingerprint(other) != fingerprint(BODY)


def test_files_count_by_name_and_bytes_in_order():
    a, b = ("a.png", "1" * 64), ("b.png", "2" * 64)
    assert fingerprint(BODY, [a, b]) == fingerprint(BODY, [a, b])
    assert len({fingerprint(BODY, [a, b]), fingerprint(BODY, [b, a]), fingerprint(BODY, [a]),
                fingerprint(BODY, [("c.png", "1" * 64), b]), fingerprint(BODY)}) == 5


def test_any_parsed_json_has_a_fingerprint():
    """What the API's JSON reader lets through: overflowing numbers, lone surrogates."""
    import json

    odd = json.loads('{"a": 1e400, "b": "\\ud800", "c": [[[]]], "d": -0.0}')
    assert fingerprint(odd) == fingerprint(dict(reversed(list(odd.items()))))
