"""Shared by the crawl benchmarks: run a crawl in a child process and watch it.

Each crawl runs in its own process (as scheduled crawls do), with the settings of both arms
of a comparison given here, so they differ only where the benchmark says. The parent samples
the child's RSS (psutil) and reads Scrapy's periodic "Crawled N pages" log lines, so nothing
in the crawl is instrumented for the benchmark.

RSS is sampled twice over: the crawl process alone (`rss_mb`, `peak_rss_mb`), and the crawl
process with every process descended from it (`tree_rss_mb`, `peak_tree_rss_mb`: its page
parsers, the end-of-crawl search drain, multiprocessing's resource
tracker), since work moved into child processes still costs the machine its memory. The
sum counts the pages of shared libraries once per process, so it errs high. The embedded
database server is started detached (its parent is init, not the crawl), so it is no
descendant; it is sampled apart (`database_rss_mb`) and, should it ever be found among the
descendants, it is left out of the tree's figure.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]

# The full pipeline, as `newsdesk crawl` runs it (runs recorded, leases taken).
FULL = """
import json, sys
from crawler.crawl.process import crawl_outlets
bases, overrides, out = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
outcomes = crawl_outlets(list(bases), base_urls=bases, settings_overrides=overrides)
json.dump({o.outlet: o.stats for o in outcomes}, open(out, "w"), default=str)
"""

# A bare Scrapy crawl of the same pages: the same navigation (the outlet spider's list/RSS
# parsing and URL handling), article responses dropped on arrival, no item pipelines, no store.
BARE = """
import json, sys
from scrapy.crawler import CrawlerProcess
from crawler.config import project_settings
from crawler.spiders.outlet import OutletSpider
from crawler.outlets import get_outlet

bases, overrides, out = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
overrides.update(ITEM_PIPELINES={}, NEWSDESK_STORE_ENABLED=False)
process = CrawlerProcess(project_settings(overrides))
crawlers = {}
for name, base in bases.items():
    cls = type(f"Bare{name}", (OutletSpider,), {"name": name, "outlet_name": name,
               "parse_article": lambda self, response, article_url: None})
    crawler = process.create_crawler(cls)
    crawlers[name] = crawler
    process.crawl(crawler, base_url=base)
process.start()
json.dump({n: c.stats.get_stats() for n, c in crawlers.items()}, open(out, "w"), default=str)
"""

# The yardstick: a bare Scrapy crawl with CSS extraction, as a Scrapy spider is written
# without a pipeline: the same navigation, and each article parsed with parsel (response.css,
# the outlet family's own title/date/body selectors, the texts joined) into a dict item; no item
# pipelines, no store. What a plain Scrapy project does with these pages, on the same sites.
BARE_CSS = BARE.replace(
    '"parse_article": lambda self, response, article_url: None})',
    '"parse_article": css_article})',
).replace("bases, overrides, out =", """
def first(response, selectors):
    for selector in selectors:
        if "@" in selector:
            css, attr = selector.rsplit("@", 1)
            value = response.css(css).attrib.get(attr)
        else:
            value = " ".join(t.strip() for t in response.css(selector + " ::text").getall() if t.strip())
        if value:
            return value
    return None

def css_article(self, response, article_url):
    template = get_outlet(self.outlet_name).template()
    # a list, not a generator: Scrapy reads a generator callback's source, which `python -c` lacks
    return [{"url": article_url, "title": first(response, template.title),
           "info": first(response, template.info),
           "body": "\\n".join(t.strip() for sel in template.body[:1] for t in response.css(sel + " p::text, " + sel + "::text").getall() if t.strip())}]

bases, overrides, out =""")

_CRAWLED = re.compile(
    r"^(\S+ \S+) \[scrapy\.extensions\.logstats\] INFO: Crawled (\d+) pages .*?scraped (\d+) items")


@dataclass
class CrawlRun:
    seconds: float
    stats: dict[str, dict[str, Any]]
    peak_rss_mb: float
    # t, rss_mb, pages, items; tree_rss_mb (the crawl and its descendants), database_rss_mb
    samples: list[dict[str, float]] = field(default_factory=list)
    cpu_seconds: float = 0.0  # the crawl process's user + system CPU (children not included)
    children_cpu_seconds: float = 0.0  # its child processes (the page parsers, the search drain)
    database_cpu_seconds: float = 0.0  # the embedded database server's, over the crawl
    peak_tree_rss_mb: float = 0.0  # the crawl process plus its descendants (database excluded)
    peak_database_rss_mb: float = 0.0  # the embedded database server (not the crawl's descendant)
    database_is_descendant: bool = False  # whether it was found among the crawl's descendants

    @property
    def pages(self) -> int:
        return sum(int(s.get("downloader/response_count", 0)) for s in self.stats.values())

    @property
    def crawl_seconds(self) -> float:
        """First request to last response, across the outlets (process start-up excluded)."""
        starts = [s["start_time"] for s in self.stats.values() if s.get("start_time")]
        ends = [s["finish_time"] for s in self.stats.values() if s.get("finish_time")]
        if not starts or not ends:
            return self.seconds
        from datetime import datetime

        return (max(datetime.fromisoformat(e) for e in ends) - min(datetime.fromisoformat(s) for s in starts)).total_seconds()

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.crawl_seconds if self.crawl_seconds else 0.0


def crawl(script: str, bases: dict[str, str], env: dict[str, str], overrides: dict[str, Any], workdir: Path,
          *, sample_every: float = 1.0, timeout: float = 7200) -> CrawlRun:
    """Run `script` (FULL or BARE) in a child process; sample its RSS and logged page counts."""
    workdir.mkdir(parents=True, exist_ok=True)
    out = workdir / f"stats-{time.monotonic_ns()}.json"
    log = workdir / f"crawl-{time.monotonic_ns()}.log"
    overrides = {"LOG_FILE": str(log), "LOG_LEVEL": "INFO", **overrides}
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-c", script, json.dumps(bases), json.dumps(overrides), str(out)],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ps = psutil.Process(proc.pid)
    samples: list[dict[str, float]] = []
    peak = 0.0
    stderr_chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: stderr_chunks.append(proc.stderr.read() if proc.stderr else b""), daemon=True)
    reader.start()
    log_pos = 0
    pages = items = cpu = 0.0
    children_cpu: dict[int, float] = {}  # pid -> last CPU seen (children exit before the crawl does)
    state_file = Path(env.get("NEWSDESK_DATA_DIR", "")) / "secantus.json" if env.get("NEWSDESK_DATA_DIR") else None
    database: psutil.Process | None = None
    database_start = database_cpu = 0.0
    latest: deque[tuple[float, float]] = deque(maxlen=len(bases))
    tree_peak = database_peak = 0.0
    database_descendant = False
    while proc.poll() is None:
        try:
            rss = ps.memory_info().rss / 2**20
            times = ps.cpu_times()
            cpu = times.user + times.system
        except psutil.Error:
            break
        peak = max(peak, rss)
        descendants = _descendants(ps)
        with_children_and_database = _other_cpu(descendants, children_cpu, state_file, database)
        if with_children_and_database is not None:
            database, first, database_cpu = with_children_and_database
            database_start = database_start or first
        database_pid = database.pid if database is not None else None
        database_descendant = database_descendant or any(child.pid == database_pid for child in descendants)
        tree = rss + sum(_rss(child) for child in descendants if child.pid != database_pid) / 2**20
        database_rss = _rss(database) / 2**20 if database is not None else 0.0
        tree_peak, database_peak = max(tree_peak, tree), max(database_peak, database_rss)
        if log.exists():
            with log.open("r", encoding="utf-8", errors="replace") as fh:
                fh.seek(log_pos)
                for line in fh:
                    m = _CRAWLED.match(line)
                    if m:  # one line per outlet's crawler every LOGSTATS_INTERVAL: the last
                        # len(bases) lines hold each crawler's latest count
                        latest.append((float(m.group(2)), float(m.group(3))))
                        pages, items = sum(p for p, _ in latest), sum(i for _, i in latest)
                log_pos = fh.tell()
        samples.append({"t": round(time.monotonic() - started, 2), "rss_mb": round(rss, 1), "pages": pages, "items": items,
                        "tree_rss_mb": round(tree, 1), "database_rss_mb": round(database_rss, 1)})
        if time.monotonic() - started > timeout:
            proc.kill()
            raise SystemExit(f"crawl over {timeout} s; log: {log}")
        time.sleep(sample_every if time.monotonic() - started > 5 else 0.2)
    proc.wait()
    reader.join(timeout=5)
    if proc.returncode != 0 or not out.exists():
        raise SystemExit(f"crawl failed ({proc.returncode}): {b''.join(stderr_chunks).decode(errors='replace')[-3000:]}\nlog: {log}")
    stats = json.loads(out.read_text(encoding="utf-8"))
    return CrawlRun(time.monotonic() - started, stats, round(peak, 1), samples, round(cpu, 1),
                    round(sum(children_cpu.values()), 1), round(max(0.0, database_cpu - database_start), 1),
                    round(tree_peak, 1), round(database_peak, 1), database_descendant)


def _cpu(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return times.user + times.system


def _descendants(proc: psutil.Process) -> list[psutil.Process]:
    """Every process descended from `proc` (children, theirs, ...) now; [] once it is gone."""
    try:
        return proc.children(recursive=True)
    except psutil.Error:
        return []


def _rss(proc: psutil.Process) -> float:
    """Resident bytes of `proc`; 0 when it has exited meanwhile."""
    try:
        return float(proc.memory_info().rss)
    except psutil.Error:
        return 0.0


def _other_cpu(descendants: list[psutil.Process], children: dict[int, float], state_file: Path | None,
               database: psutil.Process | None) -> tuple[psutil.Process, float, float] | None:
    """Update `children` (pid -> CPU) from the crawl's descendant processes; find the embedded
    database server (its state file) and return (it, its CPU when first seen, its CPU now)."""
    for child in descendants:
        with contextlib.suppress(psutil.Error):
            children[child.pid] = _cpu(child)
    if database is None and state_file is not None and state_file.exists():
        with contextlib.suppress(OSError, ValueError, psutil.Error):
            database = psutil.Process(int(json.loads(state_file.read_text(encoding="utf-8"))["pid"]))
            first = _cpu(database)
            return database, first, first
    if database is not None:
        with contextlib.suppress(psutil.Error):
            return database, 0.0, _cpu(database)
    return None


def bench_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The embedded database under `data_dir` (no MONGO_URI), test settings overlay (no
    politeness delays: the sites are local), warnings and up only."""
    env = {k: v for k, v in os.environ.items() if k != "MONGO_URI"}
    env.update(NEWSDESK_ENV="test", NEWSDESK_DATA_DIR=str(data_dir), NEWSDESK_DB="bench", PYTHONHASHSEED="0", **extra)
    return env


def concurrency_settings(outlets: int, total: int = 64) -> dict[str, Any]:
    """`total` concurrent requests shared by the outlets' crawlers (one per outlet)."""
    each = max(4, total // max(1, outlets))
    return {"CONCURRENT_REQUESTS": each, "CONCURRENT_REQUESTS_PER_DOMAIN": each, "DOWNLOAD_DELAY": 0,
            "AUTOTHROTTLE_ENABLED": False, "NEWSDESK_MAX_LIST_PAGES": 100_000, "NEWSDESK_STORE_BATCH_SIZE": 100,
            "LOGSTATS_INTERVAL": 5.0}


def stop_embedded(data_dir: Path) -> None:
    from crawler.store.embedded import EmbeddedServer

    EmbeddedServer().stop(data_dir)


def write_result(name: str, result: dict[str, Any]) -> Path:
    out = ROOT / "bench" / "results" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    return out
