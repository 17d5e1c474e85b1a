"""Search quality on a judged query set: the current engine beside the one before it, same run.

Run: .venv/bin/python bench/search_quality.py [--json bench/results/search_quality.json]

Seeds a fresh SecantusDB (temporary folder) with the fixed corpus of bench/search/corpus.py
(the saved articles under tests/fixtures, 20 articles of the simulator's sentences, and the
written articles of bench/search/written.json), drains the search queue, then runs every
query of bench/search/queries.json through crawler.search.search (relevance sort) and through
the engine as it was on main (bench/search_previous/, same postings) and prints, per engine:

- P@10: relevant hits among the first min(10, returned) hits (a query with no hit scores 0);
- recall: relevant hits among all returned / relevant judged;
- nDCG@10 with binary gains;
- traps: queries returning one of their trap articles (an unrelated word holding the query's
  letters), and homographs returned (the same word in another sense, reported only);
- per query kind, and the queries that lose most.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "bench" / "search"))

from pymongo import MongoClient  # noqa: E402
from secantus import SecantusDBServer  # noqa: E402

import corpus  # noqa: E402
from crawler.search import drain, search  # noqa: E402
from crawler.store import ArticleStore  # noqa: E402
from crawler.text import korean  # noqa: E402
from search_previous.engine import search as previous_search  # noqa: E402

URL = "https://bench.search/"


def seed(db: Any) -> int:
    docs = []
    for a in corpus.articles():
        url = URL + a["id"]
        doc = {"outlet": a["outlet"], "url": url, "canonical_url": url, "title": a["title"], "subtitle": a["subtitle"],
               "body": a["body"], "published": a["published"], "region": a.get("region"), "sections": [], "authors": []}
        doc["content_hash"] = a["id"]
        docs.append(doc)
    store = ArticleStore(db)
    store.ensure_indexes()
    store.upsert_many(docs)
    drain(db)
    return len(docs)


def returned(engine: Any, db: Any, query: str) -> tuple[list[str], float]:
    started = time.perf_counter()
    ids: list[str] = []
    page = 1
    while True:
        result = engine(db, query, page=page, per_page=100)
        ids += [h.canonical_url[len(URL):] for h in result.hits]
        if page >= result.pages or not result.hits:
            break
        page += 1
    return ids, (time.perf_counter() - started) * 1000


def _with_prefix(value: int | None) -> Any:
    """The current engine with crawler.text.korean.OPEN_PREFIX_MIN set to `value`."""
    def run(db: Any, query: str, **kw: Any) -> Any:
        saved = korean.OPEN_PREFIX_MIN
        korean.OPEN_PREFIX_MIN = value
        korean.word_pattern.cache_clear()
        try:
            return search(db, query, **kw)
        finally:
            korean.OPEN_PREFIX_MIN = saved
            korean.word_pattern.cache_clear()
    return run


def scores(ids: list[str], q: dict[str, Any]) -> dict[str, float]:
    relevant = set(q["relevant"])
    top = ids[:10]
    p10 = sum(i in relevant for i in top) / len(top) if top else 0.0
    recall = len(relevant & set(ids)) / len(relevant)
    dcg = sum(1 / math.log2(r + 2) for r, i in enumerate(top) if i in relevant)
    ideal = sum(1 / math.log2(r + 2) for r in range(min(10, len(relevant))))
    return {"p10": p10, "recall": recall, "ndcg10": dcg / ideal if ideal else 0.0,
            "trap": float(bool(set(q["traps"]) & set(ids))), "homographs": float(len(set(q["homographs"]) & set(ids)))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "search_quality.json")
    parser.add_argument("--variants", action="store_true",
                        help="also score the word rule's alternatives (no compound prefixes; prefixes from 4 letters)")
    args = parser.parse_args()
    queries = json.loads((ROOT / "bench" / "search" / "queries.json").read_text("utf-8"))["queries"]
    engines: dict[str, Any] = {"previous": lambda db, q, **kw: previous_search(db, q, **kw)}
    if args.variants:  # the alternatives measured for crawler.text.korean.OPEN_PREFIX_MIN
        for label, value in (("eojeol, strict", None), ("eojeol, prefix>=4", 4)):
            engines[label] = _with_prefix(value)
    engines["current"] = _with_prefix(korean.OPEN_PREFIX_MIN)
    per_query: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        server = SecantusDBServer(host="127.0.0.1", port=0, storage_path=folder, replica_set_name=None)
        server.start()
        try:
            client: MongoClient[dict[str, Any]] = MongoClient(server.uri, tz_aware=True, tzinfo=timezone.utc)
            db = client.quality
            n = seed(db)
            print(f"corpus: {n} articles; {len(queries)} judged queries")
            for q in queries:
                row: dict[str, Any] = {"q": q["q"], "kind": q["kind"], "relevant": len(q["relevant"])}
                for name, engine in engines.items():
                    ids, ms = returned(engine, db, q["q"])
                    row[name] = {**scores(ids, q), "ms": ms, "returned": len(ids),
                                 "missed": sorted(set(q["relevant"]) - set(ids)),
                                 "wrong": [i for i in ids[:10] if i not in q["relevant"]]}
                per_query.append(row)
        finally:
            server.stop()

    metrics = ("p10", "recall", "ndcg10")
    summary: dict[str, Any] = {}
    for name in engines:
        summary[name] = {m: round(statistics.mean(r[name][m] for r in per_query), 3) for m in metrics}
        trap_queries = [r for r in per_query if any(q["traps"] for q in queries if q["q"] == r["q"])]
        summary[name]["trap_queries"] = len(trap_queries)
        summary[name]["trap_queries_failed"] = [r["q"] for r in trap_queries if r[name]["trap"]]
        summary[name]["homographs_returned"] = int(sum(r[name]["homographs"] for r in per_query))
        summary[name]["median_ms"] = round(statistics.median(r[name]["ms"] for r in per_query), 1)
    kinds: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in per_query:
        kinds[r["kind"]].append(r)

    print(f"\n{'':24}{'P@10':>8}{'recall':>8}{'nDCG@10':>9}  trap queries failed")
    for name in engines:
        s = summary[name]
        print(f"{name:24}{s['p10']:8.3f}{s['recall']:8.3f}{s['ndcg10']:9.3f}  "
              f"{len(s['trap_queries_failed'])} of {s['trap_queries']}  (homographs returned: {s['homographs_returned']}, "
              f"median {s['median_ms']} ms/query)")
    print(f"\n{'kind':14}{'n':>4}  " + "  ".join(f"{name + ' P/R/nDCG':>26}" for name in engines))
    for kind, rows in kinds.items():
        cells = []
        for name in engines:
            cells.append(" / ".join(f"{statistics.mean(r[name][m] for r in rows):.2f}" for m in metrics))
        print(f"{kind:14}{len(rows):4}  " + "  ".join(f"{c:>26}" for c in cells))
    print("\ncurrent engine, queries below 1.0 recall or P@10:")
    for r in per_query:
        c = r["current"]
        if c["recall"] < 1 or c["p10"] < 1 or c["trap"]:
            print(f"  {r['q']:16} P@10 {c['p10']:.2f} recall {c['recall']:.2f} missed {c['missed']} wrong {c['wrong']}")
    targets = summary["current"]
    met = targets["p10"] >= 0.9 and targets["recall"] >= 0.95 and not targets["trap_queries_failed"]
    print(f"\ntargets (P@10 >= 0.9, recall >= 0.95, no trap article returned): {'met' if met else 'NOT met'}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"summary": summary, "queries": per_query}, ensure_ascii=False, indent=1) + "\n")


if __name__ == "__main__":
    main()
