"""A long crawl: pages/s and peak RSS over 100k articles, plotted; store rate at that size.

Run: .venv/bin/python bench/soak_bench.py [--articles 100000] [--outlets busan] [--search]

The simulator writes `--articles` articles spread over `--outlets` (list pages of 100, full
RSS feeds) as static files behind nginx, and one full-pipeline crawl (`crawl_outlets`, as
`newsdesk crawl` runs it, 64 concurrent requests in all, list paging unbounded) stores them
into the embedded database. One outlet by default, as a scheduled crawl (one outlet per
process) runs; several outlets share the process's one story index. The parent samples the
crawl process's RSS every second (and that of the crawl with its descendant processes: parse
workers, search drain; bench/crawl_common.py) and its logged page counts every
5 s. Reports:
- pages/s over the crawl, and RSS over the crawl (bench/results/soak.png, linked from README);
- peak RSS up to 10k articles, up to 20k and up to the end (the baseline is the 10k peak;
  target: growth < 20%), for the crawl process and for its process tree (the embedded
  database, started detached, apart), and the story index's size at the end (newsdesk/dedup/index_*: held,
  evicted, estimated MB; bounded by NEWSDESK_STORY_INDEX_MAX_ARTICLES, `--set` to change it);
- store rate at the end: bulk upserts/s of 2,000 new articles into the filled collection, in
  batches of 100 as the store pipeline writes them, against the same into an empty one;
- with `--trace-memory A,B`, what grows in the crawl process between the A-th and the B-th
  article: tracemalloc snapshots taken there (MemoryProbe, an extension of this module; the
  crawl runs slower traced), the top allocation sites by growth, in bytes per article
  (bench/results/soak_memory.json);
- with `--heap N`, where the crawl process's memory is every N articles (HeapProbe, cheap
  enough to leave the pace alone): glibc's main heap (in use, free) and mapped blocks,
  pymalloc's blocks, anonymous RSS, the garbage collector's objects by type
  (bench/results/soak_heap.jsonl);
- with `--search`, runs the search benchmark (bench/search_bench.py, its own 100k-article
  database) and copies its latency figures in.
Writes bench/results/soak.json (samples under "samples").
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from copy import deepcopy
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.crawl_common import FULL, bench_env, concurrency_settings, crawl, stop_embedded, write_result  # noqa: E402
from crawler.devtools.simulator import NewsConfig, Simulator  # noqa: E402
from crawler.devtools.simulator.static import NginxSite  # noqa: E402


class MemoryProbe:
    """A Scrapy extension for `--trace-memory`: tracemalloc snapshots at two article counts,
    and the allocation sites that grew between them, written as JSON."""

    def __init__(self, marks: list[int], out: str, frames: int = 8) -> None:
        import tracemalloc

        self.marks, self.out, self.items, self.first = marks, out, 0, None
        tracemalloc.start(frames)

    @classmethod
    def from_crawler(cls, crawler):
        from scrapy import signals

        probe = cls([int(m) for m in crawler.settings.getlist("SOAK_TRACE_MARKS")], crawler.settings.get("SOAK_TRACE_OUT"))
        crawler.signals.connect(probe.item_scraped, signal=signals.item_scraped)
        return probe

    def item_scraped(self, item, response=None, spider=None) -> None:
        import tracemalloc

        self.items += 1
        if self.items == self.marks[0]:
            self.first = self._snapshot()
        elif self.items == self.marks[1] and self.first is not None:
            second = self._snapshot()
            per = self.marks[1] - self.marks[0]
            report = {"marks": self.marks, "traced_mb": round(tracemalloc.get_traced_memory()[0] / 2**20, 1)}
            for key in ("filename", "lineno", "traceback"):
                top = second.compare_to(self.first, key)[:25]
                report[key] = [{"bytes_per_article": round(s.size_diff / per, 1), "count_diff": s.count_diff,
                                "mb": round(s.size / 2**20, 2),
                                "where": [f"{f.filename}:{f.lineno}" for f in s.traceback][-8 if key == "traceback" else -1:]}
                               for s in top]
            report["total_bytes_per_article"] = round(sum(s.size_diff for s in second.compare_to(self.first, "filename")) / per, 1)
            Path(self.out).write_text(json.dumps(report, indent=1), encoding="utf-8")
            tracemalloc.stop()

    @staticmethod
    def _snapshot():
        import tracemalloc

        return tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])


class HeapProbe:
    """A Scrapy extension for `--heap`: every `SOAK_HEAP_EVERY` articles, where the crawl
    process's memory is, cheaply enough to leave the crawl's pace alone: glibc's main heap
    (mallinfo2: in use, free but kept, mmapped), pymalloc's blocks, the garbage collector's
    objects by type (the most numerous), anonymous and file-backed RSS (/proc/self/status).
    Written as JSON lines to SOAK_HEAP_OUT; growth between two lines, per article, says which
    kind of memory grows."""

    def __init__(self, every: int, out: str) -> None:
        self.every, self.out, self.items = every, out, 0
        self._mallinfo = None
        try:
            import ctypes

            class Mallinfo2(ctypes.Structure):
                _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                                                                  "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

            libc = ctypes.CDLL("libc.so.6")
            libc.mallinfo2.restype = Mallinfo2
            self._mallinfo = libc.mallinfo2
        except (OSError, AttributeError):  # not glibc (or older than 2.33): the rest is still written
            pass
        Path(out).write_text("", encoding="utf-8")

    @classmethod
    def from_crawler(cls, crawler):
        from scrapy import signals

        probe = cls(crawler.settings.getint("SOAK_HEAP_EVERY", 5000), crawler.settings.get("SOAK_HEAP_OUT"))
        crawler.signals.connect(probe.item_scraped, signal=signals.item_scraped)
        return probe

    def item_scraped(self, item, response=None, spider=None) -> None:
        self.items += 1
        if self.items % self.every == 0:
            self.write()

    def write(self) -> None:
        import gc
        from collections import Counter

        line: dict[str, Any] = {"items": self.items, "pymalloc_blocks": sys.getallocatedblocks()}
        if self._mallinfo is not None:
            info = self._mallinfo()
            line.update(heap_mb=round(info.arena / 2**20, 1), in_use_mb=round(info.uordblks / 2**20, 1),
                        free_mb=round(info.fordblks / 2**20, 1), mmapped_mb=round(info.hblkhd / 2**20, 1),
                        top_free_mb=round(info.keepcost / 2**20, 1))
        for row in Path("/proc/self/status").read_text().splitlines():
            if row.startswith(("RssAnon", "RssFile", "VmRSS")):
                name, value = row.split(":", 1)
                line[name] = round(int(value.split()[0]) / 1024, 1)
        counts = Counter(type(o).__name__ for o in gc.get_objects())
        line["objects"] = sum(counts.values())
        line["types"] = dict(counts.most_common(25))
        with open(self.out, "a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")


def store_rate(uri: str, db_name: str, sample: list[dict], count: int = 2000) -> float:
    """Upserts/s of `count` new documents (copies of stored ones under new URLs), batches of 100."""
    from crawler.store import ArticleStore, get_client

    client = get_client(uri)
    try:
        store = ArticleStore(client[db_name])
        store.ensure_indexes()
        docs = []
        for n in range(count):
            doc = deepcopy(sample[n % len(sample)])
            for key in ("_id", "first_seen", "last_seen", "search_indexed", "aliases"):
                doc.pop(key, None)
            doc["canonical_url"] = doc["url"] = f"{doc['canonical_url']}&bench={n}"
            doc["content_hash"] = f"bench{n}"
            docs.append(doc)
        started = time.perf_counter()
        for i in range(0, len(docs), 100):
            store.upsert_many(docs[i:i + 100], now=datetime.now(timezone.utc))
        return count / (time.perf_counter() - started)
    finally:
        client.close()


def plot(samples: list[dict], out: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = [s["t"] / 60 for s in samples]
    rss = [s["rss_mb"] for s in samples]
    points = [(s["t"], s["pages"]) for s in samples]
    rate_t, rate = [], []
    for (t0, p0), (t1, p1) in zip(points, points[10:]):  # pages/s over a sliding 10 s
        if t1 > t0:
            rate_t.append(t1 / 60)
            rate.append((p1 - p0) / (t1 - t0))
    fig, ax1 = plt.subplots(figsize=(9, 4.5), dpi=110)
    ax1.plot(rate_t, rate, color="tab:blue", linewidth=1)
    ax1.set_xlabel("minutes")
    ax1.set_ylabel("pages/s (10 s window)", color="tab:blue")
    ax1.set_ylim(bottom=0)
    ax2 = ax1.twinx()
    ax2.plot(t, rss, color="tab:red", linewidth=1.5, label="crawl process")
    if any("tree_rss_mb" in s for s in samples):
        ax2.plot(t, [s.get("tree_rss_mb", 0.0) for s in samples], color="tab:orange", linewidth=1, linestyle="--",
                 label="crawl + descendant processes")
        ax2.legend(loc="lower right", fontsize="small")
    ax2.set_ylabel("RSS (MB)", color="tab:red")
    ax2.set_ylim(bottom=0)
    ax1.set_title(title)
    fig.tight_layout()
    fig.savefig(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=100_000, help="articles in all")
    parser.add_argument("--outlets", default="busan", help="comma-separated simulated outlets")
    parser.add_argument("--port", type=int, default=18300)
    parser.add_argument("--search", action="store_true", help="also run bench/search_bench.py and copy its figures")
    parser.add_argument("--trace-memory", metavar="A,B", help="tracemalloc growth between the A-th and B-th article")
    parser.add_argument("--heap", type=int, metavar="N", help="every N articles, where the crawl's memory is"
                        " (HeapProbe: bench/results/soak_heap.jsonl)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a Scrapy setting for the crawl (repeatable), e.g. NEWSDESK_STORY_INDEX_MAX_ARTICLES=5000")
    args = parser.parse_args()
    outlets = [o.strip() for o in args.outlets.split(",") if o.strip()]
    per_outlet = args.articles // len(outlets)
    sim = Simulator(outlets, NewsConfig(articles=per_outlet), page_size=100)
    overrides = concurrency_settings(len(outlets))
    for item in args.set:
        name, _, value = item.partition("=")
        overrides[name.strip()] = json.loads(value) if value.strip()[:1] in "0123456789-[{tf" else value
    memory_out = ROOT / "bench" / "results" / "soak_memory.json"
    if args.trace_memory:
        memory_out.unlink(missing_ok=True)
        import settings.base  # the project's extensions stay (a setting given here replaces the dict)

        overrides.update(EXTENSIONS={**settings.base.EXTENSIONS, "bench.soak_bench.MemoryProbe": 0}, SOAK_TRACE_OUT=str(memory_out),
                         SOAK_TRACE_MARKS=[int(m) for m in args.trace_memory.split(",")])
    if args.heap:
        import settings.base

        extensions = overrides.get("EXTENSIONS", settings.base.EXTENSIONS)
        overrides.update(EXTENSIONS={**extensions, "bench.soak_bench.HeapProbe": 0}, SOAK_HEAP_EVERY=args.heap,
                         SOAK_HEAP_OUT=str(ROOT / "bench" / "results" / "soak_heap.jsonl"))
    with tempfile.TemporaryDirectory(prefix="newsdesk-soak-") as tmp:
        work = Path(tmp)
        site = NginxSite(sim, work / "nginx", args.port)
        started = time.monotonic()
        site.write()
        print(f"wrote {per_outlet * len(outlets)} articles of {len(outlets)} outlets in {time.monotonic() - started:.0f} s")
        data = work / "data"
        env = bench_env(data)
        with site:
            try:
                run = crawl(FULL, site.base_urls, env, overrides, work / "logs")
                from crawler.store import EmbeddedServer

                uri = EmbeddedServer().ensure_running(data)
                from crawler.store import get_client

                with get_client(uri) as client:
                    stored = client["bench"].articles.count_documents({})
                    sample = list(client["bench"].articles.find({}, {"minhash": 0}).limit(50))
                filled = store_rate(uri, "bench", sample)
                empty = store_rate(uri, "bench_empty", sample)
            finally:
                stop_embedded(data)
    samples = run.samples
    # while articles still arrive (what the crawl holds per article), apart from what runs once
    # the last ones are in (the search indexing at the crawl's end, crawler/crawl/extensions/search_index.py)
    last_items = max(s["items"] for s in samples)

    def peaks(key: str, overall: float) -> dict[str, float]:
        """Peak of one RSS series up to 10k and 20k articles, at the end, while articles arrive."""
        def up_to(items: int) -> float:
            return max([s.get(key, 0.0) for s in samples if s["items"] <= items] or [samples[0].get(key, 0.0)])

        crawling = max([s.get(key, 0.0) for s in samples if s["items"] < last_items] or [overall])
        at_10k = up_to(10_000)
        return {"at_10k": at_10k, "at_20k": up_to(20_000), "at_end": overall, "while_crawling": crawling,
                "growth": round(overall / at_10k - 1, 3) if at_10k else 0.0,
                "growth_20k_to_end": round(overall / up_to(20_000) - 1, 3) if up_to(20_000) else 0.0,
                "crawling_growth": round(crawling / at_10k - 1, 3) if at_10k else 0.0}

    crawl_peaks = peaks("rss_mb", run.peak_rss_mb)
    tree_peaks = peaks("tree_rss_mb", run.peak_tree_rss_mb)
    peak_10k, peak_20k, peak_all = crawl_peaks["at_10k"], crawl_peaks["at_20k"], crawl_peaks["at_end"]
    peak_crawling = crawl_peaks["while_crawling"]
    dedup = {key.split("/")[-1]: value for stats in run.stats.values() for key, value in stats.items()
             if key.startswith("newsdesk/dedup/index")}
    result = {
        "outlets": outlets, "articles": per_outlet * len(outlets), "stored": stored, "settings": args.set,
        "pages": run.pages, "crawl_seconds": round(run.crawl_seconds, 1),
        "pages_per_second": round(run.pages_per_second, 1),
        "peak_rss_mb_at_10k": peak_10k, "peak_rss_mb_at_20k": peak_20k, "peak_rss_mb_at_end": peak_all,
        "peak_rss_mb_while_crawling": peak_crawling, "crawling_growth": round(peak_crawling / peak_10k - 1, 3),
        "rss_growth": round(peak_all / peak_10k - 1, 3), "target_growth": 0.2,
        "rss_growth_20k_to_end": crawl_peaks["growth_20k_to_end"],
        # the crawl process and its descendants (parse workers, search drain)
        "peak_tree_rss_mb_at_10k": tree_peaks["at_10k"], "peak_tree_rss_mb_at_20k": tree_peaks["at_20k"],
        "peak_tree_rss_mb_at_end": tree_peaks["at_end"], "peak_tree_rss_mb_while_crawling": tree_peaks["while_crawling"],
        "tree_rss_growth": tree_peaks["growth"], "tree_rss_growth_20k_to_end": tree_peaks["growth_20k_to_end"],
        "tree_crawling_growth": tree_peaks["crawling_growth"],
        # the embedded database server: started detached, so not in the tree's figure
        "peak_database_rss_mb": run.peak_database_rss_mb, "database_is_descendant": run.database_is_descendant,
        "dedup_index": dedup,
        "store_upserts_per_s_filled": round(filled, 1), "store_upserts_per_s_empty": round(empty, 1),
        "store_rate_ratio": round(filled / empty, 3),
        "samples": samples,
    }
    if args.search:
        proc = subprocess.run([sys.executable, str(ROOT / "bench" / "search_bench.py")], cwd=ROOT, capture_output=True,
                              text=True, timeout=7200)
        print(proc.stdout[-2000:])
        search = ROOT / "bench" / "results" / "search.json"
        if proc.returncode == 0 and search.exists():
            result["search"] = json.loads(search.read_text(encoding="utf-8"))
    out = write_result("soak", result)
    png = ROOT / "bench" / "results" / "soak.png"
    plot(samples, png, f"full pipeline, {result['articles']:,} articles of {len(outlets)} outlets, nginx on 127.0.0.1")
    print(f"{run.pages} pages in {run.crawl_seconds:.0f} s = {run.pages_per_second:.1f} pages/s; {stored} stored")
    for name, figures in (("crawl process", crawl_peaks), ("process tree (crawl + descendants)", tree_peaks)):
        print(f"{name}: peak RSS {figures['at_10k']:.0f} MB up to 10k articles, {figures['at_20k']:.0f} MB up to 20k,"
              f" {figures['at_end']:.0f} MB at {result['articles']:,}: growth {figures['growth']:.0%} (target < 20%;"
              f" {figures['growth_20k_to_end']:+.0%} from 20k); while articles arrive: peak {figures['while_crawling']:.0f} MB"
              f" ({figures['crawling_growth']:+.0%})")
    print(f"the figures at the end include what runs after the last article (search indexing at the crawl's end);"
          f" database server (detached{', found among the descendants' if run.database_is_descendant else ''},"
          f" not in the tree): peak {run.peak_database_rss_mb:.0f} MB")
    print(f"story index at the end: {dedup}")
    if args.trace_memory and memory_out.exists():
        report = json.loads(memory_out.read_text(encoding="utf-8"))
        print(f"grew between articles {report['marks']}: {report['total_bytes_per_article']:.0f} bytes per article; top sites:")
        for row in report["lineno"][:15]:
            print(f"  {row['bytes_per_article']:8.0f} B/article  {row['mb']:7.1f} MB  {row['where'][-1]}")
    heap_out = ROOT / "bench" / "results" / "soak_heap.jsonl"
    if args.heap and heap_out.exists():
        print("crawl process memory (MB) by articles: RSS, anonymous RSS, glibc main heap in use / free, mapped blocks;"
              " pymalloc blocks")
        for row in (json.loads(line) for line in heap_out.read_text(encoding="utf-8").splitlines() if line.strip()):
            print(f"  {row['items']:>7,}  {row.get('VmRSS', 0):6.1f}  {row.get('RssAnon', 0):6.1f}  {row.get('in_use_mb', 0):6.1f}"
                  f" / {row.get('free_mb', 0):5.1f}  {row.get('mmapped_mb', 0):5.1f}  {row['pymalloc_blocks']:>9,}")
    print(f"store: {filled:.0f} upserts/s into the filled collection, {empty:.0f}/s into an empty one "
          f"(ratio {filled / empty:.2f})")
    print(f"results in {out}, plot in {png}")


if __name__ == "__main__":
    main()
