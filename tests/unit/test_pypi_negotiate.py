import pytest

from formats.pypi.negotiate import choose
from formats.pypi.render import HTML_TYPE, JSON_TYPE

PIP_ACCEPT = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"


@pytest.mark.parametrize("accept, expected", [
    (PIP_ACCEPT, JSON_TYPE),
    ("application/vnd.pypi.simple.v1+html, application/vnd.pypi.simple.v1+json;q=0.5", HTML_TYPE),
    ("text/html", "text/html"),
    ("application/vnd.pypi.simple.latest+json", JSON_TYPE),
    ("*/*", "text/html"),
    ("", "text/html"),
    (None, "text/html"),
    ("application/xml", None),
    ("application/vnd.pypi.simple.v1+json;q=0", None),
])
def test_accept_header(accept, expected):
    assert choose(accept) == expected


def test_format_parameter_overrides_accept():
    assert choose("text/html", "application/vnd.pypi.simple.v1+json") == JSON_TYPE
    assert choose(PIP_ACCEPT, "html") == HTML_TYPE
    assert choose(PIP_ACCEPT, "text/plain") is None
