"""`newsdesk evaluate`: scoring is right on constructed cases, and the CLI runs on fixtures."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from typer.testing import CliRunner

from crawler.cli import app
from crawler.devtools.evaluate import Extracted, body_scores, compare, find_cases
from crawler.text.dates import KST

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def test_body_scores_are_character_level():
    assert body_scores("가나다라", "가나다라") == (1.0, 1.0, 1.0)
    p, r, f1 = body_scores("가나다라", "가나")  # half recalled, all precise
    assert (p, r) == (1.0, 0.5) and abs(f1 - 2 / 3) < 1e-9
    p, r, _ = body_scores("가나", "가나다라마바")  # all recalled, a third precise
    assert (p, r) == (1 / 3, 1.0)
    assert body_scores("", "") == (1.0, 1.0, 1.0) and body_scores("가", "") == (0.0, 0.0, 0.0)
    assert body_scores("가  나\n\n다", "가 나 다") == (1.0, 1.0, 1.0)


def test_compare_fields_and_day_only_dates():
    expected = {"title": "제목", "published": "2019-08-23T19:01:00+09:00", "modified": None, "authors": ["오희룡"], "region": "세종"}
    got = Extracted("제목 ", datetime(2019, 8, 23, 0, 0, tzinfo=KST), None, ["오희룡"], None, "")
    correct, wrong = compare(expected, got)
    assert correct == {"title": True, "published": False, "published_day": True, "modified": True, "authors": True, "region": False}
    assert set(wrong) == {"published", "region"}
    # a field the page does not state is not scored
    correct, _ = compare({"title": "제목"}, got)
    assert set(correct) == {"title"}


def test_find_cases_pairs_only():
    cases = find_cases(FIXTURES / "joongdo")
    names = {html.name for html, _ in cases}
    assert "seed_20190823.html" in names and not any(n.startswith("list_") for n in names)


def test_cli_prints_table_and_writes_json(tmp_path):
    out = tmp_path / "eval.json"
    result = CliRunner().invoke(app, ["evaluate", str(FIXTURES / "joongdo"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "body F1" in result.stdout and "trafilatura" in result.stdout
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [s["system"] for s in data] == ["newsdesk", "generic only", "trafilatura"]
    assert data[0]["pages"] == len(find_cases(FIXTURES / "joongdo"))


def test_cli_rejects_empty_folder(tmp_path):
    result = CliRunner().invoke(app, ["evaluate", str(tmp_path)])
    assert result.exit_code == 2
