"""`newsdesk serve`: the web dashboard and read-only JSON API (crawler.web) under uvicorn.

Bound to 127.0.0.1 by default and answering only loopback Host headers there; another
address exposes every stored article and the crawl logs' paths to whoever reaches it, so it
is allowed, with a loud warning, for a deliberate choice (behind a proxy with its own auth).
"""

from __future__ import annotations

import errno
import logging
import socket
import threading
import time
from typing import Any, Optional

import typer

from crawler.cli.common import check_db, checked_db_name, err, fail, out

# `serve` imports uvicorn, the dashboard (FastAPI) and the store when it runs: `newsdesk --help`
# and argument errors must not pay for them.

app = typer.Typer()


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (default: this machine only)."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="Port (0: any free one)."),
    db_name: Optional[str] = typer.Option(None, "--db", help="Database to show (default: NEWSDESK_DB or newsdesk)."),
) -> None:
    """Serve the dashboard (search, articles, volume, crawl health, runs) and the JSON API (/api/docs)."""
    import uvicorn

    from crawler.store import get_client, mask_uri
    from crawler.web import create_app
    from crawler.web.app import is_loopback, loopback_hosts

    name = checked_db_name(db_name, "--db") if db_name is not None else checked_db_name()
    _check_listen(host, port)  # before the warning and the database: uvicorn says it in many lines
    loopback = is_loopback(host)
    if not loopback:
        err.print(
            f"[bold red]WARNING:[/] serving on {host}, not a loopback address: anyone who can reach this machine "
            "on port {port} can read every stored article, the run history and log paths. There is no login. "
            "Prefer the default 127.0.0.1 behind a reverse proxy or an SSH tunnel.".replace("{port}", str(port)),
            highlight=False, soft_wrap=True,
        )
    uri = check_db(start=False)
    client = get_client(uri)
    application = create_app(client[name], allowed_hosts=loopback_hosts(host) if loopback else None)
    _keep_volume_warm(application)
    shown = f"[{host}]" if ":" in host else host
    where = f"http://{shown}:{port}/" if port else f"http://{shown} on a free port (uvicorn prints it below)"
    out.print(f"dashboard on {where} (API reference at /api/docs) over {mask_uri(uri)} database {name}; "
              "Ctrl-C stops it", highlight=False, soft_wrap=True)
    try:
        uvicorn.run(application, host=host, port=port, log_level="info", server_header=False,
                    proxy_headers=False, access_log=True)
    finally:
        client.close()


def _check_listen(host: str, port: int) -> None:
    """A one-line error unless `host` resolves and `port` can be listened on there now."""
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except (socket.gaierror, UnicodeError) as exc:
        fail(f"--host {host!r}: not an address or a name this machine resolves "
             f"({getattr(exc, 'strerror', None) or exc})")
        raise AssertionError("unreachable") from exc
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRNOTAVAIL:
                fail(f"--host {host!r}: not an address of this machine ({exc.strerror})")
            fail(f"--port {port}: cannot listen on {host}:{port} ({exc.strerror or exc})")


def _keep_volume_warm(application: Any, every: float = 50 * 60) -> None:
    """Count the default volume window now and again before its cached days expire, in a
    daemon thread: a cold count reads every article of 14 days (seconds on SecantusDB)."""
    from crawler.web import views

    def warm() -> None:
        while True:
            try:
                views.volume(application.state.db, application.state.volume_cache, [], [], None, None)
            except Exception as exc:  # noqa: BLE001 - a page view counts again; say why it could not here
                logging.getLogger(__name__).warning("volume cache not warmed: %s", exc)
            time.sleep(every)

    threading.Thread(target=warm, name="volume-warmer", daemon=True).start()
