"""CPU cost per article of each stage of the pipeline, one thread, no Scrapy, no database.

Run: .venv/bin/python bench/stages_bench.py [--articles 300] [--outlets joongdo,jnilbo,busan]

The end-to-end profile (bench/throughput_bench.py --profile) samples wall time on the reactor
thread, where the store's writer thread and the lookup thread take the GIL now and then, so its
per-function times are blurred. Here each stage runs alone over the same simulated pages
(crawler/devtools/simulator, the families' real templates): the page object (decode, parse, extract),
normalize, places, validate, dedup (story signature and index assignment, against an index holding the
articles before it), the store pipeline's item-to-document step, and BSON encoding (what the
writer thread does before the database sees anything). Also times parsel's parse of the same
pages, the cost a bare Scrapy crawl with CSS extraction pays, as the yardstick.
Writes bench/results/stages.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import bson  # noqa: E402

from bench.crawl_common import write_result  # noqa: E402
from crawler.devtools.simulator import NewsConfig, Simulator  # noqa: E402


def timed(label: str, items: list[Any], func: Callable[[Any], Any], repeat: int = 3) -> tuple[float, list[Any]]:
    """Best-of-`repeat` milliseconds per item, and the outputs of the last pass."""
    best = float("inf")
    out: list[Any] = []
    for _ in range(repeat):
        started = time.perf_counter()
        out = [func(x) for x in items]
        best = min(best, (time.perf_counter() - started) / max(1, len(items)) * 1000)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=300, help="articles per outlet")
    parser.add_argument("--outlets", default="joongdo,jnilbo,busan")
    args = parser.parse_args()
    outlets = [o.strip() for o in args.outlets.split(",") if o.strip()]
    sim = Simulator(outlets, NewsConfig(articles=args.articles))
    pages = []
    for name, site in sim.sites.items():
        for index in range(args.articles):
            _, page = site.article(index, 0)
            pages.append((site, site.article_url(index), page))
    kb = statistics.mean(len(p.body) for _, _, p in pages) / 1024

    from parsel import Selector

    from crawler.dedup.index import StoryIndex
    from crawler.dedup.stories import signature
    from pipelines.normalize import NormalizePipeline
    from pipelines.places import PlacesPipeline
    from pipelines.store import item_to_document
    from pipelines.validate import ValidatePipeline

    results: dict[str, float] = {}
    results["parsel parse + title (yardstick)"], _ = timed(
        "parsel", pages, lambda p: Selector(text=p[2].body.decode(p[0].pages.encoding)).css("title::text").get())
    results["page object (decode, parse, extract)"], articles = timed(
        "page", pages, lambda p: p[0].spec.page_class()(url=p[1], html=p[2].body, outlet=p[0].spec,
                                                       content_type=p[2].content_type).to_article())
    normalize, validate = NormalizePipeline(), ValidatePipeline()
    results["normalize"], articles = timed("normalize", articles, normalize.process_item)
    results["places"], articles = timed("places", articles, PlacesPipeline().process_item)
    results["validate"], _ = timed("validate", articles, validate.process_item)

    def dedup_all(items: list[Any]) -> list[Any]:
        index = StoryIndex()
        for item in items:
            sig = signature(item.body or "")
            if sig is not None:
                index.assign(item.canonical_url, sig)
        return items

    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        dedup_all(articles)
        best = min(best, (time.perf_counter() - started) / len(articles) * 1000)
    results["dedup (signature + assign)"] = best
    results["store: item to document"], docs = timed("doc", articles, item_to_document)
    results["store: BSON encoding"], _ = timed("bson", docs, bson.encode)
    total = sum(v for k, v in results.items() if "yardstick" not in k)
    print(f"{len(pages)} simulated pages of {', '.join(outlets)}, {kb:.0f} KB on average; ms per article, one thread:")
    for name, ms in sorted(results.items(), key=lambda kv: -kv[1]):
        share = "" if "yardstick" in name else f"  {ms / total:5.1%}"
        print(f"  {name:40s} {ms:7.2f}{share}")
    print(f"  {'pipeline total (without Scrapy, database)':40s} {total:7.2f}")
    out = write_result("stages", {"pages": len(pages), "avg_page_kb": round(kb, 1),
                                  "ms_per_article": {k: round(v, 3) for k, v in results.items()},
                                  "total_ms": round(total, 3)})
    print(f"results in {out}")


if __name__ == "__main__":
    main()
