"""The web UI's pages and actions with every persona: home counts, repository search and
paging, the package page (versions, files, downloads, install command, README, dependencies),
yank and delete with CSRF and confirmation, search — and nothing private leaking anywhere."""

import re

import pytest
from django.test import Client

from registry.models import AuditEvent, PackageVersion
from tests.fixtures.dists import build_wheel

from .pypi_helpers import upload

pytestmark = pytest.mark.django_db

README = """# Gamma

Some **bold** text and a [link](https://example.com/docs).

<script>alert("owned")</script>
<img src="x" onerror="alert(1)">
[click](javascript:alert(2))
"""


def metadata(name, version, *, summary="A test package", requires=(), readme=None):
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}", f"Summary: {summary}"]
    lines += [f"Requires-Dist: {r}" for r in requires]
    if readme is not None:
        lines.append("Description-Content-Type: text/markdown")
    return ("\n".join(lines) + "\n\n" + (readme or f"Long description of {name}.\n")).encode()


def publish(client, persona, repository, tmp_path, name, version, **fields):
    folder = tmp_path / f"{name}-{version}"
    folder.mkdir()
    wheel = build_wheel(folder, name, version, metadata=metadata(name, version, **fields))
    response = upload(client, repository, wheel, persona)
    assert response.status_code == 200, response.content
    return wheel


def page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.content.decode() if status == 200 else response


@pytest.fixture
def populated(client, personas, tmp_path):
    """public-py: gamma 1.0, 2.0, 10.0 (and a markdown README) and delta; private-py: secret-tool."""
    writer = personas["writer"]
    for version in ("1.0", "10.0", "2.0"):
        publish(client, writer, "public-py", tmp_path, "gamma", version, summary="Gamma rays for everyone",
                requires=["requests>=2", "idna; python_version<'3.12'"], readme=README)
    publish(client, writer, "public-py", tmp_path, "delta", "0.1", summary="Change in small steps")
    publish(client, writer, "private-py", tmp_path, "secret-tool", "3.0", summary="Hidden gamma thing")
    return personas


# --- home ----------------------------------------------------------------------------------------


def row_of(html, name):
    match = re.search(rf'<tr>\s*<td><a href="/ui/repositories/{name}/">.*?</tr>', html, re.S)
    return match.group(0) if match else None


def test_home_counts_packages_size_and_last_upload(client, populated):
    html = page(client, "/")
    row = row_of(html, "public-py")
    assert row is not None and '<td class="number">2</td>' in row
    assert "KB" in row or "bytes" in row
    assert re.search(r"<time datetime=\"\d{4}-\d\d-\d\dT", row)
    assert "private-py" not in html

    client.force_login(populated["reader"].user)
    row = row_of(page(client, "/"), "private-py")
    assert row is not None and '<td class="number">1</td>' in row


def test_an_outsider_sees_no_private_repository_or_count(client, populated):
    client.force_login(populated["outsider"].user)
    html = page(client, "/")
    assert "private-py" not in html and "secret-tool" not in html
    assert row_of(html, "public-py") is not None


# --- repository page ------------------------------------------------------------------------------


def test_repository_page_lists_searches_and_pages(client, populated, monkeypatch):
    html = page(client, "/ui/repositories/public-py/")
    assert '<a href="/ui/repositories/public-py/packages/gamma/">gamma</a>' in html
    assert "<td>10.0</td>" in html  # the latest version in PEP 440 order, not 2.0
    assert "Gamma rays for everyone" in html
    found = page(client, "/ui/repositories/public-py/?q=small+steps")
    assert ">delta</a>" in found and ">gamma</a>" not in found
    assert ">gamma</a>" in page(client, "/ui/repositories/public-py/?q=GAM")
    assert "No package matches" in page(client, "/ui/repositories/public-py/?q=nothing-like-it")

    from registry.web import browse

    monkeypatch.setattr(browse, "PACKAGES_PER_PAGE", 1)
    first = page(client, "/ui/repositories/public-py/")
    assert ">delta</a>" in first and ">gamma</a>" not in first and "Page 1 of 2" in first
    second = page(client, "/ui/repositories/public-py/?page=2")
    assert ">gamma</a>" in second and ">delta</a>" not in second


def test_private_repository_pages_are_hidden(client, populated):
    for url in ("/ui/repositories/private-py/", "/ui/repositories/private-py/packages/secret-tool/"):
        response = page(client, url, status=302)
        assert response["Location"].startswith("/accounts/login/?next=")
        client.force_login(populated["outsider"].user)
        page(client, url, status=404)
        client.force_login(populated["reader"].user)
        assert "secret-tool" in page(client, url)
        client.logout()
    client.force_login(populated["reader"].user)
    page(client, "/ui/repositories/public-py/packages/no-such-package/", status=404)
    page(client, "/ui/repositories/public-py/packages/gamma/?version=999999", status=404)


# --- package page ---------------------------------------------------------------------------------


def test_package_page_shows_versions_files_and_install_command(client, populated):
    html = page(client, "/ui/repositories/public-py/packages/gamma/")
    versions = re.findall(r'<table class="versions">(.*?)</table>', html, re.S)[0]
    assert re.findall(r"<strong>([\d.]+)</strong>|>([\d.]+)</a>", versions) == [
        ("10.0", ""), ("", "2.0"), ("", "1.0")]
    assert "<h1>gamma <span class=\"muted\">10.0</span>" in html
    assert "pip install --index-url http://testserver/repository/public-py/simple/ gamma==10.0" in html
    stored = PackageVersion.objects.get(package__name="gamma", version="10.0").files.get()
    assert f'<code class="hash">{stored.blob.sha256}</code>' in html
    assert stored.filename in html and "by writer" in html
    assert "requests&gt;=2" in html  # a dependency, escaped

    older = PackageVersion.objects.get(package__name="gamma", version="2.0")
    html = page(client, f"/ui/repositories/public-py/packages/gamma/?version={older.pk}")
    assert "gamma==2.0" in html and "<strong>2.0</strong>" in html
    # Normalised names reach the same page.
    assert "<h1>gamma" in page(client, "/ui/repositories/public-py/packages/Gamma/")


def test_the_readme_is_rendered_and_sanitised(client, populated):
    html = page(client, "/ui/repositories/public-py/packages/gamma/")
    readme = re.search(r'<section class="readme">(.*?)</section>', html, re.S).group(1)
    assert "<h1>Gamma</h1>" in readme and "<strong>bold</strong>" in readme
    assert '<a href="https://example.com/docs" rel="nofollow noopener noreferrer">link</a>' in readme
    assert "<script" not in readme and "onerror" not in readme and "javascript:" not in readme


def test_downloads_are_counted_per_file_and_version(client, populated, settings):
    from registry.models import FileDownloads

    stored = PackageVersion.objects.get(package__name="delta").files.get()
    url = f"/repository/public-py/{stored.path}"
    settings.DOWNLOAD_COUNT_FLUSH_SECONDS = 10**9  # not due during this test
    for _ in range(2):
        response = client.get(url)
        assert response.status_code == 200
        b"".join(response.streaming_content)  # the whole body, as a client reads it
    # Kept in the process, not written while the client waited.
    assert not FileDownloads.objects.filter(file=stored).exists()
    settings.DOWNLOAD_COUNT_FLUSH_SECONDS = 0
    response = client.get(url)
    b"".join(response.streaming_content)  # the end of the request: counts are written now
    assert FileDownloads.objects.get(file=stored).count == 3
    assert client.head(url).status_code == 200  # a HEAD is not a download
    html = page(client, "/ui/repositories/public-py/packages/delta/")
    files = re.search(r'<table class="files">(.*?)</table>', html, re.S).group(1)
    assert '<td class="number">3</td>' in files
    assert "3 in the last 30 days" in html
    assert html.count("<rect ") == 30 and 'height="40"><title>' in html


# --- actions ---------------------------------------------------------------------------------------


def csrf_client(user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    return browser


def csrf_token(browser, url):
    html = browser.get(url).content.decode()
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def test_yank_needs_admin_and_csrf(populated):
    version = PackageVersion.objects.get(package__name="gamma", version="10.0")
    url = f"/ui/repositories/public-py/packages/gamma/versions/{version.pk}/yank/"
    package_url = "/ui/repositories/public-py/packages/gamma/"

    reader = csrf_client(populated["reader"].user)
    assert "Yank</button>" not in reader.get(package_url).content.decode()
    token = csrf_token(reader, package_url)
    assert reader.post(url, {"csrfmiddlewaretoken": token, "reason": "x"}).status_code == 404

    owner = csrf_client(populated["owner"].user)
    assert owner.post(url, {"reason": "broken"}).status_code == 403  # no CSRF token
    version.refresh_from_db()
    assert not version.yanked

    token = csrf_token(owner, package_url)
    response = owner.post(url, {"csrfmiddlewaretoken": token, "reason": "broken build"})
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.yanked and version.yank_reason == "broken build"
    assert AuditEvent.objects.filter(action="version.yank", version="10.0").exists()
    # The page now selects the newest version that is not yanked, and says so of the yanked one.
    html = owner.get(package_url).content.decode()
    assert "<h1>gamma <span class=\"muted\">2.0</span>" in html
    html = owner.get(f"{package_url}?version={version.pk}").content.decode()
    assert "Yanked: broken build" in html and "Unyank</button>" in html
    owner.post(url, {"csrfmiddlewaretoken": token, "undo": "1"})
    version.refresh_from_db()
    assert not version.yanked


def test_delete_asks_for_confirmation(populated):
    version = PackageVersion.objects.get(package__name="gamma", version="1.0")
    path = version.files.get().path
    url = f"/ui/repositories/public-py/packages/gamma/versions/{version.pk}/delete/"
    writer = csrf_client(populated["writer"].user)
    assert writer.get(url).status_code == 404  # write is not enough

    owner = csrf_client(populated["owner"].user)
    confirm = owner.get(url).content.decode()
    assert "Type <code>1.0</code> to confirm" in confirm and path.rsplit("/", 1)[-1] in confirm
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', confirm).group(1)
    again = owner.post(url, {"csrfmiddlewaretoken": token, "confirm": "2.0"})
    assert again.status_code == 200 and PackageVersion.objects.filter(pk=version.pk).exists()
    done = owner.post(url, {"csrfmiddlewaretoken": token, "confirm": "1.0"})
    assert done.status_code == 302 and done["Location"] == "/ui/repositories/public-py/packages/gamma/"
    assert not PackageVersion.objects.filter(pk=version.pk).exists()
    assert AuditEvent.objects.filter(action="version.delete", version="1.0").exists()

    # The last version of a package: back to the repository.
    last = PackageVersion.objects.get(package__name="delta")
    done = owner.post(f"/ui/repositories/public-py/packages/delta/versions/{last.pk}/delete/",
                      {"csrfmiddlewaretoken": token, "confirm": "0.1"})
    assert done["Location"] == "/ui/repositories/public-py/"


def test_actions_on_a_private_repository_are_hidden(client, populated):
    version = PackageVersion.objects.get(package__name="secret-tool")
    url = f"/ui/repositories/private-py/packages/secret-tool/versions/{version.pk}/delete/"
    assert client.get(url)["Location"].startswith("/accounts/login/")
    client.force_login(populated["outsider"].user)
    assert client.get(url).status_code == 404
    assert client.post(url, {"confirm": "3.0"}).status_code == 404
    assert PackageVersion.objects.filter(pk=version.pk).exists()


# --- search ----------------------------------------------------------------------------------------


def test_search_across_readable_repositories(client, populated):
    html = page(client, "/ui/search/?q=gamma")
    assert ">gamma</a>" in html and "secret-tool" not in html  # "Hidden gamma thing" is private
    client.force_login(populated["outsider"].user)
    assert "secret-tool" not in page(client, "/ui/search/?q=gamma")
    client.force_login(populated["reader"].user)
    html = page(client, "/ui/search/?q=gamma")
    assert ">secret-tool</a>" in html and ">gamma</a>" in html
    assert "Nothing matches" in page(client, "/ui/search/?q=gamma&format=npm")
    assert ">gamma</a>" in page(client, "/ui/search/?q=gamma&format=pypi")
    assert ">gamma</a>" in page(client, "/ui/search/?q=gamma&format=unknown")  # ignored
    assert "<table" not in page(client, "/ui/search/")


def test_deprecate_an_npm_version_with_a_scoped_name(personas, tmp_path):
    import json

    from registry.models import Repository, RepositoryRole, Role
    from tests.fixtures.npm_packages import npm_pack, publish_document

    repository = Repository.objects.create(name="web-npm", format="npm", visibility="public")
    RepositoryRole.objects.create(repository=repository, user=personas["owner"].user, role=Role.ADMIN)
    RepositoryRole.objects.create(repository=repository, user=personas["writer"].user, role=Role.WRITE)
    document = publish_document(npm_pack(tmp_path, "@acme/util", "1.0.0", readme="# Util\n\nUse it."))
    published = Client().put("/repository/web-npm/@acme%2futil", json.dumps(document),
                             content_type="application/json", **personas["writer"].auth)
    assert published.status_code in (200, 201), published.content

    package_url = "/ui/repositories/web-npm/packages/@acme/util/"
    owner = csrf_client(personas["owner"].user)
    html = owner.get(package_url).content.decode()
    assert "npm install @acme/util@1.0.0 --registry http://testserver/repository/web-npm/" in html
    assert "<h1>Util</h1>" in html and "Deprecate</button>" in html and "Yank</button>" not in html
    version = PackageVersion.objects.get(package__name="@acme/util")
    url = f"/ui/repositories/web-npm/packages/@acme/util/versions/{version.pk}/deprecate/"
    token = csrf_token(owner, package_url)
    refused = owner.post(url, {"csrfmiddlewaretoken": token, "message": "  "})
    assert refused.status_code == 302
    version.refresh_from_db()
    assert version.deprecated == ""
    owner.post(url, {"csrfmiddlewaretoken": token, "message": "use 2.x"})
    version.refresh_from_db()
    assert version.deprecated == "use 2.x"
    assert "Deprecated: use 2.x" in owner.get(package_url).content.decode()
    # npm clients see it in the packument.
    packument = Client().get("/repository/web-npm/@acme%2futil").json()
    assert packument["versions"]["1.0.0"]["deprecated"] == "use 2.x"
    assert AuditEvent.objects.filter(action="version.deprecate", version="1.0.0").exists()


# --- repository settings and audit log --------------------------------------------------------------


def settings_post(browser, repository, data):
    url = f"/ui/repositories/{repository}/settings/"
    token = csrf_token(browser, url)
    return browser.post(url, {"csrfmiddlewaretoken": token, **data})


def test_settings_are_for_admins_only(client, populated):
    client.force_login(populated["writer"].user)
    assert client.get("/ui/repositories/public-py/settings/").status_code == 404
    assert client.get("/ui/repositories/public-py/audit/").status_code == 404
    assert "Settings</a>" not in page(client, "/ui/repositories/public-py/")
    client.force_login(populated["outsider"].user)
    assert client.get("/ui/repositories/private-py/settings/").status_code == 404
    client.logout()
    assert client.get("/ui/repositories/private-py/settings/")["Location"].startswith("/accounts/login/")


def test_general_settings_and_members(populated):
    from registry.models import Repository, RepositoryRole

    owner = csrf_client(populated["owner"].user)
    assert "Settings</a>" in owner.get("/ui/repositories/private-py/").content.decode()
    response = settings_post(owner, "private-py", {"section": "general", "description": "Team tools",
                                                   "visibility": "public"})
    assert response.status_code == 302
    repository = Repository.objects.get(name="private-py")
    assert (repository.description, repository.visibility) == ("Team tools", "public")
    settings_post(owner, "private-py", {"section": "general", "description": "x", "visibility": "secret"})
    repository.refresh_from_db()
    assert repository.visibility == "public"  # refused: not a visibility
    assert "visibility must be one of" in owner.get("/ui/repositories/private-py/settings/").content.decode()

    settings_post(owner, "private-py", {"section": "grant", "holder": "user", "who": "outsider", "role": "write"})
    held = RepositoryRole.objects.get(repository=repository, user=populated["outsider"].user)
    assert held.role == "write"
    settings_post(owner, "private-py", {"section": "grant", "holder": "user", "who": "nobody", "role": "read"})
    assert "No user &#x27;nobody&#x27;" in owner.get("/ui/repositories/private-py/settings/").content.decode()
    settings_post(owner, "private-py", {"section": "revoke", "role_id": str(held.pk)})
    assert not RepositoryRole.objects.filter(pk=held.pk).exists()

    audit = owner.get("/ui/repositories/private-py/audit/").content.decode()
    for action in ("repository.update", "role.grant", "role.revoke", "file.upload"):
        assert f"<td>{action}</td>" in audit
    filtered = owner.get("/ui/repositories/private-py/audit/?action=role.grant").content.decode()
    assert "<td>role.grant</td>" in filtered and "<td>role.revoke</td>" not in filtered


def test_format_settings_through_the_form(personas):
    from registry.models import Repository, RepositoryRole, Role

    repository = Repository.objects.create(name="team-mvn", format="maven", visibility="public")
    RepositoryRole.objects.create(repository=repository, user=personas["owner"].user, role=Role.ADMIN)
    owner = csrf_client(personas["owner"].user)
    html = owner.get("/ui/repositories/team-mvn/settings/").content.decode()
    assert '<select name="version_policy">' in html and 'name="snapshot_keep"' in html
    settings_post(owner, "team-mvn", {"section": "format", "version_policy": "release", "snapshot_keep": "5"})
    repository.refresh_from_db()
    assert repository.settings == {"version_policy": "release", "snapshot_keep": 5}
    settings_post(owner, "team-mvn", {"section": "format", "version_policy": "release", "snapshot_keep": "many"})
    repository.refresh_from_db()
    assert repository.settings["snapshot_keep"] == 5
    assert "SNAPSHOT builds kept must be a whole number" in owner.get("/ui/repositories/team-mvn/settings/").content.decode()
    settings_post(owner, "team-mvn", {"section": "format", "version_policy": "nightly", "snapshot_keep": ""})
    repository.refresh_from_db()
    assert repository.settings["version_policy"] == "release"


def test_signing_keys_are_shown_with_their_fingerprint(personas):
    from registry.models import Repository, RepositoryRole, Role
    from registry.services import signing_keys
    from registry.services.access import Actor

    repository = Repository.objects.create(name="team-deb", format="deb", visibility="public")
    RepositoryRole.objects.create(repository=repository, user=personas["owner"].user, role=Role.ADMIN)
    key = signing_keys.ensure_key(Actor(user=personas["owner"].user), repository)
    owner = csrf_client(personas["owner"].user)
    html = owner.get("/ui/repositories/team-deb/settings/").content.decode()
    assert f'<code class="hash">{key.fingerprint}</code>' in html and "primary (signs)" in html
    settings_post(owner, "team-deb", {"section": "format", "distributions": "bookworm trixie",
                                      "architectures": "amd64, riscv64", "valid_until_days": "7", "origin": "",
                                      "label": "Team"})
    repository.refresh_from_db()
    assert repository.settings == {"distributions": ["bookworm", "trixie"], "architectures": ["amd64", "riscv64"],
                                   "valid_until_days": 7, "label": "Team"}


# --- tokens -----------------------------------------------------------------------------------------


def test_tokens_created_with_repositories_shown_once_and_revoked(populated):
    from registry.models import ApiToken
    from registry.services import tokens

    reader = csrf_client(populated["reader"].user)
    token = csrf_token(reader, "/ui/tokens/")
    html = reader.post("/ui/tokens/", {"csrfmiddlewaretoken": token, "name": "laptop", "scope": "read",
                                       "repositories": ["private-py"], "expires_days": "30"}).content.decode()
    secret = re.search(r'<code class="secret" id="new-token">([^<]+)</code>', html).group(1)
    created = ApiToken.objects.get(name="laptop")
    assert tokens.authenticate(secret) == created
    assert [r.name for r in created.repositories.all()] == ["private-py"] and created.expires is not None
    again = reader.get("/ui/tokens/").content.decode()
    assert secret not in again and f"<code>{created.prefix}…</code>" in again and "private-py" in again

    # A repository the user may not read cannot be named.
    from registry.models import Repository
    Repository.objects.create(name="hidden-py", format="pypi", visibility="private")
    html = reader.post("/ui/tokens/", {"csrfmiddlewaretoken": token, "name": "x", "scope": "read",
                                       "repositories": ["hidden-py"]}, follow=True).content.decode()
    assert "Choose among the repositories you may read" in html and "hidden-py" not in html.split("<h2>New token</h2>")[1]
    assert not ApiToken.objects.filter(name="x").exists()

    reader.post("/ui/tokens/", {"csrfmiddlewaretoken": token, "revoke": str(created.pk)})
    created.refresh_from_db()
    assert created.revoked is not None and tokens.authenticate(secret) is None
    assert AuditEvent.objects.filter(action="token.revoke", detail__prefix=created.prefix).exists()


# --- upload from the browser ----------------------------------------------------------------------


def test_browser_upload_answers_json_with_the_clients_messages(populated, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    writer = csrf_client(populated["writer"].user)
    token = csrf_token(writer, "/ui/repositories/public-py/")
    url = "/ui/repositories/public-py/upload/"
    wheel = build_wheel(tmp_path, "omega", "1.0")

    def send(path, name=None, **extra):
        return writer.post(url, {"file": SimpleUploadedFile(name or path.name, path.read_bytes())},
                           HTTP_ACCEPT="application/json", **extra)

    assert send(wheel).status_code == 403  # no CSRF token
    response = send(wheel, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201, response.content
    assert response.json()["detail"] == "Stored: omega-1.0-py3-none-any.whl (omega 1.0)."
    assert response.json()["url"].startswith("/ui/repositories/public-py/packages/omega/?version=")
    assert send(wheel, HTTP_X_CSRFTOKEN=token).status_code == 200
    broken = tmp_path / "omega-2.0-py3-none-any.whl"
    broken.write_bytes(b"not a zip")
    response = send(broken, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 400 and "not a valid zip archive" in response.json()["detail"]
    assert not PackageVersion.objects.filter(version="2.0", package__name="omega").exists()

    reader = csrf_client(populated["reader"].user)
    assert reader.post(url, {"file": SimpleUploadedFile(wheel.name, wheel.read_bytes())},
                       HTTP_X_CSRFTOKEN=csrf_token(reader, "/ui/repositories/public-py/")).status_code == 404
    assert 'class="upload"' not in reader.get("/ui/repositories/public-py/").content.decode()


def test_browser_upload_without_script_and_with_format_fields(personas, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from registry.models import PackageFile, Repository, RepositoryRole, Role
    from registry.services import signing_keys
    from registry.services.access import Actor
    from tests.fixtures.debs import build_deb

    repository = Repository.objects.create(name="web-deb", format="deb", visibility="public")
    RepositoryRole.objects.create(repository=repository, user=personas["writer"].user, role=Role.WRITE)
    signing_keys.ensure_key(Actor(user=personas["writer"].user), repository)
    writer = csrf_client(personas["writer"].user)
    assert 'name="distribution"' in writer.get("/ui/repositories/web-deb/").content.decode()
    token = csrf_token(writer, "/ui/repositories/web-deb/")
    deb = build_deb(tmp_path, "web-tool", "1.0", "all")
    response = writer.post("/ui/repositories/web-deb/upload/", {
        "csrfmiddlewaretoken": token, "distribution": "bookworm", "component": "",
        "file": SimpleUploadedFile(deb.name, deb.read_bytes())}, follow=True)
    assert "Stored: web-tool_1.0_all.deb (web-tool 1.0)." in response.content.decode()
    assert PackageFile.objects.get(repository=repository).metadata["distributions"] == ["bookworm"]


@pytest.mark.parametrize("fmt", ["npm", "maven", "rpm"])
def test_browser_upload_for_the_other_formats(personas, tmp_path, fmt):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from registry.models import Repository, RepositoryRole, Role
    from registry.services import signing_keys
    from registry.services.access import Actor

    repository = Repository.objects.create(name=f"web-{fmt}", format=fmt, visibility="public")
    RepositoryRole.objects.create(repository=repository, user=personas["writer"].user, role=Role.WRITE)
    if fmt == "rpm":
        signing_keys.ensure_key(Actor(user=personas["writer"].user), repository)
    if fmt == "npm":
        from tests.fixtures.npm_packages import npm_pack
        path, fields, expected = npm_pack(tmp_path, "web-widget", "1.2.0"), {"tag": "next"}, "web-widget 1.2.0"
    elif fmt == "maven":
        from .test_maven_protocol import pom_xml
        path = tmp_path / "lib-1.0.pom"
        path.write_bytes(pom_xml("1.0"))
        fields, expected = {"path": "com/acme/lib/1.0/lib-1.0.pom"}, "com.acme:lib 1.0"
    else:
        from tests.fixtures.rpms import build_rpm
        path, fields, expected = build_rpm(tmp_path, "web-tool", "1.0"), {}, "web-tool 1.0-1"
    writer = csrf_client(personas["writer"].user)
    token = csrf_token(writer, f"/ui/repositories/web-{fmt}/")
    response = writer.post(f"/ui/repositories/web-{fmt}/upload/",
                           {"file": SimpleUploadedFile(path.name, path.read_bytes()), **fields},
                           HTTP_ACCEPT="application/json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201, response.content
    assert response.json()["detail"] == f"Stored: {path.name} ({expected})."
    html = writer.get(response.json()["url"]).content.decode()
    assert "<h2>Install</h2>" in html
    if fmt == "npm":
        assert repository.packages.get().metadata["dist-tags"] == {"next": "1.2.0"}


def test_groups_get_roles_and_people_log_out(client, populated):
    from django.contrib.auth.models import Group

    from registry.models import RepositoryRole

    team = Group.objects.create(name="team-a")
    populated["outsider"].user.groups.add(team)
    owner = csrf_client(populated["owner"].user)
    settings_post(owner, "private-py", {"section": "grant", "holder": "group", "who": "team-a", "role": "read"})
    assert RepositoryRole.objects.get(group=team).role == "read"
    assert "group <strong>team-a</strong>" in owner.get("/ui/repositories/private-py/settings/").content.decode()
    # Members of the group now see the repository, its packages and its counts.
    client.force_login(populated["outsider"].user)
    assert row_of(page(client, "/"), "private-py") is not None
    assert ">secret-tool</a>" in page(client, "/ui/search/?q=secret")

    browser = csrf_client(populated["reader"].user)
    token = csrf_token(browser, "/")
    assert browser.post("/accounts/logout/", {"csrfmiddlewaretoken": token}).status_code == 302
    assert browser.get("/ui/tokens/")["Location"].startswith("/accounts/login/")
