"""`newsdesk search`, `stats` and `export` end to end against the test database."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crawler.cli import app
from crawler.search import drain
from crawler.store import ArticleStore

ROOT = Path(__file__).resolve().parents[2]
KST = timezone(timedelta(hours=9))
runner = CliRunner()


def _article(i: int, outlet: str, region: str, published: datetime, title: str, body: str) -> dict:
    url = f"https://news.example/{outlet}/{i}"
    return {"outlet": outlet, "url": url, "canonical_url": url, "title": title, "body": body, "published": published,
            "sections": ["사회", "지역"], "region": region, "authors": ["홍길동", "김철수"], "content_hash": f"h{i}"}


ARTICLES = [
    # 2025-03-01 00:30 KST is still 2025-02-28 in UTC: days must be Korea days
    _article(0, "joongdo", "대전", datetime(2025, 3, 1, 0, 30, tzinfo=KST), "대전시 예산 \"확정\", 쉼표",
             "대전시는 내년 예산을 확정했다.\n\n둘째 문단 [bold]마크업[/bold]."),
    _article(1, "joongdo", "세종", datetime(2025, 3, 1, 23, 0, tzinfo=KST), "세종시 교통 대책", "세종시가 교통 대책을 냈다."),
    _article(2, "busan", "부산", datetime(2025, 3, 2, 12, 0, tzinfo=KST), "부산 항만 소식", "부산항 물동량이 늘었다. 대전 기업도 참여."),
    _article(3, "busan", "부산", datetime(2025, 4, 10, 12, 0, tzinfo=KST), "4월 기사", "범위 밖의 대전 기사."),
]


@pytest.fixture
def env(mongo_uri, mongo_client, tmp_path):
    name = f"test_cli_{uuid.uuid4().hex[:12]}"
    store = ArticleStore(mongo_client[name])
    store.ensure_indexes()
    store.upsert_many(ARTICLES)
    drain(mongo_client[name])  # what the crawl's end does: index what the store queued
    yield {"MONGO_URI": mongo_uri, "NEWSDESK_DB": name, "NEWSDESK_DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    mongo_client.drop_database(name)


def invoke(args, env):
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    return result


def test_search_json_has_structured_snippets_in_korea_time(env):
    data = json.loads(invoke(["search", "대전", "--json"], env).stdout)
    assert data["total"] == 3 and data["total_exact"]
    first = data["hits"][0]
    assert first["canonical_url"].endswith("/joongdo/0")  # title match first
    assert first["published"] == "2025-03-01T00:30:00+09:00"
    assert {"text": "대전시", "highlight": True} in first["title_segments"]  # the place word with its 시


def test_search_filters_and_paging(env):
    data = json.loads(invoke(["search", "대전", "--outlet", "busan", "--until", "2025-03-31", "--json"], env).stdout)
    assert [h["canonical_url"] for h in data["hits"]] == ["https://news.example/busan/2"]
    data = json.loads(invoke(["search", "대전", "--per-page", "1", "--page", "2", "--json"], env).stdout)
    assert data["pages"] == 3 and len(data["hits"]) == 1


def test_search_sort_newest_orders_by_time(env):
    data = json.loads(invoke(["search", "대전", "--sort", "newest", "--json"], env).stdout)
    times = [h["published"] for h in data["hits"]]
    assert len(times) == 3 and times == sorted(times, reverse=True)


def test_search_text_output_keeps_markup_inert(env):
    result = invoke(["search", "마크업"], env)
    assert "[bold]" in result.stdout  # printed as text, not interpreted
    assert "1 result · page 1 of 1" in result.stdout


def test_stats_by_outlet_and_korea_day(env):
    data = json.loads(invoke(["stats", "--since", "2025-03-01", "--until", "2025-03-31", "--by", "outlet", "--by", "day",
                              "--json"], env).stdout)
    assert data["total"] == 3
    assert data["rows"] == [
        {"outlet": "busan", "day": "2025-03-02", "articles": 1},
        {"outlet": "joongdo", "day": "2025-03-01", "articles": 2},
    ]
    table = invoke(["stats", "--since", "2025-03-01", "--until", "2025-04-30", "--by", "region"], env).stdout
    assert "total" in table and "부산" in table and "4" in table


def test_export_csv_with_bom_reads_back(env, tmp_path):
    out = tmp_path / "a.csv"
    invoke(["export", "--format", "csv", "--bom", "--since", "2025-03-01", "--until", "2025-03-31", "-o", str(out)], env)
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with out.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["canonical_url"] for r in rows] == [a["canonical_url"] for a in ARTICLES[:3]]
    assert rows[0]["title"] == ARTICLES[0]["title"]
    assert rows[0]["body"] == ARTICLES[0]["body"]  # newlines survive quoting
    assert rows[0]["published"] == "2025-03-01T00:30:00+09:00"
    assert rows[0]["authors"] == "홍길동; 김철수"


def test_export_jsonl_and_parquet(env, tmp_path):
    jsonl = tmp_path / "a.jsonl"
    invoke(["export", "-o", str(jsonl), "--outlet", "busan"], env)
    lines = jsonl.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    assert json.loads(lines[0])["sections"] == ["사회", "지역"]

    import pyarrow.parquet as pq

    parquet = tmp_path / "a.parquet"
    invoke(["export", "--format", "parquet", "-o", str(parquet)], env)
    table = pq.read_table(parquet)
    assert table.num_rows == 4
    assert str(table.schema.field("published").type) == "timestamp[us, tz=Asia/Seoul]"
    first = table.slice(0, 1).to_pylist()[0]
    assert first["published"].isoformat() == "2025-03-01T00:30:00+09:00"
    assert first["authors"] == ["홍길동", "김철수"]
    assert not list(tmp_path.glob("*.partial"))


def test_reindex_command(env, mongo_client):
    mongo_client[env["NEWSDESK_DB"]].search_segments.drop()
    mongo_client[env["NEWSDESK_DB"]].search_postings.drop()
    result = invoke(["search", "--reindex", "--full"], env)
    assert "indexed 4 articles" in result.stderr
    assert json.loads(invoke(["search", "세종시", "--json"], env).stdout)["total"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", "..."], "no word to search for"),
        (["search", "대전", "--since", "2025-13-01"], "--since '2025-13-01': expected a date"),
        (["search", "대전", "--outlet", "nosuch"], "unknown outlet nosuch"),
        (["search", "대전", "--sort", "oldest"], "--sort 'oldest': expected relevance or newest"),
        (["stats", "--by", "week"], "--by 'week'"),
        (["stats", "--since", "2025-03-05", "--until", "2025-03-01"], "is after --until"),
        (["export", "-o", "x.txt"], "--format 'txt'"),
        (["export", "--format", "jsonl", "--bom", "-o", "x.jsonl"], "--bom applies to CSV only"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(env, args, message):
    proc = subprocess.run([sys.executable, "-m", "crawler.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=60, env={**__import__("os").environ, **env})
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_stats_since_alone_runs_through_today(env):
    from crawler.text.dates import KST as SEOUL

    data = json.loads(invoke(["stats", "--since", "2025-03-01", "--json"], env).stdout)
    assert data["total"] == 4
    assert data["until"] == str(datetime.now(SEOUL).date())


def test_stats_default_window_moves_to_the_newest_article(env):
    # every stored article is from 2025: the last 30 days hold none
    data = json.loads(invoke(["stats", "--json"], env).stdout)
    assert data["window_moved"] is True
    assert (data["since"], data["until"]) == ("2025-03-12", "2025-04-10")
    assert data["total"] == 1
    assert data["stored"] == {"articles": 4, "oldest": "2025-03-01", "newest": "2025-04-10"}
    text = invoke(["stats"], env).stdout
    assert "showing the 30 days to 2025-04-10, the day of the newest stored article" in text
    assert "articles published 2025-03-12 to 2025-04-10 (Korea time)" in text


def test_stats_empty_explicit_window_says_what_is_stored(env):
    text = invoke(["stats", "--since", "2024-01-01", "--until", "2024-01-31"], env).stdout
    assert "articles published 2024-01-01 to 2024-01-31" in text
    assert "the database holds 4 articles, published 2025-03-01 to 2025-04-10" in text
    data = json.loads(invoke(["stats", "--since", "2024-01-01", "--until", "2024-01-31", "--json"], env).stdout)
    assert data["window_moved"] is False and data["total"] == 0


def test_export_carries_print_edition(env, mongo_client, tmp_path):
    db = mongo_client[env["NEWSDESK_DB"]]
    db.articles.update_one({"canonical_url": ARTICLES[0]["canonical_url"]},
                           {"$set": {"print_edition": {"date": "2025-03-01", "page": 5}}})
    args = ["--since", "2025-03-01", "--until", "2025-03-31"]
    jsonl, table, sheet = tmp_path / "p.jsonl", tmp_path / "p.parquet", tmp_path / "p.csv"
    invoke(["export", "-o", str(jsonl), *args], env)
    rows = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert rows[0]["print_edition"] == {"date": "2025-03-01", "page": 5} and rows[1]["print_edition"] is None
    invoke(["export", "-o", str(sheet), *args], env)
    with sheet.open(encoding="utf-8", newline="") as fh:
        cells = list(csv.DictReader(fh))
    assert (cells[0]["print_edition_date"], cells[0]["print_edition_page"]) == ("2025-03-01", "5")
    assert (cells[1]["print_edition_date"], cells[1]["print_edition_page"]) == ("", "")
    import pyarrow.parquet as pq

    invoke(["export", "-o", str(table), *args], env)
    column = pq.read_table(table).column("print_edition").to_pylist()
    assert column[0] == {"date": "2025-03-01", "page": 5} and column[1] is None


def test_stats_query_is_a_trend_per_korea_day_split_by_region(env):
    data = json.loads(invoke(["stats", "--query", "대전", "--by", "region", "--json"], env).stdout)
    assert data["total"] == 3 and data["total_exact"] and data["bucket"] == "day"
    days = {d["day"]: d["articles"] for d in data["days"]}
    assert days["2025-03-01"] == 1 and days["2025-03-02"] == 1 and days["2025-04-10"] == 1
    assert len(days) == 41  # every day from the first match to the last, zeros included
    assert data["split_by"] == "region" and set(data["split"]) == {"대전", "부산"}
    assert sum(data["split"]["부산"]) == 2
    table = invoke(["stats", "--query", "대전", "--since", "2025-03-01", "--until", "2025-03-03"], env).stdout
    assert "3 articles" not in table and "2 articles match" in table and "2025-03-03" in table


@pytest.mark.parametrize("args, message", [
    (["--query", "대전", "--by", "author"], "--by with --query"),
    (["--query", "대전", "--by", "region", "--by", "outlet"], "--by with --query"),
    (["--query", "   "], "--query is empty"),
    (["--query", "!!!"], "no word to search for"),
])
def test_stats_query_bad_input(env, args, message):
    result = runner.invoke(app, ["stats", *args], env=env)
    assert result.exit_code == 2 and message in result.output


def test_export_query_writes_only_the_matches(env, tmp_path):
    out = tmp_path / "q.jsonl"
    invoke(["export", "--query", "대전", "--until", "2025-03-31", "-o", str(out)], env)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["canonical_url"] for r in rows] == ["https://news.example/joongdo/0", "https://news.example/busan/2"]
    assert set(rows[0]) >= {"title", "body", "published", "print_edition", "story_id"}


def test_places_reindex_then_filters_and_stats_by_sido(env):
    result = runner.invoke(app, ["places", "--reindex"], env=env)
    assert result.exit_code == 0, result.output
    assert "tagged 4 articles" in result.output
    again = runner.invoke(app, ["places", "--reindex"], env=env)
    assert "tagged 0 articles (4 already tagged" in again.output
    data = json.loads(invoke(["search", "대전", "--sido", "대전", "--json"], env).stdout)
    assert {h["title"] for h in data["hits"]} == {"대전시 예산 \"확정\", 쉼표"}
    stats = json.loads(invoke(["stats", "--since", "2025-03-01", "--until", "2025-03-31", "--by", "sido", "--json"],
                              env).stdout)
    assert {r["sido"]: r["articles"] for r in stats["rows"]} == {"대전광역시": 1, "세종특별자치시": 1, "부산광역시": 1}
    counts = json.loads(invoke(["places", "--since", "2025-03-01", "--until", "2025-03-31", "--json"], env).stdout)
    assert {r["sido_code"] for r in counts["sido"]} == {"30", "36", "26"}


@pytest.mark.parametrize("args, message", [
    (["search", "대전", "--sigungu", "중구"], "names 6 places"),
    (["stats", "--sido", "충낭"], "unknown 시도"),
    (["export", "-o", "x.csv", "--sido", "충남", "--sigungu", "유성구"], "not in 충청남도"),
])
def test_unknown_or_ambiguous_places_exit_2_with_a_hint(env, args, message):
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 2
    assert message in result.output


def test_export_query_without_a_word_is_refused_before_writing(env, tmp_path):
    out = tmp_path / "q.jsonl"
    result = runner.invoke(app, ["export", "--query", "!!!", "-o", str(out)], env=env)
    assert result.exit_code == 2 and "--query: query '!!!' has no word to search for" in result.output
    assert not out.exists()
