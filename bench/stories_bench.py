"""Story ids across crawl processes: do copies of one wire story crawled at the same time by
different processes end under one story id, and only copies of that story?

Run: .venv/bin/python bench/stories_bench.py [--outlets 6] [--articles 200] [--syndicated 0.25] [--workers 0]

The simulator (crawler/devtools/simulator) serves `--outlets` outlets of `--articles` articles
each, `--syndicated` of them copies of shared wire stories (the simulator makes articles/20
wire stories), one port per outlet on 127.0.0.1. Two shapes, into one fresh database on an
embedded SecantusDB:

- separate processes (`--workers 0`, the default): one `python -m crawler.cli crawl OUTLET
  --base-url URL` per outlet, all started at once, as the scheduler's local subprocesses run;
- `--workers N`: distributed mode, each outlet's round seeded into Redis (127.0.0.1:6379,
  database 14, a fresh key prefix) and N `newsdesk worker` processes taking requests of
  every outlet (`--worker-delay` seconds between two requests of a worker to one outlet: a
  worker with nothing to do looks at the queue only every 5 s, Scrapy's idle heartbeat, so
  without it the first worker drains a small site alone). `newsdesk worker --base-url` takes one host for all outlets and the simulator
  serves each outlet on a port of its own, so each worker runs the CLI's worker command with
  crawler.crawl.process.crawl_outlets given each outlet's own base URL (WORKER below); the
  command is otherwise the real one.

Then every stored article's URL is mapped back to the simulator's article (SimArticle.story
is the wire story it copies, or None) and the run prints: stored copies of wire stories, wire
stories, split stories (wire stories under more than one id, and the extra ids), false merges
(story ids holding copies of two wire stories, or a wire copy and an article of its own),
merges recorded in `story_merges` against the ids that had to go (each copy that started a
story under its own id, new_story_id(url), other than the one its story ended under), copies
whose `story_similarity`/`story_closest` were lost, and the wall time from the start of the
processes to the exit of the last. Writes bench/results/stories.json (an entry per shape:
`separate_processes`, `workers_N`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawler.devtools.simulator import NewsConfig, Simulator, pick_outlets

REDIS_URL = "redis://127.0.0.1:6379/14"

# `newsdesk worker OUTLET...` with each outlet's own simulator port (see the docstring).
WORKER = """
import json, sys
import crawler.crawl.process as process
bases = json.loads(sys.argv[1])
crawl_outlets = process.crawl_outlets
def per_outlet(outlets, **kwargs):
    kwargs["base_urls"] = {name: bases[name] for name in outlets}
    return crawl_outlets(outlets, **kwargs)
process.crawl_outlets = per_outlet
sys.argv = ["newsdesk", "worker", *bases, *sys.argv[2:]]
from crawler.cli.main import main
main()
"""


def crawl_separately(sim: Simulator, env: dict[str, str], logs: Path, timeout: float) -> dict[str, Any]:
    """One `newsdesk crawl OUTLET --base-url URL` per outlet, all started at once."""
    logs.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    procs = {
        name: subprocess.Popen([sys.executable, "-m", "crawler.cli", "crawl", name, "--base-url", url],
                               env=env, cwd=ROOT, stdout=(logs / f"{name}.out").open("wb"), stderr=subprocess.STDOUT)
        for name, url in sim.base_urls.items()
    }
    ends = _wait(procs, started, timeout)
    return {"seconds": round(time.monotonic() - started, 2), "exit_codes": {n: p.returncode for n, p in procs.items()},
            "process_seconds": ends}


def crawl_with_workers(sim: Simulator, env: dict[str, str], logs: Path, workers: int, timeout: float,
                       server: Any, db: Any, delay: float = 0.1) -> dict[str, Any]:
    """Each outlet's round seeded into Redis (env's NEWSDESK_REDIS_PREFIX), then `workers`
    worker processes until they exit idle (env's NEWSDESK_WORKER_MAX_IDLE_SECONDS)."""
    import importlib

    from crawler.config import project_settings
    from crawler.distributed.seed import seed_outlet
    from crawler.store.runs import RunStore

    logs.mkdir(parents=True, exist_ok=True)
    saved = dict(os.environ)
    os.environ.update(env)
    try:  # the settings modules read the prefix from the environment at import
        settings = project_settings()
        settings.setmodule(importlib.reload(importlib.import_module("settings.distributed")), priority="project")
    finally:
        os.environ.clear()
        os.environ.update(saved)
    runs = RunStore(db)
    for name, url in sim.base_urls.items():
        run_id = runs.open(name, "manual", owner="stories-bench", dispatcher="redis")
        seed_outlet(name, settings, run_id=run_id, server=server, spider_args={"base_url": url})
    started = time.monotonic()
    procs = {
        f"worker{i}": subprocess.Popen([sys.executable, "-c", WORKER, json.dumps(sim.base_urls), "--set",
                                        f"DOWNLOAD_DELAY={delay}"], env=env, cwd=ROOT,
                                       stdout=(logs / f"worker{i}.out").open("wb"), stderr=subprocess.STDOUT)
        for i in range(workers)
    }
    ends = _wait(procs, started, timeout)
    idle = float(env.get("NEWSDESK_WORKER_MAX_IDLE_SECONDS", "30"))
    return {"seconds": round(time.monotonic() - started, 2), "exit_codes": {n: p.returncode for n, p in procs.items()},
            "process_seconds": ends, "idle_wait_seconds": idle, "items_by_worker": items_by_worker(db)}


def items_by_worker(db: Any) -> dict[str, dict[str, int]]:
    """Outlet -> worker -> items it scraped, from the workers' stats added to each round's run."""
    found: dict[str, dict[str, int]] = {}
    for run in db.runs.find({}, {"outlet": 1, "workers": 1}):
        for share in run.get("workers") or []:
            items = int((share.get("stats") or {}).get("item_scraped_count", 0))
            found.setdefault(run["outlet"], {})[share["worker"]] = items
    return found


def _wait(procs: dict[str, subprocess.Popen], started: float, timeout: float) -> dict[str, float]:
    ends: dict[str, float] = {}
    deadline = started + timeout
    while len(ends) < len(procs):
        for name, proc in procs.items():
            if name not in ends and proc.poll() is not None:
                ends[name] = round(time.monotonic() - started, 2)
        if time.monotonic() > deadline:
            for proc in procs.values():
                if proc.poll() is None:
                    proc.kill()
            raise TimeoutError(f"crawl processes still running after {timeout} s: "
                               f"{sorted(set(procs) - set(ends))}")
        time.sleep(0.1)
    return ends


def truth(sim: Simulator, db: Any) -> dict[str, Any]:
    """Stored story ids against the simulator's truth (see the module docstring)."""
    from crawler.dedup.stories import new_story_id

    fields = {"outlet": 1, "canonical_url": 1, "story_id": 1, "story_similarity": 1, "story_closest": 1}
    docs = list(db.articles.find({}, fields))
    label: dict[str, Any] = {}  # canonical URL -> ("wire", story) | ("own", outlet, index)
    unmapped = []
    for doc in docs:
        site = sim.sites.get(doc.get("outlet"))
        parts = urlsplit(doc["canonical_url"])
        index = site.article_index(parts.path + ("?" + parts.query if parts.query else "")) if site else None
        if index is None:
            unmapped.append(doc["canonical_url"])
            continue
        story = sim.news.article(doc["outlet"], index).story
        label[doc["canonical_url"]] = ("wire", story) if story is not None else ("own", doc["outlet"], index)
    by_id: dict[Any, set] = defaultdict(set)
    ids_of_story: dict[int, set] = defaultdict(set)
    copies = [d for d in docs if label.get(d["canonical_url"], ("own",))[0] == "wire"]
    for doc in docs:
        if doc["canonical_url"] in label:
            by_id[doc.get("story_id")].add(label[doc["canonical_url"]])
    for doc in copies:
        ids_of_story[label[doc["canonical_url"]][1]].add(doc.get("story_id"))
    split = {story: sorted(map(str, ids)) for story, ids in ids_of_story.items() if len(ids) > 1}
    false_merges = {str(sid): sorted(map(str, labels)) for sid, labels in by_id.items()
                    if len(labels) > 1 and sid is not None}
    missing_id = [d["canonical_url"] for d in copies if not d.get("story_id")]

    # merges: each copy that started a story under its own id (no similarity) and no longer
    # goes by that id must have a recorded merge of that id, resolving to the id it has now
    merges = {doc["_id"]: doc for doc in db.story_merges.find({})}

    def resolve(sid: str) -> str:
        for _ in range(64):
            if sid not in merges:
                return sid
            sid = merges[sid]["into"]
        return sid

    gone_ids, unrecorded, wrong_target, lost_fields, bad_closest = set(), [], [], [], []
    for doc in docs:
        url, sid = doc["canonical_url"], doc.get("story_id")
        if not sid:
            continue
        if doc.get("story_similarity") is None:
            if doc.get("story_closest") is not None:
                lost_fields.append(url)
            own = new_story_id(url)
            if own != sid:
                gone_ids.add(own)
                if own not in merges:
                    unrecorded.append(url)
                elif resolve(own) != sid:
                    wrong_target.append(url)
        else:
            closest = doc.get("story_closest")
            if not closest:
                lost_fields.append(url)
            elif url in label and closest in label and label[closest] != label[url]:
                bad_closest.append((url, closest))
    stale = db.articles.count_documents({"story_id": {"$in": list(merges)}}) if merges else 0
    return {
        "stored": len(docs),
        "unmapped": len(unmapped),
        "wire_copies": len(copies),
        "wire_stories": len(ids_of_story),
        "own_articles": sum(1 for v in label.values() if v[0] == "own"),
        "story_ids": len(by_id),
        "split_stories": len(split),
        "extra_ids": sum(len(ids) - 1 for ids in ids_of_story.values()),
        "false_merges": len(false_merges),
        "merges_recorded": len(merges),
        "ids_merged": len(gone_ids),
        "merges_unrecorded": len(unrecorded),
        "merges_wrong_target": len(wrong_target),
        "copies_under_merged_id": stale,
        "copies_without_story_id": len(missing_id),
        "lost_similarity_or_closest": len(lost_fields),
        "closest_of_another_story": len(bad_closest),
        "detail": {"split": {str(k): v for k, v in split.items()}, "false_merges": false_merges,
                   "unrecorded": unrecorded[:20], "wrong_target": wrong_target[:20], "lost_fields": lost_fields[:20],
                   "bad_closest": bad_closest[:20], "unmapped": unmapped[:20]},
    }


def story_log_lines(logs: Path) -> dict[str, int]:
    """Counts of the story index's merge lines in the crawl logs (crawler.crawl.story_index)."""
    counts: Counter = Counter()
    for path in logs.rglob("*.log"):
        text = path.read_text(encoding="utf-8", errors="replace")
        counts["merged"] += text.count(" merged into ")
        counts["moved_at_close"] += text.count("copies written under a merged id moved")
        counts["refresh_failed"] += text.count("story index refresh failed")
    return dict(counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--outlets", type=int, default=6)
    parser.add_argument("--articles", type=int, default=200, help="articles per outlet (articles/20 wire stories)")
    parser.add_argument("--syndicated", type=float, default=0.25, help="share of articles that copy a wire story")
    parser.add_argument("--workers", type=int, default=0,
                        help="0: one `newsdesk crawl` process per outlet; N: N Redis workers taking every outlet")
    parser.add_argument("--worker-delay", type=float, default=0.1, help="DOWNLOAD_DELAY of the workers (seconds)")
    parser.add_argument("--env", default="test", help="NEWSDESK_ENV of the crawls (test: no delays, batches of 4)")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--keep", action="store_true", help="keep the data folder and logs (printed)")
    args = parser.parse_args()
    outlets = pick_outlets(args.outlets)
    config = NewsConfig(articles=args.articles, syndicated=args.syndicated, corrected=0.0)
    # list pages long enough that the default NEWSDESK_MAX_LIST_PAGES reaches every article
    sim = Simulator(outlets, config, page_size=max(20, args.articles))
    tmp = Path(tempfile.mkdtemp(prefix="newsdesk-stories-"))
    db_name = f"bench_stories_{uuid.uuid4().hex[:8]}"
    env = dict(os.environ, NEWSDESK_ENV=args.env, NEWSDESK_DB=db_name, NEWSDESK_DATA_DIR=str(tmp / "data"),
               COLUMNS="200", SCRAPY_SETTINGS_MODULE="settings")
    for name in ("MONGO_URI", "REDIS_URL", "NEWSDESK_DISTRIBUTED", "NEWSDESK_REDIS_PREFIX"):
        env.pop(name, None)
    from pymongo import MongoClient

    from crawler.store import EmbeddedServer

    uri = EmbeddedServer().ensure_running(tmp / "data")
    env["MONGO_URI"] = uri
    client = MongoClient(uri, tz_aware=True)
    db = client[db_name]
    server = prefix = None
    try:
        with sim:
            if args.workers:
                import redis

                prefix = f"ndstories{uuid.uuid4().hex[:8]}"
                env.update(NEWSDESK_DISTRIBUTED="1", REDIS_URL=REDIS_URL, NEWSDESK_REDIS_PREFIX=prefix,
                           NEWSDESK_WORKER_MAX_IDLE_SECONDS="5", NEWSDESK_WORKER_HEARTBEAT_SECONDS="2")
                server = redis.Redis.from_url(REDIS_URL)
                server.ping()
                run = crawl_with_workers(sim, env, tmp / "logs", args.workers, args.timeout, server, db,
                                         args.worker_delay)
            else:
                run = crawl_separately(sim, env, tmp / "logs", args.timeout)
        figures = truth(sim, db)
    finally:
        if server is not None and prefix:
            for key in server.scan_iter(f"{prefix}:*"):
                server.delete(key)
        client.drop_database(db_name)
        client.close()
        EmbeddedServer().stop(tmp / "data")
    logs = story_log_lines(tmp)
    shape = f"{args.workers} Redis workers" if args.workers else f"{len(outlets)} separate crawl processes"
    print(f"{shape}: {len(outlets)} outlets x {args.articles} articles, syndicated {args.syndicated} "
          f"({sim.news.stories} wire stories made), NEWSDESK_ENV={args.env}")
    print(f"  exit codes {sorted(set(run['exit_codes'].values()))}, wall {run['seconds']} s "
          f"(processes ended at {sorted(run['process_seconds'].values())} s)")
    print(f"  stored {figures['stored']} articles ({figures['unmapped']} not mapped to the simulator), "
          f"{figures['wire_copies']} copies of {figures['wire_stories']} wire stories, "
          f"{figures['own_articles']} articles of their own, {figures['story_ids']} story ids")
    print(f"  split stories {figures['split_stories']} ({figures['extra_ids']} extra ids), "
          f"false merges {figures['false_merges']}")
    print(f"  merges recorded {figures['merges_recorded']} for {figures['ids_merged']} ids merged "
          f"({figures['merges_unrecorded']} unrecorded, {figures['merges_wrong_target']} to another id, "
          f"{figures['copies_under_merged_id']} copies still under a merged id); "
          f"similarity/closest lost on {figures['lost_similarity_or_closest']}, "
          f"closest of another story on {figures['closest_of_another_story']}")
    if "items_by_worker" in run:
        print(f"  items scraped by each worker, per outlet: {run['items_by_worker']}")
    print(f"  crawl logs: {logs}")
    if figures["split_stories"] or figures["false_merges"]:
        print(f"  detail: {json.dumps(figures['detail'], ensure_ascii=False)[:3000]}")
    result = {"outlets": outlets, "articles": args.articles, "syndicated": args.syndicated, "workers": args.workers,
              "worker_delay": args.worker_delay if args.workers else None,
              "env": args.env, "wire_stories_made": sim.news.stories, "run": run, "logs": logs,
              **{k: v for k, v in figures.items() if k != "detail"}, "detail": figures["detail"]}
    out = ROOT / "bench" / "results" / "stories.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    try:  # one entry per shape, so the separate processes' figures and the workers' stay side by side
        results = json.loads(out.read_text())
    except (OSError, ValueError):
        results = {}
    results[f"workers_{args.workers}" if args.workers else "separate_processes"] = result
    out.write_text(json.dumps(results, indent=1, ensure_ascii=False, default=str))
    print(f"wrote {out}")
    if args.keep:
        print(f"kept {tmp}")
    else:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
