"""The servers and peers the bench starts on 127.0.0.1: the delay server, nginx, blackbox_exporter.

Each is a context manager yielding a base URL (or None with a one-line reason when the
peer cannot be had), and always stops what it started.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.common import (
    PYTHON,
    STATUSPAGE_FIXTURE,
    background,
    bench_env,
    ensure_debian_package,
    free_port,
    log,
    wait_port,
)


@contextmanager
def delay_server(delay: float) -> Iterator[str]:
    port = free_port()
    argv = [PYTHON, "-m", "bench.delay_server", "--port", str(port), "--delay", str(delay)]
    with background(argv, env=bench_env(), ready=lambda: wait_port(port)):
        yield f"http://127.0.0.1:{port}"


_NGINX_CONF = """
worker_processes 1;
daemon off;
master_process on;
pid {tmp}/nginx.pid;
error_log stderr error;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    default_type text/html;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location = /api/v2/summary.json {{
            default_type application/json;
            alias {summary};
        }}
        location / {{
            add_header Age 12;
            add_header X-Cache HIT;
            add_header X-Styx-Req-Id bench-0001;
            return 200 "{page}";
        }}
    }}
}}
"""


@contextmanager
def nginx() -> Iterator[str | None]:
    """nginx answering at once (one worker): the CPU-bound regime."""
    binary = ensure_debian_package("nginx", "nginx-light")
    if binary is None:
        log("nginx: skipped (not installed, and cannot apt-get install nginx-light as non-root)")
        yield None
        return
    from bench.delay_server import _PAGE

    port = free_port()
    tmp = Path(tempfile.mkdtemp(prefix="bench-nginx-"))
    conf = tmp / "nginx.conf"
    conf.write_text(
        _NGINX_CONF.format(
            tmp=tmp, port=port, summary=STATUSPAGE_FIXTURE,
            page=_PAGE.decode().replace('"', '\\"'),
        )
    )
    argv = [binary, "-e", "stderr", "-p", str(tmp), "-c", str(conf)]
    try:
        with background(argv, ready=lambda: wait_port(port)):
            yield f"http://127.0.0.1:{port}"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


_BLACKBOX_CONF = """
modules:
  http_2xx:
    prober: http
    timeout: 10s
    http:
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
"""


@contextmanager
def blackbox_exporter() -> Iterator[tuple[str, int] | None]:
    """Prometheus's blackbox_exporter with an http_2xx module: (base URL, pid) or None."""
    binary = ensure_debian_package("prometheus-blackbox-exporter", "prometheus-blackbox-exporter")
    if binary is None:
        log(
            "blackbox_exporter: skipped (not installed, and cannot apt-get install "
            "prometheus-blackbox-exporter as non-root)"
        )
        yield None
        return
    port = free_port()
    tmp = Path(tempfile.mkdtemp(prefix="bench-blackbox-"))
    conf = tmp / "blackbox.yml"
    conf.write_text(_BLACKBOX_CONF)
    argv = [
        binary,
        f"--config.file={conf}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=error",
    ]
    try:
        with background(argv, ready=lambda: wait_port(port)) as proc:
            yield f"http://127.0.0.1:{port}", proc.pid
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
