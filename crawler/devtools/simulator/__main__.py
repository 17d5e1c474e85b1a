"""`python -m crawler.devtools.simulator --outlets N --articles M --port P [--faults outlet:kind,...]`

Serves the simulation on 127.0.0.1, outlet k on port P+k (P=0: free ports), and prints each
outlet's base URL for `newsdesk crawl OUTLET --base-url URL` or `scrapy crawl OUTLET -a
base_url=URL`. `--write DIR` writes the pages as static files with an nginx.conf instead.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from crawler.devtools.simulator import NewsConfig, Simulator, parse_faults
from crawler.devtools.simulator.static import NginxSite
from crawler.outlets import OutletError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler.devtools.simulator", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--outlets", type=int, default=9, help="how many outlets (one of every saved family first)")
    parser.add_argument("--only", default="", help="comma-separated outlet names instead of --outlets")
    parser.add_argument("--articles", type=int, default=100, help="articles per outlet")
    parser.add_argument("--initial", type=int, default=None, help="articles there at the start (default: all)")
    parser.add_argument("--new-every", type=float, default=60.0, help="seconds between new articles of an outlet")
    parser.add_argument("--speed", type=float, default=1.0, help="simulated seconds per real second")
    parser.add_argument("--port", type=int, default=0, help="first port (0: any free ones)")
    parser.add_argument("--page-size", type=int, default=20, help="articles per list page")
    parser.add_argument("--spacing-minutes", type=float, default=3.0, help="minutes between two initial articles (history)")
    parser.add_argument("--list-depth", type=int, default=None, help="list pages a section shows at most (default: all)")
    parser.add_argument("--no-list-dates", action="store_true", help="list items print no date")
    parser.add_argument("--faults", default="", help="outlet:kind[:rate],... (kinds: see crawler/devtools/simulator/faults.py)")
    parser.add_argument("--write", type=Path, default=None, help="write static files and nginx.conf to DIR, then exit")
    args = parser.parse_args(argv)
    try:
        names: list[str] | int = [n.strip() for n in args.only.split(",") if n.strip()] or args.outlets
        config = NewsConfig(articles=args.articles, initial=args.initial, new_every=args.new_every,
                            spacing_minutes=args.spacing_minutes)
        sim = Simulator(names, config, page_size=args.page_size, speed=args.speed, port=args.port,
                        list_depth=args.list_depth, list_dates=not args.no_list_dates)
        sim.board.faults.update(parse_faults(args.faults, set(sim.sites)))
    except (ValueError, OutletError) as exc:
        print(f"simulator: {exc}", file=sys.stderr)
        return 2
    if args.write is not None:
        site = NginxSite(sim, args.write.resolve(), args.port or 18000)
        site.write()
        for name, counts in site.written.items():
            print(f"{name}: {counts['articles']} articles, {counts['lists']} list pages, {counts['bytes'] / 1e6:.1f} MB")
        print(f"nginx -c {site.workdir / 'nginx.conf'} -p {site.workdir}")
        return 0
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with sim:
        for name, url in sim.base_urls.items():
            faults = ", ".join(f.kind for f in sim.board.faults.get(name, []))
            print(f"{name:12s} {url}" + (f"  faults: {faults}" if faults else ""), flush=True)
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
