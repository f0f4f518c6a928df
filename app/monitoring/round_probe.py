"""One round's probing: the due sites, the status page when due, and a wider look when
every due site fails to connect (the other sites, the canaries, the status page when it
may be read), so the network verdict rests on everything that could answer.

Built per round around that round's shared HTTP clients; it changes no site's state:
the monitor applies the `Round` it returns.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.config import SiteConfig
from app.monitoring.network import ProbePair, Verdict, first_verdict, wider_verdict
from app.monitoring.platform_tracker import PlatformTracker
from app.monitoring.site_tracker import SiteTracker
from app.probes import ProbeClients, ProbeOptions
from app.statuspage import StatusFetch

log = logging.getLogger(__name__)

ProbeSite = Callable[
    [SiteConfig, ProbeOptions, "asyncio.Semaphore | None", "ProbeClients | None"],
    Awaitable[ProbePair],
]
ProbeCanary = Callable[[str, ProbeOptions], Awaitable[bool]]


@dataclass
class Round:
    probes: dict[str, ProbePair] = field(default_factory=dict)
    tracks: list[SiteTracker] = field(default_factory=list)  # the probed, in order
    fetch: StatusFetch | None = None
    canaries_ok: bool | None = None
    verdict: Verdict = Verdict.NONE


@dataclass(frozen=True)
class RoundSources:
    """What a round reads besides the sites, from the configuration."""

    status_page: str
    canaries: tuple[str, ...]


class RoundProbe:
    def __init__(
        self,
        *,
        probe_site: ProbeSite,
        probe_canary: ProbeCanary,
        platform: PlatformTracker,
        sources: RoundSources,
        options: ProbeOptions,
        clients: ProbeClients,
        on_error: Callable[[str], None],
    ) -> None:
        self._probe_site = probe_site
        self._probe_canary = probe_canary
        self._platform = platform
        self._sources = sources
        self._options = options
        self._clients = clients
        self._on_error = on_error
        self._limiter = asyncio.Semaphore(options.concurrency)

    async def run(
        self,
        due: list[SiteTracker],
        platform_due: bool,
        others: Callable[[], list[SiteTracker]],
        mono: Callable[[], float],
    ) -> Round:
        """`others` gives the sites not due, asked only if the wider look is needed;
        `mono` is the monotonic clock, read when deciding whether the status page may
        be read to settle a doubt."""
        rnd = Round(tracks=list(due))
        if platform_due:
            rnd.probes, rnd.fetch = await asyncio.gather(self._sites(due), self._read_platform())
        else:
            rnd.probes = await self._sites(due)
        verdict = first_verdict(rnd.probes, rnd.fetch)
        if verdict is not None:
            rnd.verdict = verdict
            return rnd
        # Every site failed to connect: the user's own network or all the sites? Look wider.
        rest = others()
        tasks: list[Awaitable[Any]] = [self._sites(rest), self._canaries()]
        if rnd.fetch is None and self._platform.may_read(mono()):
            tasks.append(self._read_platform())
        more, rnd.canaries_ok, *fetched = await asyncio.gather(*tasks)
        rnd.probes.update(more)
        rnd.tracks.extend(t for t in rest if t.name in more)
        if fetched:
            rnd.fetch = fetched[0]
        rnd.verdict = wider_verdict(rnd.probes, rnd.canaries_ok, rnd.fetch)
        return rnd

    async def _read_platform(self) -> StatusFetch:
        return await self._platform.read(self._sources.status_page, self._options)

    async def _sites(self, tracks: Sequence[SiteTracker]) -> dict[str, ProbePair]:
        results = await asyncio.gather(
            *(
                self._probe_site(t.site, self._options, self._limiter, self._clients)
                for t in tracks
            ),
            return_exceptions=True,
        )
        out: dict[str, ProbePair] = {}
        for track, result in zip(tracks, results, strict=True):
            if isinstance(result, BaseException):
                if isinstance(result, asyncio.CancelledError):
                    raise result
                log.error("probe of %s failed", track.name, exc_info=result)
                self._on_error(f"probing {track.name} failed: {type(result).__name__}: {result}")
                continue
            out[track.name] = result
        return out

    async def _canaries(self) -> bool | None:
        urls = self._sources.canaries
        if not urls:
            return None
        results = await asyncio.gather(
            *(self._probe_canary(u, self._options) for u in urls), return_exceptions=True
        )
        return any(r is True for r in results)
