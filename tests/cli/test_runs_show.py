"""`newsdesk runs show RUN_ID`, and what operators see of runs elsewhere in the CLI: `outlets`
reads the runs of the database in use and names it, `schedule run-now` says when no scheduler
will pick its request up, `health` shows the search queue."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from crawler.store.runs import RunStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(mongo_uri, mongo_client, tmp_path):
    name = f"test_cli_runs_{uuid.uuid4().hex[:10]}"
    environment = dict(os.environ, MONGO_URI=mongo_uri, NEWSDESK_DB=name, NEWSDESK_ENV="test",
                       NEWSDESK_DATA_DIR=str(tmp_path / "data"), COLUMNS="200")
    yield environment, mongo_client[name], tmp_path
    mongo_client.drop_database(name)


def newsdesk(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crawler.cli", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def _faulty_run(db, log: Path) -> str:
    runs = RunStore(db)
    run_id = runs.open("kwnews", "manual", owner="ops@host", log_path=str(log))
    runs.record_stats(run_id, {
        "finish_reason": "finished", "downloader/response_count": 30, "item_scraped_count": 4,
        "newsdesk/articles/new": 2, "newsdesk/articles/updated": 1, "newsdesk/dropped/too_short": 3,
        "downloader/response_status_count/503": 7, "downloader/response_status_count/200": 23,
        "downloader/exception_type_count/twisted．internet．error．TimeoutError": 2,
    })
    runs.set_checks(run_id, {"results": {"items": "passed", "fields": "failed: body 40%"}, "failed": ["fields"]})
    runs.close(run_id, returncode=0)
    return run_id


def test_runs_show_prints_the_whole_run_and_its_log_tail(env):
    environment, db, tmp = env
    log = tmp / "kwnews.log"
    log.write_text("".join(f"line {n}\n" for n in range(1, 80)) + "last \x1b[2J line\n", encoding="utf-8")
    run_id = _faulty_run(db, log)
    proc = newsdesk(environment, "runs", "show", run_id)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert run_id in text and f"database {db.name}" in text
    for expected in ("new 2", "updated 1", "too_short 3", "503 7", "http_5xx 7", "timeouts 2",
                     "fields: failed: body 40%", f"newsdesk articles --outlet kwnews --days 1", str(log)):
        assert expected in text, expected
    assert "  line 31\n" in text and "  line 30\n" not in text  # the last 50 lines only
    assert "\x1b" not in text and "last \ufffd[2J line" in text

    doc = json.loads(newsdesk(environment, "runs", "show", run_id, "--json").stdout)
    assert doc["database"]["name"] == db.name and doc["run"]["id"] == run_id
    assert doc["run"]["faults"] == {"http_5xx": 7, "timeouts": 2} and doc["run"]["stats"]["item_scraped_count"] == 4
    assert len(doc["run"]["log_tail"]["lines"]) == 50 and doc["run"]["log_tail"]["truncated"]
    assert doc["run"]["started"].endswith("+09:00")


def test_runs_show_says_plainly_when_the_log_is_missing(env):
    environment, db, tmp = env
    run_id = _faulty_run(db, tmp / "gone.log")
    proc = newsdesk(environment, "runs", "show", run_id)
    assert proc.returncode == 0 and "does not exist on this machine" in proc.stdout


@pytest.mark.parametrize(("run_id", "message"), [
    ("joongdo-20990101T000000-ffffff", "no run joongdo-20990101T000000-ffffff in database"),
    ("bad id; rm -rf /", "is not a run id"),
    ("x" * 300, "is not a run id"),
])
def test_runs_show_bad_id_is_one_line_and_exit_2(env, run_id, message):
    proc = newsdesk(env[0], "runs", "show", run_id)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_outlets_reads_the_runs_of_the_database_in_use(env):
    environment, db, tmp = env
    run_id = _faulty_run(db, tmp / "kwnews.log")  # as `newsdesk crawl` records one: no stats file on disk
    rows = {row["name"]: row for row in json.loads(newsdesk(environment, "outlets", "--json").stdout)}
    last = rows["kwnews"]["last_crawl"]
    assert last["run_id"] == run_id and last["status"] == "finished" and last["new"] == 2
    assert last["started"].endswith("+09:00")
    assert rows["kwnews"]["database"]["name"] == db.name and rows["joongdo"]["last_crawl"] is None
    assert rows["jnilbo"]["verified"] and rows["jnilbo"]["verified_by"] == ["art_90000015817"]
    assert not rows["kwnews"]["verified"] and "no saved page" in rows["kwnews"]["unverified"]
    table = newsdesk(environment, "outlets").stdout
    assert f"database {db.name}" in table and "finished: 2 new" in table
    assert f"{len(rows)} outlets, 1 verified" in table


def test_run_now_without_a_scheduler_says_so(env):
    proc = newsdesk(env[0], "schedule", "run-now", "busan")
    assert proc.returncode == 0
    assert "no scheduler is running" in proc.stdout and "run requested; the scheduler starts it" not in proc.stdout


def test_health_shows_the_search_queue(env):
    environment, db, _tmp = env
    db.search_queue.insert_one({"ids": ["a", "b", "c"], "n": 3})
    doc = json.loads(newsdesk(environment, "health", "--json").stdout)
    assert doc["search_queue"] == 3 and doc["database"]["name"] == db.name
    assert "search queue: 3 articles waiting to be indexed" in newsdesk(environment, "health").stdout
