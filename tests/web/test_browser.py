"""The dashboard in a real headless Chromium: what a person sees on the main pages.

uvicorn serves the app on 127.0.0.1 (a free port) over the seeded SecantusDB database;
playwright drives Debian's Chromium (`apt-get install chromium`; playwright never downloads
a browser here). Skipped, saying why, only when no Chromium is installed at all.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from crawler.web import create_app
from crawler.web.app import loopback_hosts

from .conftest import XSS_TITLE, Seeded


def _chromium() -> str | None:
    configured = os.environ.get("NEWSDESK_CHROMIUM", "").strip()
    candidates = [configured, "/usr/bin/chromium", "/usr/bin/chromium-browser",
                  shutil.which("chromium") or "", shutil.which("chromium-browser") or "", shutil.which("google-chrome") or ""]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


CHROMIUM = _chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium installed (apt-get install chromium, or set NEWSDESK_CHROMIUM)"
)
# As root and on a closed network: no sandbox, and none of Chromium's own background traffic.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]


@pytest.fixture(scope="module")
def base_url(seeded: Seeded) -> Iterator[str]:
    """The app under uvicorn in a thread, on a port the OS picked."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(seeded.db, allowed_hosts=loopback_hosts("127.0.0.1"))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start within 15 s")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed: pip install -e '.[test]'")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page; fails the test on any console error (a CSP violation shows up as one) or
    any dialog (a script from crawled text that ran)."""
    context = browser.new_context(locale="ko-KR", timezone_id="Asia/Seoul")
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))

    def on_dialog(dialog: Any) -> None:
        problems.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    yield page
    context.close()
    assert problems == []


def test_search_shows_highlighted_results(page: Any, base_url: str) -> None:
    page.goto(base_url + "/")
    page.fill("#q", "행정수도")
    page.press("#q", "Enter")
    page.wait_for_url("**/?q=*")
    hits = page.locator("#results li.hit")
    assert hits.count() == 3
    summary = page.locator("#summary").inner_text()
    assert "3 articles" in summary
    marks = page.locator("#results mark")
    assert marks.count() >= 3
    assert set(marks.all_inner_texts()) == {"행정수도"}
    assert marks.first.is_visible()
    # <mark> is drawn highlighted, not as plain text
    background = marks.first.evaluate("el => getComputedStyle(el).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")
    outlets = page.locator("#results .outlet").all_inner_texts()
    assert set(outlets) == {"중도일보", "대전일보", "충청투데이"}


def test_search_filter_by_outlet(page: Any, base_url: str) -> None:
    page.goto(base_url + "/?q=행정수도")
    page.click("#outlet-choice summary")
    page.check("#outlet-choice input[value=cctoday]")
    page.click("form.search button[type=submit]")
    page.wait_for_url("**outlet=cctoday*")
    assert page.locator("#results li.hit").count() == 1
    assert page.locator("#results .outlet").inner_text() == "충청투데이"
    # a second outlet: both are searched, both stay checked
    page.check("#outlet-choice input[value=joongdo]")
    page.click("form.search button[type=submit]")
    page.wait_for_url("**outlet=joongdo*")
    assert set(page.locator("#results .outlet").all_inner_texts()) == {"충청투데이", "중도일보"}
    assert page.locator("#outlet-choice input:checked").count() == 2
    assert "2 outlets" in page.locator("#outlet-choice summary").inner_text()


def test_story_badge_leads_to_the_story(page: Any, base_url: str) -> None:
    page.goto(base_url + "/?q=행정수도")
    badge = page.locator("#results a.story-flag").first
    assert badge.inner_text() == "story · 3 outlets"
    badge.click()
    page.wait_for_url("**/articles/*#story")
    assert page.locator("#copies tbody tr").count() == 3
    assert page.locator("#story").is_visible()


def _korean_font() -> bool:
    try:
        found = subprocess.run(["fc-list", ":lang=ko"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return bool(found.strip())


@pytest.mark.skipif(not _korean_font(), reason="no Korean font installed (apt-get install fonts-nanum; .ci/run does)")
def test_korean_titles_wrap_between_words(page: Any, base_url: str) -> None:
    page.set_viewport_size({"width": 360, "height": 900})
    page.goto(base_url + "/?q=행정수도")
    page.click("#results li.hit h2 a >> nth=0")
    page.wait_for_url("**/articles/*")
    title = page.locator("h1")
    style = title.evaluate("el => [getComputedStyle(el).wordBreak, getComputedStyle(el).fontFamily]")
    assert style[0] == "keep-all"
    assert style[1].startswith('"Noto Sans KR"')
    # narrow enough to wrap whatever font is installed (8 em holds about 8 syllables): each
    # line starts after a space, never inside a Korean word (word-break: normal cuts anywhere)
    starts = title.evaluate("""el => {
        el.style.width = '8em';
        const node = el.firstChild, text = node.textContent, range = document.createRange(), starts = [];
        let top = null;
        for (let i = 0; i < text.length; i++) {
            range.setStart(node, i); range.setEnd(node, i + 1);
            const rect = range.getBoundingClientRect();
            if (text[i] === ' ' || rect.width === 0) continue;
            if (top !== null && rect.top > top + 2) starts.push(i);
            top = rect.top;
        }
        return [text, starts];
    }""")
    text, breaks = starts
    page.screenshot(path=str(_artifacts() / "article-narrow.png"), full_page=True)
    assert breaks, f"{text!r} did not wrap at 8 em"
    assert all(text[i - 1] == " " for i in breaks), [text[i - 3:i + 3] for i in breaks]
    page.goto(base_url + "/")
    page.screenshot(path=str(_artifacts() / "list-narrow.png"), full_page=True)


def test_facets_filter_by_click_and_the_histogram_narrows_to_a_day(page: Any, base_url: str) -> None:
    page.goto(base_url + "/?q=소식")
    region = page.locator("#facet-region li")
    assert region.count() == 4
    counts = {li.split()[0]: int(li.split()[-1]) for li in region.all_inner_texts()}
    assert counts == {"부산": 5, "대구": 3, "대전": 2, "광주": 1}
    page.click("#facet-region a:text('대구')")
    page.wait_for_url("**region=*")
    assert page.locator("#results li.hit").count() == 3
    assert page.locator("#facet-region li.chosen").inner_text().startswith("대구")
    bars = page.locator("#chart-matches rect.bar")
    assert bars.count() == 3  # days 1 to 3 before today: the span of the matches
    drawn = [b for b in (bars.nth(i).bounding_box() for i in range(bars.count())) if b and b["height"] > 1]
    assert len(drawn) == 3  # 대구 articles on three days
    page.locator("#chart-matches a").last.click()
    page.wait_for_url("**since=*")
    assert page.locator("#results li.hit").count() == 1
    page.screenshot(path=str(_artifacts() / "search-facets.png"), full_page=True)


def test_sort_newest_and_download_links(page: Any, base_url: str) -> None:
    page.goto(base_url + "/?q=소식")
    page.select_option("#sort", "newest")
    page.click("form.search button[type=submit]")
    page.wait_for_url("**sort=newest*")
    times = page.locator("#results time").evaluate_all("els => els.map(e => e.getAttribute('datetime'))")
    assert len(times) > 3 and times == sorted(times, reverse=True)
    with page.expect_download() as info:
        page.click("#download-csv")
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    text = open(download.path(), encoding="utf-8-sig").read()
    assert text.startswith("canonical_url,") and text.count("소식") >= 11


def test_trend_page_chart_and_numbers(page: Any, base_url: str) -> None:
    page.goto(base_url + "/trend")
    page.fill("#q", "소식")
    page.select_option("#by", "region")
    page.press("#q", "Enter")
    page.wait_for_url("**/trend?q=*")
    box = page.locator("#chart-trend svg").bounding_box()
    assert box is not None and box["width"] > 300
    header = page.locator("#trend-numbers thead th").all_inner_texts()
    assert header[:2] == ["day", "all"] and set(header[2:]) == {"부산", "대구", "대전", "광주"}
    totals = [int(t) for t in page.locator("#trend-numbers tbody td:nth-child(2)").all_inner_texts()]
    assert sum(totals) == 11
    page.screenshot(path=str(_artifacts() / "trend.png"), full_page=True)


def test_places_tile_map_is_drawn(page: Any, base_url: str) -> None:
    page.goto(base_url + "/places")
    svg = page.locator("#chart-sido svg")
    box = svg.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 200
    assert page.locator("#chart-sido g.tile").count() == 17
    labels = page.locator("#chart-sido text.tile-name").all_text_contents()
    assert {"서울", "충남", "제주", "세종"} <= set(labels)
    page.screenshot(path=str(_artifacts() / "places.png"), full_page=True)


def test_volume_chart_is_drawn(page: Any, base_url: str) -> None:
    page.goto(base_url + "/volume")
    chart = page.locator("#chart-day svg")
    box = chart.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 100
    bars = page.locator("#chart-day rect.bar")
    assert bars.count() == 14  # one per day of the default window
    drawn = [b for b in (bars.nth(i).bounding_box() for i in range(bars.count())) if b and b["height"] > 1]
    assert len(drawn) == 5  # the five days that have articles
    values = [int(v) for v in page.locator("#chart-day rect.bar").evaluate_all("els => els.map(e => e.dataset.value)")]
    assert sum(values) == 15
    fill = bars.first.evaluate("el => getComputedStyle(el).fill")
    assert fill not in ("none", "rgb(0, 0, 0)")  # styled by the bundled stylesheet
    outlet_bars = page.locator("#chart-outlet rect.bar")
    assert outlet_bars.count() == 7
    assert "중도일보" in page.locator("#chart-outlet").inner_text()
    page.screenshot(path=str(_artifacts() / "volume.png"), full_page=True)


def test_article_lists_story_copies_and_revisions(page: Any, base_url: str) -> None:
    page.goto(base_url + "/?q=행정수도&outlet=daejonilbo")
    page.click("#results li.hit h2 a")
    page.wait_for_url("**/articles/*")
    assert page.locator("h1").inner_text() == "세종 행정수도 특별법 국회 발의"
    rows = page.locator("#copies tbody tr")
    assert rows.count() == 3
    assert page.locator("#copies td.outlet").all_inner_texts() == ["중도일보", "대전일보", "충청투데이"]
    assert "(this article)" in rows.nth(1).inner_text()
    # follow the first copy: the article that was revised
    page.click("#copies a:has-text('행정수도 특별법 국회 발의 (종합)')")
    page.wait_for_url("**/articles/*")
    revisions = page.locator("#revisions li")
    assert revisions.count() == 1
    assert "행정수도 특별법 발의" in revisions.inner_text()
    old_body = page.locator("#revisions details p").first
    assert not old_body.is_visible()
    page.click("#revisions summary")
    assert old_body.is_visible() and "세종시 행정수도" in old_body.inner_text()
    page.screenshot(path=str(_artifacts() / "article.png"), full_page=True)


def test_crawled_markup_is_shown_as_text(page: Any, base_url: str) -> None:
    page.goto(base_url + "/?q=산불")
    link = page.locator("#results li.hit h2 a")
    assert link.inner_text() == XSS_TITLE  # the markup is visible as characters, not run
    link.click()
    page.wait_for_url("**/articles/*")
    assert page.locator("h1").inner_text() == XSS_TITLE
    assert page.locator("article script, article b, article img").count() == 0
    assert page.locator("a[href^='javascript:']").count() == 0


def test_health_and_runs(page: Any, base_url: str) -> None:
    page.goto(base_url + "/health")
    first = page.locator("#health tbody tr").first
    assert "강원일보" in first.inner_text() and "failing" in first.inner_text()
    first.locator("a").click()
    page.wait_for_url("**/runs?outlet=kwnews")
    rows = page.locator("#runs tbody tr")
    assert rows.count() == 1 and "failed" in rows.inner_text()


def _artifacts() -> Any:
    from pathlib import Path

    folder = Path(os.environ.get("NEWSDESK_TEST_ARTIFACTS", "/tmp/newsdesk-browser-tests"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder
