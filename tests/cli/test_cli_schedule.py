"""`newsdesk schedule ...` and `newsdesk runs`: validation, and what they write and show."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from crawler.store.runs import RunStore
from crawler.store.schedules import ScheduleStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(mongo_uri, mongo_client, tmp_path):
    name = f"test_cli_sched_{uuid.uuid4().hex[:10]}"
    environment = dict(os.environ, MONGO_URI=mongo_uri, NEWSDESK_DB=name, NEWSDESK_ENV="test",
                       NEWSDESK_DATA_DIR=str(tmp_path / "data"))
    yield environment, mongo_client[name]
    mongo_client.drop_database(name)


def newsdesk(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crawler.cli", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["schedule", "set", "joongdo", "--cron", "*/20 6-23 * *"], "expected 5 fields"),
        (["schedule", "set", "joongdo", "--cron", "0 25 * * *"], "hour field"),
        (["schedule", "set", "joongdo", "--every", "soon"], "like 30m, 2h"),
        (["schedule", "set", "joongdo", "--every", "10s"], "shortest interval is 1m"),
        (["schedule", "set", "joongdo", "--every", "30m", "--cron", "* * * * *"], "exactly one of"),
        (["schedule", "set", "joongdo"], "exactly one of"),
        (["schedule", "pause", "nosuchoutlet"], "unknown outlet 'nosuchoutlet'"),
        (["schedule", "run-now", "nosuchoutlet"], "unknown outlet"),
        (["runs", "--outlet", "nosuchoutlet"], "unknown outlet"),
    ],
)
def test_bad_schedule_input_is_one_line_and_exit_2(env, args, message):
    proc = newsdesk(env[0], *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_schedule_commands_write_operator_changes(env):
    environment, db = env
    assert newsdesk(environment, "schedule", "set", "joongdo", "--cron", "*/20 6-23 * * 1-5").returncode == 0
    assert newsdesk(environment, "schedule", "pause", "kwnews").returncode == 0
    proc = newsdesk(environment, "schedule", "run-now", "busan")
    assert proc.returncode == 0 and "no `newsdesk run` scheduler is running" in proc.stderr
    overrides = ScheduleStore(db).overrides()
    assert overrides["joongdo"].cron == "*/20 6-23 * * 1-5" and overrides["kwnews"].paused
    assert [r["_id"] for r in ScheduleStore(db).pending_runs()] == ["busan"]

    listing = json.loads(newsdesk(environment, "schedule", "list", "--json").stdout)
    rows = {row["outlet"]: row for row in listing["outlets"]}
    assert listing["schedulers"] == []
    assert rows["joongdo"]["schedule"] == "cron */20 6-23 * * 1-5" and rows["joongdo"]["source"] == "operator"
    assert rows["kwnews"]["state"] == "paused"
    assert rows["busan"]["run_now_requested"] is True
    assert rows["imaeil"]["source"] == "spec" and rows["imaeil"]["state"] == "not scheduled"

    assert newsdesk(environment, "schedule", "set", "joongdo", "--reset").returncode == 0
    assert ScheduleStore(db).overrides()["joongdo"].cron is None
    table = newsdesk(environment, "schedule", "list").stdout
    assert "joongdo" in table and "paused" in table


def test_runs_lists_history_and_filters_failures(env):
    environment, db = env
    runs = RunStore(db)
    ok = runs.open("joongdo", "schedule", owner="s")
    runs.record_stats(ok, {"finish_reason": "finished", "newsdesk/articles/new": 3, "downloader/response_count": 9})
    runs.close(ok, returncode=0)
    runs.close(runs.open("kwnews", "manual", owner="s"), returncode=1)
    every = [json.loads(line) for line in newsdesk(environment, "runs", "--json").stdout.splitlines()]
    assert {r["outlet"] for r in every} == {"joongdo", "kwnews"}
    assert next(r for r in every if r["outlet"] == "joongdo")["stats"]["newsdesk/articles/new"] == 3
    failed = [json.loads(line) for line in newsdesk(environment, "runs", "--failed", "--json").stdout.splitlines()]
    assert [r["outlet"] for r in failed] == ["kwnews"]
    table = newsdesk(dict(environment, COLUMNS="160"), "runs", "--outlet", "joongdo").stdout
    assert "joongdo" in table and "finished" in table and "kwnews" not in table
    failures = newsdesk(dict(environment, COLUMNS="160"), "runs", "--failed").stdout
    assert "crawl process exited with code 1" in failures
