"""`newsdesk backfill` with bad input: one line naming the input, exit code 2, nothing started.

No database is reachable here (MONGO_URI points at a closed port): each check runs before the
database is needed, and no checkpoint folder is made.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crawler.cli import app
from crawler.text.dates import KST

runner = CliRunner()
TODAY = datetime.now(KST).date()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"MONGO_URI": "mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=200", "NEWSDESK_DB": "newsdesk_bad_input",
            "NEWSDESK_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "300"}


@pytest.mark.parametrize(("args", "words"), [
    (["nosuchoutlet", "--since", "2024-01-01"], ["nosuchoutlet"]),
    (["jnilbo", "--since", "2024-13-01"], ["--since", "2024-13-01", "YYYY-MM-DD"]),
    (["jnilbo", "--since", "yesterday"], ["--since", "yesterday", "YYYY-MM-DD"]),
    (["jnilbo", "--since", "2024-01-01", "--until", "2024-02-30"], ["--until", "2024-02-30"]),
    (["jnilbo", "--since", "2024-03-01", "--until", "2024-02-01"], ["--since 2024-03-01", "after", "--until 2024-02-01"]),
    (["jnilbo", "--since", (TODAY + timedelta(days=2)).isoformat()], ["--since", "in the future"]),
    (["jnilbo", "--since", "2024-01-01", "--base-url", "ftp://x"], ["--base-url", "ftp://x"]),
    (["jnilbo", "--since", "2024-01-01", "--set", "lower=1"], ["--set", "lower=1"]),
])
def test_bad_input_is_one_line_and_exit_2(env, tmp_path, args, words):
    result = runner.invoke(app, ["backfill", *args], env=env)
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    for word in words:
        assert word in result.stderr, result.stderr
    assert not (tmp_path / "data" / "jobs").exists()


def test_since_is_required(env):
    result = runner.invoke(app, ["backfill", "jnilbo"], env=env)
    assert result.exit_code == 2
    assert "--since" in result.output
