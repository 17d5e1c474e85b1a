"""Dead letters written by the store pipeline are replayed once, losing and doubling nothing."""

from __future__ import annotations

from datetime import datetime

from crawler.jsonformat import dumps_line
from crawler.store import ArticleStore
from crawler.store.deadletter import pending_files, replay
from crawler.text.dates import KST


def doc(n: int) -> dict:
    return {
        "outlet": "joongdo", "url": f"https://www.joongdo.co.kr/web/view.php?key={n}",
        "canonical_url": f"https://www.joongdo.co.kr/web/view.php?key={n}", "title": f"제목 {n}",
        "body": "본문", "content_hash": f"h{n}", "published": datetime(2019, 8, 23, 19, 1, tzinfo=KST),
    }


def test_replay_restores_dates_and_is_idempotent(tmp_path, mongo_db):
    folder = tmp_path / "deadletter"
    folder.mkdir()
    (folder / "joongdo-1.jsonl").write_text(dumps_line(doc(1)) + dumps_line(doc(2)), encoding="utf-8")
    (folder / "joongdo-2.jsonl").write_text(dumps_line(doc(2)) + dumps_line(doc(3)), encoding="utf-8")
    (folder / "broken.jsonl").write_text("{not json\n", encoding="utf-8")
    store = ArticleStore(mongo_db)
    store.ensure_indexes()
    result = replay(folder, store)
    assert (result.files, result.articles, result.new, result.unchanged, result.failed_files) == (2, 4, 3, 1, 1)
    assert mongo_db.articles.count_documents({}) == 3
    stored = store.get(doc(1)["canonical_url"])
    assert stored["published"] == datetime(2019, 8, 23, 10, 1, tzinfo=stored["published"].tzinfo)
    assert [p.name for p in pending_files(folder)] == ["broken.jsonl"]
    assert sorted(p.name for p in (folder / "replayed").iterdir()) == ["joongdo-1.jsonl", "joongdo-2.jsonl"]
    assert replay(folder, store).articles == 0  # nothing left but the broken file


def test_replay_never_overwrites_an_article_fetched_again_since(tmp_path, mongo_db):
    from datetime import timedelta, timezone

    folder = tmp_path / "deadletter"
    folder.mkdir()
    store = ArticleStore(mongo_db)
    store.ensure_indexes()
    failed_at = datetime(2025, 3, 1, tzinfo=timezone.utc)
    stale = {**doc(1), "body": "옛 본문", "content_hash": "old", "deadlettered_at": failed_at}
    (folder / "joongdo-old.jsonl").write_text(dumps_line(stale) + dumps_line({**doc(2), "deadlettered_at": failed_at}), encoding="utf-8")
    store.upsert_many([{**doc(1), "body": "새 본문", "content_hash": "new"}], now=failed_at + timedelta(hours=1))
    result = replay(folder, store)
    assert (result.superseded, result.new) == (1, 1)
    assert store.get(doc(1)["canonical_url"])["body"] == "새 본문"


def test_a_folder_named_like_a_dead_letter_file_is_not_one(tmp_path):
    from crawler.store.deadletter import pending_files

    (tmp_path / "a.jsonl").write_text("", encoding="utf-8")
    (tmp_path / "b.jsonl").mkdir()
    assert pending_files(tmp_path) == [tmp_path / "a.jsonl"]
