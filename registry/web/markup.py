"""A package's README as safe HTML: Markdown rendered, then sanitised (whatever the author
wrote, no script, style, event handler or javascript: URL reaches the page)."""

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
    return mark_safe(nh3.clean(rendered, link_rel=LINK_REL))
