"""중도일보 pages that differ from the saved fixtures in the ways real pages differ.

Each case rebuilds the saved seed page with another header or body (title tag, photo boxes,
trailer forms, copyright placement, date labels, several reporters) and checks the fields a
careful editor would extract. Extraction is judged on real pages we cannot see: these are the
variations such pages are known to have.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from crawler.outlets import get_outlet
from crawler.text.dates import KST
from pipelines.normalize import NormalizePipeline

SEED = Path(__file__).resolve().parents[1] / "fixtures" / "joongdo" / "seed_20190823.html"
URL = "https://www.joongdo.co.kr/web/view.php?key=20230406010001797"
SECTIONS = '<ul class="view-section"><li><a href="/web/section.php?ncid=N01">정치/행정</a></li><li><a href="/web/list_news.php?ncid=N01_06">세종</a></li></ul>'
TERM = ('<ul class="view-term"><li>승인 2023-04-06 17:31</li><li class="writer"><a href="#"><img src="https://dn.joongdo.co.kr/mnt/images/reporter/x.jpg" '
        'alt="오희룡 기자"><span class="name">오희룡 기자</span></a></li></ul>')
TITLE = '<p class="v-title1">세종시 스마트시티 간부 워크숍</p>'
PARAS = [
    "세종시가 스마트시티 사업 추진을 위한 간부급 워크숍을 23일 열고 사업 정의와 부서 간 협업 방안을 논의했다고 밝혔다.",
    "이번 워크숍은 시청 간부급 공무원을 대상으로 스마트시티에 대한 이해도를 높이고 사업추진 필요성에 대한 공감대를 확보하기 위해 마련됐다.",
    "이춘희 시장은 \"이번 워크숍은 세종형 스마트시티 사업을 완성하는 첫걸음이 될 것\"이라고 말했다.",
]
BR = "<br /><br />".join(PARAS)
BODY = "\n\n".join(PARAS)
COPY = '<p class="copyright">중도일보(www.joongdo.co.kr), 무단전재 및 수집, 재배포 금지</p>'
IMG = '<img id="newsimg" src="https://dn.joongdo.co.kr/a.jpg">'
PUBLISHED = datetime(2023, 4, 6, 17, 31, tzinfo=KST)


def build(header: str, body: str) -> str:
    src = SEED.read_text(encoding="utf-8")
    head, rest = src.split('<div class="view-head">', 1)
    _, tail = rest.split("<!-- 기사 본문 e -->", 1)
    return (head + '<div class="view-head">' + header + '</div>\n<div class="view-text"><div id="font">'
            + body + "</div></div>\n<!-- 기사 본문 e -->" + tail)


def extract(header: str, body: str):
    spec = get_outlet("joongdo")
    return NormalizePipeline().process_item(spec.page_class()(url=URL, html=build(header, body), outlet=spec).to_article())


CASES = {
    # name: (header, body, expected fields)
    "title_h1": (SECTIONS + '<h1 class="v-title1">세종시 스마트시티 간부 워크숍</h1>' + TERM, BR + "<br />세종=오희룡 기자 huily@" + COPY,
                 {"title": "세종시 스마트시티 간부 워크숍", "region": "세종"}),
    "p_paragraphs_with_nbsp_spacers": (SECTIONS + TITLE + TERM, "".join(f"<p>{p}</p><p>&nbsp;</p>" for p in PARAS)
                                       + "<p>세종=오희룡 기자 huily@joongdo.co.kr</p><p>중도일보(www.joongdo.co.kr), 무단전재 및 수집, 재배포 금지</p>",
                                       {"region": "세종"}),
    "photo_div_caption_p": (SECTIONS + TITLE + TERM, f'<div class="photo_box">{IMG}<p>▲ 세종시청 전경. 사진=세종시 제공</p></div>' + BR
                            + "<br />세종=오희룡 기자 huily@" + COPY, {"captions": ["▲ 세종시청 전경. 사진=세종시 제공"]}),
    "photo_div_caption_class": (SECTIONS + TITLE + TERM, f'<div class="news_photo">{IMG}<div class="photo_text">세종시청 전경.</div></div>'
                                + BR + "<br />세종=오희룡 기자 huily@" + COPY, {"captions": ["세종시청 전경."]}),
    "figure": (SECTIONS + TITLE + TERM, f"<figure>{IMG}<figcaption>세종시청 전경.</figcaption></figure>" + BR + "<br />세종=오희룡 기자 huily@" + COPY,
               {"captions": ["세종시청 전경."]}),
    "copyright_in_plain_div": (SECTIONS + TITLE + TERM, BR + "<br />세종=오희룡 기자 huily@<div>중도일보(www.joongdo.co.kr), 무단전재 및 수집, 재배포 금지</div>", {}),
    "related_news_after_copyright": (SECTIONS + TITLE + TERM, BR + "<br />세종=오희룡 기자 huily@<br /><br />" + COPY
                                     + '<div class="relation"><h3>관련기사</h3><ul><li><a>다른 기사 제목 하나</a></li></ul></div>', {"region": "세종"}),
    "trailer_then_photo_credit": (SECTIONS + TITLE + TERM, BR + "<br />세종=오희룡 기자 huily@<br /><br />/사진=세종시 제공" + COPY, {"region": "세종"}),
    "trailer_then_editor_note": (SECTIONS + TITLE + TERM, BR + "<br /><br />오희룡 기자<br /><br />※ 이 기사는 지역신문발전기금을 지원받았습니다." + COPY, {}),
    "trailer_glued_to_last_sentence": (SECTIONS + TITLE + TERM, BR + " 세종=오희룡 기자 huily@" + COPY, {"region": "세종"}),
    "several_modified_and_print": (SECTIONS + TITLE + '<ul class="view-term"><li>승인 2023-04-06 17:31</li><li>수정 2023-04-06 18:00</li>'
                                   '<li>수정 2023-04-07 09:15</li><li>신문게재 2023-04-07 3면</li><li class="writer"><span class="name">오희룡 기자</span></li></ul>',
                                   BR + "<br />세종=오희룡 기자 huily@" + COPY,
                                   {"modified": datetime(2023, 4, 7, 9, 15, tzinfo=KST), "print_edition": {"date": "2023-04-07", "page": 3}}),
    "dates_outside_view_term": (SECTIONS + TITLE + '<div class="article-date"><span>승인 2023-04-06 17:31</span></div>', BR + "<br />오희룡 기자 huily@" + COPY, {}),
    "two_reporters_in_header": (SECTIONS + TITLE + '<ul class="view-term"><li>승인 2023-04-06 17:31</li><li class="writer"><span class="name">박진우 기자</span></li>'
                                '<li class="writer"><span class="name">이소연 기자</span></li></ul>', BR + COPY, {"authors": ["박진우", "이소연"]}),
    "wire_yonhap": (SECTIONS + TITLE + '<ul class="view-term"><li>승인 2023-04-06 17:31</li><li class="writer"><span class="name">연합뉴스</span></li></ul>',
                    "(대전=연합뉴스) 김준범 기자 = " + BR + "<br />kjunbeom@yna.co.kr" + COPY,
                    {"authors": ["김준범"], "region": "대전", "wire": "연합뉴스"}),
    "no_subtitle_senior_reporter": (SECTIONS + TITLE + TERM, BR + "<br />세종=오희룡 선임기자 huily@" + COPY, {"subtitle": None, "region": "세종"}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_variant(name):
    header, body, expected = CASES[name]
    article = extract(header, body)
    assert article.body == BODY
    assert article.published == PUBLISHED
    assert article.title == "세종시 스마트시티 간부 워크숍"
    assert article.authors == expected.get("authors", ["오희룡"])
    for field in ("region", "wire", "subtitle", "modified"):
        if field in expected:
            assert getattr(article, field) == expected[field], field
    if "print_edition" in expected:
        assert {"date": article.print_edition.date, "page": article.print_edition.page} == expected["print_edition"]
    if "captions" in expected:
        assert [i.caption for i in article.images] == expected["captions"]


def test_truncated_utf8_byte_in_meta_does_not_garble_the_page():
    raw = SEED.read_bytes().replace("세종형 스마트시티 사업의".encode(), "세종형 스마트시티 사업의".encode()[:-1], 1)
    spec = get_outlet("joongdo")
    article = spec.page_class()(url=URL, html=raw, outlet=spec).to_article()
    assert article.title == "세종형 스마트시티 사업 성공 디딤돌 놓는다"
