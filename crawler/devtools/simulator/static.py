"""The simulation written as files, and an nginx configuration that serves them.

For throughput benchmarks: a Python server would take one of the two cores from the crawler
it is meant to measure; nginx serves static files for next to nothing. Each URL a crawl asks
for becomes the file `<outlet>/<path>@<query>`, and nginx finds it with
`try_files "$uri@$args"`. Pages are written as they are at simulated time `now` (no faults:
those are the HTTP server's job). One server block (port) per outlet.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

from crawler.devtools.simulator.server import Simulator
from crawler.devtools.simulator.site import Page, SimulatedOutlet
from crawler.spiders.outlet import with_query_param


def _file_for(root: Path, path_and_query: str) -> Path:
    parts = urlsplit(path_and_query)
    return root / (parts.path.lstrip("/") + "@" + parts.query)


def _write(root: Path, path_and_query: str, page: Page) -> int:
    target = _file_for(root, path_and_query)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(page.body)
    return len(page.body)


def write_outlet(site: SimulatedOutlet, root: Path, now: float = 0.0) -> dict[str, int]:
    """Every page a crawl of `site` can ask for; returns counts and bytes written."""
    root.mkdir(parents=True, exist_ok=True)
    counts = {"articles": 0, "lists": 0, "feeds": 0, "bytes": 0}
    counts["bytes"] += _write(root, "/robots.txt", site.robots())
    for url in site.spec.rss_urls:
        counts["bytes"] += _write(root, site.local_path(url), site.rss(now))
        counts["feeds"] += 1
    for section, list_url in enumerate(site.spec.list_urls):
        pages = max(1, -(-len(site.section_indices(section, now)) // site.page_size))
        for number in range(1, pages + 1):
            page = site.list_page(section * 100_000 + number, now)
            if page is None:
                break
            url = list_url if number == 1 else with_query_param(list_url, site.spec.page_param, str(number))
            counts["bytes"] += _write(root, site.local_path(url), page)
            counts["lists"] += 1
    for index in range(site.visible(now)):
        _, page = site.article(index, now)
        counts["bytes"] += _write(root, site.local_path(site.article_url(index)), page)
        counts["articles"] += 1
    return counts


def nginx_config(sim: Simulator, root: Path, ports: dict[str, int], workdir: Path) -> str:
    servers = []
    for name, site in sim.sites.items():
        charset = site.pages.charset
        html_type = f"text/html; charset={charset}" if charset else "text/html"
        feeds = "".join(
            f'        location = {urlsplit(u).path} {{ default_type "application/xml; charset=utf-8"; '
            f'try_files "$uri@$args" =404; }}\n'
            for u in site.spec.rss_urls
        )
        servers.append(
            f"    server {{\n"
            f"        listen 127.0.0.1:{ports[name]};\n"
            f"        root {root / name};\n"
            f'        location = /robots.txt {{ default_type "text/plain"; try_files "$uri@" =404; }}\n'
            f"{feeds}"
            f'        location / {{ default_type "{html_type}"; try_files "$uri@$args" =404; }}\n'
            f"    }}\n"
        )
    return (
        "daemon off;\nworker_processes 1;\nuser root;\n"
        f"pid {workdir / 'nginx.pid'};\nerror_log {workdir / 'error.log'} warn;\n"
        "events { worker_connections 1024; }\n"
        "http {\n    types {}\n    access_log off;\n    sendfile on;\n    tcp_nopush on;\n"
        "    keepalive_requests 100000;\n"
        f"    client_body_temp_path {workdir}/tmp;\n    proxy_temp_path {workdir}/tmp;\n"
        f"    fastcgi_temp_path {workdir}/tmp;\n    uwsgi_temp_path {workdir}/tmp;\n    scgi_temp_path {workdir}/tmp;\n"
        + "".join(servers) + "}\n"
    )


class NginxSite:
    """The simulation as static files behind nginx; a context manager. Needs `nginx` on PATH."""

    def __init__(self, sim: Simulator, workdir: Path, first_port: int, now: float = 0.0) -> None:
        self.sim = sim
        self.workdir = workdir
        self.ports = {name: first_port + n for n, name in enumerate(sim.sites)}
        self.now = now
        self.proc: subprocess.Popen | None = None
        self.written: dict[str, dict[str, int]] = {}

    @property
    def base_urls(self) -> dict[str, str]:
        return {name: f"http://127.0.0.1:{port}" for name, port in self.ports.items()}

    def write(self) -> None:
        root = self.workdir / "site"
        for name, site in self.sim.sites.items():
            self.written[name] = write_outlet(site, root / name, self.now)
        (self.workdir / "tmp").mkdir(parents=True, exist_ok=True)
        (self.workdir / "nginx.conf").write_text(nginx_config(self.sim, root, self.ports, self.workdir), encoding="utf-8")

    def __enter__(self) -> "NginxSite":
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        if not os.path.exists(nginx):
            raise RuntimeError("nginx is not installed (apt-get install nginx-light)")
        if not (self.workdir / "nginx.conf").exists():
            self.write()
        self.proc = subprocess.Popen([nginx, "-c", str(self.workdir / "nginx.conf"), "-p", str(self.workdir)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        for port in self.ports.values():
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or self.proc.poll() is not None:
                        raise RuntimeError(f"nginx did not start: {self.proc.stderr.read().decode() if self.proc.stderr else ''}")
                    time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
