"""Body-text cleanup: Unicode/whitespace normalisation, copyright trailers, joining.

Why: the same wire story reprinted by several papers must compare equal after cleanup,
and pages differ only in invisible ways (NFD vs NFC Hangul from Mac-authored copy, nbsp
and ideographic spaces from CMS editors, zero-width characters from copy-paste). Line
breaks inside a paragraph are layout, not content, so the only structure kept is the
paragraph list itself.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

__all__ = [
    "clean_paragraphs",
    "is_copyright_line",
    "is_end_heading",
    "is_prose",
    "is_script_marker",
    "is_trailing_chrome",
    "join_body",
    "normalize_body",
    "normalize_text",
]

# Characters that render as nothing: zero-width space/joiners, word joiner, BOM, soft hyphen.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
# C0/C1 controls other than whitespace are noise from broken encoders; drop them.
_INVISIBLE.update(dict.fromkeys([c for c in range(0x20) if chr(c) not in "\t\n\r\x0b\x0c"], None))
_INVISIBLE.update(dict.fromkeys(range(0x7F, 0xA0), None))
_INVISIBLE[0x85] = " "  # NEL is a line break, not noise
# str.translate looks every character up in a dict (slow on Hangul); a regex finds out in C
# whether there is anything to translate at all, which on crawled text there almost never is.
_HAS_INVISIBLE = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(_INVISIBLE)) + "]")

# str.split() already treats nbsp (U+00A0), U+2000-U+200A, U+202F, U+205F, the ideographic
# space (U+3000) and every line break as whitespace, so one split/join collapses them all.


def normalize_text(s: str) -> str:
    """NFC, invisible characters removed, every whitespace run (line breaks too) -> one space.

    NFC rather than NFKC: NFKC would rewrite full-width punctuation and circled characters
    (ⓒ, ①) that are part of the printed text.
    """
    if not s:
        return ""
    if not unicodedata.is_normalized("NFC", s):
        s = unicodedata.normalize("NFC", s)
    if _HAS_INVISIBLE.search(s) is not None:
        s = s.translate(_INVISIBLE)
    return " ".join(s.split())


def normalize_body(body: str) -> str:
    """A body's paragraphs (one per line) normalised and joined by a blank line, empty ones dropped."""
    paragraphs = [normalize_text(p) for p in (body or "").split("\n")]
    return "\n\n".join(p for p in paragraphs if p)


def clean_paragraphs(paragraphs: Iterable[str]) -> list[str]:
    """Normalise each paragraph and drop the ones left empty (spacer <p>, <br> runs)."""
    out: list[str] = []
    for p in paragraphs:
        if p is None:
            continue
        t = normalize_text(p)
        if t:
            out.append(t)
    return out


# Markers that only copyright trailers carry.
_COPYRIGHT_RX = re.compile(
    r"무단\s*[-·]?\s*(?:전재|복제|배포|수집)"  # 무단전재, 무단 전재, 무단복제
    r"|재\s*배포\s*금지"
    r"|저작권자"
    r"|copyright"
    r"|all\s+rights\s+reserved"
    r"|[©ⓒ]"
    r"|\(c\)\s*[가-힣A-Za-z]"  # "(c) 연합뉴스"; not a list item "(c)" on its own
    r"|AI\s*학습",  # "AI 학습 및 활용 금지", "AI학습 이용 금지"
    re.IGNORECASE,
)
# Copyright notices written as a sentence: "이 기사의 저작권은 OO에 있으며 무단 전재를 금합니다."
_COPYRIGHT_SENTENCE = re.compile(r"(?:저작권|무단|재배포|AI\s*학습).{0,80}(?:금합니다|금지합니다|금지됩니다|금지돼 있습니다)[.!]?$"
                                 r"|저작권은.{1,40}(?:에게|에)\s?있습니다[.!]?$")
# A Korean declarative sentence ends in 다 (+ punctuation/quotes): body text, even when it
# talks about 무단전재 or 저작권자.
_SENTENCE_END = re.compile(r"(?:다|요|까)[.!?\"'”’」』)]*$")
_MAX_COPYRIGHT_LEN = 200


def is_copyright_line(line: str) -> bool:
    """True for a copyright trailer (``중도일보(www.joongdo.co.kr), 무단전재 및 수집, 재배포 금지``).

    Trailers are short and not sentences; requiring both keeps an article *about* 무단전재
    from losing its paragraphs.
    """
    if not line:
        return False
    s = normalize_text(line)
    if not s or len(s) > _MAX_COPYRIGHT_LEN:
        return False
    if _COPYRIGHT_RX.search(s) is None:
        return ("금" in s or "저작권" in s) and _COPYRIGHT_SENTENCE.search(s) is not None
    return _SENTENCE_END.search(s) is None or _COPYRIGHT_SENTENCE.search(s) is not None


# Headings of the blocks that follow an article on Korean news pages (related stories, the
# reporter's other stories, rankings, comments): a line that is only such a heading ends the
# article text, whatever comes after it.
_END_HEADING_RX = re.compile(
    r"[\[<【(■□▶▷◆◇☞※#\s]*"
    r"(?:이\s?)?(?:(?:(?:관련|연관|추천|인기|주요|최신|실시간|헤드라인|포토|많이\s?본|가장\s?많이\s?본|함께\s?(?:보면\s?좋은|본|볼만한)|오늘의)\s?){1,2}(?:기사|뉴스|영상|포토)(?:\s?더보기)?"
    r"|랭킹\s?뉴스|핫\s?이슈|기자의\s?다른\s?기사(?:\s?(?:보기|더보기))?|다른\s?기사\s?(?:보기|더보기)|기자\s?(?:페이지|구독)"
    r"|(?:댓글|의견)\s?(?:\d+\s?)?(?:쓰기|달기|보기)?|많이\s?본\s?기사|기사\s?목록|이전\s?기사|다음\s?기사"
    r"|FAQ|자주\s?묻는\s?질문|AI\s?(?:요약|FAQ))"  # a generated Q&A after the story
    r"[\]>】)\s:+]*(?:more|더\s?보기|보기)?[\s>+]*",
    re.IGNORECASE,
)


def is_end_heading(line: str) -> bool:
    """True when a whole line is the heading of a block that follows the article
    (``관련기사``, ``기자의 다른기사 보기``, ``많이 본 뉴스``, ``댓글 3``): the body ends before it."""
    s = normalize_text(line)
    return 0 < len(s) <= 30 and _END_HEADING_RX.fullmatch(s) is not None


# Lines that close an article on many sites but are no part of it: correction and reply
# notices (언론중재법 정정·반론·추후보도), the ombudsman's contact, subscription, like and tip-off
# prompts, promo links, photo credits, bare e-mail addresses and URLs.
_TRAILING_CHROME_RX = re.compile(
    r"^[\[(<]?/?\s?[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.?[\])>]?$"  # kdy@yna.co.kr, /seon@osen.co.kr, [x@mbn.co.kr]
    r"|^(?:https?://|www\.)\S+$"
    r"|^[▶☞►◎※▷]"  # ▶ 구독하기, ◎공감언론 뉴시스 x@newsis.com, ※ 이 기사는 ... 지원을 받았습니다
    r"|^/?\s?\(?사진\s?[=:].{0,60}\)?$"
    r"|(?:정정|반론|추후)\s?(?:·\s?(?:정정|반론|추후)\s?)*보도.{0,60}(?:청구|신청|요청|문의|접수|안내)"
    r"|고충\s?처리인"
    r"|구독.{0,30}(?:하기|신청|버튼|클릭|눌러|해\s?주세요|하세요|해주시면|\+|＋|채널|알림)"
    r"|(?:좋아요|응원하기|공유하기|스크랩|북마크)(?:\s|$|.{0,20}(?:눌러|버튼|클릭|구독))"
    r"|(?:기사\s?)?제보.{0,40}(?:전화|카톡|카카오|채널|문자|이메일|메일|@|하기|바랍니다|기다립니다|받습니다|환영|\d{2,4}-\d{3,4}-\d{4})"
    r"|^\[.{0,40}(?:구독|제보).{0,20}\]$"
    r"|^#\S+(?:\s+#\S+)*$"  # hashtags
    # a broadcast's credits: `영상편집:김선영`, `( 취재 : 한지연 / 영상편집 : 변지영 )`
    r"|^[(\[]?\s?(?:영상\s?편집|영상\s?취재|촬영\s?기자|그래픽|촬영|편집|자료\s?조사|화면\s?제공|영상\s?제공|취재|제작|구성)\s?[:：]"
    # player and toolbar messages: `브라우저가 video 태그를 지원하지 않습니다`, `기사 URL이 복사되었습니다`
    r"|사진은\s?기사\s?내용과\s?(?:직접적인\s?)?관련|브라우저.{0,20}지원하지\s?않|브라우저\s?(?:버전|업그레이드)|다른\s?브라우저|video\s?태그|(?:URL|주소|링크)[이가]?\s?복사|글자\s?크기|본문\s?듣기|음성으로\s?듣기|^가가$",
    re.IGNORECASE,
)
_MAX_CHROME_LEN = 160


def is_trailing_chrome(line: str) -> bool:
    """True for a short line that, at the end of an article, is the site's and not the story's:
    ``※ 정정·반론보도 청구는 ...``, ``고충처리인 홍길동 (02-123-4567)``, ``▶ 네이버 채널 구독하기``,
    ``기사제보 news@example.kr``, a bare e-mail address. Callers trim these from the end only,
    so a sentence in the middle of a story that mentions 제보 or 구독 is never touched."""
    s = normalize_text(line)
    if not s or len(s) > _MAX_CHROME_LEN:
        return False
    return _TRAILING_CHROME_RX.search(s) is not None or is_copyright_line(s)


# Where a Korean written sentence ends: a final ending (다/요/까/죠, also the note style 함/음/임)
# then punctuation and closing quotes, or any sentence punctuation.
_PROSE_END = re.compile(r"(?:[다요까죠음함임][.!?…]*|[.!?…])[\"'”’」』)\]]*$")


def is_prose(line: str) -> bool:
    """True for a line that reads as article text (ends like a sentence and is not a stub):
    a headline, a deck, a caption or a menu usually does not."""
    s = normalize_text(line)
    return len(s) >= 15 and _PROSE_END.search(s) is not None


def join_body(paragraphs: list[str]) -> str:
    """Paragraphs joined by a blank line, the one structure the body text keeps.

    Empty items are skipped so a caller that did not run :func:`clean_paragraphs` still
    cannot produce runs of blank lines.
    """
    return "\n\n".join(p for p in paragraphs if p)


# A broadcast script's cue, on a line of its own: `[앵커]`, `【 기자 】`, `◀ 리포트 ▶`, `<앵커 멘트>`.
_SCRIPT_MARKER_RX = re.compile(
    r"[\[【◀<(]\s*(?:앵커|기자|리포트|앵커\s?멘트|기자\s?멘트|인터뷰|녹취|현장음|클로징|오프닝|스탠드업|싱크|브릿지|이펙트)"
    r"\s*(?:멘트)?\s*[\]】▶>)]"
)


def is_script_marker(line: str) -> bool:
    """True for a line that is only a broadcast script's cue (``[앵커]``, ``◀ 리포트 ▶``): the
    words spoken after it are the story, the cue is not."""
    return _SCRIPT_MARKER_RX.fullmatch(normalize_text(line)) is not None
