"""The Content-Security-Policy on every answer, and pages that need nothing it forbids: no
inline script, style or event handler in any page of the UI, the admin or the API docs; no
image from another host in a README; what /repository/ serves sandboxed. The browser's view
of the same is tests/e2e/test_browser_csp.py."""

from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model

from registry.web.markup import readme_html

from .test_web_pages import publish

pytestmark = pytest.mark.django_db

README = """# Readme

![pixel](https://tracker.example/pixel.png?reader=1) ![proto](//tracker.example/a.png)
<img src="\\\\tracker.example\\b.png" alt="backslashes"> ![local](docs/logo.png)
[a link](https://example.com/docs)
"""


def directives(response):
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split("; ")}


class InlineFinder(HTMLParser):
    """What a strict policy would refuse: inline scripts, style elements and attributes, event
    handlers, javascript: URLs, and anything loaded from another host."""

    def __init__(self):
        super().__init__()
        self.found = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            if "src" not in attrs and attrs.get("type", "text/javascript") not in ("application/json",):
                self._in_script = True
            elif "src" in attrs and "://" in attrs["src"]:
                self.found.append(f"script from {attrs['src']}")
        if tag == "style":
            self.found.append("<style>")
        if tag in ("link", "img") and "://" in (attrs.get("href") or attrs.get("src") or ""):
            self.found.append(f"<{tag}> from elsewhere: {attrs}")
        for name, value in attrs.items():
            if name == "style" or name.startswith("on"):
                self.found.append(f"<{tag} {name}={value!r}>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}={value!r}>")

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.found.append(f"inline script: {data.strip()[:60]!r}")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False


def inline_parts(html):
    finder = InlineFinder()
    finder.feed(html)
    return finder.found


@pytest.fixture
def logged_in(client, personas, tmp_path):
    publish(client, personas["writer"], "public-py", tmp_path, "csp-pkg", "1.0", readme=README)
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw-root")
    client.force_login(admin)
    return client


def test_ui_admin_and_docs_pages_need_nothing_inline(logged_in):
    pages = ["/", "/ui/search/?q=csp", "/ui/repositories/public-py/", "/ui/repositories/public-py/settings/",
             "/ui/repositories/public-py/audit/", "/ui/repositories/public-py/packages/csp-pkg/", "/ui/tokens/",
             "/admin/", "/admin/registry/repository/", "/admin/auth/user/add/", "/api/docs/"]
    for path in pages:
        response = logged_in.get(path)
        assert response.status_code == 200, path
        policy = directives(response)
        assert policy["default-src"] == ["'self'"], path
        assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"], path
        assert policy["img-src"] == ["'self'", "data:"] and policy["frame-ancestors"] == ["'none'"], path
        assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"], path
        assert inline_parts(response.content.decode()) == [], path
    logged_in.logout()
    login = logged_in.get("/accounts/login/")
    assert inline_parts(login.content.decode()) == [] and "Content-Security-Policy" in login


def test_the_api_docs_load_swagger_ui_from_this_server(client):
    page = client.get("/api/docs/").content.decode()
    assert "cdn.jsdelivr.net" not in page and "://" not in page.split("<body>")[0].replace("http://testserver", "")
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    # Swagger UI's start-up script is a file of its own, not inline.
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle(" in script.content and b"/api/schema/" in script.content


def test_the_browsable_api_may_style_inline_but_not_script(client, personas):
    response = client.get("/api/v1/repositories/", HTTP_ACCEPT="text/html", **personas["reader"].auth)
    assert response["Content-Type"].startswith("text/html")
    policy = directives(response)
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["script-src"] == ["'self'"]
    as_json = client.get("/api/v1/repositories/", **personas["reader"].auth)
    assert directives(as_json)["style-src"] == ["'self'"]


@pytest.mark.parametrize("path", ["/repository/public-py/simple/", "/repository/public-py/simple/csp-pkg/",
                                  "/repository/private-py/simple/", "/repository/absent/simple/"])
def test_what_repositories_serve_is_sandboxed(client, personas, tmp_path, path):
    publish(client, personas["writer"], "public-py", tmp_path, "csp-pkg", "1.0")
    response = client.get(path, HTTP_ACCEPT="text/html")
    assert directives(response) == {"default-src": ["'none'"], "sandbox": [], "frame-ancestors": ["'none'"]}


def test_readme_images_from_elsewhere_lose_their_source():
    html = str(readme_html(README, "markdown"))
    assert "tracker.example" not in html
    assert html.count("<img") == 4
    assert '<img alt="local" src="docs/logo.png">' in html
    assert 'alt="pixel"' in html and 'alt="backslashes"' in html
    assert '<a href="https://example.com/docs" rel="nofollow noopener noreferrer">a link</a>' in html
