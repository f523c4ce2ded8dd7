"""PEP 691 content negotiation: pick the response type from `Accept` q-values or `?format=`."""

from .render import HTML_TYPE, JSON_TYPE

# Each acceptable media type and what it serves; "latest" aliases mean v1 today.
SERVED = {
    JSON_TYPE: JSON_TYPE,
    "application/vnd.pypi.simple.latest+json": JSON_TYPE,
    HTML_TYPE: HTML_TYPE,
    "application/vnd.pypi.simple.latest+html": HTML_TYPE,
    "text/html": "text/html",
}
SHORTHANDS = {"json": JSON_TYPE, "html": HTML_TYPE}


def choose(accept, format_param=None):
    """The content type to answer with, or None when nothing acceptable is served (406)."""
    if format_param:
        # An unencoded "+" in a query string arrives as a space.
        format_param = format_param.strip().replace(" ", "+")
        wanted = SHORTHANDS.get(format_param, format_param)
        return SERVED.get(wanted)
    if not accept or not accept.strip():
        return "text/html"
    best, best_q = None, 0.0
    for position, item in enumerate(accept.split(",")):
        media, *params = [part.strip() for part in item.split(";")]
        media = media.lower()
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if media in ("*/*", "text/*", "application/*"):
            candidate = "text/html" if media != "application/*" else JSON_TYPE
        else:
            candidate = SERVED.get(media)
        # Ties go to the earlier entry: clients list what they prefer first.
        if candidate and q > best_q:
            best, best_q = candidate, q
    return best
