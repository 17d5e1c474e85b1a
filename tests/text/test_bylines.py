"""Table tests for crawler.text.bylines: byline forms, trailers, wire leads."""

import pytest

from crawler.text.bylines import Byline, is_byline_line, parse_byline, parse_signoff, strip_wire_lead


def b(authors: list[str], region: str | None = None, wire: str | None = None, emails: list[str] | None = None) -> Byline:
    return Byline(authors=authors, region=region, wire=wire, emails=emails or [])


BYLINES = [
    ("오희룡 기자", b(["오희룡"])),
    ("세종=오희룡 기자 huily@", b(["오희룡"], region="세종", emails=["huily@"])),
    ("논산=장병일 기자 jang392107@", b(["장병일"], region="논산", emails=["jang392107@"])),
    ("/김홍민 기자", b(["김홍민"])),
    ("[대전=뉴시스] 김양수 기자 =", b(["김양수"], region="대전", wire="뉴시스")),
    ("[서울=연합뉴스] 홍길동 기자 =", b(["홍길동"], region="서울", wire="연합뉴스")),
    ("(서울=연합뉴스) 홍길동 기자 =", b(["홍길동"], region="서울", wire="연합뉴스")),
    ("(대전=뉴스1) 김기태 기자 =", b(["김기태"], region="대전", wire="뉴스1")),
    ("【서울=뉴시스】 김양수 기자 =", b(["김양수"], region="서울", wire="뉴시스")),
    ("【서울=뉴시스】", b([], region="서울", wire="뉴시스")),
    ("[뉴시스]", b([], wire="뉴시스")),
    ("(서울=연합뉴스) 김지헌 이슬기 기자 =", b(["김지헌", "이슬기"], region="서울", wire="연합뉴스")),
    ("중도일보 이정준 기자", b(["이정준"])),
    ("OO일보 이정준 기자", b(["이정준"])),
    ("충청투데이 이정준 기자", b(["이정준"])),
    ("KBS 이정준 기자", b(["이정준"])),
    ("뉴시스 김양수 기자", b(["김양수"], wire="뉴시스")),
    ("홍길동·김철수 기자", b(["홍길동", "김철수"])),
    ("홍길동ㆍ김철수 기자", b(["홍길동", "김철수"])),
    ("홍길동, 김철수 기자", b(["홍길동", "김철수"])),
    ("홍길동,김철수,이영희 기자", b(["홍길동", "김철수", "이영희"])),
    ("홍길동 기자·김철수 기자", b(["홍길동", "김철수"])),
    ("홍길동 기자, 김철수 기자", b(["홍길동", "김철수"])),
    ("홍길동 기자 김철수 기자", b(["홍길동", "김철수"])),
    ("오희룡 기자오희룡 기자", b(["오희룡"])),
    ("오희룡 기자 오희룡 기자", b(["오희룡"])),
    ("오희룡기자", b(["오희룡"])),
    ("홍길동·홍길동 기자", b(["홍길동"])),
    ("글·사진=홍길동 기자", b(["홍길동"])),
    ("사진=홍길동 기자", b(["홍길동"])),
    ("글/사진=홍길동 기자", b(["홍길동"])),
    ("대전=홍길동 선임기자", b(["홍길동"], region="대전")),
    ("세종=글·사진=홍길동 기자", b(["홍길동"], region="세종")),
    ("대전=홍길동 수습기자", b(["홍길동"], region="대전")),
    ("홍길동 객원기자", b(["홍길동"])),
    ("워싱턴=홍길동 특파원", b(["홍길동"], region="워싱턴")),
    ("홍길동 논설위원", b(["홍길동"])),
    ("홍길동 대기자", b(["홍길동"])),
    ("남궁민수 기자", b(["남궁민수"])),
    ("이산 기자", b(["이산"])),
    ("홍길동 기자 hong@joongdo.co.kr", b(["홍길동"], emails=["hong@joongdo.co.kr"])),
    ("홍길동 기자(hong@joongdo.co.kr)", b(["홍길동"], emails=["hong@joongdo.co.kr"])),
    ("홍길동 기자 huily@joongdo.co.kr huily@", b(["홍길동"], emails=["huily@joongdo.co.kr", "huily@"])),
    ("홍길동·김철수 기자 hong@ kim@", b(["홍길동", "김철수"], emails=["hong@", "kim@"])),
    ("세종=오희룡 기자.", b(["오희룡"], region="세종")),
    ("  세종=오희룡\u00a0기자  huily@ ", b(["오희룡"], region="세종", emails=["huily@"])),
    ("기자명 홍길동 기자", b(["홍길동"])),
    ("기자명 : 홍길동", b(["홍길동"])),
    ("보도자료", b([], wire="보도자료")),
    ("[보도자료]", b([], wire="보도자료")),
]


@pytest.mark.parametrize(("text", "expected"), BYLINES)
def test_parse_byline(text: str, expected: Byline) -> None:
    assert parse_byline(text) == expected


NOT_BYLINES = [
    "",
    "기자",
    "이 자리에서 김 기자는 이번 사업이 중요하다고 말했다.",
    "김철수 기자는 말했다",
    "세종시는 23일 산학연클러스터지원센터에서 워크숍을 진행했다.",
    "세종형 스마트시티 사업 성공 디딤돌 놓는다",
    "huily@joongdo.co.kr",
    "[내방]홍종완 충남도 행정부지사",
    "(사진=중도일보 DB)",
    "사진=중도일보 DB",
    "기자의 다른기사 보기",
    "김 기자",  # one syllable: not a full name
    "홍길동 선수",
    "[대전=뉴시스] 세종=홍길동 기자",  # two datelines
    "세종시 청사=홍길동 기자",  # a phrase, not a region
    "대전 홍길동 기자",  # bare-spaced word without a surname is not a second reporter
    "중도일보(www.joongdo.co.kr), 무단전재 및 수집, 재배포 금지",
]


@pytest.mark.parametrize("text", NOT_BYLINES)
def test_parse_byline_rejects(text: str) -> None:
    assert parse_byline(text) is None


BYLINE_LINES = [
    ("세종=오희룡 기자 huily@", True),
    ("/김홍민 기자", True),
    ("홍길동 기자 hong@joongdo.co.kr", True),
    ("논산=장병일 기자 jang392107@", True),
    ("오희룡 기자", True),
    ("대전=홍길동 선임기자", True),
    ("이 자리에서 김 기자는 ...말했다.", False),
    ("이 자리에서 오희룡 기자는 이번 사업이 중요하다고 말했다.", False),
    ("취재 중이던 홍길동 기자가 현장을 찾았다.", False),
    ("세종시는 23일 산학연클러스터지원센터에서 시청 실·국·과장 간부급을 대상으로 워크숍을 진행했다.", False),
    ("중도일보(www.joongdo.co.kr), 무단전재 및 수집, 재배포 금지", False),
    ("", False),
    ("홍길동 기자 " + "가" * 100, False),
]


@pytest.mark.parametrize(("line", "expected"), BYLINE_LINES)
def test_is_byline_line(line: str, expected: bool) -> None:
    assert is_byline_line(line) is expected


WIRE_LEADS = [
    (
        "[대전=뉴시스] 김양수 기자 = 대전시는 23일 시정 브리핑을 열었다.",
        "대전시는 23일 시정 브리핑을 열었다.",
        b(["김양수"], region="대전", wire="뉴시스"),
    ),
    (
        "(서울=연합뉴스) 홍길동 기자 = 정부는 23일 발표했다.",
        "정부는 23일 발표했다.",
        b(["홍길동"], region="서울", wire="연합뉴스"),
    ),
    (
        "(서울=연합뉴스) 김지헌 이슬기 기자 = 정부는 23일 발표했다.",
        "정부는 23일 발표했다.",
        b(["김지헌", "이슬기"], region="서울", wire="연합뉴스"),
    ),
    (
        "【서울=뉴시스】대전시는 23일 발표했다.",
        "대전시는 23일 발표했다.",
        b([], region="서울", wire="뉴시스"),
    ),
    (
        "【서울=뉴시스】 대전시는 A=B라고 밝혔다.",
        "대전시는 A=B라고 밝혔다.",
        b([], region="서울", wire="뉴시스"),
    ),
    (
        "[대전=뉴시스]김양수 기자=대전시는 발표했다.",
        "대전시는 발표했다.",
        b(["김양수"], region="대전", wire="뉴시스"),
    ),
    (
        "(대전=뉴스1) 김기태 기자 = 대전시는 발표했다.",
        "대전시는 발표했다.",
        b(["김기태"], region="대전", wire="뉴스1"),
    ),
    (
        "[대전=중도일보] 홍길동 기자 = 대전시는 발표했다.",
        "대전시는 발표했다.",
        b(["홍길동"], region="대전"),
    ),
]


@pytest.mark.parametrize(("paragraph", "rest", "byline"), WIRE_LEADS)
def test_strip_wire_lead(paragraph: str, rest: str, byline: Byline) -> None:
    assert strip_wire_lead(paragraph) == (rest, byline)


NO_WIRE_LEAD = [
    "대전시는 23일 시정 브리핑을 열었다.",
    "[내방]홍종완 충남도 행정부지사",
    "(사진=중도일보 DB) 대전시청 전경.",
    "[사설] 지방선거를 앞두고",
    "",
]


@pytest.mark.parametrize("paragraph", NO_WIRE_LEAD)
def test_strip_wire_lead_leaves_other_paragraphs(paragraph: str) -> None:
    assert strip_wire_lead(paragraph) == (paragraph, None)


def test_seed_trailer_and_info_line() -> None:
    """The two byline spots of the seed page (000_861e6506a2319754.txt)."""
    assert parse_byline("오희룡 기자오희룡 기자") == b(["오희룡"])
    assert parse_byline("세종=오희룡 기자 huily@") == b(["오희룡"], region="세종", emails=["huily@"])
    assert is_byline_line("세종=오희룡 기자 huily@")


@pytest.mark.parametrize(("text", "wire"), [("기자명 연합뉴스", "연합뉴스"), ("기자명 : 뉴시스", "뉴시스"), ("기자명 뉴스1", "뉴스1")])
def test_field_label_naming_an_agency_is_a_wire_not_an_author(text, wire):
    byline = parse_byline(text)
    assert byline is not None and byline.authors == [] and byline.wire == wire


# A paper's own lead credit in one bracket (경인일보, 중부일보, 기호일보 print it so).
@pytest.mark.parametrize(
    ("paragraph", "rest", "byline"),
    [
        ("[경인일보=신지영 기자] 인천시는 25일 회의를 열었다.", "인천시는 25일 회의를 열었다.", Byline(authors=["신지영"])),
        ("[경인일보=신지영기자]인천시는 25일", "인천시는 25일", Byline(authors=["신지영"])),
        ("[중부일보=홍길동·김철수 기자] 수원시는", "수원시는", Byline(authors=["홍길동", "김철수"])),
        ("[대전=홍길동 기자] 대전시는", "대전시는", Byline(authors=["홍길동"], region="대전")),
        ("[뉴시스=김도현 기자] 본문", "본문", Byline(authors=["김도현"], wire="뉴시스")),
    ],
)
def test_strip_wire_lead_reads_a_bracketed_paper_credit(paragraph: str, rest: str, byline: Byline) -> None:
    assert strip_wire_lead(paragraph) == (rest, byline)


@pytest.mark.parametrize("line", ["[경인일보=신지영 기자]", "[경인일보=신지영기자]"])
def test_a_bracketed_paper_credit_alone_is_a_byline_line(line: str) -> None:
    assert parse_byline(line) == Byline(authors=["신지영"])
    assert is_byline_line(line)


@pytest.mark.parametrize("paragraph", ["[사진=홍길동 기자] 시청 앞", "[경인일보=이 기사는 보도자료] 본문", "[인천=취재팀] 본문"])
def test_bracketed_text_that_is_no_credit_stays(paragraph: str) -> None:
    assert strip_wire_lead(paragraph) == (paragraph, None)


@pytest.mark.parametrize(
    ("paragraph", "rest", "byline"),
    [
        # a credit and `=` without brackets
        ("홍길동 기자 = 정부는 25일 새 대책을 발표했다.", "정부는 25일 새 대책을 발표했다.", b(["홍길동"])),
        ("대전=홍길동 기자 = 대전시는 25일 회의를 열었다.", "대전시는 25일 회의를 열었다.", b(["홍길동"], region="대전")),
        # a paper's credit with its bureau in parentheses, or with no `=`
        ("[헤럴드경제(대전)=홍길동 기자] 대전시가 25일", "대전시가 25일", b(["홍길동"], region="대전")),
        ("[이데일리 홍길동 기자] 정부가 25일", "정부가 25일", b(["홍길동"])),
        ("[스타뉴스=홍길동 기자] 가수 아이유가 새 앨범을 냈다.", "가수 아이유가 새 앨범을 냈다.", b(["홍길동"])),
        ("【대전=뉴시스】 대전시가 25일", "대전시가 25일", b([], region="대전", wire="뉴시스")),
        # the site's name in brackets, then a credit and `=`, or a bare name in the bracket
        ("[인사이트] 전준강 기자 = 내일은 소설이다.", "내일은 소설이다.", b(["전준강"])),
        ("[인사이트] 디지털뉴스팀 = 여교사가", "여교사가", b([])),
        ("[한국스포츠경제 김정희] 후반기 승률", "후반기 승률", b(["김정희"])),
        ("[OSEN=대전, 지형준 기자] 7일 오후", "7일 오후", b(["지형준"], region="대전")),
    ],
)
def test_lead_credits_of_other_forms(paragraph: str, rest: str, byline: Byline) -> None:
    assert strip_wire_lead(paragraph) == (rest, byline)


@pytest.mark.parametrize(
    "paragraph",
    [
        "[대전 홍길동 기자] 대전시가",  # a place and a name without `=` is no form papers print
        "A = B 라는 공식을 홍길동 기자가 설명했다.",
        "정부는 오늘 = 발표했다",
        "(사진=홍길동 기자) 대전시청 전경",
        "[사설] 정부는 = 안 된다",
        "[대전시] 홍길동 시장 = 시민이",
    ],
)
def test_text_that_only_resembles_a_lead_stays(paragraph: str) -> None:
    assert strip_wire_lead(paragraph) == (paragraph, None)


@pytest.mark.parametrize(
    ("line", "byline"),
    [
        ("[머니투데이방송 MTN = 유찬 기자 (curry30@mtn.co.kr)]", b(["유찬"], emails=["curry30@mtn.co.kr"])),
        ("[한국스포츠경제 정진영]", b(["정진영"])),
    ],
)
def test_bracketed_trailers_with_the_outlets_name(line: str, byline: Byline) -> None:
    assert parse_byline(line) == byline
    assert is_byline_line(line)


@pytest.mark.parametrize(
    ("line", "byline"),
    [
        ("KBS 뉴스 이윤우입니다.", b(["이윤우"])),
        ("MBC뉴스 구민지입니다.", b(["구민지"])),
        ("TV조선 변재영입니다.", b(["변재영"])),
        ("연합뉴스 이준삼입니다.", b(["이준삼"], wire="연합뉴스")),
        ("SBS 김철수 기자입니다.", b(["김철수"])),
    ],
)
def test_a_broadcast_sign_off_names_the_reporter(line: str, byline: Byline) -> None:
    assert parse_signoff(line) == byline


@pytest.mark.parametrize("line", ["저는 홍길동입니다.", "KBS 뉴스입니다.", "이것은 사실입니다."])
def test_sentences_ending_in_imnida_are_no_sign_off(line: str) -> None:
    assert parse_signoff(line) is None


def test_editors_and_reporters_by_other_titles() -> None:
    assert parse_byline("이정화 에디터") == b(["이정화"])
    assert parse_byline("홍길동 리포터") == b(["홍길동"])


def test_a_name_before_the_paper_and_title() -> None:
    assert parse_byline("이남경 MK스포츠 기자(mkculture3@mkculture.com)") == b(["이남경"], emails=["mkculture3@mkculture.com"])
    assert parse_byline("[이남경 MBN스타 기자]") == b(["이남경"])
