"""Bench configs: N sites on a loopback server, written as a real config.toml."""

from __future__ import annotations

from pathlib import Path


def write_config(
    path: Path,
    base: str,
    sites: int,
    *,
    interval: float = 60.0,
    retry_interval: float = 10.0,
    timeout: float = 10.0,
    concurrency: int = 100,
    paths: list[str] | None = None,
    backend: bool = True,
) -> Path:
    """`sites` sites at {base}/site/N (backend /site/N/backend), status page at `base`.

    `paths`, when given, is the URL path of each site instead (e.g. /hang/3).
    """
    lines = [
        "[provider]",
        f'status_page = "{base}"',
        "",
        "[monitor]",
        f"interval = {interval}",
        f"retry_interval = {retry_interval}",
        f"timeout = {timeout}",
        "retries = 1",
        f"concurrency = {concurrency}",
        "",
    ]
    for index in range(sites):
        url_path = paths[index] if paths else f"/site/{index}"
        lines += ["[[site]]", f'name = "site-{index:04d}"', f'url = "{base}{url_path}"']
        if backend and not paths:
            lines.append(f'backend_url = "{base}{url_path}/backend"')
        lines.append("")
    path.write_text("\n".join(lines))
    return path


def probe_urls(path: Path, base: str, sites: int) -> Path:
    """The same 2 x `sites` URLs as write_config's probes, one per line, for the peers."""
    urls = [f"{base}/site/{i}{suffix}" for i in range(sites) for suffix in ("", "/backend")]
    path.write_text("\n".join(urls) + "\n")
    return path
