"""A package's README as safe HTML: Markdown rendered, then sanitised (whatever the author
wrote, no script, style, event handler or javascript: URL reaches the page, and no image from
another host: it would tell that host who reads the page, a private package's readers included).
The page's Content-Security-Policy refuses such images too (registry/csp.py)."""

import re
from urllib.parse import urlsplit

import markdown
import nh3

from django.utils.html import escape
from django.utils.safestring import mark_safe

EXTENSIONS = ["fenced_code", "tables", "sane_lists"]
# Links in a README open outside the registry and tell the target nothing.
LINK_REL = "nofollow noopener noreferrer"


def readme_html(text, text_format):
    """`text` as HTML: Markdown for "markdown", otherwise preformatted plain text."""
    if not text:
        return ""
    if text_format != "markdown":
        return mark_safe(f'<pre class="readme-text">{escape(text)}</pre>')
    rendered = markdown.markdown(text, extensions=EXTENSIONS, output_format="html")
    return mark_safe(nh3.clean(rendered, link_rel=LINK_REL, attribute_filter=_no_remote_images))


def _no_remote_images(element, attribute, value):
    """nh3's attribute filter: an image keeps its source only when that is on this site (a
    relative URL); its alt text stays."""
    if element == "img" and attribute == "src":
        # As a browser reads it: tabs and newlines dropped, backslashes as slashes (\\host is
        # //host, another host too), leading spaces and control characters ignored.
        url = _IGNORED_IN_URLS.sub("", value).replace("\\", "/").lstrip(_LEADING_IN_URLS)
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or url.startswith("//"):
            return None
    return value


_IGNORED_IN_URLS = re.compile(r"[\t\n\r]")
_LEADING_IN_URLS = "".join(map(chr, range(0x21)))
