"""The web UI in a real headless Chromium (Debian's chromium, driven by Playwright) against the
live server: log in, a token shown once and copied, an upload with its progress bar, search,
a copied set-up snippet, a yank; screenshots of the main pages under var/screenshots/."""

import os
import shutil
import urllib.parse
import urllib.request

import pytest

from tests.fixtures.dists import build_wheel

from .conftest import ADMIN, ADMIN_PASSWORD, ROOT, fail_or_skip

pytestmark = pytest.mark.e2e

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = ROOT / "var" / "screenshots"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def chromium():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        fail_or_skip("playwright is not installed (pip install playwright)")
    if not shutil.which(CHROMIUM):
        fail_or_skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        # --no-sandbox: the tests may run as root, where Chromium's sandbox will not start.
        browser = playwright.chromium.launch(executable_path=shutil.which(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def published(server, tmp_path_factory):
    """A public PyPI repository with one package, the one the browser uploads into."""
    server.api("POST", "repositories/", {"name": "ui-py", "format": "pypi", "visibility": "public",
                                         "description": "Python packages of the web UI tests"},
               expect=(201,))
    wheels = tmp_path_factory.mktemp("ui-wheels")
    seed = build_wheel(wheels, "ui-seed", "1.0", requires_dist=["requests>=2"])
    assert upload_through_the_api(server, "ui-py", seed) == 201
    return {"repository": "ui-py", "wheels": wheels}


def upload_through_the_api(server, repository, path):
    boundary = "ui-test-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{path.name}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode() + path.read_bytes() + \
        f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(
        f"{server.url}/api/v1/repositories/{repository}/upload/", data=body, method="POST",
        headers={"Authorization": f"Bearer {server.admin_token}",
                 "Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        return answer.status


@pytest.fixture
def page(chromium, server):
    origin = server.url
    context = chromium.new_context(base_url=origin, viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=origin)
    page = context.new_page()
    yield page
    context.close()


def log_in(page):
    page.goto("/accounts/login/")
    page.fill("input[name=username]", ADMIN)
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    assert f"Log out {ADMIN}" in page.inner_text("header")


def clipboard(page):
    return page.evaluate("navigator.clipboard.readText()")


def screenshot(page, name):
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_log_in_and_create_a_token_shown_once(page, server, published):
    page.goto("/ui/tokens/")
    assert "/accounts/login/" in page.url  # tokens need a session
    log_in(page)
    screenshot(page, "home")
    page.goto("/ui/tokens/")
    page.fill("input[name=name]", "browser-laptop")
    page.select_option("select[name=scope]", "read")
    page.select_option("select[name=repositories]", ["ui-py"])
    page.fill("input[name=expires_days]", "30")
    page.click("form.new-token-form button[type=submit]")
    secret = page.inner_text("#new-token").strip()
    assert secret.startswith("reg_")
    screenshot(page, "tokens")
    page.click("button[data-copy='#new-token']")
    assert clipboard(page) == secret
    # The secret works, and is never shown again.
    response = server.request("GET", "/repository/ui-py/simple/", token=secret)
    assert response.status == 200
    page.goto("/ui/tokens/")
    assert secret not in page.content()
    row = page.locator("table.tokens tr", has_text="browser-laptop")
    assert "ui-py" in row.inner_text() and secret[:12] in row.inner_text()


def test_upload_with_progress_search_and_yank(page, server, published):
    log_in(page)
    page.goto("/ui/repositories/ui-py/")
    wheel = build_wheel(published["wheels"], "ui-uploaded", "2.5", requires_dist=["idna"])
    page.set_input_files("form.upload input[type=file]", str(wheel))
    page.click("form.upload button")
    status = page.locator(".upload-status")
    status.filter(has_text="Stored:").wait_for()
    assert status.inner_text().startswith("Stored: ui_uploaded-2.5-py3-none-any.whl (ui-uploaded 2.5).")
    progress = page.locator("form.upload progress")
    assert progress.is_visible()
    assert progress.evaluate("p => p.value === p.max && p.max > 1")
    screenshot(page, "upload")

    # The same ingest and messages as the clients: a broken file is refused, visibly.
    broken = published["wheels"] / "ui_uploaded-3.0-py3-none-any.whl"
    broken.write_bytes(b"not a wheel")
    page.set_input_files("form.upload input[type=file]", str(broken))
    page.click("form.upload button")
    page.locator(".upload-status.error").wait_for()
    assert "not a valid zip archive" in page.inner_text(".upload-status")

    # Search from the header finds it; its page has the install command to copy.
    page.fill("header input[name=q]", "ui-uploaded")
    page.press("header input[name=q]", "Enter")
    page.wait_for_url("**/ui/search/?q=ui-uploaded*")
    screenshot(page, "search")
    page.click("table.results a:text-is('ui-uploaded')")
    page.wait_for_url("**/packages/ui-uploaded/")
    command = page.inner_text("#install-command")
    assert command == f"pip install --index-url {server.url}/repository/ui-py/simple/ ui-uploaded==2.5"
    page.click("#install-command >> xpath=following-sibling::button[1]")
    assert clipboard(page) == command
    assert "idna" in page.inner_text("table.dependencies")
    screenshot(page, "package")

    # Yank, as an admin of the repository.
    page.fill("input[name=reason]", "broken build")
    page.click("button:text-is('Yank')")
    page.wait_for_load_state()
    assert "Yanked ui-uploaded 2.5." in page.inner_text(".messages")
    assert "Yanked: broken build" in page.content()
    assert server.simple_json("ui-py", "ui-uploaded")["files"][0]["yanked"] == "broken build"


def test_copy_a_setup_snippet_and_the_admin_pages(page, server, published):
    log_in(page)
    page.goto("/ui/repositories/ui-py/")
    screenshot(page, "repository")
    first = page.locator("section.setup pre").first
    text = first.inner_text()
    first.locator("xpath=following-sibling::button[1]").click()
    assert clipboard(page) == text
    assert f"{server.url}/repository/ui-py/simple/" in text
    page.goto("/ui/repositories/ui-py/settings/")
    assert page.locator("table.members").is_visible()
    screenshot(page, "settings")
    page.goto("/ui/repositories/ui-py/audit/")
    assert "file.upload" in page.inner_text("table.audit")
    screenshot(page, "audit")


def test_pages_fit_a_phone(chromium, server, published):
    context = chromium.new_context(base_url=server.url, viewport=PHONE, is_mobile=True)
    phone = context.new_page()
    try:
        for name, path in [("phone-home", "/"), ("phone-repository", "/ui/repositories/ui-py/"),
                           ("phone-package", "/ui/repositories/ui-py/packages/ui-seed/"),
                           ("phone-search", "/ui/search/?" + urllib.parse.urlencode({"q": "ui"}))]:
            phone.goto(path)
            overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{path} is {overflow}px wider than a phone"
            screenshot(phone, name)
    finally:
        context.close()
