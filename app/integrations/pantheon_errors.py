"""Pantheon's own error pages: recognise them and say what each usually means.

Pantheon's edge and application containers answer failures with fixed pages whose
status code and <title> (or first line of text) name the layer that failed. Naming
that page in a reason or a ticket points support straight at the right layer, and
one page (504 "Target Not Responding" on a non-live environment) is not an outage at
all: it is an idle container waking up. Pure functions; the texts are our own words.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class PantheonErrorPage:
    key: str  # stable identifier, e.g. "target_not_responding"
    status: int
    title: str  # how Pantheon names the page, e.g. "504 Target Not Responding"
    meaning: str  # one sentence: what this page usually means
    markers: tuple[str, ...]  # lower-case phrases seen in its <title> or opening text
    platform_side: bool = False  # the failing layer is Pantheon's, not the site's code

    def describe(self) -> str:
        """'Pantheon's "503 Database not Responding" page: <meaning>'."""
        return f'Pantheon\'s "{self.title}" page: {self.meaning}'


# Most specific first: the first page whose status matches and one of whose markers
# occurs in the text wins (e.g. "no php workers" before the generic 504 page).
CATALOGUE: tuple[PantheonErrorPage, ...] = (
    PantheonErrorPage(
        key="routing_failure",
        status=502,
        title="502 Routing failure",
        meaning=(
            "Pantheon's internal routing layer lost the request on its way to the "
            "site, a networking problem inside the platform rather than in the site."
        ),
        markers=("routing failure", "networking failure"),
        platform_side=True,
    ),
    PantheonErrorPage(
        key="header_too_big",
        status=502,
        title="502 Upstream Header Too Big",
        meaning=(
            "the site sent back more header data (cookies, cache tags) than the web "
            "server accepts, so this page or request is too heavy, not the whole site."
        ),
        markers=("too big header", "header too big"),
    ),
    PantheonErrorPage(
        key="php_backend",
        status=502,
        title="502 Bad Gateway (PHP backend)",
        meaning=(
            "the web server could not get an answer from PHP on the application "
            "container, which usually means PHP crashed, hung or could not start, "
            "often because of the site's own code or a fatal error."
        ),
        # Its title is plain "502 Bad Gateway"; the routing and header pages above are
        # told apart by their own words, so a bare Bad Gateway is the PHP one.
        markers=("php backend", "connecting to the php", "bad gateway"),
    ),
    PantheonErrorPage(
        key="database_not_responding",
        status=503,
        title="503 Database not Responding",
        meaning=(
            "the site's MySQL database did not answer, typically because it was "
            "suspended and failed to resume or is overloaded."
        ),
        markers=("database not responding",),
        platform_side=True,
    ),
    PantheonErrorPage(
        key="first_byte_timeout",
        status=503,
        title="503 First Byte Timeout",
        meaning=(
            "the page took longer than Pantheon's 60-second request limit to start "
            "answering, usually slow PHP, a slow database query or a stalled call to "
            "an outside service."
        ),
        markers=("first byte timeout",),
    ),
    PantheonErrorPage(
        key="backend_fetch_failed",
        status=503,
        title="503 Backend Fetch Failed",
        meaning=(
            "the edge cache asked the application container for the page and got "
            "nothing usable back, so the container is down, overloaded or closing "
            "connections."
        ),
        markers=("backend fetch failed",),
    ),
    PantheonErrorPage(
        key="target_in_maintenance",
        status=503,
        title="503 Target in Maintenance",
        meaning=(
            "Pantheon has deliberately put this environment behind an emergency "
            "maintenance notice, which is a platform decision rather than the CMS's "
            "maintenance mode."
        ),
        markers=("target in maintenance", "undergoing maintenance"),
        platform_side=True,
    ),
    PantheonErrorPage(
        key="header_overflow",
        status=503,
        title="503 Header Overflow",
        meaning=(
            "the request or the response carried more header data than the edge "
            "allows, typically oversized cookies or debug cache headers."
        ),
        markers=("header overflow",),
    ),
    PantheonErrorPage(
        key="no_php_workers",
        status=504,
        title="504 Target Not Responding (no PHP workers)",
        meaning=(
            "every PHP worker on the container was busy and the queue in front of "
            "them was full, usually a traffic spike (often crawlers) or pages that "
            "hold workers too long."
        ),
        markers=("no php workers",),
    ),
    PantheonErrorPage(
        key="target_not_responding",
        status=504,
        title="504 Target Not Responding",
        meaning=(
            "the application container did not take the request; on a dev, test or "
            "multidev environment this is usually an idle container that wakes up on "
            "the next visit, on Live it points at exhausted or stuck PHP workers."
        ),
        markers=("target not responding",),
    ),
    PantheonErrorPage(
        key="gateway_timeout",
        status=504,
        title="504 Gateway Timeout",
        meaning=(
            "the application took too long to answer and the routing layer in front "
            "of it gave up, typically PHP or MySQL running past their time limits."
        ),
        markers=("gateway timeout", "did not respond in time"),
    ),
    PantheonErrorPage(
        key="site_frozen",
        status=530,
        title="530 Site Frozen",
        meaning=(
            "Pantheon has frozen this site (often an unused sandbox or an account "
            "matter), so it serves nothing until it is unfrozen from the dashboard."
        ),
        markers=("site frozen", "frozen"),
        platform_side=True,
    ),
    PantheonErrorPage(
        key="no_site_detected",
        status=561,
        title="561 No Site Detected",
        meaning=(
            "the environment has no application code or index file to run, as happens "
            "right after a site is created or when code was never deployed to it."
        ),
        markers=("no site detected",),
    ),
    PantheonErrorPage(
        key="unknown_site",
        status=404,
        title="404 Unknown Site",
        meaning=(
            "Pantheon does not know this host name, so the domain is not attached to "
            "the environment in the dashboard or the environment does not exist."
        ),
        markers=("unknown site", "is unknown"),
    ),
)

BY_KEY: dict[str, PantheonErrorPage] = {page.key: page for page in CATALOGUE}

_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def page_title(body: str) -> str:
    """The <title> of an HTML page, unescaped and on one line ('' when there is none)."""
    match = _TITLE.search(body)
    if not match:
        return ""
    return _SPACE.sub(" ", html.unescape(match.group(1))).strip()


def page_text(body: str, limit: int = 2000) -> str:
    """The first `limit` characters of an HTML page as plain text, for matching."""
    without_tags = _TAGS.sub(" ", body[: limit * 4])
    return _SPACE.sub(" ", html.unescape(without_tags)).strip()[:limit]


def identify(status: int | None, text: str) -> PantheonErrorPage | None:
    """The Pantheon error page with this status whose markers occur in `text`.

    `text` is what a probe saw: the page's <title> (ProbeResult.detail carries it), or
    the opening of its body. None when the answer is not one of Pantheon's pages: a
    bare status code without the page's words is not enough to name it.
    """
    if status is None or not text:
        return None
    folded = text.casefold()
    for page in CATALOGUE:
        if page.status == status and any(marker in folded for marker in page.markers):
            return page
    return None


def identify_body(status: int | None, body: str) -> PantheonErrorPage | None:
    """Like identify(), from a raw HTML body: its title and opening text together (the
    body can be more specific than the title, e.g. "no php workers" under a 504)."""
    return identify(status, f"{page_title(body)} {page_text(body)}")


def is_idle_container(status: int | None, text: str, environment: str) -> bool:
    """True for a non-live environment answering 504 "Target Not Responding".

    Pantheon spins down the containers of idle dev/test/multidev environments; the
    first request gets this page while the container wakes. It is not an outage.
    """
    if environment == "live":
        return False
    page = identify(status, text)
    return page is not None and page.key == "target_not_responding"
