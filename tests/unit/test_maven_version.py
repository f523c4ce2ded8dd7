"""Maven version ordering: the cases of maven-artifact's ComparableVersionTest (3.9) and of
the POM reference's "Version Order Specification", the text sort key agreeing with it, and
SNAPSHOT helpers. Expected orders were checked against maven-artifact 3.9.6 itself."""

import itertools
import random
import re

import pytest

from formats.maven.version import base_version, compare, is_snapshot, key, sort_key


def sign(x):
    return (x > 0) - (x < 0)


def key_compare(a, b):
    ka, kb = sort_key(a), sort_key(b)
    return (ka > kb) - (ka < kb)


def assert_order(versions):
    """Every earlier version is older than every later one: by compare, key and sort_key."""
    for i, low in enumerate(versions):
        for high in versions[i + 1:]:
            assert compare(low, high) == -1, f"{low} < {high}"
            assert compare(high, low) == 1, f"{high} > {low}"
            assert key(low) < key(high), f"key: {low} < {high}"
            assert sort_key(low) < sort_key(high), f"sort_key: {low} < {high}"


def assert_equal(a, b):
    assert compare(a, b) == 0, f"{a} == {b}"
    assert compare(b, a) == 0, f"{b} == {a}"
    assert key(a) == key(b) and hash(key(a)) == hash(key(b))
    assert sort_key(a) == sort_key(b), f"sort_key: {a} == {b}"


# --- ComparableVersionTest (maven-artifact 3.9) ----------------------------------------------

VERSIONS_QUALIFIER = [
    "1-alpha2snapshot", "1-alpha2", "1-alpha-123", "1-beta-2", "1-beta123", "1-m2", "1-m11",
    "1-rc", "1-cr2", "1-rc123", "1-SNAPSHOT", "1", "1-sp", "1-sp2", "1-sp123", "1-abc",
    "1-def", "1-pom-1", "1-1-snapshot", "1-1", "1-2", "1-123",
]

VERSIONS_NUMBER = [
    "2.0", "2.0.a", "2-1", "2.0.2", "2.0.123", "2.1.0", "2.1-a", "2.1b", "2.1-c", "2.1-1",
    "2.1.0.1", "2.2", "2.123", "11.a2", "11.a11", "11.b2", "11.b11", "11.m2", "11.m11", "11",
    "11.a", "11b", "11c", "11m",
]


def test_qualifier_order():
    assert_order(VERSIONS_QUALIFIER)


def test_number_order():
    assert_order(VERSIONS_NUMBER)


@pytest.mark.parametrize("a, b", [
    ("1", "1"), ("1", "1.0"), ("1", "1.0.0"), ("1.0", "1.0.0"), ("1", "1-0"), ("1", "1.0-0"),
    ("1.0", "1.0-0"),
    # no separator between number and character
    ("1a", "1-a"), ("1a", "1.0-a"), ("1a", "1.0.0-a"), ("1.0a", "1-a"), ("1.0.0a", "1-a"),
    ("1x", "1-x"), ("1x", "1.0-x"), ("1x", "1.0.0-x"), ("1.0x", "1-x"), ("1.0.0x", "1-x"),
    # aliases
    ("1ga", "1"), ("1release", "1"), ("1final", "1"), ("1cr", "1rc"),
    # a, b and m followed by a digit are alpha, beta and milestone
    ("1a1", "1-alpha-1"), ("1b2", "1-beta-2"), ("1m3", "1-milestone-3"),
    # case insensitive
    ("1X", "1x"), ("1A", "1a"), ("1B", "1b"), ("1M", "1m"), ("1Ga", "1"), ("1GA", "1"),
    ("1RELEASE", "1"), ("1RELeaSE", "1"), ("1Final", "1"), ("1FinaL", "1"), ("1FINAL", "1"),
    ("1Cr", "1Rc"), ("1cR", "1rC"), ("1m3", "1Milestone3"), ("1m3", "1MileStone3"),
    ("1m3", "1MILESTONE3"),
    ("1-abcdefghijklmnopqrstuvwxyz", "1-ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
])
def test_versions_equal(a, b):
    assert_equal(a, b)


@pytest.mark.parametrize("low, high", [
    ("1", "2"), ("1.5", "2"), ("1", "2.5"), ("1.0", "1.1"), ("1.1", "1.2"), ("1.0.0", "1.1"),
    ("1.0.1", "1.1"), ("1.1", "1.2.0"),
    ("1.0-alpha-1", "1.0"), ("1.0-alpha-1", "1.0-alpha-2"), ("1.0-alpha-1", "1.0-beta-1"),
    ("1.0-beta-1", "1.0-SNAPSHOT"), ("1.0-SNAPSHOT", "1.0"),
    ("1.0-alpha-1-SNAPSHOT", "1.0-alpha-1"),
    ("1.0", "1.0-1"), ("1.0-1", "1.0-2"), ("1.0.0", "1.0-1"),
    ("2.0-1", "2.0.1"), ("2.0.1-klm", "2.0.1-lmn"), ("2.0.1", "2.0.1-xyz"),
    ("2.0.1", "2.0.1-123"), ("2.0.1-xyz", "2.0.1-123"),
])
def test_version_comparing(low, high):
    assert_order([low, high])


def test_mng_5568_transitive():
    a, b, c = "6.1.0", "6.1.0rc3", "6.1H.5-beta"
    assert_order([b, a])
    assert_order([b, c])
    assert_order([a, c])


def test_mng_6572_number_sizes():
    a = "20190126.230843"  # resembles a SNAPSHOT
    b = "1234567890.12345"  # 10 digits
    c = "123456789012345.1H.5-beta"  # 15 digits
    d = "12345678901234567890.1H.5-beta"  # 20 digits
    assert_order([a, b, c, d])


def test_leading_zeroes_are_ignored():
    ones = ["0" * n + "1" for n in range(19)]
    zeros = ["0" * n for n in range(1, 20)]
    for a, b in itertools.combinations(ones, 2):
        assert_equal(a, b)
    for a, b in itertools.combinations(zeros, 2):
        assert_equal(a, b)
    assert_order(["0", "1"])


def test_mng_6964_qualifier_after_zero():
    assert_order(["1-0.alpha", "1-0.beta", "1"])


@pytest.mark.parametrize("x", ["abc", "alpha", "a", "beta", "b", "def", "milestone", "m", "RC"])
def test_mng_7644_dot_qualifier_is_dash_qualifier(x):
    assert_order([f"1.0.0.{x}1", f"1.0.0-{x}2"])
    assert_equal(f"2-{x}", f"2.0.{x}")
    assert_equal(f"2-{x}", f"2.0.0.{x}")
    assert_equal(f"2.0.{x}", f"2.0.0.{x}")


# --- POM reference, "Version Order Specification" --------------------------------------------


def test_specification_examples():
    assert_order(["1", "1.1"])  # number padding
    assert_order(["1-snapshot", "1", "1-sp"])  # qualifier padding
    assert_order(["1-foo2", "1-foo10"])  # numbers inside qualifiers compare as numbers
    assert_equal("1.foo", "1-foo")
    assert_order(["1-foo", "1-1", "1.1"])
    for a, b in itertools.combinations(["1.ga", "1-ga", "1-0", "1.0", "1"], 2):
        assert_equal(a, b)  # trailing "null" values are removed
    assert_order(["1-ga", "1-sp"])
    assert_order(["1-ga.1", "1-sp.1"])
    assert_order(["1-sp-1", "1-ga-1"])  # trailing null values at each hyphen
    # The page also writes "1-ga-1" = "1-1"; maven-artifact 3.9 orders them (a sub-list sorts
    # before a number).
    assert_order(["1-ga-1", "1-1"])
    assert_equal("1-a1", "1-alpha-1")


def test_qualifier_ladder():
    assert_order(["1.0-alpha", "1.0-beta", "1.0-milestone", "1.0-rc", "1.0-SNAPSHOT", "1.0",
                  "1.0-sp", "1.0-whatever"])
    assert_equal("1.0-rc", "1.0-cr")
    assert_equal("1.0-final", "1.0")
    assert_equal("1.0.RELEASE", "1.0")


def test_unknown_qualifiers_are_lexical_after_sp():
    assert_order(["1-sp", "1-_", "1-a", "1-abc", "1-b", "1-jre", "1-z", "1-é"])
    assert_equal("1-é", "1-É")


def test_numbers_of_any_size():
    assert_order(["1.9", "1.10"])
    # across Maven's int (9 digits), long (18) and BigInteger sizes
    assert_order(["1.999999999", "1.1000000000", "1.999999999999999999", "1.1000000000000000000"])
    assert_order(["1.2147483647", "1.2147483648"])
    assert_order(["1.9223372036854775807", "1.9223372036854775808", "1.12345678901234567890"])
    assert_order(["1.99999999999999999999999999999", "1.100000000000000000000000000000"])
    assert_equal("1.02147483648", "1.2147483648")
    assert_equal("2.0.0", "2")


def test_separators_and_transitions():
    assert_equal("1a1", "1-alpha-1")
    assert_order(["1a1", "1-a-1"])  # "a" not followed by a digit is an unknown qualifier
    assert_equal("1.0alpha1", "1.0-alpha-1")
    assert_equal("1-1.0", "1-1")
    assert_order(["1-1", "1-1.1", "1-2"])
    assert_order(["1.0.0-1", "1.0.0.1"])  # a hyphen is less than a dot


def test_compare_returns_minus_one_zero_one():
    assert compare("1.0", "2.0") == -1
    assert compare("2.0", "1.0") == 1
    assert compare("2.0", "2") == 0
    assert compare("1.999999999999999999999999", "1.2") == 1


def test_maven_int_long_quirk():
    # Maven compares an int-sized number below a long-sized one whatever their values, and
    # "0000000000" (10 zeroes) is long-sized.
    assert compare("1.0000000000.1", "1.0.2") == 1
    assert sort_key("1.0000000000.1") > sort_key("1.0.2")


# --- ordering a realistic list ---------------------------------------------------------------

# In maven-artifact 3.9.6's order (Collections.sort of ComparableVersion).
REALISTIC_SORTED = [
    "0.9.9-SNAPSHOT", "0.9.9", "1.0-alpha-1-SNAPSHOT", "1.0-alpha-1", "1.0-alpha-2",
    "1.0-alpha10", "1.0-beta-1", "1.0-b2", "1.0-M1", "1.0-rc1-SNAPSHOT", "1.0-RC1", "1.0-rc-2",
    "1.0-cr3", "1.0-SNAPSHOT", "1.0", "1.0-sp1", "1.0-jdk8", "1.0-1", "1.0.1", "1.1", "1.9",
    "1.10", "2.0.0-alpha1", "2.0.0-M1", "2.0.0-M2-SNAPSHOT", "2.0.0-M2", "2.0.0.RC1",
    "2.0.0-RC2", "2.0.0-SNAPSHOT", "2.0.0.Final", "2.0.0.SP1", "2.0.0-incubating",
    "2.0.0-20240101.120000-1", "2.0.1", "2.12.7", "2.12.7.1", "3.0.0-M9", "3.0.0", "3.12.0",
    "4.1.108.Final", "4.1.108.Final-redhat-00001", "4.1.109.Final", "5.3.20.RELEASE", "5.3.21",
    "6.0.0-M1", "6.0.0", "9.4.1.jre16", "9.4.1.jre16-preview", "9.4.1.jre17", "31.1-android",
    "31.1-jre", "32.1.3-android", "32.1.3-jre", "33.0.0-jre", "2021.0.8", "2022.0.0-M1",
    "2022.0.0-RC1", "2022.0.0", "20090211", "2147483647", "2147483648", "9223372036854775808",
    "123456789012345678901234567890",
]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sorting_a_realistic_list(seed):
    shuffled = REALISTIC_SORTED[:]
    random.Random(seed).shuffle(shuffled)
    assert shuffled != REALISTIC_SORTED
    assert sorted(shuffled, key=key) == REALISTIC_SORTED
    assert sorted(shuffled, key=sort_key) == REALISTIC_SORTED


def test_key_dedupes_equal_versions():
    assert len({key(v) for v in ["1", "1.0", "1.0.0", "1-ga", "1.0.RELEASE", "1.1"]}) == 2
    assert key("1.0") != "1.0"
    assert repr(key("1.0")) == "key('1.0')"


# --- the text key agrees with compare on every pair ------------------------------------------

DIVERSE = [
    "1", "1.0", "1.0.0", "1-ga", "1.0.RELEASE", "1-final", "1.0-0", "01", "1-0.0",
    "1.1", "1.0.1", "1.0.0.1", "1.10", "1.9", "1.01", "2", "2.0.0-SNAPSHOT", "2-snapshot",
    "1-SNAPSHOT", "1.0-snapshot", "1.0-20261125.040932-3", "1.0-20261125.040932-12",
    "1-alpha", "1-a1", "1-alpha-1", "1alpha1", "1-alpha.1", "1-alpha-1.1", "1-alpha-2",
    "1-alpha10", "1-beta", "1-b2", "1-beta-2", "1.0.0.Beta2", "1-milestone", "1-M1",
    "1-m-1", "1-rc", "1-cr", "1-RC1", "1.0.0.RC1", "1.0.0-RC2", "1-rc-1-SNAPSHOT",
    "1-sp", "1-sp1", "1-SP-1", "1-sp.1", "1-ga.1", "1-ga-1", "1-sp-1", "1-1", "1-1-1", "1-2",
    "1-10", "1.0-1", "1-1.1", "1-foo", "1.foo", "1-foo2", "1-foo10", "1-bar", "1-jre",
    "1-jre-preview", "1-_", "1-z", "1-é", "1-É", "1-redhat-00001", "1-redhat-2",
    "4.1.108.Final", "4.1.108.Final-redhat-00001", "9.4.1.jre16", "9.4.1.jre16-preview",
    "1.999999999", "1.1000000000", "1.2147483647", "1.2147483648", "1.02147483648",
    "1.9223372036854775807",
    "1.9223372036854775808", "1.123456789012345678901234567890", "v1.0", "r09",
    "2.0.0.v20150101", "20090211", "NotAVersion", "", "-1", "1..1", "1.-1",
    "1.0.0-beta+exp.sha.5114f85", "1.0_1", "1.0+1",
]


def test_sort_key_agrees_with_compare_on_every_pair():
    assert len(DIVERSE) >= 60
    keys = {v: sort_key(v) for v in DIVERSE}
    equal_pairs = 0
    for a, b in itertools.combinations(DIVERSE, 2):
        expected = compare(a, b)
        assert key_compare(a, b) == expected, (a, b, keys[a], keys[b])
        assert sign((key(a) > key(b)) - (key(a) < key(b))) == expected, (a, b)
        equal_pairs += expected == 0
    assert equal_pairs >= 25  # equal versions really were among the pairs


def test_sort_key_is_plain_ascii_text():
    for v in DIVERSE + REALISTIC_SORTED:
        k = sort_key(v)
        assert re.fullmatch(r"[0-9a-z]+", k), (v, k)
        assert len(k) <= 512
    assert sort_key("1.0") == sort_key("1") == "7114"


def test_sort_key_is_cut_at_512_without_swapping():
    long_a = ".".join(["1"] * 300)
    long_b = long_a + ".2"
    assert len(sort_key(long_a)) == 512
    assert compare(long_a, long_b) == -1
    assert sort_key(long_a) <= sort_key(long_b)
    assert sort_key("2") > sort_key(long_a) > sort_key("1.1")


def test_sort_key_corner_case_where_maven_is_not_transitive():
    # Maven: 1.0.beta-2 < 1.0 < 1.0-1 < 1.0.beta-2 (a cycle: no text key can follow it).
    assert compare("1.0.beta-2", "1.0") == -1
    assert compare("1.0", "1.0-1") == -1
    assert compare("1.0-1", "1.0.beta-2") == -1
    # The key keeps the pre-release before its release and before 1.0-1.
    assert sort_key("1.0.beta-2") < sort_key("1.0") < sort_key("1.0-1")
    # Same with a sp/unknown qualifier in the middle of a list: 1.sp.1 < 1-alpha < 1 < 1.sp.1.
    assert compare("1.sp.1", "1-alpha") == -1
    assert sort_key("1-alpha") < sort_key("1") < sort_key("1.sp.1")


# --- SNAPSHOTs ---------------------------------------------------------------------------------


@pytest.mark.parametrize("version, expected", [
    ("1.0-SNAPSHOT", True),
    ("1-SNAPSHOT", True),
    ("1.0-rc-1-SNAPSHOT", True),
    ("1.0", False),
    ("1.0-snapshot", False),  # resolver's test is case-sensitive
    ("1.0SNAPSHOT", False),
    ("SNAPSHOT", False),
    ("1.0-SNAPSHOT-1", False),
    ("1.0-20261125.040932-3", False),  # a build of one: see base_version
])
def test_is_snapshot(version, expected):
    assert is_snapshot(version) is expected


@pytest.mark.parametrize("version, expected", [
    ("1.0-20261125.040932-3", "1.0-SNAPSHOT"),
    ("1.0-rc-1-20261125.040932-12", "1.0-rc-1-SNAPSHOT"),
    ("20261125.040932-3", "SNAPSHOT"),
    ("1.0-SNAPSHOT", "1.0-SNAPSHOT"),
    ("1.0", "1.0"),
    ("1.0-20261125.040932", "1.0-20261125.040932"),  # no build number
    ("1.0-2026112.040932-3", "1.0-2026112.040932-3"),  # 7-digit date
    ("1.0-20261125x040932-3", "1.0-20261125x040932-3"),  # the dot is a dot
    ("1.0-20261125.040932-3\n", "1.0-20261125.040932-3\n"),  # whole string only
    ("[1.0-20261125.040932-3,)", "[1.0-20261125.040932-3,)"),  # a range
])
def test_base_version(version, expected):
    assert base_version(version) == expected


def test_base_version_of_a_build_is_a_snapshot():
    assert is_snapshot(base_version("1.0-20261125.040932-3"))
    assert not is_snapshot(base_version("1.0"))
