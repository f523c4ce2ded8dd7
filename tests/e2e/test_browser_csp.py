"""The Content-Security-Policy in a real headless Chromium: the web UI, the admin, the REST API's
pages and the API docs break none of its rules, work offline (every request for another host
is cut off here, and none is made), and a README's image from another host is never fetched."""

import pytest

from tests.fixtures.dists import build_wheel

from .conftest import ADMIN, ADMIN_PASSWORD
from .test_browser_ui import chromium, upload_through_the_api  # noqa: F401 (a fixture)

pytestmark = pytest.mark.e2e

REPOSITORY = "csp-py"
TRACKER = "http://tracker.invalid/pixel.png"
README = f"""# CSP readme

![pixel]({TRACKER}) and ![also](//tracker.invalid/two.png), and a [link](https://example.invalid/).
"""


@pytest.fixture(scope="module")
def readme_package(server, tmp_path_factory):
    server.api("POST", "repositories/", {"name": REPOSITORY, "format": "pypi", "visibility": "public"},
               expect=(201,))
    metadata = ("Metadata-Version: 2.1\nName: csp-readme\nVersion: 1.0\nSummary: A README with a tracker\n"
                f"Description-Content-Type: text/markdown\n\n{README}").encode()
    wheel = build_wheel(tmp_path_factory.mktemp("csp-wheels"), "csp-readme", "1.0", metadata=metadata)
    assert upload_through_the_api(server, REPOSITORY, wheel) == 201
    return f"/ui/repositories/{REPOSITORY}/packages/csp-readme/"


class Watched:
    """A browser page whose CSP reports and requests for other hosts are recorded; those
    requests are cut off, as if there were no internet."""

    def __init__(self, chromium, server):  # noqa: F811
        self.context = chromium.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
        self.violations, self.elsewhere = [], []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.violations.append(f"page error: {error}"))
        self.origin = server.url

    def _route(self, route):
        if route.request.url.startswith(self.origin + "/"):
            route.continue_()
        else:
            self.elsewhere.append(route.request.url)
            route.abort()

    def _console(self, message):
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.violations.append(f"{self.page.url}: {message.text}")

    def visit(self, path):
        response = self.page.goto(path)
        self.page.wait_for_load_state("networkidle")
        assert response.status == 200, f"{path}: {response.status}"
        assert "default-src 'self'" in response.headers["content-security-policy"], path
        return response

    def log_in(self):
        self.page.goto("/accounts/login/")
        self.page.fill("input[name=username]", ADMIN)
        self.page.fill("input[name=password]", ADMIN_PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_url("**/")

    def assert_clean(self):
        assert self.violations == []
        assert self.elsewhere == []


@pytest.fixture
def watched(chromium, server):  # noqa: F811
    watched = Watched(chromium, server)
    yield watched
    watched.context.close()


def test_ui_admin_and_api_pages_keep_to_the_policy(watched, readme_package):
    watched.visit("/accounts/login/")
    watched.log_in()
    for path in ["/", "/ui/search/?q=csp", f"/ui/repositories/{REPOSITORY}/",
                 f"/ui/repositories/{REPOSITORY}/settings/", f"/ui/repositories/{REPOSITORY}/audit/",
                 "/ui/tokens/", readme_package, "/admin/", "/admin/registry/repository/",
                 "/admin/auth/user/add/", "/api/v1/repositories/"]:
        watched.visit(path)
    watched.assert_clean()
    # The UI's script (a static file now) runs: the install command got its copy button.
    watched.visit(readme_package)
    assert watched.page.locator(".copyable button.copy").count() >= 1
    # The README's images from elsewhere are there without a source; its link stays.
    assert watched.page.locator("section.readme img").count() == 2
    assert watched.page.locator("section.readme img[src]").count() == 0
    assert TRACKER not in watched.page.content()
    assert watched.page.locator("section.readme a[href='https://example.invalid/']").count() == 1


def test_an_image_from_elsewhere_is_refused_by_the_policy(watched, readme_package):
    """Whatever got into a page, the browser fetches no image from another host."""
    watched.visit(readme_package)
    blocked = watched.page.evaluate("""url => new Promise(resolve => {
        document.addEventListener("securitypolicyviolation",
            event => resolve([event.effectiveDirective, event.blockedURI]), {once: true});
        const image = document.createElement("img");
        image.src = url;
        document.body.appendChild(image);
    })""", TRACKER)
    assert blocked == ["img-src", TRACKER]
    assert watched.elsewhere == []  # refused before any request left the browser


def test_the_api_docs_render_offline_under_the_policy(watched):
    response = watched.visit("/api/docs/")
    watched.page.locator(".opblock").first.wait_for(timeout=20000)
    operations = watched.page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/v1/repositories/" in path for path in operations), operations
    assert len(operations) > 10
    # Its files are this server's own.
    scripts = watched.page.eval_on_selector_all("script[src], link[rel=stylesheet]",
                                                "nodes => nodes.map(n => n.src || n.href)")
    assert scripts and all(url.startswith(watched.origin + "/") for url in scripts), scripts
    assert any("/static/drf_spectacular_sidecar/" in url for url in scripts)
    assert response.headers["content-security-policy"].count("'unsafe-inline'") == 0
    watched.assert_clean()
