"""Generic extraction (unknown domains, and fields a template misses) on constructed pages."""

from __future__ import annotations

from datetime import datetime

from crawler.pages.generic import GenericArticlePage
from crawler.text.dates import KST

PARAS = [
    "대전시는 25일 시청에서 올해 첫 확대간부회의를 열고 주요 현안을 점검했다고 밝혔다.",
    "이날 회의에서는 도시철도 2호선 트램 건설 사업의 추진 상황과 하반기 재정 집행 계획이 보고됐다.",
    "시 관계자는 \"시민 불편을 최소화하면서 사업을 차질 없이 추진하겠다\"고 말했다.",
]


def page(head: str = "", header: str = "", body: str | None = None, side: str = "") -> str:
    body = body if body is not None else "<br><br>".join(PARAS) + "<br>대전=홍길동 기자 hong@example.kr"
    return f"""<html><head><meta property="og:site_name" content="예시일보">{head}</head><body>
    <nav><a href="/a">정치</a> <a href="/b">경제</a> <a href="/c">사회</a></nav>
    <div class="head">{header}</div>
    <div class="text">{body}<p>ⓒ 예시일보 무단전재 및 재배포 금지</p></div>
    <div class="side"><h3>많이 본 뉴스</h3><ul><li><a href="/1">다른 기사 제목 하나</a></li><li><a href="/2">다른 기사 제목 둘</a></li></ul>{side}</div>
    </body></html>"""


def extract(html: str):
    return GenericArticlePage("https://news.example.kr/1", html).to_article()


def test_densest_block_body_with_trailer_as_author_and_region():
    article = extract(page(head='<meta property="og:title" content="확대간부회의 열어 - 예시일보">'))
    assert article.title == "확대간부회의 열어"
    assert article.body == "\n\n".join(PARAS)
    assert article.authors == ["홍길동"] and article.region == "대전"
    assert article.provenance["body"] in ("density", "trafilatura") and article.provenance["authors"] == "text"


def test_br_separated_body_after_a_photo_table():
    # (the saved 중도일보 page, where trafilatura keeps only the caption, is in tests/cli)
    body = ('<table><tr><td><img src="/p.jpg"></td></tr><tr><td>사진 설명 문장입니다.</td></tr></table>'
            + "<br><br>".join(PARAS * 3) + "<br>대전=홍길동 기자 hong@")
    article = extract(page(body=body))
    assert article.body == "\n\n".join(PARAS * 3)
    assert article.authors == ["홍길동"]


def test_printed_time_wins_when_it_agrees_with_meta():
    html = page(head='<meta property="article:published_time" content="2025-03-25T10:05:42+09:00">',
                header="<span>입력 2025.03.25 10:05</span>")
    article = extract(html)
    assert article.published == datetime(2025, 3, 25, 10, 5, tzinfo=KST)
    assert article.provenance["published"] == "text"


def test_meta_wins_over_a_far_away_printed_label():
    html = page(head='<meta property="article:published_time" content="2025-03-25T10:05:42+09:00">',
                side="<span>입력 2024.01.02 08:00</span>")
    article = extract(html)
    assert article.published == datetime(2025, 3, 25, 10, 5, 42, tzinfo=KST)
    assert article.provenance["published"] == "meta"


def test_modified_only_when_printed_beside_the_published_label():
    near = extract(page(header="<span>입력 2025.03.25 10:05</span> <span>수정 2025.03.25 14:00</span>"))
    assert near.modified == datetime(2025, 3, 25, 14, 0, tzinfo=KST)
    site_wide = extract(page(head='<meta property="article:modified_time" content="2025-03-26T09:00:00+09:00">',
                             header="<span>입력 2025.03.25 10:05</span>",
                             side="<p>" + "사이트 안내문 " * 40 + "</p><span>업데이트 2025.03.26 09:00</span>"))
    assert site_wide.modified is None  # neither a site-wide 업데이트 nor dateModified beside a printed 입력


def test_json_ld_first():
    import json

    data = {"@context": "https://schema.org", "@graph": [{
        "@type": "NewsArticle", "headline": "제이슨 제목", "datePublished": "2025-03-25T01:05:00Z",
        "author": [{"@type": "Person", "name": "세종=김철수 기자"}], "articleBody": "\n".join(PARAS)}]}
    ld = f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script>'

    article = extract(page(head=ld))
    assert article.title == "제이슨 제목"
    assert article.body == "\n\n".join(PARAS)
    assert article.published == datetime(2025, 3, 25, 10, 5, tzinfo=KST)
    assert article.authors == ["김철수"] and article.region == "세종"
    assert article.provenance == {"title": "jsonld", "published": "jsonld", "authors": "jsonld", "body": "jsonld"}
