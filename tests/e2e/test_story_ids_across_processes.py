"""Story ids agree across crawl processes, in the production shape, against the simulator's truth.

Six simulated outlets, a quarter of their articles copies of shared wire stories, crawled into
one database either by one `newsdesk crawl OUTLET --base-url URL` process per outlet, all
started at once (the scheduler's local subprocesses), or by two `newsdesk worker` processes
on Redis taking requests of every outlet. Each process has its own story index and founds
its own ids for what it meets first; the processes reconcile what they read back from the
others (crawler/dedup/index.py StoryIndex.reconcile) and merge two ids found to be one story.

Every stored article's URL is mapped back to the simulator's article (SimArticle.story: the
wire story it copies, or None), and then:
- every wire story's copies are under exactly one story id (no split story);
- no story id holds copies of two wire stories, or a wire copy and an article of its own
  (no false merge);
- each id that went away (a copy that founded a story under new_story_id(url) and no longer
  goes by it) has its merge recorded in `story_merges`, resolving to the id it has now, and
  no copy is left under a merged id;
- each copy keeps how it joined its story: a joined copy its `story_similarity` and
  `story_closest` (a copy of the same story), a founding copy neither.

bench/stories_bench.py runs the same scenario larger.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from crawler.devtools.simulator import NewsConfig, Simulator, pick_outlets

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("NEWSDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

OUTLETS = 6
ARTICLES = 80  # per outlet: the simulator makes ARTICLES // 20 wire stories
SYNDICATED = 0.25
WORKER_DELAY = 0.1

# `newsdesk worker OUTLET...` with each outlet's own simulator port: the command's --base-url
# is one host for every outlet, and the simulator serves each outlet on a port of its own.
# Everything else is the real command (its settings, checks, log file, runs not recorded).
# A worker with nothing to do looks at the queue every 5 s (Scrapy's idle heartbeat), so
# without a delay the first worker drains a small site before the other one looks:
# WORKER_DELAY (seconds between two requests of one worker to one outlet) keeps both busy.
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


def simulator() -> Simulator:
    config = NewsConfig(articles=ARTICLES, syndicated=SYNDICATED, corrected=0.0)
    return Simulator(pick_outlets(OUTLETS), config, page_size=ARTICLES)  # one list page reaches every article


def wait_all(procs: dict[str, subprocess.Popen], logs: Path, timeout: float) -> float:
    started = time.monotonic()
    for name, proc in procs.items():
        try:
            proc.wait(timeout=max(1.0, timeout - (time.monotonic() - started)))
        except subprocess.TimeoutExpired:
            for other in procs.values():
                other.kill()
            pytest.fail(f"{name} still running after {timeout} s:\n{_tails(logs)}")
    bad = {name: proc.returncode for name, proc in procs.items() if proc.returncode != 0}
    assert not bad, f"exit codes {bad}:\n{_tails(logs)}"
    return time.monotonic() - started


def _tails(logs: Path) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-1500:]}" for p in sorted(logs.glob("*.out")))


def story_truth(sim: Simulator, db: Any) -> dict[str, Any]:
    """Stored story ids against the simulator's truth: the figures and the offending details."""
    from crawler.dedup.stories import new_story_id

    docs = list(db.articles.find({}, {"outlet": 1, "canonical_url": 1, "story_id": 1, "story_similarity": 1,
                                      "story_closest": 1}))
    label: dict[str, tuple] = {}  # canonical URL -> ("wire", story) | ("own", outlet, index)
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
    labels_of_id: dict[Any, set] = defaultdict(set)
    ids_of_story: dict[int, set] = defaultdict(set)
    outlets_of_story: dict[int, set] = defaultdict(set)
    for doc in docs:
        truth = label.get(doc["canonical_url"])
        if truth is None:
            continue
        labels_of_id[doc.get("story_id")].add(truth)
        if truth[0] == "wire":
            ids_of_story[truth[1]].add(doc.get("story_id"))
            outlets_of_story[truth[1]].add(doc["outlet"])
    split = {story: sorted(map(str, ids)) for story, ids in ids_of_story.items() if len(ids) > 1}
    false_merges = {str(sid): sorted(map(str, labels)) for sid, labels in labels_of_id.items() if len(labels) > 1}

    merges = {doc["_id"]: doc for doc in db.story_merges.find({})}

    def resolve(sid: str) -> str:
        for _ in range(64):
            if sid not in merges:
                break
            sid = merges[sid]["into"]
        return sid

    gone, unrecorded, wrong_target, lost, other_story = set(), [], [], [], []
    for doc in docs:
        url, sid = doc["canonical_url"], doc.get("story_id")
        if not sid:
            continue
        if doc.get("story_similarity") is None:  # it founded its story, under new_story_id(url)
            if doc.get("story_closest") is not None:
                lost.append(url)
            own = new_story_id(url)
            if own != sid:
                gone.add(own)
                if own not in merges:
                    unrecorded.append(url)
                elif resolve(own) != sid:
                    wrong_target.append((url, own, resolve(own), sid))
        elif not doc.get("story_closest"):
            lost.append(url)
        elif url in label and doc["story_closest"] in label and label[doc["story_closest"]] != label[url]:
            other_story.append((url, doc["story_closest"]))
    return {
        "stored": len(docs),
        "unmapped": unmapped,
        "wire_copies": sum(1 for v in label.values() if v[0] == "wire"),
        "wire_stories": len(ids_of_story),
        "outlets_per_story": sorted(len(o) for o in outlets_of_story.values()),
        "story_ids": len(labels_of_id),
        "without_story_id": [d["canonical_url"] for d in docs if not d.get("story_id")],
        "split": split,
        "extra_ids": sum(len(ids) - 1 for ids in ids_of_story.values()),
        "false_merges": false_merges,
        "merges_recorded": len(merges),
        "ids_merged": len(gone),
        "unrecorded": unrecorded,
        "wrong_target": wrong_target,
        "under_merged_id": db.articles.count_documents({"story_id": {"$in": list(merges)}}) if merges else 0,
        "lost_similarity_or_closest": lost,
        "closest_of_another_story": other_story,
    }


def check(figures: dict[str, Any]) -> None:
    summary = {k: (len(v) if isinstance(v, (list, dict)) and k != "outlets_per_story" else v)
               for k, v in figures.items()}
    print(f"\nstory ids across processes: {json.dumps(summary)}")
    expected = OUTLETS * ARTICLES
    assert figures["stored"] == expected and not figures["unmapped"], summary
    # the production shape: a quarter of the articles are copies of wire stories across outlets
    assert figures["wire_copies"] >= 0.2 * expected, summary
    assert figures["wire_stories"] == ARTICLES // 20 and min(figures["outlets_per_story"]) == OUTLETS, summary
    assert not figures["without_story_id"], figures["without_story_id"][:10]
    assert not figures["split"], f"wire stories under more than one story id: {figures['split']}"
    assert not figures["false_merges"], f"story ids holding different stories: {figures['false_merges']}"
    assert not figures["closest_of_another_story"], figures["closest_of_another_story"][:10]
    # every id that went away is recorded as merged into the id its copies have now
    assert figures["merges_recorded"] >= figures["ids_merged"], summary
    assert not figures["unrecorded"] and not figures["wrong_target"], (figures["unrecorded"][:10],
                                                                       figures["wrong_target"][:10])
    assert figures["under_merged_id"] == 0, summary
    assert not figures["lost_similarity_or_closest"], figures["lost_similarity_or_closest"][:10]


def test_separate_crawl_processes_agree_on_story_ids(mongo_uri, mongo_client, tmp_path):
    db_name = f"test_stories_{uuid.uuid4().hex[:10]}"
    env = dict(os.environ, MONGO_URI=mongo_uri, NEWSDESK_DB=db_name, NEWSDESK_ENV="test",
               NEWSDESK_DATA_DIR=str(tmp_path / "data"), COLUMNS="200")
    for name in ("REDIS_URL", "NEWSDESK_DISTRIBUTED"):
        env.pop(name, None)
    logs = tmp_path / "out"
    logs.mkdir()
    try:
        with simulator() as sim:
            procs = {
                name: subprocess.Popen([sys.executable, "-m", "crawler.cli", "crawl", name, "--base-url", url],
                                       env=env, cwd=ROOT, stdout=(logs / f"{name}.out").open("wb"),
                                       stderr=subprocess.STDOUT)
                for name, url in sim.base_urls.items()
            }
            seconds = wait_all(procs, logs, timeout=240)
            print(f"\n{OUTLETS} crawl processes: {seconds:.1f} s")
            figures = story_truth(sim, mongo_client[db_name])
        check(figures)
        # six processes that started together each founded their own ids: reconciling merged them
        assert figures["ids_merged"] > 0, figures
    finally:
        mongo_client.drop_database(db_name)


def test_two_redis_workers_agree_on_story_ids(mongo_uri, mongo_client, tmp_path, monkeypatch):
    redis = pytest.importorskip("redis")
    server = redis.Redis.from_url(REDIS_URL)
    try:
        server.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"needs Redis at {REDIS_URL} (.ci/run starts one)")
    import importlib

    from crawler.config import project_settings
    from crawler.distributed.seed import seed_outlet
    from crawler.store.runs import RunStore

    prefix = f"ndtest{uuid.uuid4().hex[:8]}"
    db_name = f"test_stories_{uuid.uuid4().hex[:10]}"
    env = dict(os.environ, MONGO_URI=mongo_uri, NEWSDESK_DB=db_name, NEWSDESK_ENV="test", NEWSDESK_DISTRIBUTED="1",
               REDIS_URL=REDIS_URL, NEWSDESK_REDIS_PREFIX=prefix, NEWSDESK_DATA_DIR=str(tmp_path / "data"),
               NEWSDESK_WORKER_MAX_IDLE_SECONDS="4", NEWSDESK_WORKER_HEARTBEAT_SECONDS="1",
               SCRAPY_SETTINGS_MODULE="settings", COLUMNS="200")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    # settings.distributed reads the key prefix from the environment at import: load it again
    settings = project_settings()
    settings.setmodule(importlib.reload(importlib.import_module("settings.distributed")), priority="project")
    db = mongo_client[db_name]
    logs = tmp_path / "out"
    logs.mkdir()
    try:
        with simulator() as sim:
            runs = RunStore(db)
            for name, url in sim.base_urls.items():
                run_id = runs.open(name, "manual", owner="test-stories", dispatcher="redis")
                seed_outlet(name, settings, run_id=run_id, server=server, spider_args={"base_url": url})
            procs = {
                f"worker{i}": subprocess.Popen([sys.executable, "-c", WORKER, json.dumps(sim.base_urls),
                                                "--set", f"DOWNLOAD_DELAY={WORKER_DELAY}"], env=env,
                                               cwd=ROOT, stdout=(logs / f"worker{i}.out").open("wb"),
                                               stderr=subprocess.STDOUT)
                for i in range(2)
            }
            seconds = wait_all(procs, logs, timeout=240)
            figures = story_truth(sim, db)
        shares: dict[str, dict[str, int]] = {}
        for run in db.runs.find({}, {"outlet": 1, "workers": 1}):
            for share in run.get("workers") or []:
                shares.setdefault(run["outlet"], {})[share["worker"]] = share["stats"].get("item_scraped_count", 0)
        print(f"\n2 workers: {seconds:.1f} s (with their {env['NEWSDESK_WORKER_MAX_IDLE_SECONDS']} s idle wait); "
              f"items per outlet and worker: {shares}")
        workers_with_items = {w for per in shares.values() for w, n in per.items() if n}
        assert len(workers_with_items) == 2, f"one worker crawled everything: {shares}"
        # copies of one outlet written by both processes, not only outlets shared out whole
        assert any(sum(1 for n in per.values() if n) == 2 for per in shares.values()), shares
        check(figures)
    finally:
        for key in server.scan_iter(f"{prefix}:*"):
            server.delete(key)
        mongo_client.drop_database(db_name)
