"""Golden payloads copied from specs/ and a strict comparison: same keys, same JSON types."""

import json
from pathlib import Path

from integrations.http import encode_json

GOLDEN = Path(__file__).parent / "golden"


def golden(name):
    return json.loads((GOLDEN / name).read_text())


def as_sent(payload):
    """The payload exactly as it goes on the wire, read back as JSON."""
    return json.loads(encode_json(payload))


def differences(expected, actual, path="$"):
    """Every place where `actual` differs from `expected` in keys, JSON type or value.
    Stricter than ==, which takes 1 == 1.0 == True and "3.5" != 3.5 alike."""
    if type(expected) is not type(actual):
        return [
            f"{path}: expected {type(expected).__name__} {expected!r}, "
            f"got {type(actual).__name__} {actual!r}"
        ]
    if isinstance(expected, dict):
        found = [f"{path}.{key}: missing" for key in expected if key not in actual]
        found += [f"{path}.{key}: unexpected" for key in actual if key not in expected]
        for key in expected.keys() & actual.keys():
            found += differences(expected[key], actual[key], f"{path}.{key}")
        return found
    if isinstance(expected, list):
        if len(expected) != len(actual):
            return [f"{path}: expected {len(expected)} items, got {len(actual)}"]
        found = []
        for index, (left, right) in enumerate(zip(expected, actual, strict=True)):
            found += differences(left, right, f"{path}[{index}]")
        return found
    return [] if expected == actual else [f"{path}: expected {expected!r}, got {actual!r}"]
