"""HTTP probes: what a visitor sees, and what an editor sees (the origin, cache bypassed).

Every request here is bounded three ways, because a monitor is only as good as its worst
target: a hard deadline for the whole exchange (a per-read timeout would let a server
dripping one byte a second hold a probe forever), a cap on the body bytes read and decoded
(a 64 MiB page or a gzip bomb costs one small buffer), and at most MAX_REDIRECTS hops.
Keep-alive is off and every request says `Connection: close`, so every probe (and every
retry) opens its own connection, none survives from one check to the next, and a server
that refuses new connections is never hidden behind a pooled one (the blackbox_exporter
way). A check shares its sessions among its probes (ProbeClients): building one costs more
CPU than a loopback request. The shared sessions keep no cookies; the cookies a site sets
during one probe's redirects live in that probe's own jar.

The transport is aiohttp (issue 17: about a third of httpx2's CPU per request, profiled in
docs/performance.md); the app's other HTTP users (tickets, integrations) still use httpx2.
aiohttp's own conveniences that would break the rules above are off: its decompression
(we inflate with a cap), its cookie jar, its redirects (followed by hand, userinfo
stripped), and its `trust_env` (which would also send ~/.netrc credentials): the proxy
variables are read here instead.
"""

from __future__ import annotations

import asyncio
import codecs
import contextvars
import html
import http
import re
import socket
import ssl
import time
import urllib.request
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from app import __version__, trust_store
from app.config import SiteConfig
from app.content_check import ContentRules, content_problem
from app.models import CacheVerdict, ErrorKind, ProbeKind, ProbeResult
from app.printable import printable
from app.text import exception_chain, one_line

MAX_REDIRECTS = 10
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
CACHE_HEADERS = ("Age", "X-Cache", "X-Cache-Hits", "X-Served-By")
# Pantheon's documented way to reach the origin past the CDN cache.
BYPASS_COOKIE = ("NO_CACHE", "1")
# Header lines a real site may send (long CSP and Set-Cookie lines); aiohttp's default is 8 KiB.
MAX_HEADER_LINE = 64 * 1024

# An answer's headers, looked up case-insensitively.
Headers = Mapping[str, str]


@dataclass(frozen=True)
class ProbeOptions:
    timeout: float = 10.0  # hard deadline for one whole request incl. body
    retries: int = 1  # immediate re-checks of a failing probe
    verify: ssl.SSLContext | bool = True  # tests pass an SSLContext trusting the test CA
    max_body: int = 65536  # bytes of body read at most (for the <title> detail)
    user_agent: str = f"lifeline/{__version__}"
    concurrency: int = 100  # max probes in flight in one check
    trust_env: bool = True  # honour HTTP(S)_PROXY / NO_PROXY from the environment


class FetchError(Exception):
    """A request that did not produce a usable answer, already classified."""

    def __init__(
        self,
        kind: ErrorKind,
        detail: str,
        *,
        final_url: str = "",
        status: int | None = None,
        headers: Headers | None = None,
    ) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = one_line(detail)
        self.final_url = final_url
        self.status = status
        self.headers = headers


@dataclass(frozen=True)
class Fetched:
    """A final (non-redirect) answer with a bounded, decoded prefix of its body."""

    url: str
    status: int
    reason: str
    headers: Headers
    body: bytes
    complete: bool  # the whole body was read (and fit in the limit)
    redirects: int
    seconds: float
    cert: ServedCert | None = None  # https: the soonest-expiring certificate on the way


@dataclass(frozen=True)
class ServedCert:
    host: str
    expires: datetime  # UTC


# --------------------------------------------------------------------------- fetching


# The certificates of the TLS handshakes made by the current fetch(), newest last.
# aiohttp lets go of a connection (and its transport) as soon as a short body has
# arrived, often with the headers, so the certificate is taken at the handshake.
_PEER_CERTS: contextvars.ContextVar[list[dict[str, Any]] | None] = contextvars.ContextVar(
    "lifeline_probe_peer_certs", default=None
)


class _CertNotingSSLObject(ssl.SSLObject):
    """An SSLObject that hands its verified peer's certificate to the fetch making it.

    Installed as the probes' SSLContext.sslobject_class (Python's documented hook);
    outside a fetch it behaves exactly as SSLObject.
    """

    def do_handshake(self) -> None:
        super().do_handshake()  # raises SSLWantRead until the handshake is complete
        seen = _PEER_CERTS.get()
        if seen is not None:
            # Only a verified peer's certificate is decoded (an unverified one gives {}).
            seen.append(dict(self.getpeercert() or {}))


def _noting(context: ssl.SSLContext) -> ssl.SSLContext:
    context.sslobject_class = _CertNotingSSLObject
    return context


def _env_proxies() -> dict[str, str]:
    # As httpx2 reads them for the app's other HTTP: scheme (http, https, all) -> proxy,
    # and "no" -> NO_PROXY; from the environment, or the system's settings on macOS and
    # Windows.
    return urllib.request.getproxies()


class ProbeSession:
    """An aiohttp session set up for probes; made lazily, in the loop that uses it.

    Fresh connection per request (force_close), no pool limit (the check's semaphore
    bounds concurrency), no cookie jar, no automatic decompression, no deadline of its
    own (fetch() holds one for the whole exchange), TLS verified against trust_store.
    """

    def __init__(self, options: ProbeOptions) -> None:
        # Read once per session, not per request: the environment does not change mid-check.
        self._proxies = _env_proxies() if options.trust_env else {}
        verify = options.verify
        self._ssl: ssl.SSLContext | bool = (
            _noting(trust_store.default_context() if verify is True else verify)
            if verify is not False
            else False
        )
        self._headers = {
            "User-Agent": options.user_agent,
            "Accept": "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8",
            # Only encodings we can decode with a bounded output (see _Decoder).
            "Accept-Encoding": "gzip, deflate",
            # The server closes too, so the connection cannot be reused by anyone.
            "Connection": "close",
        }
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    @property
    def is_closed(self) -> bool:
        return self._closed

    def session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("this probe session is closed")
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(force_close=True, limit=0, ssl=self._ssl),
                cookie_jar=aiohttp.DummyCookieJar(),
                timeout=aiohttp.ClientTimeout(total=None),
                auto_decompress=False,
                trust_env=False,
                headers=self._headers,
                max_line_size=MAX_HEADER_LINE,
                max_field_size=MAX_HEADER_LINE,
            )
        return self._session

    def proxy_for(self, url: URL) -> str | None:
        if not self._proxies or url.host is None:
            return None
        # NO_PROXY as urllib reads it (public, though missing from typeshed).
        if urllib.request.proxy_bypass_environment(url.host, self._proxies):  # type: ignore[attr-defined]
            return None
        proxy = self._proxies.get(url.scheme) or self._proxies.get("all")
        if not proxy:
            return None
        return proxy if "://" in proxy else f"http://{proxy}"

    async def aclose(self) -> None:
        self._closed = True
        if self._session is not None:
            await self._session.close()


class ProbeClients:
    """One check's HTTP sessions: one for the anonymous probes, one for the backend probes.

    Use as `async with ProbeClients(options) as clients:` around the check, with the same
    options as its probes; both are closed when it ends.
    """

    def __init__(self, options: ProbeOptions) -> None:
        self.anonymous = ProbeSession(options)
        self.backend = ProbeSession(options)

    def for_kind(self, kind: ProbeKind) -> ProbeSession:
        return self.anonymous if kind is ProbeKind.ANONYMOUS else self.backend

    async def aclose(self) -> None:
        try:
            await self.anonymous.aclose()
        finally:
            await self.backend.aclose()

    async def __aenter__(self) -> ProbeClients:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


async def fetch(
    url: str,
    options: ProbeOptions,
    *,
    cookies: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    max_body: int | None = None,
    timeout: float | None = None,
    client: ProbeSession | None = None,
) -> Fetched:
    """GET `url`, following redirects, within one hard deadline. Raises FetchError.

    `client` (made with the same options, e.g. from ProbeClients) is shared and left
    open; without it the request gets a session of its own, closed when it is done.
    """
    limit = options.max_body if max_body is None else max_body
    deadline = options.timeout if timeout is None else timeout
    own = client is None
    # Made before the clock starts: it may load the trust store.
    session = ProbeSession(options) if client is None else client
    start = time.monotonic()
    state = _Progress(url)
    certs = _PEER_CERTS.set([])
    try:
        async with asyncio.timeout(deadline):
            return await _follow(session, url, headers or {}, cookies or {}, limit, state, start)
    except TimeoutError:
        raise FetchError(
            ErrorKind.TIMEOUT,
            state.timeout_detail(deadline),
            final_url=state.url,
            status=state.status,
            headers=state.headers,
        ) from None
    except FetchError:
        raise
    # ValueError: a URL yarl or aiohttp cannot use (aiohttp.InvalidURL is one too).
    except (aiohttp.ClientError, ValueError, OSError) as exc:
        kind, detail = classify_error(exc)
        raise FetchError(
            kind, detail, final_url=state.url, status=state.status, headers=state.headers
        ) from None
    finally:
        _PEER_CERTS.reset(certs)
        if own:
            await session.aclose()


@dataclass
class _Progress:
    """How far a request got, so a timeout can say where it stopped."""

    url: str
    status: int | None = None
    headers: Headers | None = None
    redirects: int = 0
    cert: ServedCert | None = None

    def note_cert(self, host: str) -> None:
        """Keep the served certificate's end of validity when it is the soonest yet."""
        seen = _PEER_CERTS.get()
        if not seen:
            return
        not_after = seen[-1].get("notAfter")
        seen.clear()  # each hop's own handshake, once
        if not isinstance(not_after, str):
            return
        try:
            expires = datetime.fromtimestamp(ssl.cert_time_to_seconds(not_after), UTC)
        except ValueError:
            return
        if self.cert is None or expires < self.cert.expires:
            self.cert = ServedCert(host, expires)

    def timeout_detail(self, deadline: float) -> str:
        if self.status is None:
            return f"no answer within {deadline:g} s"
        return f"answered {self.status} but the page did not arrive within {deadline:g} s"


def _cookie_header(own: str, jar: aiohttp.CookieJar | None, url: URL) -> str:
    if jar is None:
        return own
    picked = [f"{m.key}={m.coded_value}" for m in jar.filter_cookies(url).values()]
    return "; ".join(([own] if own else []) + picked)


async def _follow(
    session: ProbeSession,
    url: str,
    headers: Mapping[str, str],
    cookies: Mapping[str, str],
    limit: int,
    state: _Progress,
    start: float,
) -> Fetched:
    current = URL(url)
    # Our cookies go on every hop. Cookies the site sets on the way go into this request's
    # own jar (made only then) and live as long as it: like a private browser window.
    own_cookies = "; ".join(f"{name}={value}" for name, value in cookies.items())
    jar: aiohttp.CookieJar | None = None
    http_session = session.session()
    while True:
        state.url = str(current)
        state.status = None
        state.headers = None
        sent = dict(headers)
        if cookie := _cookie_header(own_cookies, jar, current):
            sent["Cookie"] = cookie
        response = await http_session.get(
            current, headers=sent, allow_redirects=False, proxy=session.proxy_for(current)
        )
        try:
            state.note_cert(current.host or "")
            state.status = response.status
            state.headers = answered = _decoded(response.headers)
            location = answered.get("Location")
            if response.status in REDIRECT_STATUSES and location:
                state.redirects += 1
                if state.redirects > MAX_REDIRECTS:
                    raise FetchError(
                        ErrorKind.REDIRECTS,
                        f"more than {MAX_REDIRECTS} redirects (last to {location})",
                        final_url=str(current),
                        status=response.status,
                        headers=answered,
                    )
                if "Set-Cookie" in response.headers:
                    # unsafe: a site addressed by IP may set cookies for itself too.
                    jar = jar if jar is not None else aiohttp.CookieJar(unsafe=True)
                    jar.update_cookies(response.cookies, current)
                current = _next_url(current, location, response)
                continue
            body, complete = await read_prefix(response, limit)
            return Fetched(
                url=str(current),
                status=response.status,
                reason=_reason(response),
                headers=answered,
                body=body,
                complete=complete,
                redirects=state.redirects,
                seconds=time.monotonic() - start,
                cert=state.cert,
            )
        finally:
            # Closing an unread answer drops the connection instead of draining it.
            response.close()


def _text(value: str) -> str:
    # aiohttp keeps bytes that are not UTF-8 as surrogate escapes; HTTP's legacy charset
    # for them is Latin-1 (so a C1 control is seen as one, and printable() removes it).
    raw = value.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _decoded(headers: CIMultiDictProxy[str]) -> Headers:
    """The answer's headers, with values that were not UTF-8 read as Latin-1."""
    if all(value.isascii() for value in headers.values()):
        return headers
    return CIMultiDictProxy(CIMultiDict((name, _text(value)) for name, value in headers.items()))


def _reason(response: aiohttp.ClientResponse) -> str:
    if response.reason:
        return response.reason
    try:
        return http.HTTPStatus(response.status).phrase
    except ValueError:
        return ""


def _next_url(current: URL, location: str, response: aiohttp.ClientResponse) -> URL:
    try:
        target = current.join(URL(location))
    except (ValueError, TypeError) as exc:
        raise FetchError(
            ErrorKind.PROTOCOL,
            f"redirect to an invalid URL ({exc})",
            final_url=str(current),
            status=response.status,
            headers=_decoded(response.headers),
        ) from None
    if target.scheme not in ("http", "https") or not target.host:
        raise FetchError(
            ErrorKind.PROTOCOL,
            f"redirect to a non-web URL: {location}",
            final_url=str(current),
            status=response.status,
            headers=_decoded(response.headers),
        )
    # A Location with user:password@ would make the client send credentials: never.
    return target.with_user(None).with_fragment(None)


class _Decoder:
    """Undo Content-Encoding with a hard cap on output, so a bomb inflates to `limit`."""

    def __init__(self, encoding: str, limit: int) -> None:
        self.limit = limit
        self.out = bytearray()
        self.broken = False
        self.zlib: zlib._Decompress | None = None
        self.raw_deflate_fallback = False
        encoding = encoding.strip().lower()
        if encoding in ("", "identity"):
            self.mode = "identity"
        elif encoding in ("gzip", "x-gzip"):
            self.mode = "zlib"
            self.zlib = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif encoding == "deflate":
            self.mode = "zlib"
            self.zlib = zlib.decompressobj(zlib.MAX_WBITS)
            self.raw_deflate_fallback = True
        else:  # br, zstd, stacked encodings: not asked for; keep nothing rather than guess
            self.mode = "opaque"

    @property
    def full(self) -> bool:
        return len(self.out) >= self.limit or self.broken or self.mode == "opaque"

    def feed(self, chunk: bytes) -> None:
        room = self.limit - len(self.out)
        if room <= 0 or self.broken:
            return
        if self.mode == "identity":
            self.out += chunk[:room]
            return
        if self.zlib is None:
            return
        try:
            self.out += self.zlib.decompress(self.zlib.unconsumed_tail + chunk, room)
        except zlib.error:
            if self.raw_deflate_fallback and not self.out:
                # Some servers send raw deflate without the zlib header.
                self.raw_deflate_fallback = False
                self.zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                self.feed(chunk)
                return
            self.broken = True


async def read_prefix(response: aiohttp.ClientResponse, limit: int) -> tuple[bytes, bool]:
    """At most `limit` decoded bytes of the body; True when the whole body was read.

    Raw (still compressed) bytes are read, also at most `limit` of them, and inflated
    with a capped output, so neither a huge page nor a compression bomb costs more than
    about 2 x `limit` bytes of memory or the time to read them.
    """
    if limit <= 0:
        return b"", False
    decoder = _Decoder(response.headers.get("Content-Encoding", ""), limit)
    raw = 0
    while chunk := await response.content.readany():
        raw += len(chunk)
        decoder.feed(chunk)
        if decoder.full or raw >= limit:
            return bytes(decoder.out), False
    return bytes(decoder.out), True


# --------------------------------------------------------------------------- errors


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception chain, each aiohttp connection error preceded by the error it wraps
    (aiohttp's wrappers also subclass ssl's errors, without their fields)."""
    found: list[BaseException] = []
    for item in exception_chain(exc):
        if isinstance(item, aiohttp.ClientConnectorCertificateError):
            found.append(item.certificate_error)
        elif isinstance(item, aiohttp.ClientConnectorError):
            found.append(item.os_error)
        found.append(item)
    return found


def classify_error(exc: BaseException) -> tuple[ErrorKind, str]:
    """Map a transport exception to an error kind and a one-line detail."""
    chain = _causes(exc)
    for item in chain:
        if isinstance(item, ssl.SSLCertVerificationError):
            return ErrorKind.TLS, f"certificate not trusted: {item.verify_message or item.reason}"
        if isinstance(item, ssl.SSLError):
            return ErrorKind.TLS, f"TLS failed: {item.reason or item}"
    for item in chain:
        if isinstance(item, socket.gaierror):
            return ErrorKind.DNS, f"host name not found ({item.strerror or item})"
        if isinstance(item, ConnectionRefusedError):
            return ErrorKind.REFUSED, "connection refused"
    if isinstance(exc, TimeoutError):
        return ErrorKind.TIMEOUT, f"timed out ({type(exc).__name__})"
    if isinstance(exc, aiohttp.ClientConnectorError):
        text = str(exc.os_error) or str(exc)
        if "name or service" in text.lower() or "nodename" in text.lower():
            return ErrorKind.DNS, f"host name not found ({text})"
        # Unreachable network or host: the connection itself failed.
        return ErrorKind.REFUSED, f"cannot connect ({text or 'connection failed'})"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return ErrorKind.PROTOCOL, "broken answer: server closed the connection"
    if isinstance(exc, aiohttp.ClientResponseError):  # a status line or header unreadable
        return ErrorKind.PROTOCOL, f"broken answer: {exc.message or type(exc).__name__}"
    if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ClientOSError):
        return ErrorKind.PROTOCOL, f"connection dropped mid-answer ({exc or type(exc).__name__})"
    if isinstance(exc, ConnectionError):
        return ErrorKind.REFUSED, f"cannot connect ({exc.strerror or exc})"
    if isinstance(exc, aiohttp.InvalidURL | ValueError):
        return ErrorKind.PROTOCOL, f"invalid URL ({exc})"
    return ErrorKind.PROTOCOL, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


# --------------------------------------------------------------------------- evidence

_TITLE = re.compile(rb"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_CHARSET = re.compile(r"charset=[\"']?([\w.:-]+)", re.IGNORECASE)


# Python's own codecs that a page may name but that are no web charsets: they interpret
# the bytes (backslash escapes, IDNA labels) or always fail.
_NOT_WEB_CODECS = frozenset(
    {"unicode-escape", "raw-unicode-escape", "idna", "punycode", "undefined"}
)


def _web_codec(name: str) -> str:
    try:
        info = codecs.lookup(name)
    except LookupError:
        return "utf-8"
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_WEB_CODECS:
        return "utf-8"  # rot13, base64, zlib... are bytes-to-bytes transforms
    return info.name


def page_title(body: bytes, content_type: str = "") -> str:
    """The <title> of an HTML prefix, unescaped and on one line ('' when there is none)."""
    match = _TITLE.search(body)
    if not match:
        return ""
    found = _CHARSET.search(content_type)
    charset = _web_codec(found.group(1)) if found else "utf-8"
    try:
        text = match.group(1).decode(charset, errors="replace")
    except (LookupError, ValueError, TypeError):
        # Unknown names, and codecs that refuse errors="replace" ("undefined", "idna",
        # "punycode" raise UnicodeError): a server's label never stops a probe.
        text = match.group(1).decode("utf-8", errors="replace")
    return one_line(html.unescape(text))


def status_detail(status: int, reason: str, title: str) -> str:
    """'503 Database not Responding' from a Pantheon error page, else '502 Bad Gateway'."""
    if title:
        return one_line(title if title.startswith(str(status)) else f"{status} {title}")
    return one_line(f"{status} {reason}".strip())


def _as_headers(headers: Headers) -> CIMultiDict[str] | CIMultiDictProxy[str]:
    if isinstance(headers, CIMultiDict | CIMultiDictProxy):
        return headers
    return CIMultiDict(headers)


def _header(found: CIMultiDict[str] | CIMultiDictProxy[str], name: str) -> str | None:
    """All of a header's values as one, as HTTP folds repeated fields ('MISS, HIT')."""
    values = found.getall(name, [])
    return ", ".join(values) if values else None


def cache_evidence(headers: Headers) -> dict[str, str]:
    found = _as_headers(headers)
    return {name: value for name in CACHE_HEADERS if (value := _header(found, name)) is not None}


def cache_verdict(headers: Headers) -> CacheVerdict:
    """Was the answer served from a cache? From Age / X-Cache / X-Cache-Hits.

    Fastly (Pantheon's CDN) lists one value per cache layer ("MISS, HIT"): any hit on
    the way means the origin was not asked.
    """
    found = _as_headers(headers)
    evidence = False
    x_cache = _header(found, "X-Cache")
    if x_cache:
        evidence = True
        values = [v.strip().upper() for v in x_cache.split(",")]
        if any(v.startswith("HIT") for v in values):
            return CacheVerdict.HIT
    hits = _header(found, "X-Cache-Hits")
    if hits:
        evidence = True
        counts = [v.strip() for v in hits.split(",")]
        # isdigit() alone is true for "²" (a Latin-1 header byte), which int() refuses.
        if any(c.isascii() and c.isdigit() and int(c) > 0 for c in counts):
            return CacheVerdict.HIT
    age = _header(found, "Age")
    if age is not None:
        evidence = True
        if age.strip().isascii() and age.strip().isdigit() and int(age.strip()) > 0:
            return CacheVerdict.HIT
    return CacheVerdict.MISS if evidence else CacheVerdict.UNKNOWN


def with_evidence(result: ProbeResult, headers: Headers | None) -> ProbeResult:
    """Add cache verdict, cache headers and request ids from the answer's headers."""
    if headers is None:
        return result
    found = _as_headers(headers)
    request_id = found.get("X-Styx-Req-Id") or found.get("Pantheon-Trace-Id")
    styx_hostname = found.get("X-Pantheon-Styx-Hostname")
    # Header values are whatever the server sent: C1 controls (a terminal's CSI) can be in them.
    return replace(
        result,
        cache=cache_verdict(found),
        cache_headers={k: printable(v) for k, v in cache_evidence(found).items()},
        request_id=printable(request_id) if request_id else None,
        styx_hostname=printable(styx_hostname) if styx_hostname else None,
    )


# --------------------------------------------------------------------------- probes


def probe_ok(kind: ProbeKind, status: int) -> bool:
    # A backend that answers 403 on a locked login page still proves the origin is alive.
    return status < 400 if kind is ProbeKind.ANONYMOUS else status < 500


async def _probe_once(
    url: str,
    kind: ProbeKind,
    options: ProbeOptions,
    bypass_cache: bool,
    client: ProbeSession | None,
    content: ContentRules | None = None,
) -> ProbeResult:
    cookies = dict([BYPASS_COOKIE]) if bypass_cache else None
    start = time.monotonic()
    try:
        got = await fetch(url, options, cookies=cookies, client=client)
    except FetchError as exc:
        failed = ProbeResult(
            kind=kind,
            url=url,
            final_url=exc.final_url or url,
            ok=False,
            status=exc.status,
            seconds=round(time.monotonic() - start, 3),
            error=exc.kind,
            detail=exc.detail,
        )
        return with_evidence(failed, exc.headers)
    ok = probe_ok(kind, got.status)
    error = None if ok else ErrorKind.HTTP
    if ok:
        detail = status_detail(got.status, got.reason, "")
        problem = _content_problem(got, kind, content, options.max_body)
        if problem:
            ok, error, detail = False, ErrorKind.CONTENT, problem
    else:
        title = page_title(got.body, got.headers.get("Content-Type", ""))
        detail = status_detail(got.status, got.reason, title)
    answered = ProbeResult(
        kind=kind,
        url=url,
        final_url=got.url,
        ok=ok,
        status=got.status,
        seconds=round(got.seconds, 3),
        error=error,
        detail=detail,
        cert_host=got.cert.host if got.cert else None,
        cert_expires=iso_utc(got.cert.expires) if got.cert else None,
    )
    return with_evidence(answered, got.headers)


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _content_problem(
    got: Fetched, kind: ProbeKind, content: ContentRules | None, window: int
) -> str:
    if content is None or not (content.builtin or content.expect or content.forbid):
        return ""
    content_type = got.headers.get("Content-Type", "")
    found = _CHARSET.search(content_type)
    try:
        text = got.body.decode(_web_codec(found.group(1)) if found else "utf-8", "replace")
    except (LookupError, ValueError, TypeError):  # as in page_title: a label never stops it
        text = got.body.decode("utf-8", "replace")
    return content_problem(
        text,
        content,
        visitor=kind is ProbeKind.ANONYMOUS,
        status=got.status,
        content_type=content_type,
        complete=got.complete,
        window=window,
    )


async def probe(
    url: str,
    kind: ProbeKind,
    options: ProbeOptions,
    *,
    bypass_cache: bool = False,
    clients: ProbeClients | None = None,
    content: ContentRules | None = None,
) -> ProbeResult:
    """One probe, re-checked at once up to `options.retries` times while it fails.

    Each attempt opens a new connection, also on the shared `clients` (see ProbeClients).
    `content`: what the body is checked for (app.content_check); None: the status only.
    """
    client = clients.for_kind(kind) if clients is not None else None
    attempts = 0
    while True:
        attempts += 1
        result = await _probe_once(url, kind, options, bypass_cache, client, content)
        if result.ok or attempts > options.retries:
            return replace(result, attempts=attempts)


async def _limited(
    limiter: asyncio.Semaphore | None,
    url: str,
    kind: ProbeKind,
    options: ProbeOptions,
    bypass_cache: bool,
    clients: ProbeClients | None,
    content: ContentRules,
) -> ProbeResult:
    if limiter is None:
        return await probe(
            url, kind, options, bypass_cache=bypass_cache, clients=clients, content=content
        )
    async with limiter:
        return await probe(
            url, kind, options, bypass_cache=bypass_cache, clients=clients, content=content
        )


async def probe_site(
    site: SiteConfig,
    options: ProbeOptions,
    limiter: asyncio.Semaphore | None = None,
    clients: ProbeClients | None = None,
) -> tuple[ProbeResult, ProbeResult]:
    """(anonymous, backend) for one site, run concurrently.

    `clients`: the check's shared clients (made with the same options); without them each
    probe makes and closes its own client.
    """
    content = ContentRules(site.expect, site.forbid, site.builtin_checks)
    anonymous, backend = await asyncio.gather(
        _limited(limiter, site.url, ProbeKind.ANONYMOUS, options, False, clients, content),
        _limited(
            limiter, site.probe_backend_url, ProbeKind.BACKEND, options, True, clients, content
        ),
    )
    return anonymous, backend


async def probe_canary(url: str, options: ProbeOptions) -> bool:
    """True when the connection works: any HTTP answer counts, even an error status."""
    for _ in range(options.retries + 1):
        try:
            await fetch(url, options, max_body=0)
            return True
        except FetchError as exc:
            if exc.status is not None:
                return True
    return False
