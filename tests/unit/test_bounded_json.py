"""registry.bounded_json: what a client's JSON may hold, refused with the caller's error type."""

import json

import pytest

from registry.bounded_json import MAX_DEPTH, load_object, loads
from registry.errors import InvalidInput, InvalidPackage


def nested(depth, opener="[", closer="]"):
    return opener * depth + closer * depth


def nested_objects(depth):
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize("raw", [nested(MAX_DEPTH), nested_objects(MAX_DEPTH)])
def test_nesting_up_to_the_limit_is_read(raw):
    assert loads(raw) == json.loads(raw)


@pytest.mark.parametrize("raw", [
    nested(MAX_DEPTH + 1), nested_objects(MAX_DEPTH + 1),
    nested(5000), nested_objects(5000), nested(100_000, "{\"a\":", "}"),
])
def test_deeper_nesting_is_refused_not_a_recursion_error(raw):
    with pytest.raises(InvalidInput, match="nested too deeply"):
        loads(raw)


@pytest.mark.parametrize("raw, reason", [
    ("NaN", "NaN"), ("[Infinity]", "Infinity"), ('{"a": -Infinity}', "-Infinity"),
    ("1e999", "out of range"), ("-1e400", "out of range"),
    ("9" * 5000, "digits"),
    ('"a\\u0000b"', "NUL"), ('{"a\\u0000": 1}', "NUL"), ('["\\ud800"]', "surrogate"),
    (b"\xff\xfe\x00", "not valid JSON"), (b'"\xc3\x28"', "not valid JSON"),
    ("{'a': 1}", "not valid JSON"), ("", "not valid JSON"),
])
def test_values_no_database_can_keep_are_refused(raw, reason):
    with pytest.raises(InvalidInput, match=reason):
        loads(raw)


def test_what_is_kept_is_unchanged():
    raw = '{"name": "caf\\u00e9 \\ud83d\\ude00", "n": 12345678901234567890, "f": 1.5e300, "l": [null, true]}'
    assert loads(raw) == {"name": "café 😀", "n": 12345678901234567890, "f": 1.5e300, "l": [None, True]}
    assert loads('"\\\\u0000"') == "\\u0000"  # an escaped backslash, then text: no NUL


def test_the_callers_error_family_and_words():
    with pytest.raises(InvalidPackage, match=r"^The package.json is nested too deeply"):
        loads(nested(100), "The package.json", error=InvalidPackage)
    with pytest.raises(InvalidPackage, match="must be a JSON object"):
        load_object("[1]", "The package.json", error=InvalidPackage)
