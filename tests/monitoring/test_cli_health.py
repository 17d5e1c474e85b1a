"""`newsdesk health`: the table, --json, and --check's status line and exit codes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawler.monitoring.conditions import Condition
from crawler.outlets import registry
from crawler.store.alerts import AlertStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(mongo_uri, mongo_client, tmp_path):
    name = f"test_health_{uuid.uuid4().hex[:10]}"
    environment = dict(os.environ, MONGO_URI=mongo_uri, NEWSDESK_DB=name, NEWSDESK_ENV="test",
                       NEWSDESK_DATA_DIR=str(tmp_path / "data"), COLUMNS="120")
    yield environment, mongo_client[name]
    mongo_client.drop_database(name)


def newsdesk(environment, *args):
    return subprocess.run([sys.executable, "-m", "crawler.cli", "health", *args], env=environment, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def histories(env, new_history):
    """joongdo: steady; kwnews: its newest crawl needed the fallback for every article."""
    _, db = env
    now = datetime.now(timezone.utc)
    steady = new_history("joongdo", start=now - timedelta(days=3), every=timedelta(hours=2))
    steady.repeat(36, new=3)
    drifting = new_history("kwnews", start=now - timedelta(days=3), every=timedelta(hours=2))
    drifting.repeat(35, new=3)
    drifting.add(fallback=1.0, new=6)
    db.runs.insert_many(steady.runs + drifting.runs)
    return steady, drifting


def test_check_names_the_unhealthy_outlet_and_exits_2(env, histories):
    proc = newsdesk(env[0], "joongdo", "kwnews", "--check")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "CRITICAL: 1 of 2 outlets unhealthy: kwnews (drift)"
    assert "outlet health: 1 ok, 1 unhealthy" in proc.stdout
    assert "kwnews drift: likely selector drift: fallback extraction on 100% of articles (usually 0%)" in proc.stdout
    assert "log: /var/log/newsdesk/kwnews-" in proc.stdout


def test_check_of_healthy_outlets_exits_0(env, histories):
    proc = newsdesk(env[0], "joongdo", "--check")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("OK: 1 outlets healthy\n")
    assert "t100 b100 p100 a90" in proc.stdout  # coverage of its newest run, per field


def test_json_for_machines(env, histories):
    proc = newsdesk(env[0], "--json")
    assert proc.returncode == 0, proc.stderr  # without --check, unhealthy is not an error
    report = json.loads(proc.stdout)
    assert report["status"].startswith(f"CRITICAL: 1 of {len(registry())} outlets unhealthy")
    outlets = {o["outlet"]: o for o in report["outlets"]}
    assert len(outlets) == len(registry())
    assert outlets["kwnews"]["state"] == "unhealthy" and outlets["kwnews"]["open"] == ["drift"]
    assert outlets["kwnews"]["conditions"]["drift"]["detail"]["fallback_extraction"] == {"value": 1.0, "usual": 0.0}
    joongdo = outlets["joongdo"]
    assert joongdo["state"] == "ok" and joongdo["healthy"] and joongdo["baseline_per_day"] > 0
    assert joongdo["last_new_article"] and joongdo["coverage"]["published"] == 1.0
    assert outlets["busan"]["state"] == "no runs" and outlets["busan"]["healthy"]


def test_an_open_alert_the_history_cannot_judge_still_counts(env, new_history):
    environment, db = env
    now = datetime.now(timezone.utc)
    AlertStore(db).open("busan", Condition("drift", True, cause="likely selector drift: title found on 0% of articles"),
                        now - timedelta(days=1))
    proc = newsdesk(environment, "busan", "--check")
    assert proc.returncode == 2
    assert "busan drift (not re-judged since: no run could tell): likely selector drift" in proc.stdout


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_no_database_is_unknown_for_check_and_an_error_otherwise(env):
    environment = dict(env[0], MONGO_URI=f"mongodb://127.0.0.1:{_closed_port()}/?serverSelectionTimeoutMS=500")
    proc = newsdesk(environment, "--check")
    assert proc.returncode == 3 and proc.stdout.startswith("UNKNOWN: crawl health cannot be read")
    proc = newsdesk(environment, "nosuchoutlet")
    assert proc.returncode == 2 and "unknown outlet 'nosuchoutlet'" in proc.stderr
    assert "Traceback" not in proc.stderr
