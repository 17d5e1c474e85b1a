"""Articles for search tests, written through ArticleStore (which queues them) and drained into the index."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from crawler.search import drain
from crawler.store import ArticleStore

KST = timezone(timedelta(hours=9))
BASE = datetime(2025, 3, 1, 9, 0, tzinfo=KST)


def article(i: int, title: str, body: str, **fields: Any) -> dict[str, Any]:
    url = f"https://news.example/{i}"
    doc = {
        "outlet": "joongdo", "url": url, "canonical_url": url, "title": title, "body": body,
        "published": BASE + timedelta(days=i), "sections": ["사회"], "region": "대전", "authors": ["홍길동"],
    }
    doc.update(fields)
    doc["content_hash"] = f"{title}|{body}|{doc['outlet']}|{doc['region']}|{doc['sections']}"
    return doc


CORPUS = [
    article(0, "대전시의회 임시회 개회", "대전시의회가 올해 첫 임시회를 열고 조례안을 처리했다."),
    article(1, "세종시 예산 확정", "세종시는 내년 예산을 확정했다. 대전과 협력 사업도 포함됐다.", outlet="daejonilbo", region="세종"),
    article(2, "전통시장 상품권 환급", "천안 전통시장에서 온누리상품권 환급 행사가 열린다. 시장 상인들이 반겼다.",
            region="충남", sections=["경제"]),
    article(3, "KTX 세종역 논의", "ＫＴＸ 세종역 신설을 두고 대전시가 입장을 냈다.", outlet="busan", region="부산"),
    article(4, "시장 상인 인터뷰", "전통 방식의 시장 운영을 고집하는 상인을 만났다.", sections=["문화"], story_id="s-1"),
    article(5, "대전 쌀값 상승", "쌀값이 올라 대전 지역 소비자 부담이 커졌다.", story_id="s-1", outlet="busan"),
]


@pytest.fixture
def store(mongo_db: Any) -> ArticleStore:
    store = ArticleStore(mongo_db)
    store.ensure_indexes()
    result = store.upsert_many(CORPUS)
    assert result.new == len(CORPUS) and result.queued == len(CORPUS)
    assert drain(mongo_db).indexed == len(CORPUS)
    return store
