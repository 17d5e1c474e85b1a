"""A long crawl: pages/s and peak RSS over 100k articles, plotted; store rate at that size.

Run: .venv/bin/python bench/soak_bench.py [--articles 100000] [--outlets busan] [--search]

The simulator writes `--articles` articles spread over `--outlets` (list pages of 100, full
RSS feeds) as static files behind nginx, and one full-pipeline crawl (`crawl_outlets`, as
`newsdesk crawl` runs it, 64 concurrent requests in all, list paging unbounded) stores them
into the embedded database. One outlet by default: a process crawling several outlets holds
one story index per outlet, each topped up with what the others store (see README), which is
not what a scheduled crawl (one outlet per process) looks like. The parent samples the crawl process's RSS every
second and its logged page counts every 5 s. Reports:
- pages/s over the crawl, and RSS over the crawl (bench/results/soak.png, linked from README);
- peak RSS up to 10k articles and up to the end (the baseline is the 10k peak; target: growth
  < 20%);
- store rate at the end: bulk upserts/s of 2,000 new articles into the filled collection, in
  batches of 100 as the store pipeline writes them, against the same into an empty one;
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.crawl_common import FULL, bench_env, concurrency_settings, crawl, stop_embedded, write_result  # noqa: E402
from crawler.simulator import NewsConfig, Simulator  # noqa: E402
from crawler.simulator.static import NginxSite  # noqa: E402


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
    ax2.plot(t, rss, color="tab:red", linewidth=1.5)
    ax2.set_ylabel("crawl process RSS (MB)", color="tab:red")
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
    args = parser.parse_args()
    outlets = [o.strip() for o in args.outlets.split(",") if o.strip()]
    per_outlet = args.articles // len(outlets)
    sim = Simulator(outlets, NewsConfig(articles=per_outlet), page_size=100)
    overrides = concurrency_settings(len(outlets))
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
    target = 10_000
    early = [s["rss_mb"] for s in samples if s["items"] <= target] or [samples[0]["rss_mb"]]
    peak_10k, peak_all = max(early), run.peak_rss_mb
    result = {
        "outlets": outlets, "articles": per_outlet * len(outlets), "stored": stored,
        "pages": run.pages, "crawl_seconds": round(run.crawl_seconds, 1),
        "pages_per_second": round(run.pages_per_second, 1),
        "peak_rss_mb_at_10k": peak_10k, "peak_rss_mb_at_end": peak_all,
        "rss_growth": round(peak_all / peak_10k - 1, 3), "target_growth": 0.2,
        "dedup_index_mb": max((s.get("newsdesk/dedup/index_peak_mb", 0) for s in run.stats.values()), default=0),
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
    print(f"peak RSS {peak_10k:.0f} MB up to 10k articles, {peak_all:.0f} MB at {result['articles']:,}: "
          f"growth {result['rss_growth']:.0%} (target < 20%)")
    print(f"store: {filled:.0f} upserts/s into the filled collection, {empty:.0f}/s into an empty one "
          f"(ratio {filled / empty:.2f})")
    print(f"results in {out}, plot in {png}")


if __name__ == "__main__":
    main()
