"""Korean search latency at 100k articles on SecantusDB, and export rate.

Run: .venv/bin/python bench/search_bench.py [--articles 100000] [--repeat 3]

Seeds a fresh SecantusDB (temporary folder) with synthetic but realistic articles made from
the saved articles under tests/fixtures: sentences shuffled across articles, numbers and
place names varied, and a long tail of rarer words (Zipf-distributed) mixed in, over two
years of dates, 27 outlets, regions and sections; written through ArticleStore.upsert_many
in batches of 1,000, then the search queue drained (as at a crawl's end).
Then measures:
1. search latency over a mix of queries (common words, rare words, phrases, with and
   without outlet/region/section/date filters, pages 1 and 3) and the 88 judged queries of
   bench/search/queries.json (every third with an outlet, region or date filter), each as the
   dashboard asks it (with facet counts and the day histogram): median and p95, beside the
   engine before Korean-aware matching (bench/search_previous/, no facets) on the same
   queries and postings, and the baseline of the same queries as an unindexed
   case-insensitive $regex scan over a 10k subset (what a search without the index costs on
   a tenth of the data); the index's bytes per article;
2. write cost of the index: upsert rate with and without indexing (queue and drain), on 5,000 articles;
3. export rate (rows/s) of JSONL, CSV and Parquet over a three-month range.
Writes bench/results/search.json.

`--drain` measures the search queue's drain instead (crawler/search/queue.py): `--drain-articles`
of the simulator's articles queued by ArticleStore.upsert_many in batches of 100 (as a crawl's store writes them),
then indexed (a) as the write path did before the queue, one segment per batch of 100 with its
tiered merges, and (b) by `drain` at each `--segments` size; client CPU (this process) and the
database server's CPU (SecantusDB in a process of its own) per article, and articles/s.
Writes bench/results/search_drain.json.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pymongo import MongoClient  # noqa: E402
from secantus import SecantusDBServer  # noqa: E402

from crawler.search import Filters, drain, search  # noqa: E402
from crawler.search.export import export_articles  # noqa: E402
from crawler.store import ArticleStore  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from search_previous.engine import search as previous_search  # noqa: E402

OUTLETS = ["joongdo", "daejonilbo", "ggilbo", "cctoday", "incheonilbo", "kyeonggi", "kwnews", "kado", "imaeil",
           "idaegu", "busan", "kookje", "knnews", "ksilbo", "kwangju", "jnilbo", "namdonews", "jjan", "jbnews",
           "ccdailynews", "jejunews", "ihalla", "kyongbuk", "gndomin", "gjdream", "sjbnews", "dynews"]
REGIONS = ["대전", "세종", "충남", "충북", "인천", "경기", "강원", "대구", "경북", "부산", "울산", "경남", "광주", "전남",
           "전북", "제주", "서울"]
SECTIONS = ["정치", "경제", "사회", "문화", "스포츠", "교육", "지역", "오피니언", "국제", "생활"]
START = datetime(2024, 1, 1, tzinfo=timezone.utc)
DAYS = 730


def corpus() -> tuple[list[str], list[str]]:
    """Sentences and titles of the saved articles."""
    sentences: list[str] = []
    titles: list[str] = []
    for path in sorted((ROOT / "tests" / "fixtures").glob("*/*.json")):
        expected = json.loads(path.read_text(encoding="utf-8")).get("expected")
        if not expected or not expected.get("body"):
            continue
        titles.append(expected["title"])
        for sentence in re.split(r"(?<=[.다])\s+", expected["body"]):
            if len(sentence.strip()) > 15:
                sentences.append(sentence.strip())
    return sentences, titles


def lexicon(rng: random.Random, size: int = 30000) -> list[str]:
    """Made-up two-to-four-syllable words: the long tail of names and terms real news has."""
    syllables = [chr(c) for c in range(0xAC00, 0xD7A4, 3)]
    return ["".join(rng.choice(syllables) for _ in range(rng.choice((2, 2, 3, 3, 4)))) for _ in range(size)]


def make_articles(count: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    sentences, titles = corpus()
    words = lexicon(rng)
    particles = ["은", "는", "이", "가", "을", "를", "의", "에", "에서", "와", ""]
    articles = []
    for i in range(count):
        body_sentences = rng.sample(sentences, rng.randint(5, 14))
        region = rng.choice(REGIONS)
        paragraphs = []
        for sentence in body_sentences:
            tokens = sentence.split()
            for _ in range(rng.randint(0, 3)):
                rank = min(len(words) - 1, int(rng.paretovariate(0.9)) - 1)
                tokens.insert(rng.randrange(len(tokens) + 1), words[rank] + rng.choice(particles))
            text = " ".join(tokens)
            text = re.sub(r"\d+", lambda m: str(rng.randint(1, 999)), text)
            paragraphs.append(text)
        body = f"{region}=기자 " + "\n\n".join(paragraphs)
        base_title = rng.choice(titles).split("…")[0]
        title = f"{base_title} {words[rng.randrange(2000)]}" if rng.random() < 0.7 else f"{region} {base_title}"
        published = START + timedelta(seconds=int(DAYS * 86400 * i / count) + rng.randint(0, 3600))
        articles.append({
            "outlet": rng.choice(OUTLETS), "url": f"https://news.example/{i}", "canonical_url": f"https://news.example/{i}",
            "title": title, "body": body, "subtitle": None, "sections": [rng.choice(SECTIONS)], "published": published,
            "authors": ["홍길동"], "region": region, "content_hash": f"h{i}", "body_hash": f"b{i}",
        })
    return articles


def seed(db: Any, articles: list[dict[str, Any]], *, search_index: bool = True, batch: int = 1000) -> float:
    store = ArticleStore(db, search=search_index)
    store.ensure_indexes()
    started = time.perf_counter()
    for start in range(0, len(articles), batch):
        store.upsert_many(articles[start : start + batch])
        done = min(len(articles), start + batch)
        if done % 10000 == 0:
            print(f"  seeded {done} ({done / (time.perf_counter() - started):.0f}/s)", flush=True)
    if search_index:
        drain(db)  # what the crawl's end does (crawler/search/queue.py)
    return len(articles) / (time.perf_counter() - started)


def drain_bench(count: int, sizes: list[int]) -> dict[str, Any]:
    """Per-article cost of indexing `count` queued articles: in batches of 100 vs drain(segment)."""
    import resource

    import psutil

    from crawler.search import SearchIndex, drain
    from crawler.search.index import SOURCE_FIELDS
    from crawler.store.embedded import EmbeddedServer

    articles = simulated_articles(count)
    arms: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        uri = EmbeddedServer().ensure_running(Path(folder))
        server = psutil.Process(int(json.loads((Path(folder) / "secantus.json").read_text(encoding="utf-8"))["pid"]))
        client: MongoClient[dict[str, Any]] = MongoClient(uri, tz_aware=True, tzinfo=timezone.utc)
        try:
            for arm in ["batches of 100", *[f"drain {n}" for n in sorted(sizes)]]:  # RSS peaks grow in this order
                db = client[f"drain_{arm.replace(' ', '_')}"]
                store = ArticleStore(db)
                store.ensure_indexes()
                for start in range(0, count, 100):
                    store.upsert_many(articles[start : start + 100])
                batches = []
                if arm == "batches of 100":  # the old write path had the documents in hand: so does this arm
                    for entry in db.search_queue.find().sort("created", 1):
                        batches.append(list(db.articles.find({"_id": {"$in": entry["ids"]}}, SOURCE_FIELDS)))
                cpu0, server0, wall0 = time.process_time(), _cpu(server), time.perf_counter()
                if arm == "batches of 100":
                    index = SearchIndex(db)
                    for docs in batches:
                        index.mark_indexed(db.articles, index.add(docs))
                    indexed = sum(len(b) for b in batches)
                else:
                    indexed = drain(db, segment_articles=int(arm.split()[1])).indexed
                cpu, server_cpu, wall = time.process_time() - cpu0, _cpu(server) - server0, time.perf_counter() - wall0
                arms[arm] = {"articles": indexed, "seconds": round(wall, 2), "articles_per_s": round(indexed / wall),
                             "client_cpu_ms_per_article": round(cpu / indexed * 1000, 2),
                             "server_cpu_ms_per_article": round(server_cpu / indexed * 1000, 2),
                             "segments_left": db.search_segments.count_documents({}),
                             "peak_rss_mb_so_far": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
                print(f"  {arm:15} {indexed} articles in {wall:5.1f} s ({indexed / wall:4.0f}/s): CPU ms/article "
                      f"client {cpu / indexed * 1000:.2f}, database {server_cpu / indexed * 1000:.2f}; "
                      f"{arms[arm]['segments_left']} segments left; peak RSS so far {arms[arm]['peak_rss_mb_so_far']} MB",
                      flush=True)
                client.drop_database(db.name)
        finally:
            client.close()
            EmbeddedServer().stop(Path(folder))
    return {"articles": count, "arms": arms}


def simulated_articles(count: int) -> list[dict[str, Any]]:
    """The simulator's articles (crawler/devtools/simulator, what bench/throughput_bench.py crawls: ~2,600
    characters, ~1,300 distinct terms each; make_articles' are a quarter of that)."""
    from crawler.devtools.simulator.corpus import News, NewsConfig

    outlets = ["joongdo", "jnilbo", "busan"]
    news = News(NewsConfig(articles=count // len(outlets) + 1), start=START)
    docs = []
    for i in range(count):
        a = news.article(outlets[i % len(outlets)], i // len(outlets))
        url = f"https://{a.outlet}.example/{a.index}"
        docs.append({"outlet": a.outlet, "url": url, "canonical_url": url, "title": a.title,
                     "body": "\n\n".join(a.paragraphs), "published": a.published, "sections": ["사회"],
                     "content_hash": f"h{i}", "body_hash": f"b{i}"})
    return docs


def _cpu(proc: Any) -> float:
    times = proc.cpu_times()
    return float(times.user + times.system)


def queries() -> list[tuple[str, str, Filters, int]]:
    """(kind, query, filters, page)."""
    month = Filters(since=datetime(2025, 6, 1, tzinfo=timezone.utc), until=datetime(2025, 7, 1, tzinfo=timezone.utc))
    year = Filters(since=datetime(2025, 1, 1, tzinfo=timezone.utc), until=datetime(2026, 1, 1, tzinfo=timezone.utc))
    plain = Filters()
    return [
        ("common", "대전", plain, 1), ("common", "시장", plain, 1), ("common", "지원", plain, 3),
        ("common", "지역 경제", plain, 1), ("common", "예산", month, 1), ("common", "시장", Filters(outlets=("joongdo",)), 1),
        ("mid", "전통시장", plain, 1), ("mid", "온누리상품권", plain, 1), ("mid", "공장 화재", plain, 1),
        ("mid", "임시회", year, 1), ("mid", "추석 연휴", Filters(regions=("대전",)), 1),
        ("mid", "교육청", Filters(sections=("교육",)), 1),
        ("rare", "RARE1", plain, 1), ("rare", "RARE2", plain, 1), ("rare", "RARE3 RARE4", plain, 1),
        ("rare", "RARE1", month, 1), ("rare", "KTX", plain, 1),
        ("phrase", '"전통시장 온누리상품권"', plain, 1), ('phrase', '"본회의를 시작으로"', plain, 1),
        ("phrase", '"추석 연휴"', year, 1), ("phrase", '"대전시의회"', Filters(outlets=("joongdo", "busan")), 1),
        ("one-syllable", "불", plain, 1),
    ]


def judged_queries() -> list[tuple[str, str, Filters, int]]:
    """The judged queries of bench/search/queries.json, every third with a filter as an
    analyst narrows: an outlet, a region, or a year."""
    judged = json.loads((ROOT / "bench" / "search" / "queries.json").read_text(encoding="utf-8"))["queries"]
    year = Filters(since=datetime(2025, 1, 1, tzinfo=timezone.utc), until=datetime(2026, 1, 1, tzinfo=timezone.utc))
    narrowing = [Filters(), Filters(), Filters(outlets=("joongdo", "daejonilbo")), Filters(), Filters(),
                 Filters(regions=("대전", "세종")), Filters(), Filters(), year]
    return [(f"judged-{q['kind']}", q["q"], narrowing[i % len(narrowing)], 1) for i, q in enumerate(judged)]


def regex_baseline(db: Any, articles: list[dict[str, Any]], needles: list[list[str]], repeat: int) -> list[float]:
    """Each query's words as case-insensitive $regex on title/body: a collection scan."""
    col = db.articles_regex
    col.insert_many([{k: a[k] for k in ("title", "body", "published", "outlet")} for a in articles])
    times = []
    for words in needles:
        query = {"$and": [{"$or": [{"title": {"$regex": re.escape(w), "$options": "i"}},
                                   {"body": {"$regex": re.escape(w), "$options": "i"}}]} for w in words]}
        for _ in range(repeat):
            started = time.perf_counter()
            list(col.find(query, {"title": 1}).limit(20))
            times.append((time.perf_counter() - started) * 1000)
    return times


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--drain", action="store_true", help="measure the search queue's drain instead")
    parser.add_argument("--drain-articles", type=int, default=8000)
    parser.add_argument("--segments", default="500,1000,2000,4000,8000", help="drain segment sizes to compare")
    args = parser.parse_args()
    if args.drain:
        print(f"indexing {args.drain_articles} queued articles (CPU time; the database server runs apart):")
        result = drain_bench(args.drain_articles, [int(n) for n in args.segments.split(",")])
        out = ROOT / "bench" / "results" / "search_drain.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
        print(f"results in {out}")
        return
    articles = make_articles(args.articles)
    counts = Counter(w for a in articles[:20000] for w in a["body"].split())
    rare_words = [w for w, n in counts.items() if 2 <= n <= 5 and len(w) >= 3 and all("가" <= c <= "힣" for c in w)]
    results: dict[str, Any] = {"articles": args.articles}
    with tempfile.TemporaryDirectory() as folder:
        server = SecantusDBServer(host="127.0.0.1", port=0, storage_path=folder, replica_set_name=None)
        server.start()
        try:
            client: MongoClient[dict[str, Any]] = MongoClient(server.uri, tz_aware=True, tzinfo=timezone.utc)
            sample = articles[:5000]
            plain_rate = seed(client.bench_plain, sample, search_index=False)
            indexed_rate = seed(client.bench_indexed, sample)
            results["write"] = {"upserts_per_s_without_index": round(plain_rate), "upserts_per_s_with_index": round(indexed_rate),
                                "ratio": round(indexed_rate / plain_rate, 2)}
            print(f"writes on 5,000: {plain_rate:.0f}/s without the search index, {indexed_rate:.0f}/s with it "
                  f"({indexed_rate / plain_rate:.2f}x)")
            client.drop_database("bench_plain")
            client.drop_database("bench_indexed")

            db = client.bench
            print(f"seeding {args.articles} articles ...", flush=True)
            rate = seed(db, articles)
            segments = db.search_segments.count_documents({})
            results["seed"] = {"upserts_per_s": round(rate), "segments": segments,
                               "postings_docs": db.search_postings.estimated_document_count()}
            print(f"seeded at {rate:.0f}/s; {segments} segments")

            rare = iter(random.Random(3).sample(rare_words, 4))
            picks = {f"RARE{i}": next(rare) for i in range(1, 5)}
            mix = [(kind, re.sub(r"RARE\d", lambda m: picks[m.group(0)], q), f, p) for kind, q, f, p in queries()]
            mix += judged_queries()
            for _kind, query, filters, page in mix:  # warm-up: caches, first connections
                search(db, query, filters, page=page, facets=True)
            latencies: list[float] = []
            previous_latencies: list[float] = []
            per_query = []
            for kind, query, filters, page in mix:
                times = []
                for _ in range(args.repeat):
                    started = time.perf_counter()
                    result = search(db, query, filters, page=page, facets=True)
                    times.append((time.perf_counter() - started) * 1000)
                    started = time.perf_counter()
                    previous_search(db, query, filters, page=page)
                    previous_latencies.append((time.perf_counter() - started) * 1000)
                latencies.extend(times)
                per_query.append({"kind": kind, "query": query, "filters": _describe(filters), "page": page,
                                  "total": result.total, "exact": result.total_exact, "candidates": result.candidates,
                                  "median_ms": round(statistics.median(times), 1), "timings": result.timings})
                print(f"  {kind:12} {query!r:28} {_describe(filters):24} p{page} total {result.total:>6} "
                      f"{statistics.median(times):7.1f} ms")
            median, p95 = statistics.median(latencies), percentile(latencies, 0.95)
            before_median, before_p95 = statistics.median(previous_latencies), percentile(previous_latencies, 0.95)
            index_bytes = sum(int(s.get("bytes") or 0) for s in db.search_segments.find({}, {"bytes": 1}))
            results["index_bytes_per_article"] = round(index_bytes / args.articles)
            results["previous_engine"] = {"median_ms": round(before_median, 1), "p95_ms": round(before_p95, 1)}
            print(f"previous engine (no Korean matching, no facets), same queries: median {before_median:.1f} ms, "
                  f"p95 {before_p95:.1f} ms")
            print(f"index: {index_bytes / 1e6:.1f} MB of postings, {index_bytes / args.articles:.0f} bytes per article")
            subset = articles[:10000]
            needles = [[w.strip('"') for w in re.findall(r'"[^"]+"|\S+', q)] for _k, q, _f, _p in mix]
            base = regex_baseline(client.baseline, subset, needles, 1)
            base_median = statistics.median(base)
            results["search"] = {"queries": per_query, "median_ms": round(median, 1), "p95_ms": round(p95, 1),
                                 "regex_scan_10k_median_ms": round(base_median, 1),
                                 "speedup_vs_regex_10k": round(base_median / median, 1)}
            print(f"search at {args.articles}: median {median:.1f} ms, p95 {p95:.1f} ms; unindexed $regex scan "
                  f"over 10k: median {base_median:.1f} ms ({base_median / median:.1f}x slower on a tenth of the data)")

            quarter = Filters(since=datetime(2025, 1, 1, tzinfo=timezone.utc), until=datetime(2025, 4, 1, tzinfo=timezone.utc))
            results["export"] = {}
            for fmt in ("jsonl", "csv", "parquet"):
                out = Path(folder) / f"export.{fmt}"
                started = time.perf_counter()
                rows = export_articles(db, quarter, fmt, out, bom=fmt == "csv")
                seconds = time.perf_counter() - started
                results["export"][fmt] = {"rows": rows, "rows_per_s": round(rows / seconds), "bytes": out.stat().st_size}
                print(f"export {fmt}: {rows} rows in {seconds:.1f} s ({rows / seconds:.0f} rows/s)")
        finally:
            server.stop()
    out = ROOT / "bench" / "results" / "search.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"results in {out}")


def _describe(filters: Filters) -> str:
    parts = []
    if filters.outlets:
        parts.append("outlet=" + ",".join(filters.outlets))
    if filters.regions:
        parts.append("region=" + ",".join(filters.regions))
    if filters.sections:
        parts.append("section=" + ",".join(filters.sections))
    if filters.since:
        parts.append(f"{filters.since:%Y-%m-%d}..{filters.until:%Y-%m-%d}")
    return " ".join(parts) or "-"


if __name__ == "__main__":
    main()
