"""Drive blackbox_exporter through /probe?target= at a given concurrency.

`python -m bench.drive_blackbox EXPORTER_URL URLS_FILE CONCURRENCY`: one probe per URL
(the exporter opens a fresh connection to the target each time); the driver's own
connections to the exporter are pooled, so the driver costs as little as it can.
Prints {"wall", "cpu", "ok", "n"}; "cpu" is the driver's, the exporter's is measured
by the bench from outside.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import aiohttp


async def main(exporter: str, urls: list[str], concurrency: int) -> int:
    gate = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=30.0)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def probe(url: str) -> bool:
            params = {"target": url, "module": "http_2xx"}
            async with gate, session.get(f"{exporter}/probe", params=params) as response:
                text = await response.text()
                return "\nprobe_success 1" in text

        results = await asyncio.gather(*(probe(url) for url in urls))
    return sum(results)


if __name__ == "__main__":
    urls = Path(sys.argv[2]).read_text().split()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    ok = asyncio.run(main(sys.argv[1], urls, int(sys.argv[3])))
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    print(json.dumps({"wall": wall, "cpu": cpu, "ok": ok, "n": len(urls)}))
