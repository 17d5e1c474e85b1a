"""Bad input to any `newsdesk` command: one line naming the input, exit code 2, no traceback.

The table in docs/commands.md ("Bad input") lists the same cases. Each check runs before any
slow work (scoring, crawling, starting a database): the tests give no database where the
command must fail before needing one.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crawler.cli import app
from crawler.devtools.fixturesite import DEFAULT_FIXTURES
from crawler.outlets import REGISTRY_PATH, OutletError, load_registry

ROOT = Path(__file__).resolve().parents[2]
SEED = DEFAULT_FIXTURES / "joongdo" / "seed_20190823.html"
SEED_URL = "https://www.joongdo.co.kr/web/view.php?key=20190823010011746"
runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """No database anywhere: MONGO_URI points at a closed port, and the data folder is empty."""
    return {"MONGO_URI": "mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=200", "NEWSDESK_DB": "newsdesk_bad_input",
            "NEWSDESK_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "300"}


def assert_one_line(result, *words: str) -> None:
    output = result.stderr
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    assert len(output.strip().splitlines()) == 1, output
    for word in words:
        assert word in output, output


# --- dates --------------------------------------------------------------------------------
@pytest.mark.parametrize("command", [["stats"], ["search", "대전"], ["export", "-o", "{tmp}/x.jsonl"]])
@pytest.mark.parametrize(("option", "day"), [("--since", "0001-01-01"), ("--until", "9999-12-31"),
                                             ("--since", "1899-12-31"), ("--until", "3000-01-01")])
def test_dates_out_of_range(env, tmp_path, command, option, day):
    args = [a.replace("{tmp}", str(tmp_path)) for a in command]
    result = runner.invoke(app, [*args, option, day], env=env)
    assert_one_line(result, option, day, "1900-01-01", "2999-12-31")


# --- the database name ----------------------------------------------------------------------
BAD_NAMES = [("bad/name", "'/'"), ("", "is empty"), ("   ", "is empty"), ("a.b", "'.'"), ("a b", "' '"),
             ("a$b", "'$'"), ("x" * 64, "64 bytes")]
DB_COMMANDS = [["articles"], ["stats"], ["search", "대전"], ["story", "s1"], ["export", "-o", "{tmp}/x.csv"],
               ["runs"], ["schedule", "list"], ["deadletter", "replay"], ["crawl", "joongdo"], ["serve"]]


@pytest.mark.parametrize(("name", "message"), BAD_NAMES)
def test_invalid_database_name(env, tmp_path, name, message):
    result = runner.invoke(app, ["articles"], env={**env, "NEWSDESK_DB": name})
    assert_one_line(result, "NEWSDESK_DB", message, "expected a non-empty name")


@pytest.mark.parametrize("command", DB_COMMANDS, ids=" ".join)
def test_invalid_database_name_in_every_command(env, tmp_path, command):
    args = [a.replace("{tmp}", str(tmp_path)) for a in command]
    result = runner.invoke(app, args, env={**env, "NEWSDESK_DB": "bad/name"})
    assert_one_line(result, "NEWSDESK_DB 'bad/name'")


def test_invalid_database_name_with_the_embedded_server_starts_nothing(env, tmp_path):
    del env["MONGO_URI"]
    result = runner.invoke(app, ["db", "start"], env={**env, "NEWSDESK_DB": "a.b"})
    assert_one_line(result, "NEWSDESK_DB 'a.b'")
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(("command", "name"), [(["serve", "--db", "a.b"], "'.'"), (["demo", "--db", ""], "is empty"),
                                               (["demo", "--db", "a\0b"], "'\\x00'")])
def test_invalid_db_option(env, command, name):
    assert_one_line(runner.invoke(app, command, env=env), "--db", name)


def test_invalid_database_in_mongo_uri(env):
    del env["NEWSDESK_DB"]
    result = runner.invoke(app, ["articles"], env={**env, "MONGO_URI": "mongodb://127.0.0.1:9/bad$name"})
    assert_one_line(result, "MONGO_URI", "'$'")


# --- files ----------------------------------------------------------------------------------
@pytest.fixture
def not_articles(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    (tmp_path / "empty.html").write_bytes(b"")
    (tmp_path / "blank.html").write_bytes(b"  \n\n ")
    (tmp_path / "random.bin").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "bare.html").write_bytes(b"<html><head></head><body><div></div></body></html>")
    return {
        "empty": (tmp_path / "empty.html", "the file is empty"),
        "blank": (tmp_path / "blank.html", "the file is empty"),
        "readme": (ROOT / "README.md", "no HTML tags"),
        "binary": (tmp_path / "random.bin", "binary"),
        "no article": (tmp_path / "bare.html", "no title and no body"),
    }


@pytest.mark.parametrize("case", ["empty", "blank", "readme", "binary", "no article"])
def test_extract_refuses_what_is_not_an_article_page(not_articles, case):
    path, message = not_articles[case]
    result = runner.invoke(app, ["extract", str(path), "--url", SEED_URL])
    assert_one_line(result, str(path), "is not an article page", message)
    assert result.stdout == ""


def test_extract_still_prints_an_article(tmp_path):
    assert runner.invoke(app, ["extract", str(SEED), "--url", SEED_URL]).exit_code == 0


@pytest.mark.parametrize("target", ["missing/eval.json", "."], ids=["missing folder", "a folder"])
def test_evaluate_output_is_checked_before_scoring(tmp_path, monkeypatch, target):
    import crawler.devtools.evaluate as evaluation

    monkeypatch.setattr(evaluation, "evaluate", lambda folder: pytest.fail("scored before checking --output"))
    output = tmp_path / target
    result = runner.invoke(app, ["evaluate", str(DEFAULT_FIXTURES / "joongdo"), "-o", str(output)])
    assert_one_line(result, "--output", "does not exist" if "missing" in target else "is a folder")


@pytest.mark.parametrize(("content", "message"), [
    ('{"url": "ftp://x"}', "not an absolute http(s) URL"),
    ('{"url": "https://x.kr/1", "expected": 3}', '"expected" must be an object'),
    ("[1]", 'expected an object with the page\'s "url"'),
    ("{broken", "not readable JSON"),
])
def test_evaluate_bad_case_file(tmp_path, content, message):
    (tmp_path / "a.html").write_text("<html><title>x</title></html>")
    (tmp_path / "a.json").write_text(content)
    result = runner.invoke(app, ["evaluate", str(tmp_path), "-o", str(tmp_path / "out.json")])
    assert_one_line(result, "a.json", message)


def test_export_onto_a_folder(env, tmp_path):
    (tmp_path / "out.csv").mkdir()
    result = runner.invoke(app, ["export", "-o", str(tmp_path / "out.csv")], env=env)
    assert_one_line(result, "--output", "is a folder")


# --- URLs, outlets, numbers -----------------------------------------------------------------
@pytest.mark.parametrize(("args", "words"), [
    (["story", "https://"], ["ID_OR_URL 'https://'", "not a usable URL"]),
    (["story", "http://[::1"], ["ID_OR_URL", "not a usable URL"]),
    (["crawl", "joongdo", "--base-url", "http://127.0.0.1:99999"], ["--base-url", "99999"]),
    (["crawl", "joongdo", "--base-url", "localhost:8000"], ["--base-url", "expected http(s)://host[:port]"]),
    (["crawl", "joongdo", "--base-url", "ftp://127.0.0.1"], ["--base-url", "expected http(s)://host[:port]"]),
    (["extract", str(SEED), "--url", "file:///etc/passwd"], ["--url", "absolute http(s) URL"]),
    (["articles", "--outlet", ""], ["unknown outlet ''"]),
    (["crawl", "nosuchoutlet"], ["unknown outlet 'nosuchoutlet'"]),
    (["search", "대전", "--outlet", "nosuchoutlet"], ["unknown outlet nosuchoutlet"]),
])
def test_bad_urls_and_names(env, args, words):
    assert_one_line(runner.invoke(app, args, env=env), *words)


@pytest.mark.parametrize(("args", "option"), [
    (["articles", "--days", "99999999999"], "--days"),
    (["articles", "--limit", "0"], "--limit"),
    (["articles", "--limit", "-1"], "--limit"),
    (["articles", "--limit", "99999999999999999999"], "--limit"),
    (["search", "대전", "--page", "0"], "--page"),
    (["search", "대전", "--per-page", "1000"], "--per-page"),
    (["crawl", "joongdo", "--max-articles", "-1"], "--max-articles"),
    (["serve", "--port", "70000"], "--port"),
    (["serve", "--port", "-1"], "--port"),
    (["run", "--time-limit", "0"], "--time-limit"),
    (["runs", "--limit", "0"], "--limit"),
])
def test_numbers_out_of_range(env, args, option):
    """typer's own range check: exit 2 naming the option (in its boxed usage message)."""
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 2 and option in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(("args", "words"), [
    (["articles", "--limit", "-1"], ("articles", "--limit", "greater than or equal to 1")),
    (["articles", "--bogus"], ("articles", "No such option: --bogus")),
    (["story"], ("story", "Missing argument")),
    (["runs", "show"], ("runs show", "Missing argument")),
    (["serve", "--port", "70000"], ("serve", "--port")),
])
def test_the_command_itself_says_typers_usage_errors_in_one_line(env, args, words):
    """What `newsdesk` prints (crawler.cli.main.main), not typer's framed usage block."""
    proc = subprocess.run([sys.executable, "-m", "crawler.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, **env}, timeout=60)
    assert proc.returncode == 2 and proc.stdout == "", (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in proc.stderr, proc.stderr
    for word in words:
        assert word in lines[0], lines[0]


# --- schedules ------------------------------------------------------------------------------
@pytest.mark.parametrize("cron", ["0 9 31 2 *", "0 0 30 2 *", "0 0 31 4 *"])
def test_cron_that_never_fires(env, cron):
    assert_one_line(runner.invoke(app, ["schedule", "set", "joongdo", "--cron", cron], env=env), cron, "never fires")


def test_cron_that_fires_only_decades_away(env):
    result = runner.invoke(app, ["schedule", "set", "joongdo", "--cron", "0 0 29 2 1"], env=env)
    assert_one_line(result, "0 0 29 2 1", "years away")


def test_cron_that_never_fires_in_outlets_toml(tmp_path):
    text = REGISTRY_PATH.read_text(encoding="utf-8").replace("[joongdo]\n", "[joongdo]\ncron = \"0 9 31 2 *\"\n", 1)
    (tmp_path / "outlets.toml").write_text(text, encoding="utf-8")
    with pytest.raises(OutletError, match=r"outlet 'joongdo': cron: .*never fires"):
        load_registry(tmp_path / "outlets.toml")


# --- found beyond the known cases -------------------------------------------------------------
@pytest.mark.parametrize(("args", "extra_env", "words"), [
    (["run", "joongdo", "--scrapyd", "notaurl"], {}, ["--scrapyd", "'notaurl'", "expected http(s)://"]),
    (["search", "x" * 201], {}, ["QUERY is 201 characters long", "at most 200"]),
])
def test_more_bad_values(env, args, extra_env, words):
    assert_one_line(runner.invoke(app, args, env={**env, **extra_env}), *words)


def test_scrapyd_url_from_the_environment(env):
    """Settings read the environment when first imported: a process of its own."""
    proc = subprocess.run([sys.executable, "-m", "crawler.cli", "run", "joongdo"], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **env, "NEWSDESK_SCRAPYD_URL": "ftp://x"}, timeout=60)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == ["error: NEWSDESK_SCRAPYD_URL: scrapyd URL 'ftp://x': expected "
                                                "http(s)://host:port/"]


def test_deadletter_list_names_unreadable_files(env, tmp_path):
    folder = tmp_path / "data" / "deadletter"
    (folder / "folder.jsonl").mkdir(parents=True)
    (folder / "binary.jsonl").write_bytes(b"\xbc\xff\x00" * 10)
    result = runner.invoke(app, ["deadletter", "list"], env=env)
    assert result.exit_code == 0 and "Traceback" not in result.output
    assert "binary.jsonl  (unreadable: not UTF-8 text" in result.stdout
    assert "folder.jsonl" not in result.stdout  # a folder is no dead-letter file


def test_deadletter_replay_passes_over_a_folder(env, tmp_path, mongo_uri):
    folder = tmp_path / "data" / "deadletter"
    (folder / "folder.jsonl").mkdir(parents=True)
    result = runner.invoke(app, ["deadletter", "replay"], env={**env, "MONGO_URI": mongo_uri})
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    assert "replayed 0 files" in result.stdout and (folder / "folder.jsonl").is_dir()


def test_serve_host_and_port_checked_before_anything(env):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert_one_line(runner.invoke(app, ["serve", "--port", str(port)], env=env),
                        f"--port {port}", "cannot listen", "in use")
    assert_one_line(runner.invoke(app, ["serve", "--host", "no such host!"], env=env), "--host 'no such host!'")
    assert_one_line(runner.invoke(app, ["serve", "--host", "192.0.2.1"], env=env),
                    "--host '192.0.2.1'", "not an address of this machine")
