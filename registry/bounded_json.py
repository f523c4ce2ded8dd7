"""JSON sent by a client, parsed with limits: the one way request bodies become Python values.

Plain Python, no Django: format parsers use it too. `json.loads` alone takes any depth (deep
enough nesting raises RecursionError, which is no client error), `NaN`, `Infinity` and numbers
too large for a float (which PostgreSQL's jsonb refuses at save time), NUL characters (which no
PostgreSQL text holds) and unpaired surrogates (which cannot be encoded as UTF-8). Each of these
is refused here, with a message naming what was sent, before anything is stored.
"""

import json
import math
import re

from registry.errors import InvalidInput

# Deeper than any package.json, settings object or API body; shallow enough that code walking
# the value recursively (serializers, the database driver, json.dumps) never runs out of stack.
MAX_DEPTH = 64
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def loads(raw, what="The request body", *, error=InvalidInput, max_depth=MAX_DEPTH):
    """The value of the JSON text `raw` (str or bytes in UTF-8/16/32). Raises `error` (a
    RegistryError class: the caller's family) with a message starting with `what`."""
    try:
        value = json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise error(f"{what} is nested too deeply (at most {max_depth} levels).") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise error(f"{what} is not valid JSON: {exc}") from None
    problem = _first_problem(value, max_depth)
    if problem:
        raise error(f"{what} {problem}.")
    return value


def load_object(raw, what="The request body", *, error=InvalidInput, max_depth=MAX_DEPTH):
    """Like `loads`, for a document that must be a JSON object."""
    value = loads(raw, what, error=error, max_depth=max_depth)
    if not isinstance(value, dict):
        raise error(f"{what} must be a JSON object.")
    return value


def _refuse_constant(name):
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_float(text):
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"the number {text[:40]} is out of range")
    return number


def _first_problem(value, max_depth):
    """What makes `value` unfit to keep (a phrase), or None. Iterative: never recurses."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if UNSTORABLE.search(item):
                return "contains a NUL character or an unpaired surrogate (\\u0000, \\ud800…)"
            continue
        if not isinstance(item, (dict, list)):
            continue
        if depth > max_depth:
            return f"is nested too deeply (at most {max_depth} levels)"
        if isinstance(item, dict):
            pending.extend((key, depth) for key in item)
            pending.extend((child, depth + 1) for child in item.values())
        else:
            pending.extend((child, depth + 1) for child in item)
    return None
