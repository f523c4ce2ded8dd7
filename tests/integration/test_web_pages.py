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


def test_downloads_are_counted_per_file_and_version(client, populated):
    stored = PackageVersion.objects.get(package__name="delta").files.get()
    url = f"/repository/public-py/{stored.path}"
    for _ in range(3):
        assert client.get(url).status_code == 200
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
