"""PyPI end to end: twine, uv and pip against the live server, as a user runs them.

Each test has a repository of its own (named after the test); alice writes with her write token,
the administrator yanks through the REST API.
"""

import hashlib
import re
import sys
from html.parser import HTMLParser

import pytest

from tests.fixtures.dists import build_sdist, build_wheel

from .conftest import USER, _find_client, sha256_of

pytestmark = pytest.mark.e2e


class _Anchors(HTMLParser):
    def __init__(self):
        super().__init__()
        self.anchors = {}
        self._attrs = None

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._attrs = dict(attrs)

    def handle_data(self, data):
        if self._attrs is not None:
            self.anchors[data.strip()] = self._attrs

    def handle_endtag(self, tag):
        if tag == "a":
            self._attrs = None


def html_anchors(text):
    parser = _Anchors()
    parser.feed(text)
    return parser.anchors


def installed_version(clients, python, module):
    return clients.python(python, f"import {module}; print({module}.VERSION)")


# --- upload ----------------------------------------------------------------------------------


def test_twine_upload_wheel_and_sdist_appear_in_the_index(server, clients, private_repo, dists):
    wheel = build_wheel(dists, "hello-e2e", "1.0", requires_python=">=3.8")
    sdist = build_sdist(dists, "hello-e2e", "1.0", requires_python=">=3.8")
    token = server.user_tokens["write"]

    result = clients.twine_upload(private_repo, wheel, sdist, token=token, check=True)
    assert "Uploading hello_e2e-1.0-py3-none-any.whl" in result.output

    # PEP 691 JSON
    page = server.simple_json(private_repo, "hello-e2e", token=token)
    files = {f["filename"]: f for f in page["files"]}
    assert set(files) == {wheel.name, sdist.name}
    for path in (wheel, sdist):
        entry = files[path.name]
        assert entry["hashes"]["sha256"] == sha256_of(path)
        assert entry["size"] == path.stat().st_size
        assert entry["requires-python"] == ">=3.8"
        assert entry["yanked"] is False
    assert page["versions"] == ["1.0"]
    assert files[wheel.name]["core-metadata"] not in (False, None)
    assert files[sdist.name]["core-metadata"] is False

    # PEP 503 HTML: the same files, the sha256 in the fragment
    html = server.simple_page(private_repo, "hello-e2e", token=token, accept="text/html")
    assert html.status == 200, html
    anchors = html_anchors(html.text)
    assert set(anchors) == {wheel.name, sdist.name}
    for path in (wheel, sdist):
        href = anchors[path.name]["href"]
        assert href.endswith(f"#sha256={sha256_of(path)}")
        assert anchors[path.name]["data-requires-python"] == ">=3.8"
        # The file behind the link is the uploaded file, byte for byte.
        download = server.request("GET", href.split("#")[0], token=token)
        assert download.status == 200, download
        assert hashlib.sha256(download.body).hexdigest() == sha256_of(path)

    # The wheel's METADATA is served as its PEP 658 .metadata file, with the advertised hash.
    metadata = server.request("GET", files[wheel.name]["url"] + ".metadata", token=token)
    assert metadata.status == 200, metadata
    assert hashlib.sha256(metadata.body).hexdigest() == files[wheel.name]["core-metadata"]["sha256"]
    assert b"Name: hello-e2e" in metadata.body

    # The REST API lists the same files with the same hashes.
    listed = server.api("GET", f"files/?repository={private_repo}").json()
    assert {f["filename"]: f["hashes"]["sha256"] for f in listed["results"]} == {
        path.name: sha256_of(path) for path in (wheel, sdist)
    }


def test_reupload_identical_succeeds_and_other_bytes_are_refused(server, clients, private_repo,
                                                                 tmp_path):
    token = server.user_tokens["write"]
    first = tmp_path / "first"
    first.mkdir()
    wheel = build_wheel(first, "same-name", "1.0")
    clients.twine_upload(private_repo, wheel, token=token, check=True)

    # The identical file again: accepted (uploads are idempotent).
    clients.twine_upload(private_repo, wheel, token=token, check=True)

    # Other bytes under the same file name: refused, and twine shows why.
    other = tmp_path / "other"
    other.mkdir()
    impostor = build_wheel(other, "same-name", "1.0", module_source="CHANGED = True\n")
    assert impostor.name == wheel.name and sha256_of(impostor) != sha256_of(wheel)
    result = clients.twine_upload(private_repo, impostor, token=token, check=False)
    assert "400" in result.output
    assert "File already exists" in result.output

    files = server.filenames(private_repo, "same-name")
    assert set(files) == {wheel.name}
    assert files[wheel.name]["hashes"]["sha256"] == sha256_of(wheel)


def test_uv_publish_check_url_skips_existing_files(server, clients, private_repo, tmp_path):
    token = server.user_tokens["write"]
    old = tmp_path / "old"
    old.mkdir()
    v1 = build_wheel(old, "skipper", "1.0")
    clients.twine_upload(private_repo, v1, token=token, check=True)
    v2 = build_wheel(old, "skipper", "2.0")

    # uv looks each file up in the index first: 1.0 is there already, 2.0 is uploaded.
    # (The index is private: the check URL carries the credentials, uv does not lend it the
    # upload's.)
    publish = [
        "publish", "--publish-url", server.repository_url(private_repo),
        "--check-url", server.index_url(private_repo, token),
        "--username", "__token__", "--password", token,
    ]
    result = clients.uv(*publish, v1, v2, check=True)
    skipped = [line for line in result.output.splitlines() if v1.name in line]
    assert any("already exists" in line and "skipping" in line for line in skipped), result
    assert f"Uploading {v2.name}" in result.output
    assert f"Uploading {v1.name}" not in result.output
    files = server.filenames(private_repo, "skipper")
    assert set(files) == {v1.name, v2.name}

    # A different file under an existing name is not skipped silently.
    new = tmp_path / "new"
    new.mkdir()
    impostor = build_wheel(new, "skipper", "1.0", module_source="CHANGED = True\n")
    result = clients.uv(*publish, impostor, check=False)
    assert "do not match" in result.output or "File already exists" in result.output
    assert server.filenames(private_repo, "skipper")[v1.name]["hashes"]["sha256"] == sha256_of(v1)


def test_twine_skip_existing(server, clients, private_repo, tmp_path, twine_with_skip_existing):
    """`twine upload --skip-existing` passes over a file name the repository already holds with
    other bytes (a rebuilt dist; our 400 "File already exists" is what twine looks for) and
    uploads the rest. Identical bytes are simply accepted again, as PyPI does."""
    token = server.user_tokens["write"]
    (tmp_path / "first").mkdir()
    (tmp_path / "rebuilt").mkdir()
    original = build_wheel(tmp_path / "first", "twine-skip", "1.0")
    clients.twine_upload(private_repo, original, token=token, check=True)
    rebuilt = build_wheel(tmp_path / "rebuilt", "twine-skip", "1.0", module_source="REBUILT = 1\n")
    newer = build_wheel(tmp_path / "rebuilt", "twine-skip", "2.0")
    assert rebuilt.name == original.name and sha256_of(rebuilt) != sha256_of(original)

    result = clients.twine_upload(private_repo, rebuilt, newer, token=token,
                                  extra=["--skip-existing"], twine=twine_with_skip_existing,
                                  check=True)
    flowing = " ".join(result.output.split())  # rich wraps twine's lines at the terminal width
    assert f"Skipping {rebuilt.name} because it appears to already exist" in flowing
    files = server.filenames(private_repo, "twine-skip")
    assert set(files) == {original.name, newer.name}
    assert files[original.name]["hashes"]["sha256"] == sha256_of(original)

    # Without --skip-existing the same name is an error, with the server's message.
    again = clients.twine_upload(private_repo, rebuilt, token=token,
                                 twine=twine_with_skip_existing, check=False)
    assert "File already exists" in again.output


def test_current_twine_refuses_skip_existing_for_private_indexes(server, clients, private_repo,
                                                                 dists):
    """twine >= 6.1 decides on its own that --skip-existing is for PyPI only (docs/formats/pypi.md
    says to use `uv publish --check-url` instead); it must not upload anything then."""
    from importlib.metadata import version

    from packaging.version import Version

    if Version(version("twine")) < Version("6.1"):
        pytest.skip("this twine still offers --skip-existing everywhere")
    token = server.user_tokens["write"]
    wheel = build_wheel(dists, "twine-refuses", "1.0")
    result = clients.twine_upload(private_repo, wheel, token=token, extra=["--skip-existing"],
                                  check=False)
    assert "--skip-existing" in result.output
    assert server.filenames(private_repo, "twine-refuses") == {}


def test_read_only_token_cannot_upload(server, clients, private_repo, dists):
    wheel = build_wheel(dists, "read-only", "1.0")
    result = clients.twine_upload(private_repo, wheel, token=server.user_tokens["read"], check=False)
    assert "403" in result.output
    assert "scope is read" in result.output
    assert server.filenames(private_repo, "read-only") == {}


# --- install ---------------------------------------------------------------------------------


def _upload_alpha_and_beta(server, clients, repository, dists):
    alpha = build_wheel(dists, "alpha", "1.0", requires_dist=["beta>=1.0"],
                        module_source='VERSION = "alpha-1.0"\nimport beta\n')
    beta = build_wheel(dists, "beta", "1.0", module_source='VERSION = "beta-1.0"\n')
    clients.twine_upload(repository, alpha, beta, token=server.user_tokens["write"], check=True)
    return alpha, beta


def test_pip_install_resolves_a_dependency(server, clients, private_repo, dists):
    _upload_alpha_and_beta(server, clients, private_repo, dists)
    python = clients.venv()
    index = server.index_url(private_repo, server.user_tokens["read"])
    result = clients.pip("install", "--index-url", index, "alpha", python=python, check=True)
    assert "alpha-1.0" in result.output and "beta-1.0" in result.output
    assert installed_version(clients, python, "alpha") == "alpha-1.0"
    assert installed_version(clients, python, "beta") == "beta-1.0"


def test_uv_pip_install_resolves_a_dependency(server, clients, private_repo, dists):
    _upload_alpha_and_beta(server, clients, private_repo, dists)
    venv = clients.tmp / "uv-venv"
    clients.uv("venv", "--python", sys.executable, venv, check=True)
    python = venv / "bin" / "python"
    index = server.index_url(private_repo, server.user_tokens["read"])
    result = clients.uv("pip", "install", "--python", python, "--index-url", index, "alpha",
                        check=True)
    assert "+ alpha==1.0" in result.output and "+ beta==1.0" in result.output
    assert installed_version(clients, python, "alpha") == "alpha-1.0"
    assert installed_version(clients, python, "beta") == "beta-1.0"


def test_pip_download_gets_the_uploaded_bytes(server, clients, private_repo, dists):
    wheel = build_wheel(dists, "fetch-me", "3.1")
    clients.twine_upload(private_repo, wheel, token=server.user_tokens["write"], check=True)
    target = clients.tmp / "downloads"
    clients.pip("download", "--no-deps", "--dest", target, "--index-url",
                server.index_url(private_repo, server.user_tokens["read"]), "fetch-me",
                check=True)
    downloaded = target / wheel.name
    assert downloaded.exists(), list(target.iterdir())
    assert sha256_of(downloaded) == sha256_of(wheel)


# --- who may read a private repository -------------------------------------------------------


ACCESS_CASES = ["token-in-url", "netrc", "no-credentials", "wrong-token", "token-for-another-repo"]


@pytest.mark.parametrize("case", ACCESS_CASES)
def test_private_repository_access_with_pip(server, clients, private_repo, dists, case):
    wheel = build_wheel(dists, "secret-pkg", "1.0")
    clients.twine_upload(private_repo, wheel, token=server.user_tokens["write"], check=True)
    read = server.user_tokens["read"]
    index = server.index_url(private_repo)
    if case == "token-in-url":
        index = server.index_url(private_repo, read)
    elif case == "netrc":
        clients.write_netrc("__token__", read)
    elif case == "wrong-token":
        index = server.index_url(private_repo, "reg_" + "x" * 43)
    elif case == "token-for-another-repo":
        other = private_repo[:80] + "-other"
        server.create_repository(other, "private")
        server.grant(other, USER, "read")
        restricted = server.create_token(USER, "restricted", "read", repositories=[other])
        index = server.index_url(private_repo, restricted)

    target = clients.tmp / "downloads"
    # -vv: pip tells why it could not read the index only in its debug output.
    result = clients.pip("download", "-vv", "--no-deps", "--dest", target, "--index-url", index,
                         "secret-pkg")
    if case in ("token-in-url", "netrc"):
        assert result.ok, result
        assert sha256_of(target / wheel.name) == sha256_of(wheel)
        return
    assert not result.ok, result
    assert "No matching distribution found for secret-pkg" in result.output
    expected = {
        "no-credentials": "401 Client Error: Authentication required",
        "wrong-token": "401 Client Error: Invalid or expired API token",
        "token-for-another-repo": f"404 Client Error: Repository '{private_repo}' not found",
    }[case]
    assert expected in result.output, result
    assert not target.exists() or not any(target.iterdir())


# --- yanking ---------------------------------------------------------------------------------


def test_pip_skips_yanked_versions_unless_pinned(server, clients, private_repo, dists):
    old = build_wheel(dists, "beta", "1.0", module_source='VERSION = "1.0"\n')
    new = build_wheel(dists, "beta", "2.0", module_source='VERSION = "2.0"\n')
    clients.twine_upload(private_repo, old, new, token=server.user_tokens["write"], check=True)
    index = server.index_url(private_repo, server.user_tokens["read"])

    def pip_install(requirement):
        python = clients.venv()
        clients.pip("install", "--index-url", index, requirement, python=python, check=True)
        return installed_version(clients, python, "beta")

    assert pip_install("beta") == "2.0"

    version_id = server.version_id(private_repo, "beta", "2.0")
    server.api("POST", f"versions/{version_id}/yank/", {"reason": "broken build"})
    yanked = server.filenames(private_repo, "beta")[new.name]["yanked"]
    assert yanked == "broken build"

    assert pip_install("beta") == "1.0"
    assert pip_install("beta==2.0") == "2.0"

    server.api("POST", f"versions/{version_id}/unyank/")
    assert server.filenames(private_repo, "beta")[new.name]["yanked"] is False
    assert pip_install("beta") == "2.0"


# --- public repositories ---------------------------------------------------------------------


def test_public_repository_installs_without_credentials(server, clients, repo_name, dists):
    server.create_repository(repo_name, "public")
    server.grant(repo_name, USER, "write")
    _upload_alpha_and_beta(server, clients, repo_name, dists)
    assert not (clients.home / ".netrc").exists()
    index = server.index_url(repo_name)  # no credentials at all

    python = clients.venv()
    clients.pip("install", "--index-url", index, "alpha", python=python, check=True)
    assert installed_version(clients, python, "alpha") == "alpha-1.0"

    venv = clients.tmp / "uv-venv"
    clients.uv("venv", "--python", sys.executable, venv, check=True)
    clients.uv("pip", "install", "--python", venv / "bin" / "python", "--index-url", index,
               "alpha", check=True)
    assert installed_version(clients, venv / "bin" / "python", "beta") == "beta-1.0"

    # Anyone may read, but writing still needs a token.
    anonymous = server.request("POST", server.repository_url(repo_name))
    assert anonymous.status == 401, anonymous


# --- bad uploads -----------------------------------------------------------------------------


def _no_pkg_info(folder):
    path = build_sdist(folder, "bad-input", "1.0", include_pkg_info=False)
    return path, "no PKG-INFO"


def _version_mismatch(folder):
    # A wheel named 2.0 whose METADATA says 1.0.
    path = build_wheel(folder, "bad-input", "1.0", filename="bad_input-2.0-py3-none-any.whl")
    return path, "does not match the version 1.0 in its metadata"


def _truncated_wheel(folder):
    path = build_wheel(folder, "bad-input", "1.0")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path, "not a valid zip archive"


@pytest.mark.parametrize("make", [_no_pkg_info, _version_mismatch, _truncated_wheel],
                         ids=["sdist-without-pkg-info", "wheel-version-mismatch", "truncated-wheel"])
def test_bad_upload_shows_a_clear_message_and_stores_nothing(server, clients, private_repo, dists,
                                                             make):
    path, server_message = make(dists)
    token = server.user_tokens["write"]
    result = clients.twine_upload(private_repo, path, token=token, check=False)
    if "HTTPError" in result.output:
        # twine sent it: it prints the status and the server's reason phrase.
        assert "400 Bad Request" in result.output
        assert server_message in _unwrap(result.output), result
    else:
        # twine reads the archive itself before sending and refuses what it cannot read, with
        # its own message; the server must refuse the same bytes sent by hand with a clear one.
        assert "PKG-INFO" in result.output or "zip file" in result.output, result
        curl = clients.run([
            _find_client("curl"), "-sS", "-i", "-u", f"__token__:{token}",
            "-F", ":action=file_upload", "-F", "protocol_version=1", "-F", f"content=@{path}",
            server.repository_url(private_repo),
        ], check=True)
        status_line = curl.output.splitlines()[0]
        assert status_line.startswith("HTTP/1.1 400 "), curl
        assert server_message in status_line, curl  # the reason phrase
        assert server_message in curl.output.split("\r\n\r\n", 1)[1], curl  # and the body
    assert server.filenames(private_repo, "bad-input") == {}
    files = server.api("GET", f"files/?repository={private_repo}").json()
    assert files["count"] == 0, files


def _unwrap(output):
    """twine's rich console wraps long lines: join them back."""
    return re.sub(r"\s+", " ", output)
