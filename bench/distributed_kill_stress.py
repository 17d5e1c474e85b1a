"""The kill scenario of tests/distributed/test_distributed.py, in a loop: is anything lost?

Run: .venv/bin/python bench/distributed_kill_stress.py --runs 50 [--keep DIR] [--stop-on-failure]
     [--worker-set NAME=VALUE ...]   (a Scrapy setting for both workers, e.g. SCHEDULER=...)
     [--kill-delay-max S]            (kill up to S seconds later: random, to reach other windows)

Each run is test_a_worker_killed_mid_crawl_loses_nothing (its own `kill_scenario`, so the
same setup): joongdo's round seeded into Redis (database 15, a fresh key prefix), a worker
SIGKILLed once it holds an article request, a second worker finishing the round, against a
fresh database on one embedded SecantusDB (or MONGO_URI). Workers log at DEBUG, so their logs
show what the victim took, when each request left its engine, the store's durable watermark
and each acknowledgement (crawler.distributed.worker, crawler.distributed.queue,
pipelines.store). A failed run prints the missing articles and, for each, what the victim did
with its request; its folder is kept. Prints `N passed of M runs` at the end (exit 1 if any
failed).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("NEWSDESK_ENV", "test")

from tests.distributed import test_distributed as scenario

LINE = re.compile(r"(took|left the engine:|acked) (\w+)(?: (\S+))?(.*)")


def victim_trace(folder: Path) -> tuple[dict[str, str], list[str]]:
    """token -> URL of what the victim took, and its ack-related log lines."""
    taken: dict[str, str] = {}
    lines: list[str] = []
    for log in sorted((folder / "data" / "logs").glob("worker-*.log")):
        text = log.read_text(errors="replace")
        if "requeued_orphans" in text or "vanished worker" in text:
            continue  # the survivor's log
        for line in text.splitlines():
            match = LINE.search(line)
            if match or "durable" in line:
                lines.append(line)
            if match and match.group(1) == "took":
                taken[match.group(2)] = match.group(3) or ""
    return taken, lines


def one_run(mongo_uri: str, client, server, folder: Path, worker_settings: list[str],
            kill_delay: float = 0.0) -> tuple[bool, str]:
    prefix = f"ndstress{uuid.uuid4().hex[:8]}"
    db_name = f"stress_dist_{uuid.uuid4().hex[:10]}"
    env = dict(
        os.environ,
        MONGO_URI=mongo_uri,
        NEWSDESK_DB=db_name,
        NEWSDESK_ENV="test",
        NEWSDESK_DISTRIBUTED="1",
        REDIS_URL=scenario.REDIS_URL,
        NEWSDESK_REDIS_PREFIX=prefix,
        NEWSDESK_DATA_DIR=str(folder / "data"),
        NEWSDESK_WORKER_MAX_IDLE_SECONDS="4",
        NEWSDESK_WORKER_HEARTBEAT_SECONDS="1",
        SCRAPY_SETTINGS_MODULE="settings",
    )
    os.environ.update(env)
    try:
        worker_args = ["--set", "LOG_LEVEL=DEBUG"] + [arg for item in worker_settings for arg in ("--set", item)]
        outcome = scenario.kill_scenario(env, server, prefix, folder, tuple(worker_args), kill_delay)
        db = client[db_name]
        stored = {d["url"] for d in db.articles.find({"outlet": "joongdo"}, {"url": 1})}
        problems = []
        if len(stored) != scenario.EXPECTED_ARTICLES:
            problems.append(f"{len(stored)} articles stored, {scenario.EXPECTED_ARTICLES} expected")
        if outcome["survivor"].returncode != 0:
            problems.append(f"survivor exited {outcome['survivor'].returncode}")
        if outcome["queued"] or outcome["parked"]:
            problems.append(f"left in Redis: {outcome['queued']} queued, {outcome['parked']} parked")
        if not problems:
            return True, f"ok ({sum(outcome['fetches'].values())} article fetches, killed {kill_delay:.1f} s late)"
        _taken, lines = victim_trace(folder)
        fetched = {path.split("key=")[-1] for path in outcome["fetches"]}
        every = {json.loads(p.read_text())["url"].split("key=")[-1]
                 for p in scenario.SITE.glob("*.json") if p.name != "site.json"}
        keys = {url.split("key=")[-1] for url in stored}
        report = [", ".join(problems), f"  stored keys: {sorted(keys)}", f"  fetched keys: {sorted(fetched)}",
                  f"  never stored: {sorted(every - keys)}", "  victim's ack trace:"]
        report += [f"    {line}" for line in lines]
        return False, "\n".join(report)
    finally:
        for key in server.scan_iter(f"{prefix}:*"):
            server.delete(key)
        client.drop_database(db_name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--keep", type=Path, help="keep every run's folder under here")
    parser.add_argument("--stop-on-failure", action="store_true")
    parser.add_argument("--kill-delay-max", type=float, default=0.0, metavar="S",
                        help="kill the victim a random 0..S seconds after it takes its first article")
    parser.add_argument("--worker-set", action="append", default=[], metavar="NAME=VALUE",
                        help="a Scrapy setting for both workers (repeatable)")
    args = parser.parse_args()

    import redis
    from pymongo import MongoClient

    server = redis.Redis.from_url(scenario.REDIS_URL)
    server.ping()
    base = Path(tempfile.mkdtemp(prefix="kill-stress-")) if args.keep is None else args.keep
    base.mkdir(parents=True, exist_ok=True)
    embedded = None
    mongo_uri = os.environ.get("MONGO_URI", "").strip()
    if not mongo_uri:
        from secantus import SecantusDBServer

        embedded = SecantusDBServer(host="127.0.0.1", port=0, storage_path=str(base / "secantus"), replica_set_name=None)
        embedded.start()
        mongo_uri = embedded.uri
    client = MongoClient(mongo_uri, tz_aware=True)
    passed = 0
    try:
        for run in range(1, args.runs + 1):
            folder = base / f"run{run:03d}"
            folder.mkdir()
            started = time.monotonic()
            delay = random.uniform(0, args.kill_delay_max) if args.kill_delay_max else 0.0
            ok, message = one_run(mongo_uri, client, server, folder, args.worker_set, delay)
            passed += ok
            print(f"run {run}/{args.runs}: {'PASS' if ok else 'FAIL'} in {time.monotonic() - started:.0f} s: {message}"
                  + ("" if ok else f"\n  kept in {folder}"), flush=True)
            if ok and args.keep is None:
                shutil.rmtree(folder, ignore_errors=True)
            if not ok and args.stop_on_failure:
                break
    finally:
        client.close()
        if embedded is not None:
            embedded.stop()
    print(f"{passed} passed of {run} runs")
    return 0 if passed == run else 1


if __name__ == "__main__":
    sys.exit(main())
