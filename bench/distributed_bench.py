"""Pages/s of distributed mode with 1 and with 2 `newsdesk worker` processes, as a ratio.

Run: .venv/bin/python bench/distributed_bench.py [--outlet jnilbo] [--articles 1500] [--repeat 2]

The simulator (crawler/devtools/simulator) writes one outlet's site (`--articles` articles in its CMS
family's real templates, list pages of 100) as static files that nginx serves on 127.0.0.1,
so the server costs the two cores next to nothing. For each arm (1 worker, then 2; repeated,
alternating, best run counts) the bench seeds a round into Redis (database 14, a fresh key
prefix), starts the workers against a fresh database on one embedded SecantusDB, and times
from the first request taken until the outlet's queue and processing hash are both empty
(the workers' idle wait before they exit is not counted), and the machine's CPU use over that
time (all processes: workers, their store processes, SecantusDB, nginx). Pages are the workers' own
downloader counts, summed on the round's run. Writes bench/results/distributed.json.

Needs nginx (apt-get install nginx-light) and Redis on 127.0.0.1:6379.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawler.devtools.simulator import NewsConfig, Simulator  # noqa: E402
from crawler.devtools.simulator.static import NginxSite  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/14"
# each worker as a production crawl of a fast local site would run: no throttling, full batches
WORKER_SETTINGS = {"CONCURRENT_REQUESTS": 32, "CONCURRENT_REQUESTS_PER_DOMAIN": 32, "NEWSDESK_STORE_BATCH_SIZE": 50}


def run_arm(workers: int, outlet: str, base_url: str, env: dict[str, str], uri: str) -> dict:
    import importlib

    import redis
    from pymongo import MongoClient

    from crawler.config import project_settings
    from crawler.distributed.seed import seed_outlet
    from crawler.store.runs import RunStore

    prefix = f"ndbench{uuid.uuid4().hex[:8]}"
    db_name = f"bench_dist_{workers}_{uuid.uuid4().hex[:6]}"
    arm_env = dict(env, NEWSDESK_REDIS_PREFIX=prefix, NEWSDESK_DB=db_name)
    os.environ.update(arm_env)
    settings = project_settings()
    settings.setmodule(importlib.reload(importlib.import_module("settings.distributed")), priority="project")
    server = redis.Redis.from_url(REDIS_URL)
    client = MongoClient(uri, tz_aware=True)
    runs = RunStore(client[db_name])
    run_id = runs.open(outlet, "manual", owner="bench", dispatcher="redis")
    seed_outlet(outlet, settings, run_id=run_id, server=server, spider_args={"base_url": base_url})
    queue, processing = f"{prefix}:{outlet}:requests", f"{prefix}:{outlet}:processing"
    logs = Path(tempfile.mkdtemp(prefix="newsdesk-dist-logs-"))
    procs = [
        subprocess.Popen([sys.executable, "-m", "crawler.cli", "worker", outlet, "--base-url", base_url, "--max-idle", "3",
                          *[arg for name, value in WORKER_SETTINGS.items() for arg in ("--set", f"{name}={value}")]],
                         env=arm_env, cwd=ROOT, stdout=(logs / f"w{i}.log").open("wb"), stderr=subprocess.STDOUT)
        for i in range(workers)
    ]
    seeded = server.zcard(queue)
    import psutil

    started = None
    while started is None:  # the clock starts when a worker takes the first request
        if server.zcard(queue) < seeded or server.hlen(processing):
            started = time.monotonic()
            psutil.cpu_percent(interval=None)  # starts the machine-wide CPU measurement
        time.sleep(0.01)
    empty_since = None
    while True:
        busy = server.zcard(queue) + server.hlen(processing)
        now = time.monotonic()
        if busy:
            empty_since = None
        elif empty_since is None:
            empty_since = now
        elif now - empty_since > 1.0:
            break
        time.sleep(0.05)
    elapsed = empty_since - started
    busy_cpu = psutil.cpu_percent(interval=None)  # % of all cores, averaged since the start
    for proc in procs:
        proc.wait(timeout=120)
    run = runs.get(run_id)
    stored = client[db_name].articles.count_documents({})
    for key in server.scan_iter(f"{prefix}:*"):
        server.delete(key)
    client.drop_database(db_name)
    client.close()
    pages = int(run.get("pages", 0))
    return {"workers": workers, "seconds": round(elapsed, 2), "pages": pages, "articles_stored": stored,
            "pages_per_s": round(pages / elapsed, 1), "machine_cpu_percent": busy_cpu,
            "exit_codes": [p.returncode for p in procs]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--outlet", default="jnilbo")
    parser.add_argument("--articles", type=int, default=1500)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--port", type=int, default=18700, help="nginx port (must be free)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="an extra worker setting")
    args = parser.parse_args()
    WORKER_SETTINGS.update(item.split("=", 1) for item in args.set)
    import socket

    with socket.socket() as probe:  # another nginx on the port would answer for ours
        if probe.connect_ex(("127.0.0.1", args.port)) == 0:
            parser.error(f"--port {args.port} is in use; pick a free one")
    sim = Simulator([args.outlet], NewsConfig(articles=args.articles, syndicated=0.0), page_size=100)
    with tempfile.TemporaryDirectory(prefix="newsdesk-dist-") as tmp:
        work = Path(tmp)
        env = dict(
            os.environ,
            NEWSDESK_ENV="test",
            NEWSDESK_DISTRIBUTED="1",
            REDIS_URL=REDIS_URL,
            NEWSDESK_DATA_DIR=str(work / "data"),
            SCRAPY_SETTINGS_MODULE="settings",
            NEWSDESK_WORKER_HEARTBEAT_SECONDS="2",
        )
        env.pop("MONGO_URI", None)
        os.environ.update(env)
        from crawler.store import EmbeddedServer

        uri = EmbeddedServer().ensure_running(work / "data")
        env["MONGO_URI"] = uri
        site = NginxSite(sim, work / "nginx", args.port)
        site.write()
        results: dict[int, list[dict]] = {1: [], 2: []}
        try:
            with site:
                base_url = site.base_urls[args.outlet]
                for _ in range(args.repeat):
                    for workers in (1, 2):
                        result = run_arm(workers, args.outlet, base_url, env, uri)
                        results[workers].append(result)
                        print(f"{workers} worker(s): {result['pages']} pages in {result['seconds']} s = "
                              f"{result['pages_per_s']} pages/s, {result['articles_stored']} articles stored, "
                              f"machine CPU {result['machine_cpu_percent']:.0f}% of {os.cpu_count()} cores")
        finally:
            EmbeddedServer().stop(work / "data")
    best = {n: max(runs, key=lambda r: r["pages_per_s"]) for n, runs in results.items()}
    ratio = best[2]["pages_per_s"] / best[1]["pages_per_s"]
    print(f"\n2 workers / 1 worker: {ratio:.2f} (target 1.8 if the bottleneck allows; {os.cpu_count()} cores: "
          "each worker is one Python process that is CPU-bound on parsing and pipelines)")
    out = ROOT / "bench" / "results" / "distributed.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"outlet": args.outlet, "articles": args.articles, "cores": os.cpu_count(),
                               "runs": results, "best": best, "ratio_2_over_1": round(ratio, 2)}, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
