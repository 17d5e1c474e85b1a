"""A backfill of 5,000 articles on the simulator, killed once midway and resumed; and its memory.

Run: .venv/bin/python bench/backfill_bench.py [--articles 5000] [--concurrency 8] [--no-memory]

The simulator (in this process, one outlet: jnilbo, NDSoft, list pages of 20 with dates)
holds --articles articles inside the window plus two days after it and a week before it,
published ten minutes apart. `newsdesk backfill jnilbo --since ... --until ...` runs as a
subprocess against it, with the embedded database of a temporary folder:

1. kill and resume: the backfill is killed with SIGKILL once half the window is stored, then
   the same command runs again. Printed: articles of the window stored once / missing /
   stored twice / stored from outside the window; articles fetched again after the resume
   (split into those stored before the kill, which must be none, and those the kill caught
   between download and store); list pages fetched twice.
2. memory (unless --no-memory): the same backfill uninterrupted into a fresh database, its
   process's RSS sampled (/proc, Linux) against its scraped-item count (Scrapy's periodic log
   line); RSS at 1,000 and at --articles articles and the growth between them, and the peak
   (which includes the end of the crawl: the last store batches, search indexing).

Politeness is switched off for the local site (delay 0, --concurrency requests at a time);
everything else is the backfill as operators run it. Writes bench/results/backfill.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "bench"))

from crawl_common import stop_embedded, write_result  # noqa: E402
from crawler.crawl.backfill_state import Window  # noqa: E402
from crawler.devtools.simulator import NewsConfig, Simulator  # noqa: E402
from crawler.text.dates import KST  # noqa: E402

OUTLET = "jnilbo"
SPACING_MINUTES = 10
_SCRAPED = re.compile(r"\[scrapy\.extensions\.logstats\] INFO: Crawled (\d+) pages .*?scraped (\d+) items")


def command(base_url: str, window: Window, concurrency: int) -> list[str]:
    return [sys.executable, "-m", "crawler.cli", "backfill", OUTLET, "--since", window.since.isoformat(),
            "--until", window.until.isoformat(), "--base-url", base_url,
            "--set", f"NEWSDESK_BACKFILL_CONCURRENT_REQUESTS_PER_DOMAIN={concurrency}",
            "--set", "NEWSDESK_BACKFILL_DOWNLOAD_DELAY=0", "--set", "AUTOTHROTTLE_ENABLED=False",
            "--set", "LOGSTATS_INTERVAL=1", "--set", "LOG_LEVEL=INFO", "--set", "NEWSDESK_BACKFILL_PROGRESS_SECONDS=30"]


def bench_env(data_dir: Path) -> dict[str, str]:
    """The embedded database under `data_dir` and the test settings overlay."""
    env = {k: v for k, v in os.environ.items() if k not in ("MONGO_URI", "NEWSDESK_PARENT_PID")}
    env.update(NEWSDESK_ENV="test", NEWSDESK_DATA_DIR=str(data_dir), NEWSDESK_DB="bench", PYTHONHASHSEED="0")
    return env


def rss_mb(pid: int) -> float | None:
    """Resident memory of `pid` (Linux /proc: no psutil needed), None once it is gone."""
    try:
        for row in Path(f"/proc/{pid}/status").read_text().splitlines():
            if row.startswith("VmRSS:"):
                return int(row.split()[1]) / 1024
    except OSError:
        return None
    return None


def latest_log(data: Path, after: float) -> Path | None:
    logs = [p for p in (data / "logs").glob("backfill-*.log") if p.stat().st_mtime >= after]
    return max(logs, key=lambda p: p.stat().st_mtime) if logs else None


def run(cmd: list[str], env: dict[str, str], data: Path, *, kill_at_items: int | None = None,
        marks: tuple[int, ...] = ()) -> dict[str, Any]:
    """Run the backfill; sample RSS against scraped items; SIGKILL it at `kill_at_items`."""
    started = time.time()
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    samples: list[tuple[int, float]] = []
    items = 0
    log: Path | None = None
    position = 0
    killed = False
    while proc.poll() is None:
        rss = rss_mb(proc.pid)
        if rss is None:
            break
        log = log or latest_log(data, started)
        if log is not None:
            with log.open("r", encoding="utf-8", errors="replace") as fh:
                fh.seek(position)
                for line in fh:
                    if m := _SCRAPED.search(line):
                        items = int(m.group(2))
                position = fh.tell()
        samples.append((items, round(rss, 1)))
        if kill_at_items is not None and items >= kill_at_items:
            proc.send_signal(signal.SIGKILL)
            killed = True
            break
        time.sleep(0.25)
    proc.wait()
    at = {}
    for mark in marks:
        reached = [rss for n, rss in samples if n >= mark]
        at[mark] = reached[0] if reached else None
    return {"seconds": round(time.time() - started, 1), "returncode": proc.returncode, "killed": killed,
            "items": items, "peak_rss_mb": max((r for _, r in samples), default=0.0), "rss_at": at, "log": str(log)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=5000, help="articles inside the window")
    parser.add_argument("--concurrency", type=int, default=8, help="requests at a time to the simulated site")
    parser.add_argument("--no-memory", action="store_true", help="skip the uninterrupted run measuring RSS")
    args = parser.parse_args()

    per_day = 24 * 60 // SPACING_MINUTES
    today = datetime.now(KST).date()
    days = -(-args.articles // per_day)
    window = Window(today - timedelta(days=days + 1), today - timedelta(days=2))
    total = (days + 10) * per_day  # the window, two days after it, and a week before it
    config = NewsConfig(articles=total, spacing_minutes=SPACING_MINUTES, syndicated=0.0, corrected=0.0)
    result: dict[str, Any] = {"articles_simulated": total, "window": str(window), "concurrency": args.concurrency}
    with Simulator([OUTLET], config, page_size=20) as sim, tempfile.TemporaryDirectory(prefix="backfill-bench-") as tmp:
        server, site = sim.servers[OUTLET], sim.sites[OUTLET]
        published = {site.article_url(i): sim.news.article(OUTLET, i).published for i in range(total)}
        expected = {url for url, when in published.items() if window.contains(when)}
        result["articles_in_window"] = len(expected)
        print(f"{len(expected)} articles in {window} of {total} simulated; backfill at {args.concurrency} requests at a time")

        # 1. killed midway, resumed
        data = Path(tmp) / "kill"
        env = bench_env(data)
        cmd = command(server.base_url, window, args.concurrency)
        first = run(cmd, env, data, kill_at_items=len(expected) // 2)
        server.wait_idle()
        from pymongo import MongoClient

        from crawler.store import resolve_uri

        client = MongoClient(resolve_uri(env), tz_aware=True)
        articles = client["bench"].articles
        at_kill = {d["canonical_url"] for d in articles.find({}, {"canonical_url": 1})}
        fetched_at_kill = server.article_fetches()
        lists_at_kill = {p: n for p, n in server.requests.items() if "articleList" in p}
        second = run(cmd, env, data)
        server.wait_idle()
        stored = [d["canonical_url"] for d in articles.find({}, {"canonical_url": 1})]
        client.close()
        after = server.article_fetches()
        again = {site.article_url(i) for i, n in after.items() if n > fetched_at_kill.get(i, 0) > 0}
        lists = {p: n for p, n in server.requests.items() if "articleList" in p}
        kill = {
            "killed_at_items": first["items"], "first": first, "resumed": second,
            "stored_at_kill": len(at_kill),
            "stored": len(stored), "stored_once": len(set(stored) & expected), "stored_twice": len(stored) - len(set(stored)),
            "missing": len(expected - set(stored)), "outside_window_stored": len(set(stored) - expected),
            "fetched_again_after_resume": len(again),
            "fetched_again_stored_before_kill": len(again & at_kill),
            "fetched_again_caught_in_flight": len(again - at_kill),
            "list_pages": len(lists),
            "list_pages_fetched_again_after_resume": sum(1 for p, n in lists.items() if n > lists_at_kill.get(p, 0) > 0),
            "article_pages_fetched": sum(after.values()),
        }
        result["kill_resume"] = kill
        stop_embedded(data)
        print(f"kill -9 at {first['items']} items ({len(at_kill)} stored), resumed: exit {second['returncode']} "
              f"in {second['seconds']} s")
        print(f"  window: {kill['stored_once']} of {len(expected)} stored once, {kill['missing']} missing, "
              f"{kill['stored_twice']} stored twice, {kill['outside_window_stored']} stored from outside it")
        print(f"  fetched again after the resume: {kill['fetched_again_stored_before_kill']} stored before the kill, "
              f"{kill['fetched_again_caught_in_flight']} caught between download and store; "
              f"list pages fetched again: {kill['list_pages_fetched_again_after_resume']} of {kill['list_pages']}")

        # 2. memory over one uninterrupted backfill
        if not args.no_memory:
            data = Path(tmp) / "memory"
            env = bench_env(data)
            sim_fetches = sum(server.article_fetches().values())
            whole = run(cmd, env, data, marks=(1000, args.articles))
            stop_embedded(data)
            low, high = whole["rss_at"].get(1000), whole["rss_at"].get(args.articles)
            growth = (high / low - 1) * 100 if low and high else None
            result["memory"] = {**whole, "rss_1k_mb": low, "rss_end_mb": high, "growth_pct": growth,
                                "article_pages_fetched": sum(server.article_fetches().values()) - sim_fetches}
            print(f"memory: RSS {low} MB at 1,000 articles, {high} MB at {args.articles:,} "
                  f"({growth:+.1f}%), peak {whole['peak_rss_mb']} MB, {whole['seconds']} s" if growth is not None
                  else f"memory: not measured ({whole})")
    out = write_result("backfill", result)
    print(f"written {out}")
    ok = kill["missing"] == 0 and kill["stored_twice"] == 0 and kill["outside_window_stored"] == 0 \
        and kill["fetched_again_stored_before_kill"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
