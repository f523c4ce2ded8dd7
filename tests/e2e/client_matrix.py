"""The client versions the end-to-end matrix runs: one line per client and version.

A new client version is one more line here. The tests of test_client_matrix_*.py are
parametrized by these rows (each installed once under var/test-clients/, see client_installs.py),
and docs/clients.md lists the same rows (tests/test_client_docs.py holds the two together).

`version` is an exact release, a major (the newest release of that major), or NEWEST: the newest
release that runs here (pip picks by Requires-Python, npm by `engines.node`).
"""

from dataclasses import dataclass

NEWEST = "newest"

# twine as Debian 12 ships it: its own release with the library versions of the distribution.
# (twine 4.0.2 with today's importlib-metadata does not even start: KeyError: 'license'.)
DEBIAN_12_TWINE = (
    "importlib-metadata==4.12.0", "pkginfo==1.8.2", "requests==2.28.1", "requests-toolbelt==0.10.1",
    "urllib3==1.26.12", "readme-renderer==37.3", "rich==13.3.1", "keyring==23.9.3", "rfc3986==1.5.0",
)


@dataclass(frozen=True)
class ClientVersion:
    client: str  # pip, uv, twine, poetry, pdm, npm, pnpm, yarn (classic), yarn-berry
    version: str
    shipped_by: str  # where users get this one, for docs/clients.md
    # The package to install when it is not the client's name (pdm[locked], an npm package).
    package: str = ""
    # Versions of its dependencies installed with it (a distribution's own).
    pins: tuple = ()

    @property
    def id(self):
        return f"{self.client}-{self.version}"

    def __str__(self):
        return self.id


MATRIX = (
    # Python: every installer against a private repository, and every publisher.
    ClientVersion("pip", "21.3", "the RHEL 9 era"),
    ClientVersion("pip", "22.0.2", "Ubuntu 22.04"),
    ClientVersion("pip", "23.0.1", "Debian 12"),
    ClientVersion("pip", "24.0", "Ubuntu 24.04"),
    ClientVersion("pip", NEWEST, "PyPI"),
    ClientVersion("uv", "0.4.30", "PyPI (the last 0.4, first with uv publish --check-url)"),
    ClientVersion("uv", NEWEST, "PyPI"),
    ClientVersion("twine", "4.0.2", "Debian 12", pins=DEBIAN_12_TWINE),
    ClientVersion("twine", NEWEST, "PyPI"),
    ClientVersion("poetry", NEWEST, "PyPI"),
    # pdm's own pins: plain `pip install pdm` can bring a hishel that this pdm cannot import.
    ClientVersion("pdm", NEWEST, "PyPI, as pdm[locked]", package="pdm[locked]"),
    # JavaScript: every installer against a private npm repository, each publishing too.
    ClientVersion("npm", "9.2.0", "Debian 12"),
    ClientVersion("npm", "10", "Node.js 20 and 22"),
    ClientVersion("npm", NEWEST, "npm registry"),
    ClientVersion("pnpm", "8", "npm registry"),
    ClientVersion("pnpm", "9", "npm registry"),
    ClientVersion("pnpm", NEWEST, "npm registry"),
    ClientVersion("yarn", "1", "yarn classic (1.22)"),
    ClientVersion("yarn-berry", "4", "npm registry (@yarnpkg/cli-dist, what corepack installs)",
                  package="@yarnpkg/cli-dist"),
)

PYTHON_CLIENTS = ("pip", "uv", "twine", "poetry", "pdm")
NODE_CLIENTS = ("npm", "pnpm", "yarn", "yarn-berry")


def rows(*clients):
    return [row for row in MATRIX if row.client in clients]
