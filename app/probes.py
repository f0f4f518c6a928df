"""HTTP probes: what a visitor sees, and what an editor sees (the origin, cache bypassed).

Every request here is bounded three ways, because a monitor is only as good as its worst
target: a hard deadline for the whole exchange (httpx2's read timeout is per chunk, so a
server dripping one byte a second would otherwise hold a probe forever), a cap on the body
bytes read and decoded (a 64 MiB page or a gzip bomb costs one small buffer), and at most
MAX_REDIRECTS hops. Keep-alive is off and every request says `Connection: close`, so
every probe (and every retry) opens its own connection, none survives from one check to
the next, and a server that refuses new connections is never hidden behind a pooled one
(the blackbox_exporter way). A check shares its clients among its probes (ProbeClients):
building a client costs more CPU than a loopback request, and re-reads the proxy
environment each time. The shared clients keep no cookies; the cookies a site sets during
one probe's redirects live in that probe's own jar.
"""

from __future__ import annotations

import asyncio
import codecs
import functools
import html
import http.cookiejar
import re
import socket
import ssl
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from types import TracebackType

import httpx2

from app import __version__
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
        headers: httpx2.Headers | None = None,
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
    headers: httpx2.Headers
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


@functools.cache
def _default_ssl_context() -> ssl.SSLContext:
    # Built once: loading the trust store costs tens of milliseconds of CPU.
    return httpx2.create_ssl_context()


def _no_cookies() -> http.cookiejar.CookieJar:
    # A jar that accepts nothing (with neither protocol on, Set-Cookie is not even
    # parsed), so on a shared client one site's cookies never reach another probe.
    return http.cookiejar.CookieJar(
        http.cookiejar.DefaultCookiePolicy(netscape=False, rfc2965=False)
    )


def _client(options: ProbeOptions) -> httpx2.AsyncClient:
    verify = _default_ssl_context() if options.verify is True else options.verify
    return httpx2.AsyncClient(
        verify=verify,
        trust_env=options.trust_env,
        follow_redirects=False,  # followed by hand: bounded bodies, no credentials carried
        timeout=httpx2.Timeout(options.timeout),
        # No pool limit (the check's semaphore bounds concurrency) and nothing kept alive.
        limits=httpx2.Limits(max_connections=None, max_keepalive_connections=0),
        cookies=_no_cookies(),
        headers={
            "User-Agent": options.user_agent,
            "Accept": "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8",
            # Only encodings we can decode with a bounded output (see _Decoder).
            "Accept-Encoding": "gzip, deflate",
            # The server closes too, so the connection cannot be reused by anyone.
            "Connection": "close",
        },
    )


class ProbeClients:
    """One check's HTTP clients: one for the anonymous probes, one for the backend probes.

    Use as `async with ProbeClients(options) as clients:` around the check, with the same
    options as its probes; both clients are closed when it ends. Two pools of half the
    in-flight connections each, rather than one, because a pool scans its connections on
    every request.
    """

    def __init__(self, options: ProbeOptions) -> None:
        self.anonymous = _client(options)
        self.backend = _client(options)

    def for_kind(self, kind: ProbeKind) -> httpx2.AsyncClient:
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
    client: httpx2.AsyncClient | None = None,
) -> Fetched:
    """GET `url`, following redirects, within one hard deadline. Raises FetchError.

    `client` (made with the same options, e.g. from ProbeClients) is shared and left
    open; without it the request gets a client of its own, closed when it is done.
    """
    limit = options.max_body if max_body is None else max_body
    deadline = options.timeout if timeout is None else timeout
    own = client is None
    # Made before the clock starts: it may load the trust store.
    session = _client(options) if client is None else client
    start = time.monotonic()
    state = _Progress(url)
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
    except (httpx2.HTTPError, httpx2.InvalidURL, httpx2.StreamError, OSError) as exc:
        kind, detail = classify_error(exc)
        raise FetchError(
            kind, detail, final_url=state.url, status=state.status, headers=state.headers
        ) from None
    finally:
        if own:
            await session.aclose()


@dataclass
class _Progress:
    """How far a request got, so a timeout can say where it stopped."""

    url: str
    status: int | None = None
    headers: httpx2.Headers | None = None
    redirects: int = 0
    cert: ServedCert | None = None

    def note_cert(self, host: str, response: httpx2.Response) -> None:
        """Keep the served certificate's end of validity when it is the soonest yet."""
        stream = response.extensions.get("network_stream")
        ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
        if ssl_object is None:
            return
        # Only a verified peer's certificate is decoded (an unverified one gives {}).
        not_after = (ssl_object.getpeercert() or {}).get("notAfter")
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


async def _follow(
    client: httpx2.AsyncClient,
    url: str,
    headers: Mapping[str, str],
    cookies: Mapping[str, str],
    limit: int,
    state: _Progress,
    start: float,
) -> Fetched:
    current = httpx2.URL(url)
    # Our cookies go on every hop. Cookies the site sets on the way go into this request's
    # own jar (made only then) and live as long as it: like a private browser window.
    cookie_header = "; ".join(f"{name}={value}" for name, value in cookies.items())
    jar: httpx2.Cookies | None = None
    while True:
        state.url = str(current)
        state.status = None
        state.headers = None
        request = client.build_request("GET", current, headers=headers)
        if jar is not None:
            jar.set_cookie_header(request)
        elif cookie_header:
            request.headers["Cookie"] = cookie_header
        response = await client.send(request, stream=True)
        try:
            state.note_cert(current.host, response)
            state.status = response.status_code
            state.headers = response.headers
            location = response.headers.get("Location")
            if response.status_code in REDIRECT_STATUSES and location:
                state.redirects += 1
                if state.redirects > MAX_REDIRECTS:
                    raise FetchError(
                        ErrorKind.REDIRECTS,
                        f"more than {MAX_REDIRECTS} redirects (last to {location})",
                        final_url=str(current),
                        status=response.status_code,
                        headers=response.headers,
                    )
                if "Set-Cookie" in response.headers:
                    jar = jar if jar is not None else httpx2.Cookies(dict(cookies))
                    jar.extract_cookies(response)
                current = _next_url(current, location, response)
                continue
            body, complete = await read_prefix(response, limit)
            return Fetched(
                url=str(current),
                status=response.status_code,
                reason=response.reason_phrase,
                headers=response.headers,
                body=body,
                complete=complete,
                redirects=state.redirects,
                seconds=time.monotonic() - start,
                cert=state.cert,
            )
        finally:
            # Closing an unread stream drops the connection instead of draining it.
            await response.aclose()


def _next_url(current: httpx2.URL, location: str, response: httpx2.Response) -> httpx2.URL:
    try:
        target = current.join(location)
    except httpx2.InvalidURL as exc:
        raise FetchError(
            ErrorKind.PROTOCOL,
            f"redirect to an invalid URL ({exc})",
            final_url=str(current),
            status=response.status_code,
            headers=response.headers,
        ) from None
    if target.scheme not in ("http", "https") or not target.host:
        raise FetchError(
            ErrorKind.PROTOCOL,
            f"redirect to a non-web URL: {location}",
            final_url=str(current),
            status=response.status_code,
            headers=response.headers,
        )
    # A Location with user:password@ would make the client send credentials: never.
    return target.copy_with(userinfo=b"", fragment=None)


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


async def read_prefix(response: httpx2.Response, limit: int) -> tuple[bytes, bool]:
    """At most `limit` decoded bytes of the body; True when the whole body was read.

    Raw (still compressed) bytes are read, also at most `limit` of them, and inflated
    with a capped output, so neither a huge page nor a compression bomb costs more than
    about 2 x `limit` bytes of memory or the time to read them.
    """
    if limit <= 0:
        return b"", False
    decoder = _Decoder(response.headers.get("Content-Encoding", ""), limit)
    raw = 0
    async for chunk in response.aiter_raw():
        raw += len(chunk)
        decoder.feed(chunk)
        if decoder.full or raw >= limit:
            return bytes(decoder.out), False
    return bytes(decoder.out), True


# --------------------------------------------------------------------------- errors


def classify_error(exc: BaseException) -> tuple[ErrorKind, str]:
    """Map a transport exception to an error kind and a one-line detail."""
    chain = exception_chain(exc)
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
    if isinstance(exc, httpx2.TimeoutException | TimeoutError):
        return ErrorKind.TIMEOUT, f"timed out ({type(exc).__name__})"
    if isinstance(exc, httpx2.TooManyRedirects):
        return ErrorKind.REDIRECTS, str(exc)
    if isinstance(exc, httpx2.ConnectError):
        text = str(exc)
        if "name or service" in text.lower() or "nodename" in text.lower():
            return ErrorKind.DNS, f"host name not found ({text})"
        # Unreachable network or host: the connection itself failed.
        return ErrorKind.REFUSED, f"cannot connect ({text or 'connection failed'})"
    if isinstance(exc, httpx2.RemoteProtocolError):
        return ErrorKind.PROTOCOL, f"broken answer: {exc or 'server closed the connection'}"
    if isinstance(exc, httpx2.ReadError | httpx2.WriteError | httpx2.CloseError):
        return ErrorKind.PROTOCOL, f"connection dropped mid-answer ({exc or type(exc).__name__})"
    if isinstance(exc, ConnectionError):
        return ErrorKind.REFUSED, f"cannot connect ({exc.strerror or exc})"
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


def _as_headers(headers: httpx2.Headers | Mapping[str, str]) -> httpx2.Headers:
    if isinstance(headers, httpx2.Headers):
        return headers
    # httpx2 encodes str values as ASCII and raises on anything else (found by fuzzing).
    return httpx2.Headers(
        {k.encode("utf-8", "replace"): v.encode("utf-8", "replace") for k, v in headers.items()}
    )


def cache_evidence(headers: httpx2.Headers | Mapping[str, str]) -> dict[str, str]:
    found = _as_headers(headers)
    return {name: found[name] for name in CACHE_HEADERS if name in found}


def cache_verdict(headers: httpx2.Headers | Mapping[str, str]) -> CacheVerdict:
    """Was the answer served from a cache? From Age / X-Cache / X-Cache-Hits.

    Fastly (Pantheon's CDN) lists one value per cache layer ("MISS, HIT"): any hit on
    the way means the origin was not asked.
    """
    found = _as_headers(headers)
    evidence = False
    x_cache = found.get("X-Cache")
    if x_cache:
        evidence = True
        values = [v.strip().upper() for v in x_cache.split(",")]
        if any(v.startswith("HIT") for v in values):
            return CacheVerdict.HIT
    hits = found.get("X-Cache-Hits")
    if hits:
        evidence = True
        counts = [v.strip() for v in hits.split(",")]
        # isdigit() alone is true for "²" (a Latin-1 header byte), which int() refuses.
        if any(c.isascii() and c.isdigit() and int(c) > 0 for c in counts):
            return CacheVerdict.HIT
    age = found.get("Age")
    if age is not None:
        evidence = True
        if age.strip().isascii() and age.strip().isdigit() and int(age.strip()) > 0:
            return CacheVerdict.HIT
    return CacheVerdict.MISS if evidence else CacheVerdict.UNKNOWN


def with_evidence(result: ProbeResult, headers: httpx2.Headers | None) -> ProbeResult:
    """Add cache verdict, cache headers and request ids from the answer's headers."""
    if headers is None:
        return result
    request_id = headers.get("X-Styx-Req-Id") or headers.get("Pantheon-Trace-Id")
    styx_hostname = headers.get("X-Pantheon-Styx-Hostname")
    # Header values arrive as Latin-1: C1 controls (a terminal's CSI) can be in them.
    return replace(
        result,
        cache=cache_verdict(headers),
        cache_headers={k: printable(v) for k, v in cache_evidence(headers).items()},
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
    client: httpx2.AsyncClient | None,
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
