"""Maven version ordering, in plain Python (standard library only).

`compare`, `key` and `sort_key` order versions as Maven 3.8.7+ / 3.9.x does, that is as
`org.apache.maven.artifact.versioning.ComparableVersion` of maven-artifact 3.9 (MNG-6572
number sizes and leading zeroes, MNG-6655 `release`, MNG-6964, MNG-7644 `.X1 == -X1`). The
rules are transcribed from that class's source and checked against the maven-artifact 3.9.6
jar; they are also described by the POM reference's "Version Order Specification"
(https://maven.apache.org/pom.html#version-order-specification). Maven 4 changed the
algorithm again (`ga`/`final`/`release` no longer vanish, `X-1` is read as `X1`): this is the
Maven 3 one.

In short: the lower-cased version is split at `.`, `-` and at every digit/letter transition;
a `-`, and a letter→digit transition, open a nested sub-list; `.X` at the end or before a
digit also opens one (MNG-7644). Numbers compare numerically (any size). Qualifiers compare
`alpha` = `a`(+digit) < `beta` = `b`(+digit) < `milestone` = `m`(+digit) < `rc` = `cr` <
`snapshot` < `""` = `ga` = `final` = `release` < `sp` < any other qualifier (lexically, case
insensitive). Across kinds: qualifier < sub-list < number. Trailing "null" items (0, `""`,
empty sub-lists) are dropped from each list, and a missing item compares as null, so
`1.0.0 == 1`, `1-ga == 1`, `1-snapshot < 1 < 1-sp` and `1-1 < 1.1`.

`is_snapshot` and `base_version` follow maven-resolver's snapshot rules (`-SNAPSHOT`
suffix; `SNAPSHOT_TIMESTAMP` for timestamped builds).
"""

import functools
import re

SNAPSHOT = "SNAPSHOT"
# maven-resolver's pattern, `^(.*-)?([0-9]{8}\.[0-9]{6}-[0-9]+)$`, used with fullmatch (Java's
# matches()): Python's `$` would also match before a trailing newline.
SNAPSHOT_TIMESTAMP = re.compile(r"(.*-)?([0-9]{8}\.[0-9]{6}-[0-9]+)")
MAX_SORT_KEY = 512

# Items of the parsed tree are tuples whose first element orders the kinds as Maven does
# (StringItem < ListItem < numeric items):
#   (_STR, rank, utf16)    rank: index in _QUALIFIERS, or 7 for an unknown qualifier, whose
#                          UTF-16 code units (as big-endian bytes) order it like Java's String
#   (_LIST, (item, ...))
#   (_NUM, size, digits)   size 0/1/2 for Maven's IntItem/LongItem/BigIntegerItem; digits is
#                          the value in ASCII without leading zeroes ("0" for zero)
_STR, _LIST, _NUM = 0, 1, 2
_QUALIFIERS = ("alpha", "beta", "milestone", "rc", "snapshot", "", "sp")
_RELEASE = _QUALIFIERS.index("")  # 5
_UNKNOWN = len(_QUALIFIERS)  # 7
_ALIASES = {"ga": "", "final": "", "release": "", "cr": "rc"}
_SHORT = {"a": "alpha", "b": "beta", "m": "milestone"}
_ZERO = (_NUM, 0, "0")


def compare(a, b):
    """-1, 0 or 1 as version `a` is older than, the same as or newer than `b`."""
    return _compare_lists(_parse(a), _parse(b))


@functools.total_ordering
class key:
    """Sort key for `sorted(versions, key=key)`: orders exactly like `compare`."""

    __slots__ = ("version", "_items")

    def __init__(self, version):
        self.version = version
        self._items = _parse(version)

    def __eq__(self, other):
        return isinstance(other, key) and _compare_lists(self._items, other._items) == 0

    def __lt__(self, other):
        if not isinstance(other, key):
            return NotImplemented
        return _compare_lists(self._items, other._items) < 0

    def __hash__(self):
        return hash(self._items)  # equal (per compare) versions parse to the same tree

    def __repr__(self):
        return f"key({self.version!r})"


def is_snapshot(version):
    """True for a SNAPSHOT version (`1.0-SNAPSHOT`): the suffix `-SNAPSHOT`, case-sensitive.

    (maven-resolver itself tests `endsWith("SNAPSHOT")`, so it also takes `1.0SNAPSHOT` and a
    bare timestamped build; the registry keeps to the hyphenated form Maven writes.)"""
    return version.endswith("-" + SNAPSHOT)


def base_version(version):
    """The SNAPSHOT version of a timestamped build (`1.0-20261125.040932-3` → `1.0-SNAPSHOT`);
    any other version unchanged. maven-resolver's `toBaseVersion`."""
    if version.startswith(("[", "(")):  # a range
        return version
    match = SNAPSHOT_TIMESTAMP.fullmatch(version)
    if match is None:
        return version
    return (match.group(1) or "") + SNAPSHOT


def sort_key(version):
    """A text key (digits and lower-case letters, at most 512 characters) whose plain string
    order is Maven's order; versions equal per `compare` get equal keys.

    Each list of the tree is written as tokens and an end mark `4`. A token is one item, or a
    run of items equal to "nothing" (0, ga/final/release) with the item that ends the run; it
    starts with a character telling whether it sorts before (`1`-`3`) or after (`5`-`7`) the
    end of a list, and its first item's kind (qualifier < sub-list < number). Numbers carry
    their length; unknown qualifiers are spelled out (a-y as themselves, other characters as
    escaped UTF-16 code units) and closed by `0`.

    Where the key and `compare` differ: only where Maven's own order is not transitive, so no
    key can agree with it. At the first place two versions differ, the rest of one sorts
    before "nothing" and the rest of the other after it, while Maven's kind order (qualifier <
    sub-list < number) says the opposite; it takes a 0 or ga/final/release followed by a
    pre-release qualifier inside one list (`1.0.beta-2`, `1.0.RC-1`), or a sp/unknown
    qualifier with more after it inside one list (`1.sp.1`, `1.foo-1`, `1-x.7.z.92`), against
    a version with another kind of item there (`1.0-1`, `1-alpha`, `1-x.7-alpha`). Maven says
    `1.0.beta-2 < 1.0 < 1.0-1 < 1.0.beta-2`; the key says `1.0.beta-2 < 1.0 < 1.0-1`: it
    always agrees with Maven against the versions' common prefix (so pre-releases stay before
    their release). There is no other difference (also checked against maven-artifact 3.9.6
    on thousands of random versions). Keys longer than 512 characters are cut, which can only
    make two versions tie, never swap them.
    """
    out = []
    _write_list(_parse(version), out)
    return "".join(out)[:MAX_SORT_KEY]


# --- parsing: ComparableVersion.parseVersion -------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _parse(version):
    text = version.lower()  # Java: toLowerCase(Locale.ENGLISH)
    root = []
    current = root
    stack = [root]
    is_digit = False
    start = 0

    def open_list():
        nonlocal current
        new = []
        current.append(new)
        current = new
        stack.append(new)

    for i, c in enumerate(text):
        if c == ".":
            current.append(_ZERO if i == start else _item(is_digit, text[start:i]))
            start = i + 1
        elif c == "-":
            current.append(_ZERO if i == start else _item(is_digit, text[start:i]))
            start = i + 1
            open_list()
        elif _is_digit(c):
            if not is_digit and i > start:
                if current:  # 1.0.0.X1 < 1.0.0-X2: treat .X as -X
                    open_list()
                current.append(_string(text[start:i], followed_by_digit=True))
                start = i
                open_list()
            is_digit = True
        else:
            if is_digit and i > start:
                current.append(_item(True, text[start:i]))
                start = i
                open_list()
            is_digit = False
    if len(text) > start:
        if not is_digit and current:  # treat .X as -X
            open_list()
        current.append(_item(is_digit, text[start:]))
    # Innermost first, so a parent sees its child list as it is once normalized.
    frozen = None
    while stack:
        items = stack.pop()
        if frozen is not None:
            items[-1] = frozen  # a sub-list is always its parent's last item
        _normalize(items)
        frozen = (_LIST, tuple(items))
    return frozen[1]


def _is_digit(c):
    # Java's Character.isDigit on a UTF-16 char: Unicode decimal digits of the BMP.
    return c.isdecimal() and c <= "\uffff"


def _item(is_digit, text):
    return _number(text) if is_digit else _string(text, followed_by_digit=False)


def _number(text):
    stripped = text.lstrip("0") or text  # Java strips ASCII zeroes only, and keeps "000"
    size = 0 if len(stripped) <= 9 else 1 if len(stripped) <= 18 else 2
    if not text.isascii():
        text = "".join(str(int(c)) for c in text)
    return (_NUM, size, text.lstrip("0") or "0")


def _string(text, followed_by_digit):
    if followed_by_digit and len(text) == 1:
        text = _SHORT.get(text, text)  # a1 = alpha-1, b1 = beta-1, m1 = milestone-1
    text = _ALIASES.get(text, text)
    if text in _QUALIFIERS:
        return (_STR, _QUALIFIERS.index(text), b"")
    return (_STR, _UNKNOWN, text.encode("utf-16-be", "surrogatepass"))


def _is_null(item):
    kind = item[0]
    if kind == _NUM:
        return item[2] == "0"
    if kind == _STR:
        return item[1] == _RELEASE
    return not item[1]


def _normalize(items):
    # ListItem.normalize: drop null items from the end, looking through trailing sub-lists.
    for i in range(len(items) - 1, -1, -1):
        if _is_null(items[i]):
            del items[i]
        elif items[i][0] != _LIST:
            break


# --- comparing: Item.compareTo ---------------------------------------------------------------


def _sign(x):
    return (x > 0) - (x < 0)


def _compare_to_null(item):
    kind = item[0]
    if kind == _NUM:
        return 0 if item[2] == "0" else 1
    if kind == _STR:
        return _sign(item[1] - _RELEASE)
    for sub in item[1]:  # MNG-6964: the whole list, not just its first item
        result = _compare_to_null(sub)
        if result:
            return result
    return 0


def _compare_items(a, b):
    if a[0] != b[0]:
        return -1 if a[0] < b[0] else 1  # string < list < number
    if a[0] == _LIST:
        return _compare_lists(a[1], b[1])
    if a[0] == _NUM:
        a, b = (a[1], len(a[2]), a[2]), (b[1], len(b[2]), b[2])
    return (a > b) - (a < b)


def _compare_lists(left, right):
    for i in range(max(len(left), len(right))):
        if i >= len(left):
            result = -_compare_to_null(right[i])
        elif i >= len(right):
            result = _compare_to_null(left[i])
        else:
            result = _compare_items(left[i], right[i])
        if result:
            return result
    return 0


# --- the text key ----------------------------------------------------------------------------

_END = "4"
# First character of a token: (sorts before the end of a list?, kind of its first item).
_TOKEN_START = {
    (True, _STR): "1", (True, _LIST): "2", (True, _NUM): "3",
    (False, _STR): "5", (False, _LIST): "6", (False, _NUM): "7",
}
_KIND = {_STR: "1", _LIST: "2", _NUM: "3"}


def _write_list(items, out):
    run = []
    for item in items:
        if item[0] != _LIST and _is_null(item):
            run.append(item)  # equal to a missing item: the item after the run decides
            continue
        first, *rest = run + [item]
        out.append(_TOKEN_START[(_compare_to_null(item) < 0, first[0])])
        _write_payload(first, out)
        for other in rest:
            out.append(_KIND[other[0]])
            _write_payload(other, out)
        run = []
    out.append(_END)  # a normalized list never ends with a null run


def _write_payload(item, out):
    kind = item[0]
    if kind == _LIST:
        _write_list(item[1], out)
    elif kind == _NUM:
        _, size, digits = item
        length = str(len(digits))
        if size == 0:
            out.append(length)  # 1..9 digits
        elif size == 1:
            out.append("a" + length.zfill(2))  # up to 18 digits
        else:
            out.append("b" + str(len(length)) + length)
        out.append(digits)
    else:
        _, rank, utf16 = item
        out.append(str(rank))
        if rank == _UNKNOWN:
            for i in range(0, len(utf16), 2):
                unit = utf16[i] << 8 | utf16[i + 1]
                if 0x61 <= unit <= 0x79:  # a..y
                    out.append(chr(unit))
                elif unit < 0x61:
                    out.append(f"1{unit:04x}")
                else:
                    out.append(f"z{unit:04x}")
            out.append("0")
