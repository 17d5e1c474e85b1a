"""Generic extraction (unknown domains, and fields a template misses) on constructed pages."""

from __future__ import annotations

from datetime import datetime

import pytest

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


# -- one small page per rule of the generic fallback --------------------------------------

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=KST)


def extract_at(html: str, url: str = "https://news.example.kr/1"):
    return GenericArticlePage(url, html, now=NOW).to_article()


def titled(og_title: str | None = None, title: str | None = None, site: str | None = "예시일보", ld: str = "") -> str:
    head = (f'<meta property="og:site_name" content="{site}">' if site else "") + ld
    head += f'<meta property="og:title" content="{og_title}">' if og_title else ""
    head += f"<title>{title}</title>" if title else ""
    return f"<html><head>{head}</head><body><div>{'<br><br>'.join(PARAS)}</div></body></html>"


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (titled("확대간부회의 열어 - 예시일보 뉴스"), "확대간부회의 열어"),  # the site's name + 뉴스
        (titled("확대간부회의 열어 | 예시일보"), "확대간부회의 열어"),
        (titled("[예시일보] 확대간부회의 열어"), "확대간부회의 열어"),
        (titled("예시일보 :: 확대간부회의 열어"), "확대간부회의 열어"),
        (titled("[속보] 확대간부회의 열어 - 예시일보"), "[속보] 확대간부회의 열어"),  # the article's own tags stay
        (titled("[단독] 확대간부회의 열어"), "[단독] 확대간부회의 열어"),
        (titled("[포토뉴스] 확대간부회의"), "[포토뉴스] 확대간부회의"),
        (titled("[실시간 e뉴스] 확대간부회의"), "[실시간 e뉴스] 확대간부회의"),  # a bracket not naming the site
        (titled("확대간부회의 &amp;quot;차질 없이&amp;quot;"), '확대간부회의 "차질 없이"'),  # escaped twice
        # no og:site_name: what <title> adds around og:title is the site's name
        (titled("확대간부회의 열어", "확대간부회의 열어 | 다른이름", site=None), "확대간부회의 열어"),
        # NDSoft <title>: the headline, the section path, 기사본문, the site
        (titled(None, "확대간부회의 열어 < 세종 < 지역 < 기사본문 - 예시일보"), "확대간부회의 열어"),
        # a name the host spells: news.example.kr is `Example`
        (titled("확대간부회의 열어 - Example News", site=None), "확대간부회의 열어"),
        # a publication-like word at the end: `OO일보`
        (titled("확대간부회의 열어 - 충청한빛일보", site=None), "확대간부회의 열어"),
        # a dash inside the headline that names no site stays
        (titled("대전-세종 광역철도 - 예시일보"), "대전-세종 광역철도"),
        (titled("시장 &quot;예산 늘린다&quot; - 재정 확대 예고"), "시장 \"예산 늘린다\" - 재정 확대 예고"),
    ],
)
def test_title_without_the_sites_name(html: str, expected: str):
    assert extract_at(html).title == expected


def test_the_printed_headline_wins_over_a_meta_title_with_the_same_words():
    html = titled("취업자 9만7천명 증가[2보]").replace("<div>", "<h1>취업자 9만7천명 증가(2보)</h1><div>")
    article = extract_at(html)
    assert (article.title, article.provenance["title"]) == ("취업자 9만7천명 증가(2보)", "heading")


def test_title_keeps_the_quotes_a_json_ld_headline_lost():
    ld = '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "왜 싸우나... 통합 외친 후보"}</script>'
    article = extract_at(titled("&quot;왜 싸우나&quot;... 통합 외친 후보 | 예시일보", ld=ld))
    assert article.title == '"왜 싸우나"... 통합 외친 후보'


LEAD_BODY = ("가수 아이유가 25일 새 앨범을 발표하고 서울 마포구에서 쇼케이스를 열었다고 소속사가 밝혔다.",
             "이번 앨범에는 타이틀곡을 포함해 모두 열 곡이 실렸으며 작사와 작곡에 직접 참여했다.",
             "소속사 관계자는 \"팬들의 성원에 보답하기 위해 준비했다\"고 말했다.")


@pytest.mark.parametrize(
    ("lead", "authors", "region", "wire"),
    [
        ("[스타뉴스=홍길동 기자]", ["홍길동"], None, None),
        ("(서울=연합뉴스) 홍길동 기자 =", ["홍길동"], "서울", "연합뉴스"),
        ("【대전=뉴시스】", [], "대전", "뉴시스"),
        ("[대전=뉴스1] 홍길동 기자 =", ["홍길동"], "대전", "뉴스1"),
        ("홍길동 기자 =", ["홍길동"], None, None),
    ],
)
def test_a_lead_byline_gives_the_author_and_its_paragraph_stays(lead, authors, region, wire):
    # bare text before the <p>s: trafilatura drops it; the paragraph is the story's first
    body = f"{lead} {LEAD_BODY[0]}<br><br>" + "".join(f"<p>{p}</p>" for p in LEAD_BODY[1:] * 2)
    article = extract_at(page(body=body))
    assert article.body == "\n\n".join([LEAD_BODY[0], *LEAD_BODY[1:] * 2])
    assert (article.authors, article.region, article.wire) == (authors, region, wire)


FOOTER = ('<footer><p>등록번호 : 대전 아00123 | 등록일 : 2010.01.05 | 발행인 : 홍길동</p>'
          '<p>발행일 2010.01.05 편집인 : 김철수</p></footer>')


def test_the_papers_registration_date_in_the_footer_is_not_the_articles():
    html = page(header="<span>기사입력 2019/01/16 13:59</span>").replace("</body>", FOOTER + "</body>")
    assert extract_at(html).published == datetime(2019, 1, 16, 13, 59, tzinfo=KST)
    alone = extract_at(page().replace("</body>", FOOTER + "</body>"))
    assert alone.published is None and "no date" in alone.provenance["quality"]


def test_a_timed_strong_label_wins_over_the_days_edition_date():
    html = page(header="<span>발행일: 2025-12-06 17:25</span> <span>입력 2025.12.06 16:43</span>")
    assert extract_at(html).published == datetime(2025, 12, 6, 16, 43, tzinfo=KST)


def test_the_printed_label_closest_to_the_metadata_wins():
    html = page(head='<meta property="article:published_time" content="2025-12-06T16:43:04+09:00">',
                header="<span>발행일: 2025-12-06 17:25</span> <span>입력 2025.12.06 16:43</span>")
    assert extract_at(html).published == datetime(2025, 12, 6, 16, 43, tzinfo=KST)


def test_the_first_strong_label_agreeing_with_the_metadata_is_the_printed_time():
    html = page(head='<meta property="article:published_time" content="2023-04-07T08:26:22+09:00">',
                header="<span>입력 2023.04.07 (08:26)</span>", side="<li><span>입력</span> 2023-04-07 08:26:22</li>")
    assert extract_at(html).published == datetime(2023, 4, 7, 8, 26, tzinfo=KST)


def test_a_printed_time_on_the_day_a_date_only_meta_gives():
    html = page(head='<meta itemprop="datePublished" content="2018-11-20">', header="<span>입력 2018.11.20 14:50</span>")
    assert extract_at(html).published == datetime(2018, 11, 20, 14, 50, tzinfo=KST)


def test_dates_that_cannot_be_the_articles_are_skipped():
    future = page(head='<meta property="article:published_time" content="2027-05-01T09:00:00+09:00">',
                  header="<span>등록 2027.05.01 09:00</span>")
    assert extract_at(future).published is None  # NOW is 2026-12-06: neither can be true
    ancient = page(head='<meta property="article:published_time" content="1970-01-01T09:00:00+09:00">')
    assert extract_at(ancient).published is None


def test_json_ld_dates_and_a_modified_time_apart_from_published():
    import json

    data = {"@type": "NewsArticle", "headline": "제목", "datePublished": "2025-03-25T10:05:00+09:00",
            "dateModified": "2025-03-25T14:30:00+09:00"}
    html = page(head=f'<script type="application/ld+json">{json.dumps(data)}</script>')
    article = extract_at(html)
    assert article.published == datetime(2025, 3, 25, 10, 5, tzinfo=KST)
    assert article.modified == datetime(2025, 3, 25, 14, 30, tzinfo=KST)
    assert (article.provenance["published"], article.provenance["modified"]) == ("jsonld", "jsonld")
    data["dateModified"] = "2025-03-24T09:00:00+09:00"  # before publication: not a correction
    stale = extract_at(page(head=f'<script type="application/ld+json">{json.dumps(data)}</script>'))
    assert stale.modified is None


def test_an_unlabelled_time_under_the_headline_then_the_urls_day():
    header = "<h1>확대간부회의 열어</h1><p>2026년 02월 24일(화) 19:00</p>"
    html = page(head='<meta property="og:title" content="확대간부회의 열어">', header=header)
    article = extract_at(html)
    assert article.published == datetime(2026, 2, 24, 19, 0, tzinfo=KST) and article.provenance["published"] == "text"
    by_url = extract_at(page(), url="https://news.example.kr/2019/01/16/story-1")
    assert by_url.published == datetime(2019, 1, 16, tzinfo=KST) and by_url.provenance["published"] == "url"


TRAILERS = [
    "대전=홍길동 기자 hong@example.kr",
    "※ 이 기사에 대한 정정·반론보도 청구는 고충처리인에게 하실 수 있습니다.",
    "고충처리인 김철수 (042-123-4567)",
    "▶ 예시일보 네이버 채널 구독하기",
    "좋아요 0",
    "기사제보 news@example.kr",
    "#대전시 #확대간부회의",
    "/hong@example.kr",
]


def test_trailing_blocks_after_the_story_are_not_body():
    body = "<br><br>".join(PARAS) + "".join(f"<p>{line}</p>" for line in TRAILERS)
    article = extract_at(page(body=body))
    assert article.body == "\n\n".join(PARAS)
    assert article.authors == ["홍길동"] and article.region == "대전"


def test_a_photo_credit_and_an_address_glued_to_the_last_sentence_are_cut():
    last = PARAS[-1] + " 사진=예시일보 DB"
    body = "<br><br>".join([*PARAS[:-1], last]) + "<br><br>/hong@example.kr"
    assert extract_at(page(body=body)).body == "\n\n".join(PARAS)


def test_a_broadcast_report_ends_with_its_sign_off_and_credits():
    body = "<br><br>".join(PARAS) + " KBS 뉴스 이윤우입니다.<br><br>[lee@example.kr]<br><br>영상편집:김선영"
    article = extract_at(page(body=body))
    assert article.body == "\n\n".join(PARAS) and article.authors == ["이윤우"]


def test_a_three_sentence_brief_is_a_body():
    brief = ["어제 오전 경기 김포시의 아파트 5층에서 불이 나 7분 만에 꺼졌습니다.", "이 불로 주민 10명이 대피했습니다.",
             "소방당국은 화재 원인을 조사하고 있습니다."]
    body = "<br><br>".join(brief) + "<br><br>박노준 / 사진출처 예시일보DB"
    article = extract_at(page(body=body))
    assert article.body == "\n\n".join(brief) and article.authors == ["박노준"]


def test_a_photographers_credit_is_no_author():
    body = "<br><br>".join(PARAS) + "<br><br>사진=백승철 기자"
    article = extract_at(page(head='<meta name="author" content="강경윤">', body=body))
    assert article.body == "\n\n".join(PARAS) and article.authors == ["강경윤"]


def test_a_desk_named_as_the_author_is_no_reporter():
    body = "<br><br>".join(PARAS) + "<br><br>박노준 / 사진출처 예시일보DB"
    article = extract_at(page(head='<meta name="author" content="iMBC 연예">', body=body))
    assert article.authors == ["박노준"]


def test_a_reporter_named_in_twitter_creator_is_no_site_name():
    head = '<meta name="author" content="신준명"><meta name="twitter:creator" content="신준명">'
    assert extract_at(page(head=head)).authors == ["신준명"]


def test_a_script_broken_mid_sentence_keeps_its_first_lines():
    lines = ["동글동글 귀여운 모양과 붉은 색깔,", "건강한 다이어트를 위한 추천 채소 목록에 꾸준히 언급되는 채소,", "눈치채셨나요?",
             "바로 방울토마토입니다.", *PARAS]
    # the text sits in a <span> beside an ad frame, not in <p>s
    body = '<iframe src="/ad"></iframe><span>' + "<br><br>".join(lines) + "</span>"
    assert extract_at(page(body=body)).body == "\n\n".join(lines)


@pytest.mark.parametrize("heading", ["기자의 다른기사 보기", "관련기사", "많이 본 뉴스"])
def test_the_body_ends_at_the_heading_of_a_block_after_it(heading):
    more = "<br><br>".join(p.replace("대전시", "세종시") for p in PARAS)
    body = "<br><br>".join(PARAS) + f"<br><br>{heading}<br><br>{more}"
    assert extract_at(page(body=body)).body == "\n\n".join(PARAS)


@pytest.mark.parametrize("notice", ["무단전재 및 재배포, AI 학습 이용 금지", "저작권자 © 예시일보 무단전재 및 재배포 금지",
                                    "이 기사의 저작권은 예시일보에 있으며, 무단 전재 및 재배포를 금합니다."])
def test_copyright_notices_in_new_wordings_end_the_body(notice):
    body = "<br><br>".join(PARAS) + f"<br><br>{notice}<br><br>" + "<br><br>".join(PARAS)
    assert extract_at(page(body=body)).body == "\n\n".join(PARAS)


def test_what_sits_above_the_story_in_its_block_is_not_body():
    above_lines = ("확대간부회의 열어", "도시철도 2호선 추진 상황 점검…하반기 재정 집행 계획 보고",
                   "2025년 03월 25일(화) 10:05", "가가", "브라우저가 video 태그를 지원하지 않습니다.")
    above = "<br>".join(above_lines)
    html = page(head='<meta property="og:title" content="확대간부회의 열어">', body=above + "<br>" + "<br><br>".join(PARAS))
    assert extract_at(html).body == "\n\n".join(PARAS)


def test_a_page_that_cannot_be_extracted_well_says_so():
    dated = '<meta property="article:published_time" content="2025-03-25T10:05:42+09:00">'
    good = extract_at(page(head=dated + '<meta property="og:title" content="확대간부회의 열어">'))
    assert "quality" not in good.provenance
    chrome = ("<html><head><title>예시일보</title></head><body><nav>"
              + "".join(f'<a href="/{i}">메뉴 {i}</a>' for i in range(30)) + "</nav><div>로그인 회원가입</div></body></html>")
    bad = extract_at(chrome)
    assert bad.provenance["quality"].startswith("low: ")
    assert "no title" in bad.provenance["quality"] and "no date" in bad.provenance["quality"]  # `예시일보` names the site
    teaser = extract_at(page(head=dated, body=PARAS[0]))
    assert "short body" in teaser.provenance["quality"]


def test_the_pages_summary_settles_which_extractor_found_the_story():
    # a menu written as bare text outweighs the story in the densest-block count
    menu = "<div class='menu'>" + "<br>".join(f"섹션 이름 {i}번 메뉴" for i in range(40)) + "</div>"
    story = "<article>" + "".join(f"<p>{p}</p>" for p in PARAS * 2) + "</article>"
    html = (f'<html><head><meta property="og:description" content="{PARAS[0]}">'
            '<meta property="og:title" content="확대간부회의 열어"></head>'
            f"<body>{menu}{story}</body></html>")
    article = extract_at(html)
    assert article.body == "\n\n".join(PARAS * 2)
    assert article.provenance["body"] == "trafilatura" and "extractors disagree" not in article.provenance.get("quality", "")


def test_a_broadcast_scripts_cues_are_not_body():
    lines = ["[앵커]", PARAS[0], "[리포트]", PARAS[1], "【 기자 】", PARAS[2]]
    html = page(head=f'<meta property="og:description" content="[앵커] {PARAS[0]}">', body="<br><br>".join(lines))
    article = extract_at(html)
    assert article.body == "\n\n".join(PARAS) and article.provenance["body"] == "density"


def test_a_block_inside_trafilaturas_text_is_the_story_and_the_rest_surrounds_it():
    from crawler.pages.bodytext import merge_extractions

    teasers = [f"세종시는 {day}일 정부세종청사에서 다른 회의를 열고 예산 집행 상황을 점검했다고 밝혔다.." for day in range(2, 12)]
    traf = ["확대간부회의 열어", "도시철도 2호선 추진 상황 점검", *PARAS, *teasers]
    assert merge_extractions(list(PARAS), traf) == (list(PARAS), "density")
    # the page's summary opening trafilatura's text says it found the story: all of it is kept
    assert merge_extractions(list(PARAS), traf, traf_anchored=True) == (traf, "trafilatura")


def test_a_page_that_draws_its_story_from_script_data():
    import json

    content = {"content_elements": [
        {"type": "image", "caption": "사진 설명"},
        {"type": "text", "content": f"[스포츠조선 안소윤 기자] {PARAS[0]}"},
        {"type": "text", "content": f"<b>{PARAS[1]}</b>"},
        {"type": "text", "content": PARAS[2]}],
        "credits": {"by": [{"name": "스포츠조선 = 안소윤 기자"}]}, "last_updated_date": "2025-03-25T05:30:00Z"}
    head = ('<meta property="og:title" content="확대간부회의 열어">'
            '<meta name="article:published_time" content="2025-03-25T01:05:00Z">'
            f"<script>Fusion.globalContent={json.dumps(content, ensure_ascii=False)};Fusion.x=1;</script>")
    html = f"<html><head>{head}</head><body><div id='fusion-app'><h1>확대간부회의 열어</h1></div></body></html>"
    article = extract_at(html)
    assert article.body == "\n\n".join(PARAS)
    assert article.authors == ["안소윤"] and article.modified == datetime(2025, 3, 25, 14, 30, tzinfo=KST)
    assert article.provenance["body"] == "embedded" and "quality" not in article.provenance


def test_a_modified_time_seconds_after_publication_is_no_correction():
    head = ('<meta property="article:published_time" content="2023-04-07T08:26:22+09:00">'
            '<meta property="article:modified_time" content="2023-04-07T08:26:57+09:00">')
    assert extract_at(page(head=head)).modified is None
