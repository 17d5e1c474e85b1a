"""End-to-end pages/s of the full pipeline against a bare Scrapy crawl of the same pages.

Run: .venv/bin/python bench/throughput_bench.py [--outlets joongdo,jnilbo,busan] [--articles 1000]
     [--repeat 2] [--profile]

The simulator (crawler/devtools/simulator) writes `--articles` articles per outlet in their families'
real page templates, with list pages of 100 and full RSS feeds, as static files that nginx
serves on 127.0.0.1 (so the server costs the two cores next to nothing). Then, alternating,
`--repeat` times each:
- bare (the baseline of the ratio): a bare Scrapy crawl with CSS extraction at the same
  concurrency (64 requests in all, shared by the outlets' crawlers), as the issue's reference
  prototype measured it: the outlet spider's navigation, each article parsed with parsel
  (response.css with the family's title/info/body selectors) into a dict item, no item
  pipelines, no store;
- fetch: the same navigation with article responses dropped unparsed (a floor no crawl that
  reads its pages can reach; printed for reference);
- full: `crawl_outlets` as `newsdesk crawl` runs it: page objects (in the parse worker
  process), normalize, validate, dedup, batched upserts into the embedded database
  (SecantusDB started by newsdesk under a temporary data folder, a fresh one per run).
Besides pages/s, each run's CPU per page is split by process: the crawl process, its child
processes (the page parser; the search drain at the end), and the database server.
The best run of each arm counts. Prints pages/s of both and the ratio (target >= 0.75),
peak RSS of the crawl process, and writes bench/results/throughput.json.
`--profile` runs the full arm once more under pyinstrument (text report beside the JSON).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.crawl_common import BARE, BARE_CSS, FULL, bench_env, concurrency_settings, crawl, stop_embedded, write_result  # noqa: E402
from crawler.devtools.simulator import NewsConfig, Simulator  # noqa: E402
from crawler.devtools.simulator.static import NginxSite  # noqa: E402

PROFILE = FULL.replace("outcomes = crawl_outlets", "from pyinstrument import Profiler\np = Profiler(interval=0.002)\np.start()\noutcomes = crawl_outlets") + (
    "p.stop()\nopen(out + '.profile.txt', 'w').write(p.output_text(unicode=True, color=False, show_all=False))\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--outlets", default="joongdo,jnilbo,busan", help="comma-separated simulated outlets")
    parser.add_argument("--articles", type=int, default=1000, help="articles per outlet")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each arm (best counts)")
    parser.add_argument("--port", type=int, default=18100, help="first nginx port")
    parser.add_argument("--profile", action="store_true", help="profile one more full run with pyinstrument")
    parser.add_argument("--before", action="append", default=[], metavar="NAME=VALUE",
                        help="also run the full pipeline with these settings (alternating, same run): before/after")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for the full arm only (to find what costs what), e.g. NEWSDESK_DEDUP_ENABLED=False")
    args = parser.parse_args()
    outlets = [o.strip() for o in args.outlets.split(",") if o.strip()]
    sim = Simulator(outlets, NewsConfig(articles=args.articles), page_size=100)
    overrides = concurrency_settings(len(outlets))
    full_overrides = {**overrides, **dict(item.split("=", 1) for item in args.set)}
    before_overrides = {**full_overrides, **dict(item.split("=", 1) for item in args.before)}
    with tempfile.TemporaryDirectory(prefix="newsdesk-throughput-") as tmp:
        work = Path(tmp)
        site = NginxSite(sim, work / "nginx", args.port)
        site.write()
        pages = {n: c["articles"] + c["lists"] + c["feeds"] for n, c in site.written.items()}
        avg_kb = sum(c["bytes"] for c in site.written.values()) / max(1, sum(pages.values())) / 1024
        print(f"simulated {sum(pages.values())} pages ({avg_kb:.0f} KB on average) of {', '.join(outlets)}")
        runs: dict[str, list] = {"fetch": [], "bare": [], "full": [], **({"before": []} if args.before else {})}
        scripts = {"fetch": BARE, "bare": BARE_CSS, "full": FULL, "before": FULL}
        with site:
            for attempt in range(args.repeat):
                for arm in runs:
                    data = work / f"data-{arm}-{attempt}"
                    try:
                        run = crawl(scripts[arm], site.base_urls, bench_env(data),
                                    {"fetch": overrides, "bare": overrides, "full": full_overrides,
                                     "before": before_overrides}[arm], work / "logs")
                    finally:
                        stop_embedded(data)
                    shutil.rmtree(data, ignore_errors=True)
                    runs[arm].append(run)
                    items = sum(int(s.get("newsdesk/articles/new", 0)) for s in run.stats.values())
                    print(f"  {arm:6s} run {attempt + 1}: {run.pages} pages in {run.crawl_seconds:.1f} s = "
                          f"{run.pages_per_second:.1f} pages/s, CPU {run.cpu_seconds / run.seconds:.0%} of a core, "
                          f"peak RSS {run.peak_rss_mb:.0f} MB"
                          + (f", {items} articles stored" if arm in ("full", "before") else
                             f", {sum(int(s.get('item_scraped_count', 0)) for s in run.stats.values())} items" if arm == "bare" else "")
                          + (f", CPU ms/page: crawl process {run.cpu_seconds / run.pages * 1000:.1f}, its workers "
                             f"{run.children_cpu_seconds / run.pages * 1000:.1f}, database {run.database_cpu_seconds / run.pages * 1000:.1f}"
                             if run.pages else ""))
            profile_text = None
            if args.profile:
                data = work / "data-profile"
                try:
                    run = crawl(PROFILE, site.base_urls, bench_env(data), full_overrides, work / "logs")
                finally:
                    stop_embedded(data)
                reports = sorted((work / "logs").glob("*.profile.txt"))
                profile_text = reports[-1].read_text(encoding="utf-8") if reports else None
    fetch = max(runs["fetch"], key=lambda r: r.pages_per_second)
    bare = max(runs["bare"], key=lambda r: r.pages_per_second)
    full = max(runs["full"], key=lambda r: r.pages_per_second)
    ratio = full.pages_per_second / bare.pages_per_second
    stored = sum(int(s.get("newsdesk/articles/new", 0)) for s in full.stats.values())
    result = {
        "outlets": outlets, "articles_per_outlet": args.articles, "pages": bare.pages, "avg_page_kb": round(avg_kb, 1),
        "concurrency": overrides["CONCURRENT_REQUESTS"] * len(outlets),
        "baseline": "bare Scrapy crawl with CSS extraction (parsel, the family's selectors), no item pipelines",
        "bare_pages_per_s": round(bare.pages_per_second, 1), "full_pages_per_s": round(full.pages_per_second, 1),
        "ratio": round(ratio, 3), "target_ratio": 0.75, "full_articles_stored": stored,
        "fetch_only_pages_per_s": round(fetch.pages_per_second, 1),
        "ratio_to_fetch_only": round(full.pages_per_second / fetch.pages_per_second, 3),
        "bare_peak_rss_mb": bare.peak_rss_mb, "full_peak_rss_mb": full.peak_rss_mb,
        "runs": {arm: [round(r.pages_per_second, 1) for r in rs] for arm, rs in runs.items()},
        "full_settings": dict(item.split("=", 1) for item in args.set),
        "full_cpu_ms_per_page": round(full.cpu_seconds / full.pages * 1000, 2),
        "bare_cpu_ms_per_page": round(bare.cpu_seconds / bare.pages * 1000, 2),
        "full_workers_cpu_ms_per_page": round(full.children_cpu_seconds / full.pages * 1000, 2),
        "full_database_cpu_ms_per_page": round(full.database_cpu_seconds / full.pages * 1000, 2),
        "full_stats": {o: {k: v for k, v in s.items() if k.startswith(("newsdesk/store", "newsdesk/dedup/index", "newsdesk/incremental",
                                                                       "newsdesk/articles/", "elapsed"))}
                       for o, s in full.stats.items()},
    }
    if args.before:
        before = max(runs["before"], key=lambda r: r.pages_per_second)
        cpu = lambda rs: statistics.median(r.cpu_seconds / r.pages * 1000 for r in rs)  # noqa: E731
        result["before"] = {"settings": dict(item.split("=", 1) for item in args.before),
                            "pages_per_s": round(before.pages_per_second, 1),
                            "ratio": round(before.pages_per_second / bare.pages_per_second, 3),
                            "cpu_ms_per_page_median": round(cpu(runs["before"]), 2),
                            "after_cpu_ms_per_page_median": round(cpu(runs["full"]), 2),
                            "after_over_before_pages_per_s": round(full.pages_per_second / before.pages_per_second, 3)}
        print(f"before ({', '.join(args.before)}): {before.pages_per_second:.1f} pages/s, crawl process CPU "
              f"{result['before']['cpu_ms_per_page_median']} ms/page; after: {full.pages_per_second:.1f} pages/s, "
              f"{result['before']['after_cpu_ms_per_page_median']} ms/page (x{result['before']['after_over_before_pages_per_s']})")
    out = write_result("throughput", result)
    if profile_text:
        out.with_suffix(".profile.txt").write_text(profile_text, encoding="utf-8")
        print(f"profile: {out.with_suffix('.profile.txt')}")
    print(f"bare Scrapy with CSS extraction {result['bare_pages_per_s']} pages/s, full pipeline {result['full_pages_per_s']} "
          f"pages/s: ratio {ratio:.2f} (target >= 0.75, and >= 100 pages/s); {stored} articles stored")
    print(f"(fetch only, article pages dropped unparsed: {result['fetch_only_pages_per_s']} pages/s, ratio "
          f"{result['ratio_to_fetch_only']:.2f}); results in {out}")


if __name__ == "__main__":
    main()
