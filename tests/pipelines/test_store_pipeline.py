"""Store pipeline pieces that need no reactor: document shape, counting, dead letters."""

from __future__ import annotations

import json
from datetime import datetime

from pymongo.errors import ServerSelectionTimeoutError
from scrapy.utils.test import get_crawler

from crawler.items import Article, Image, PrintEdition
from crawler.store import ArticleStore, UpsertResult
from crawler.text.dates import KST
from pipelines.normalize import NormalizePipeline
from pipelines.store import BatchOutcome, MongoStorePipeline, item_to_document


def article(n: int = 1) -> Article:
    item = Article(
        outlet="joongdo",
        url=f"https://www.joongdo.co.kr/web/view.php?key={n}",
        canonical_url=f"https://www.joongdo.co.kr/web/view.php?key={n}",
        title=f"제목 {n}",
        body="본문 " * 50,
        published=datetime(2019, 8, 23, 19, 1, tzinfo=KST),
        print_edition=PrintEdition(date="2019-08-26", page=3),
        images=[Image(src="https://dn.joongdo.co.kr/a.jpg", caption="사진")],
    )
    return NormalizePipeline().process_item(item)


def pipeline(tmp_path, **settings) -> MongoStorePipeline:
    crawler = get_crawler(settings_dict={"NEWSDESK_DATA_DIR": str(tmp_path), "MONGO_URI": "mongodb://u:pw@127.0.0.1:1/", **settings})
    crawler.stats.open_spider()
    return MongoStorePipeline.from_crawler(crawler)


def test_document_is_plain_data_with_nested_dicts():
    doc = item_to_document(article())
    assert doc["print_edition"] == {"date": "2019-08-26", "page": 3}
    assert doc["images"] == [{"src": "https://dn.joongdo.co.kr/a.jpg", "caption": "사진"}]
    assert "extra" not in doc
    assert doc["published"].tzinfo is not None


def test_outcomes_are_counted_in_stats(tmp_path):
    pipe = pipeline(tmp_path)
    result = UpsertResult(new=2, updated=1, unchanged=0, errors=[], outcomes=["new", "duplicate", "new", "updated"])
    pipe._written(BatchOutcome(result=result, problems=["x failed"]))
    stats = pipe.stats.get_stats()
    assert stats["newsdesk/articles/new"] == 2 and stats["newsdesk/articles/updated"] == 1
    assert stats["newsdesk/articles/duplicate_in_batch"] == 1
    assert "newsdesk/articles/unchanged" not in stats
    assert stats["newsdesk/store/errors"] == 1


class DownStore:
    def upsert_many(self, docs, *, now=None):
        raise ServerSelectionTimeoutError("127.0.0.1:1: connection refused")


def test_database_down_sends_the_batch_to_a_dead_letter_file(tmp_path, caplog):
    pipe = pipeline(tmp_path)
    pipe.uri = "mongodb://u:pw@127.0.0.1:1/"
    pipe.store = DownStore()
    batch = [item_to_document(article(1)), item_to_document(article(2))]
    outcome = pipe._write(batch)
    pipe._written(outcome)
    files = list((tmp_path / "deadletter").glob("*.jsonl"))
    assert len(files) == 1 and outcome.deadlettered == 2
    saved = [json.loads(line) for line in files[0].read_text(encoding="utf-8").splitlines()]
    assert [d["canonical_url"] for d in saved] == [d["canonical_url"] for d in batch]
    assert saved[0]["published"] == "2019-08-23T19:01:00+09:00"
    assert pipe.stats.get_value("newsdesk/store/deadlettered") == 2
    assert "connection refused" in caplog.text and ":pw@" not in caplog.text


def test_one_bad_document_does_not_take_its_batch_down(tmp_path, mongo_db):
    pipe = pipeline(tmp_path)
    pipe.store = ArticleStore(mongo_db)
    pipe.store.ensure_indexes()
    bad = item_to_document(article(2))
    bad["published"] = datetime(2019, 8, 23, 19, 1)  # naive: the store refuses it
    outcome = pipe._write([item_to_document(article(1)), bad, item_to_document(article(3))])
    assert outcome.result.new == 2 and outcome.deadlettered == 1
    assert mongo_db.articles.count_documents({}) == 2
    (file,) = (tmp_path / "deadletter").glob("*.jsonl")
    assert json.loads(file.read_text(encoding="utf-8"))["canonical_url"].endswith("key=2")


def test_store_can_be_switched_off():
    import pytest
    from scrapy.exceptions import NotConfigured

    crawler = get_crawler(settings_dict={"NEWSDESK_STORE_ENABLED": False})
    with pytest.raises(NotConfigured):
        MongoStorePipeline.from_crawler(crawler)
