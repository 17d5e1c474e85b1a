"""Normalizing in the parse worker (NormalizePipeline.prepare_step): the pipeline then stores
the same item and counts the same stats as normalizing itself, and normalizes again whatever
changed since."""

from __future__ import annotations

import pickle
from datetime import datetime
from pathlib import Path

import pytest
from scrapy.utils.test import get_crawler

from crawler.items import item_dict
from crawler.outlets import get_outlet
from crawler.pages.parse import parse_page
from crawler.prepare import done, run_steps
from pipelines.normalize import NormalizePipeline, NormalizeStep
from pipelines.validate import ArticleDropped

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "fixtures" / "joongdo" / "art_20240312010003418.html"
URL = "https://www.joongdo.co.kr/web/view.php?key=20240312010003418"


def parsed():
    return parse_page(get_outlet("joongdo"), URL, PAGE.read_bytes(), "text/html; charset=utf-8")


def prenormalize(article):
    """What the parse worker does with the normalize step: run it and record it."""
    return run_steps(article, (NormalizePipeline.prepare_step,))


def pipeline():
    crawler = get_crawler()
    crawler.stats.open_spider()
    return NormalizePipeline.from_crawler(crawler), crawler.stats


def counted(stats) -> dict:
    return {k: v for k, v in stats.get_stats().items() if k.startswith("newsdesk/")}


def across_processes(article):
    return pickle.loads(pickle.dumps(article))  # as it comes back from the worker


@pytest.mark.parametrize("naive", [False, True])
def test_the_same_item_and_counts_as_normalizing_in_the_pipeline(naive):
    raw, ahead = parsed(), parsed()
    if naive:  # counted by normalizing, wherever it runs
        raw.published = ahead.published = datetime(2024, 3, 12, 9, 30)
    here, here_stats = pipeline()
    expected = item_dict(here.process_item(raw))
    there, there_stats = pipeline()
    item = there.process_item(across_processes(prenormalize(ahead)))
    assert item_dict(item) == expected
    assert counted(there_stats) == counted(here_stats)
    assert ("newsdesk/normalize/naive_published_as_kst" in counted(there_stats)) is naive


def test_the_pipeline_takes_the_prepared_item_as_is(monkeypatch):
    item = across_processes(prenormalize(parsed()))
    normalize, _ = pipeline()
    monkeypatch.setattr(NormalizePipeline, "_normalize", lambda self, adapter: pytest.fail("normalized twice"))
    normalize.process_item(item)


def test_a_field_changed_after_the_worker_is_normalized_again():
    item = across_processes(prenormalize(parsed()))
    item.title = "  다시   바뀐 제목 "  # as a pipeline before normalize might
    normalize, _ = pipeline()
    normalize.process_item(item)
    assert item.title == "다시 바뀐 제목"


def test_fields_the_worker_cannot_normalize_are_dropped_by_the_pipeline_with_the_reason():
    article = parsed()
    article.published = "2024-03-12"  # not a datetime: a page object bug
    item = across_processes(prenormalize(article))
    normalize, stats = pipeline()
    with pytest.raises(ArticleDropped, match="malformed_fields"):
        normalize.process_item(item)
    assert counted(stats) == {"newsdesk/dropped/malformed_fields": 1}


def test_the_normalize_step_is_the_pipelines_and_records_itself():
    assert isinstance(NormalizePipeline.prepare_step, NormalizeStep)
    article = parse_page(get_outlet("joongdo"), URL, PAGE.read_bytes(), "text/html; charset=utf-8",
                         (NormalizePipeline.prepare_step,))
    assert done(across_processes(article), "normalize")


def test_fields_the_worker_cannot_normalize_leave_no_record():
    article = parsed()
    article.published = "2024-03-12"
    assert not done(prenormalize(article), "normalize")
