"""The configuration snippets of docs/clients.md, as the matrix tests run them.

A snippet is the fenced block that follows a `<!-- snippet: NAME -->` line. The page is written
for `https://registry.example.com` with the repositories `team-py` and `team-npm`; `render`
points a snippet at the live server and the test's repositories. Secrets stay as
`${REGISTRY_TOKEN}`: the shell, npm, pnpm, yarn and pdm expand it themselves from the
environment, as they would for a user.
"""

import re
from pathlib import Path

from .conftest import ROOT

CLIENTS_DOC = ROOT / "docs" / "clients.md"
EXAMPLE_HOST = "registry.example.com"
EXAMPLE_REPOSITORIES = ("team-py", "team-npm")
TOKEN_VARIABLE = "REGISTRY_TOKEN"

_SNIPPET = re.compile(r"^<!-- snippet: ([\w.-]+) -->\n```[^\n]*\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def snippets(path=CLIENTS_DOC):
    """{name: text} of every snippet of the page."""
    found = {}
    for name, text in _SNIPPET.findall(Path(path).read_text()):
        assert name not in found, f"two snippets named {name} in {path}"
        found[name] = text
    return found


def snippet(name, server, repository, path=CLIENTS_DOC):
    """The snippet `name`, pointed at the live server and `repository`."""
    text = snippets(path).get(name)
    assert text is not None, f"no snippet {name!r} in {path}"
    return render(text, server, repository)


def render(text, server, repository):
    # URLs, with credentials in them or not, then the bare host (`.npmrc` keys, `.netrc`).
    scheme, _, _ = server.url.partition("://")
    text = re.sub(rf"https://([^/\s\"']*@)?{re.escape(EXAMPLE_HOST)}",
                  lambda m: f"{scheme}://{m.group(1) or ''}{server.host}", text)
    text = text.replace(EXAMPLE_HOST, server.host)
    for example in EXAMPLE_REPOSITORIES:
        text = re.sub(rf"\b{example}\b", repository, text)
    return text
