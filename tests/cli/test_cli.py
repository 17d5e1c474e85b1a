"""The `newsdesk` command: output on good input, one-line errors and exit 2 on bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crawler.cli import app
from crawler.devtools.fixturesite import DEFAULT_FIXTURES, FixtureSite, SiteSpec

ROOT = Path(__file__).resolve().parents[2]
SEED = DEFAULT_FIXTURES / "joongdo" / "seed_20190823.html"
SEED_URL = "https://www.joongdo.co.kr/web/view.php?key=20190823010011746"
runner = CliRunner()


def test_extract_seed_prints_exactly_the_seed_facts():
    result = runner.invoke(app, ["extract", str(SEED), "--url", SEED_URL])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    expected = json.loads(SEED.with_suffix(".json").read_text(encoding="utf-8"))["expected"]
    for field, value in expected.items():
        assert doc[field] == value, field
    assert list(doc)[:4] == ["outlet", "url", "canonical_url", "title"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["extract", str(SEED), "--url", "www.joongdo.co.kr/web/view.php?key=1"], "expected the page's absolute http(s) URL"),
        (["extract", str(SEED), "--url", "https://www.joongdo.co.kr:99999/web/view.php?key=1"], "--url"),
        (["crawl", "joongdo", "--base-url", "http://127.0.0.1:8000/copy"], "drop the path"),
        (["extract", "missing.html", "--url", SEED_URL], "cannot read missing.html"),
        (["extract", str(SEED.parent), "--url", SEED_URL], "cannot read"),
        (["crawl", "nosuchoutlet"], "unknown outlet 'nosuchoutlet'"),
        (["crawl", "joongdo", "--base-url", "localhost:8000"], "expected http(s)://host[:port]"),
        (["run", "nosuchoutlet"], "unknown outlet 'nosuchoutlet'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, message):
    proc = subprocess.run([sys.executable, "-m", "crawler.cli", *args], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_extract_unknown_domain_uses_generic_extraction():
    proc = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "extract", str(SEED), "--url", "https://news.example.org/a/1"],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "no outlet serves the domain 'news.example.org'" in proc.stderr and "using generic extraction" in proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["outlet"] == "unknown"
    expected = json.loads(SEED.with_suffix(".json").read_text(encoding="utf-8"))["expected"]
    assert doc["title"] == expected["title"]  # og:title without " - 중도일보" (og:site_name)
    assert doc["published"] == expected["published"]  # the printed 승인 line, found in the text
    assert doc["body"] == expected["body"]  # the densest text block: trafilatura keeps only the caption here
    assert doc["authors"] == ["오희룡"] and doc["region"] == "세종"  # from the trailer the body dropped
    assert doc["provenance"] == {"title": "meta", "published": "text", "authors": "text", "body": "density"}


def test_bad_mongo_uri_is_reported_masked(tmp_path):
    env = dict(os.environ, MONGO_URI="mongodb://admin:s3cret@127.0.0.1:1/?serverSelectionTimeoutMS=300", NEWSDESK_DATA_DIR=str(tmp_path))
    proc = subprocess.run([sys.executable, "-m", "crawler.cli", "articles"], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)
    assert proc.returncode == 2
    assert "does not answer" in proc.stderr and "s3cret" not in proc.stderr


@pytest.mark.parametrize("command", [[], ["extract"], ["crawl"], ["run"], ["demo"], ["articles"], ["outlets"], ["evaluate"],
                                     ["db", "status"], ["db", "start"], ["db", "stop"], ["deadletter", "list"], ["deadletter", "replay"]])
def test_every_command_has_help(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.stdout


@pytest.mark.e2e
def test_run_schedules_a_crawl_and_stops_cleanly_on_sigterm(mongo_uri, mongo_client, tmp_path):
    db_name = f"test_run_{uuid.uuid4().hex[:10]}"
    env = dict(os.environ, MONGO_URI=mongo_uri, NEWSDESK_DB=db_name, NEWSDESK_ENV="test", NEWSDESK_DATA_DIR=str(tmp_path))
    with FixtureSite(SiteSpec.load(DEFAULT_FIXTURES / "joongdo")) as site:
        proc = subprocess.Popen(
            [sys.executable, "-m", "crawler.cli", "run", "joongdo", "--base-url", site.base_url],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        try:
            deadline = time.monotonic() + 120
            stats_files: list[Path] = []
            while time.monotonic() < deadline and not stats_files:
                stats_files = list((tmp_path / "logs" / "joongdo").glob("*.stats.json"))
                time.sleep(0.5)
            assert stats_files, "no scheduled crawl finished within 120 s"
            proc.send_signal(signal.SIGTERM)
            output, _ = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, output
    assert "stopped" in output
    stats = json.loads(stats_files[0].read_text(encoding="utf-8"))
    assert stats["finish_reason"] == "finished"
    assert mongo_client[db_name].articles.count_documents({"outlet": "joongdo"}) == stats["newsdesk/articles/new"] > 0
    mongo_client.drop_database(db_name)


def test_db_status_articles_and_stop_with_the_embedded_server(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "MONGO_URI"}
    env.update(NEWSDESK_DATA_DIR=str(tmp_path / "data"), NEWSDESK_DB="test_cli_embedded", COLUMNS="200")

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "crawler.cli", *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)

    try:
        assert "not running" in cli("db", "status").stdout
        refused = cli("articles")  # read-only: never starts a server
        assert refused.returncode == 2 and "no embedded database is running" in refused.stderr
        assert "embedded SecantusDB at mongodb://127.0.0.1:" in cli("db", "start").stdout
        listing = cli("articles", "--json")
        assert listing.returncode == 0, listing.stderr
        assert listing.stdout == ""  # an empty database lists nothing
        status = cli("db", "status").stdout
        assert "running (answering)" in status and str(tmp_path) in status
    finally:
        assert "stopped" in cli("db", "stop").stdout
    assert "not running" in cli("db", "status").stdout


BROKEN_URI = "mongodb://admin:s3cret@127.0.0.1:1/?serverSelectionTimeoutMS=300"


@pytest.mark.parametrize(
    ("args", "uri", "message"),
    [
        # malformed cron (out of range, too few fields) and unknown outlets where a schedule is set
        (["schedule", "set", "joongdo", "--cron", "61 * * * *"], None, "--cron '61 * * * *'"),
        (["schedule", "set", "joongdo", "--cron", "*/20 6-23 * *"], None, "expected 5 fields"),
        (["schedule", "pause", "nosuchoutlet"], None, "unknown outlet 'nosuchoutlet'"),
        (["runs", "--outlet", "nosuchoutlet"], None, "unknown outlet 'nosuchoutlet'"),
        # bad MONGO_URI: a server that does not answer (password masked), a scheme pymongo refuses
        (["schedule", "list"], BROKEN_URI, "does not answer"),
        (["runs"], BROKEN_URI, "does not answer"),
        (["crawl", "joongdo", "--base-url", "http://127.0.0.1:9"], BROKEN_URI, "does not answer"),
        (["runs"], "notmongo://db.example", "Invalid URI scheme"),
        (["runs"], "db.example", "is not a usable MongoDB URI"),
        (["stats"], "mongodb://", "is not a usable MongoDB URI"),
        (["stats"], "mongodb://admin:s3cret@127.0.0.1:1,/", "is not a usable MongoDB URI"),
        # unreadable files: a dangling link, a folder of pairs with broken JSON, no such folder
        (["extract", "{tmp}/dangling.html", "--url", SEED_URL], None, "cannot read {tmp}/dangling.html"),
        (["evaluate", "{tmp}/pairs"], None, "a.json: not readable JSON"),
        (["evaluate", "{tmp}/missing"], None, "is not a folder"),
    ],
)
def test_bad_input_names_the_problem_in_one_line(args, uri, message, tmp_path):
    (tmp_path / "dangling.html").symlink_to(tmp_path / "nowhere.html")
    (tmp_path / "pairs").mkdir()
    (tmp_path / "pairs" / "a.html").write_bytes(SEED.read_bytes())
    (tmp_path / "pairs" / "a.json").write_text("{not json", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "MONGO_URI"}
    env["NEWSDESK_DATA_DIR"] = str(tmp_path / "data")
    if uri:
        env["MONGO_URI"] = uri
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    proc = subprocess.run([sys.executable, "-m", "crawler.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert message.replace("{tmp}", str(tmp_path)) in proc.stderr
    assert "Traceback" not in proc.stderr and "s3cret" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_runs_table_names_a_runs_commonest_faults():
    from crawler.cli.schedule import _faults_cell

    assert _faults_cell({}) == "-"
    assert _faults_cell({"timeouts": 3, "http_5xx": 12}) == "http_5xx 12, timeouts 3"
    cell = _faults_cell({"a": 1, "b": 5, "c": 2, "d": 2, "e": 9})
    assert cell == "e 9, b 5, c 2 +2 more"
