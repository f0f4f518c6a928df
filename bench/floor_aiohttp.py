"""The limit of Python's stack: the same GETs as bench.floor_httpx2, on aiohttp.

`python -m bench.floor_aiohttp URLS_FILE CONCURRENCY`; prints {"wall", "cpu", "ok", "n"}.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import aiohttp


async def main(urls: list[str], concurrency: int) -> int:
    gate = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=True)
    timeout = aiohttp.ClientTimeout(total=10.0)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def get(url: str) -> bool:
            async with gate:
                try:
                    async with session.get(url) as response:
                        await response.read()
                        return response.status < 400
                except (aiohttp.ClientError, TimeoutError):
                    return False

        results = await asyncio.gather(*(get(url) for url in urls))
    return sum(results)


if __name__ == "__main__":
    urls = Path(sys.argv[1]).read_text().split()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    ok = asyncio.run(main(urls, int(sys.argv[2])))
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    print(json.dumps({"wall": wall, "cpu": cpu, "ok": ok, "n": len(urls)}))
