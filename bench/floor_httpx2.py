"""The floor of Lifeline's own stack: bare httpx2.AsyncClient + asyncio.gather.

`python -m bench.floor_httpx2 URLS_FILE CONCURRENCY`: GET every URL (one per line), at
most CONCURRENCY at once, a fresh connection each (no keep-alive, as the probes must),
then print {"wall", "cpu", "ok", "n"} for the requests alone (start-up excluded).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import httpx2


async def main(urls: list[str], concurrency: int) -> int:
    gate = asyncio.Semaphore(concurrency)
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=0)
    async with httpx2.AsyncClient(limits=limits, timeout=10.0) as client:

        async def get(url: str) -> bool:
            async with gate:
                try:
                    response = await client.get(url)
                except httpx2.HTTPError:
                    return False
                return response.status_code < 400

        results = await asyncio.gather(*(get(url) for url in urls))
    return sum(results)


if __name__ == "__main__":
    urls = Path(sys.argv[1]).read_text().split()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    ok = asyncio.run(main(urls, int(sys.argv[2])))
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    print(json.dumps({"wall": wall, "cpu": cpu, "ok": ok, "n": len(urls)}))
