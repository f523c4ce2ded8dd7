"""The Python clients of the matrix (client_matrix.py), each version against one private
repository of the live server, configured with the snippets of docs/clients.md.

One repository and one set of packages serve the whole module: acme-app 1.0 needs acme-lib>=1.0;
acme-lib 2.0 is yanked ("broken build"), so every installer must settle on acme-lib 1.0 unless
2.0 is pinned; acme-tool 1.0 is an sdist only (its build backend inside it). alice installs with
her read token and publishes with her write token; each publisher uploads a project of its own.
"""

import re
import shutil
import sys
import tomllib

import pytest

from tests.fixtures.dists import build_sdist, build_sdist_with_backend, build_wheel

from .client_installs import installed
from .client_matrix import rows
from .conftest import USER, Clients, sha256_of
from .docs_snippets import TOKEN_VARIABLE, snippet

pytestmark = pytest.mark.e2e

REPOSITORY = "matrix-py"
YANK_REASON = "broken build"


# --- the shared repository ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def published(server, tmp_path_factory):
    """The repository and its packages, uploaded once with the test virtualenv's twine."""
    folder = tmp_path_factory.mktemp("matrix-py-dists")
    server.create_repository(REPOSITORY, "private")
    server.grant(REPOSITORY, USER, "write")
    files = {
        "lib-1.0": build_wheel(folder, "acme-lib", "1.0", module_source='VERSION = "1.0"\n'),
        "lib-2.0": build_wheel(folder, "acme-lib", "2.0", module_source='VERSION = "2.0"\n'),
        "app-1.0": build_wheel(folder, "acme-app", "1.0", requires_dist=["acme-lib>=1.0"],
                               module_source='import acme_lib\n'
                                             'VERSION = "app 1.0 on lib " + acme_lib.VERSION\n'),
        "tool-1.0": build_sdist_with_backend(folder, "acme-tool", "1.0"),
    }
    uploader = Clients(server, tmp_path_factory.mktemp("matrix-py-uploader"))
    uploader.twine_upload(REPOSITORY, *files.values(), token=server.user_tokens["write"], check=True)
    version = server.version_id(REPOSITORY, "acme-lib", "2.0")
    server.api("POST", f"versions/{version}/yank/", {"reason": YANK_REASON})
    return files


# --- running a client of the matrix ------------------------------------------------------------


def use(clients, client, token, python=None):
    """Put the matrix's client first on PATH (as `pip`, `uv`…) with REGISTRY_TOKEN set, as a
    user's shell has it; no configuration of this machine's own Poetry or pdm either."""
    bin_folder = client.wrapper(clients.tmp / "bin", python=python)
    # UV_NO_CONFIG goes too: it would hide the project's own [tool.uv] (the machine's uv
    # configuration is out of reach already: HOME and XDG_CONFIG_HOME are the test's).
    clients.env = {key: value for key, value in clients.env.items()
                   if not key.startswith(("POETRY_", "PDM_")) and key != "UV_NO_CONFIG"}
    clients.env.update({
        "PATH": f"{bin_folder}:{clients.env['PATH']}",
        TOKEN_VARIABLE: token,
        "POETRY_VIRTUALENVS_IN_PROJECT": "true",
        "PDM_CHECK_UPDATE": "false",
    })
    # The snippets' `pip`, `poetry`… is this client (installed at client.version).
    assert shutil.which(client.name, path=clients.env["PATH"]) == str(bin_folder / client.name)
    return client


def run_snippet(clients, name, cwd=None, check=True):
    """A shell snippet of docs/clients.md, run by bash as a user would paste it."""
    script = snippet(name, clients.server, REPOSITORY)
    return clients.run(["bash", "-euo", "pipefail", "-c", script], cwd=cwd, check=check)


def module_version(clients, python, module):
    return clients.python(python, f"import {module}; print({module}.VERSION)")


def project(clients, name, pyproject):
    folder = clients.tmp / name
    folder.mkdir()
    (folder / "pyproject.toml").write_text(pyproject)
    return folder


def dist_folder(clients, name, *, sdist=True):
    """dist/ of a project `name` 1.0, as a build leaves it (a wheel, and an sdist)."""
    folder = clients.tmp / f"{name}-project" / "dist"
    folder.mkdir(parents=True)
    made = [build_wheel(folder, name, "1.0")]
    if sdist:
        made.append(build_sdist(folder, name, "1.0"))
    return folder.parent, made


def assert_served(server, made):
    """Each file is in the index with the bytes uploaded."""
    name = re.sub(r"[-_.]+", "-", made[0].name.split("-")[0]).lower()
    listed = server.filenames(REPOSITORY, name)
    assert {path.name: sha256_of(path) for path in made} == {
        filename: entry["hashes"]["sha256"] for filename, entry in listed.items()
    }, listed


def lock_versions(lock_text):
    """{name: version} of a Poetry, pdm or uv lock file."""
    return {package["name"]: package["version"] for package in tomllib.loads(lock_text)["package"]}


# --- pip ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("row", rows("pip"), ids=str)
def test_pip(server, clients, published, row):
    python = clients.venv()
    use(clients, installed(row), server.user_tokens["read"], python=python)

    # Install: the dependency is resolved, and the yanked acme-lib 2.0 passed over.
    run_snippet(clients, "pip-install")
    assert module_version(clients, python, "acme_app") == "app 1.0 on lib 1.0"

    # pip download and pip wheel: the uploaded bytes, and a wheel built from the sdist.
    run_snippet(clients, "pip-download-wheel")
    for key in ("app-1.0", "lib-1.0"):
        assert sha256_of(clients.tmp / "downloads" / published[key].name) == sha256_of(published[key])
    built = clients.tmp / "wheels" / "acme_tool-1.0-py3-none-any.whl"
    assert built.exists(), sorted(p.name for p in (clients.tmp / "wheels").iterdir())

    # Pinned, the yanked version is taken, with pip's warning and the reason.
    index = server.index_url(REPOSITORY, server.user_tokens["read"])
    pinned = clients.run(["pip", "download", "--no-deps", "--dest", clients.tmp / "pinned",
                          "--index-url", index, "acme-lib==2.0"], check=True)
    assert "yanked" in pinned.output and YANK_REASON in pinned.output, pinned
    yanked = published["lib-2.0"]
    assert sha256_of(clients.tmp / "pinned" / yanked.name) == sha256_of(yanked)

    # Without the token, the private repository is refused and pip says why.
    # -vv: pip tells why it could not read the index only in its debug output.
    refused = clients.run(["pip", "download", "-vv", "--no-deps", "--dest", clients.tmp / "refused",
                           "--index-url", server.index_url(REPOSITORY), "acme-lib"], check=False)
    assert "401" in refused.output, refused
    assert not (clients.tmp / "refused").exists() or not any((clients.tmp / "refused").iterdir())


# --- uv ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("row", rows("uv"), ids=str)
def test_uv(server, clients, published, row):
    use(clients, installed(row), server.user_tokens["read"])
    work = clients.tmp / "work"
    work.mkdir()
    clients.run(["uv", "venv", "--python", sys.executable], cwd=work, check=True)
    python = work / ".venv" / "bin" / "python"

    run_snippet(clients, "uv-pip-install", cwd=work)
    assert module_version(clients, python, "acme_app") == "app 1.0 on lib 1.0"
    index = server.index_url(REPOSITORY, server.user_tokens["read"])
    pinned = clients.run(["uv", "pip", "install", "--index-url", index, "acme-lib==2.0"], cwd=work,
                         check=True)
    assert "yanked" in pinned.output and YANK_REASON in pinned.output, pinned
    assert module_version(clients, python, "acme_lib") == "2.0"

    # A project: the index named in pyproject.toml, its credentials from the environment.
    app = project(clients, "uv-app", '[project]\nname = "uv-app"\nversion = "0.1.0"\n'
                  'requires-python = ">=3.11"\ndependencies = []\n\n'
                  + snippet("uv-pyproject", server, REPOSITORY))
    run_snippet(clients, "uv-add", cwd=app)
    locked = lock_versions((app / "uv.lock").read_text())
    assert locked["acme-app"] == "1.0" and locked["acme-lib"] == "1.0", locked
    assert module_version(clients, app / ".venv" / "bin" / "python", "acme_app") == "app 1.0 on lib 1.0"

    refused = clients.run(["uv", "pip", "install", "--reinstall", "--refresh", "--index-url",
                           server.index_url(REPOSITORY), "acme-lib"], cwd=work, check=False)
    assert "401" in refused.output, refused

    # Publishing, with the write token.
    clients.env[TOKEN_VARIABLE] = server.user_tokens["write"]
    folder, made = dist_folder(clients, f"acme-{row.id}")
    run_snippet(clients, "uv-publish", cwd=folder)
    assert_served(server, made)


# --- twine -------------------------------------------------------------------------------------


@pytest.mark.parametrize("row", rows("twine"), ids=str)
def test_twine(server, clients, published, row):
    use(clients, installed(row), server.user_tokens["write"])
    folder, made = dist_folder(clients, f"acme-{row.id}")
    run_snippet(clients, "twine-upload", cwd=folder)
    assert_served(server, made)

    # The same files again are accepted; other bytes under a released name are refused, and
    # twine shows the server's reason.
    run_snippet(clients, "twine-upload", cwd=folder)
    made[0].write_bytes(build_wheel(clients.tmp, made[0].name.split("-")[0], "1.0",
                                    module_source="CHANGED = 1\n").read_bytes())
    again = run_snippet(clients, "twine-upload", cwd=folder, check=False)
    assert "File already exists" in " ".join(again.output.split()), again

    # A read token may not publish.
    clients.env[TOKEN_VARIABLE] = server.user_tokens["read"]
    other, _ = dist_folder(clients, f"acme-{row.id}-read")
    refused = run_snippet(clients, "twine-upload", cwd=other, check=False)
    assert "403" in refused.output and "scope is read" in " ".join(refused.output.split()), refused


# --- Poetry ------------------------------------------------------------------------------------


@pytest.mark.parametrize("row", rows("poetry"), ids=str)
def test_poetry(server, clients, published, row):
    use(clients, installed(row), server.user_tokens["read"])
    app = project(clients, "poetry-app", '[project]\nname = "poetry-app"\nversion = "0.1.0"\n'
                  'requires-python = ">=3.11"\n\n[tool.poetry]\npackage-mode = false\n')
    # The source without credentials first (nothing cached yet): refused, and Poetry says so.
    clients.run(["poetry", "source", "add", "--priority=primary", "team",
                 server.index_url(REPOSITORY)], cwd=app, check=True)
    refused = clients.run(["poetry", "add", "acme-app"], cwd=app, check=False)
    assert not refused.ok and "Authorization error accessing" in refused.output, refused

    run_snippet(clients, "poetry-install", cwd=app)
    locked = lock_versions((app / "poetry.lock").read_text())
    assert locked == {"acme-app": "1.0", "acme-lib": "1.0"}, locked
    python = app / ".venv" / "bin" / "python"
    assert module_version(clients, python, "acme_app") == "app 1.0 on lib 1.0"

    # A fresh checkout installs from the lock file (Poetry revalidates its cached index pages).
    clients.run(["rm", "-rf", app / ".venv"], check=True)
    clients.run(["poetry", "install"], cwd=app, check=True)
    assert module_version(clients, python, "acme_app") == "app 1.0 on lib 1.0"

    pinned = clients.run(["poetry", "add", "acme-lib==2.0"], cwd=app, check=True)
    assert "yanked" in pinned.output and YANK_REASON in pinned.output, pinned
    assert module_version(clients, python, "acme_lib") == "2.0"

    # Publishing (poetry builds with the poetry-core it carries), with the write token.
    clients.env[TOKEN_VARIABLE] = server.user_tokens["write"]
    name = f"acme-{row.id}"
    library = project(clients, "poetry-lib", f'[project]\nname = "{name}"\nversion = "1.0"\n'
                      'requires-python = ">=3.9"\n\n[build-system]\nrequires = ["poetry-core>=2.0"]\n'
                      'build-backend = "poetry.core.masonry.api"\n')
    module = library / name.replace("-", "_").replace(".", "_")
    module.mkdir()
    (module / "__init__.py").write_text('VERSION = "1.0"\n')
    run_snippet(clients, "poetry-publish", cwd=library)
    built = sorted((library / "dist").iterdir())
    assert len(built) == 2, built
    assert_served(server, built)


# --- pdm ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("row", rows("pdm"), ids=str)
def test_pdm(server, clients, published, row):
    use(clients, installed(row), server.user_tokens["read"])
    header = ('[project]\nname = "pdm-app"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
              'dependencies = []\n\n[tool.pdm]\ndistribution = false\n\n')
    configured = snippet("pdm-pyproject", server, REPOSITORY)
    # The source without credentials first (nothing cached yet): refused; pdm tells why with -v.
    app = project(clients, "pdm-app", header + configured.replace("__token__:${REGISTRY_TOKEN}@", ""))
    refused = clients.run(["pdm", "add", "-v", "acme-app"], cwd=app, check=False)
    assert not refused.ok and "401" in refused.output, refused

    (app / "pyproject.toml").write_text(header + configured)
    run_snippet(clients, "pdm-install", cwd=app)
    locked = lock_versions((app / "pdm.lock").read_text())
    assert locked == {"acme-app": "1.0", "acme-lib": "1.0"}, locked
    python = app / ".venv" / "bin" / "python"
    assert module_version(clients, python, "acme_app") == "app 1.0 on lib 1.0"

    pinned = clients.run(["pdm", "add", "acme-lib==2.0"], cwd=app, check=True)
    assert module_version(clients, python, "acme_lib") == "2.0", pinned

    clients.env[TOKEN_VARIABLE] = server.user_tokens["write"]
    folder, made = dist_folder(clients, f"acme-{row.id}")
    run_snippet(clients, "pdm-publish", cwd=folder)
    assert_served(server, made)
