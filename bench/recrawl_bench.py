"""Requests of a recrawl with no new articles, as a share of the first crawl.

Run: .venv/bin/python bench/recrawl_bench.py [--articles 60]

Two measurements, each crawl into a fresh SecantusDB, the first crawl being the baseline:
1. sized sites: copies of two saved sites grown to `--articles` articles each, the 전남일보
   one (RSS entry point) and the 중도일보 one (three list pages of 20): what a regional
   outlet's front looks like;
2. every bundled outlet site as saved (2-6 articles each, whose list pages also link to
   articles the copy does not include, so fixed costs and 404s dominate).
Stored articles are not refetched and list paging stops at a page of known articles, so a
recrawl asks for robots.txt, the feed or first list page, and little else.
Writes bench/results/recrawl.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from secantus import SecantusDBServer  # noqa: E402

from crawler.devtools.fixturesite import FixtureSite, SiteSpec, find_sites  # noqa: E402
from crawler.outlets import registry  # noqa: E402

CRAWL = """
import json, sys
from crawler.crawl.process import crawl_outlets
bases = json.loads(sys.argv[1])
outcomes = crawl_outlets(list(bases), base_urls=bases)
print(json.dumps({o.outlet: o.stats.get("downloader/request_count", 0) for o in outcomes}))
"""


def crawl(bases: dict[str, str], env: dict[str, str]) -> dict[str, int]:
    proc = subprocess.run([sys.executable, "-c", CRAWL, json.dumps(bases)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def grown_sites(folder: Path, articles: int) -> list[SiteSpec]:
    """Two sites of `articles` articles, made from saved pages (numbers and titles varied)."""
    fixtures = ROOT / "tests" / "fixtures"
    sites = []
    # 전남일보: RSS with every article, newest first
    page = (fixtures / "jnilbo" / "art_90000015817.html").read_text(encoding="utf-8")
    out = folder / "jnilbo"
    out.mkdir()
    routes = {"/robots.txt": "robots.txt"}
    (out / "robots.txt").write_text("User-agent: *\nAllow: /\n", encoding="utf-8")
    items = []
    for n in range(articles):
        idxno = 90000020000 + n
        (out / f"a{n}.html").write_text(page.replace("90000015817", str(idxno)).replace("광주FC", f"광주FC {n}호"), encoding="utf-8")
        routes[f"/news/articleView.html?idxno={idxno}"] = f"a{n}.html"
        items.append(f"<item><title>{n}</title><link>https://www.jnilbo.com/news/articleView.html?idxno={idxno}</link>"
                     f"<pubDate>2025-12-06 {10 + n // 60:02d}:{n % 60:02d}:00</pubDate></item>")
    (out / "rss.xml").write_text("<rss><channel>" + "".join(reversed(items)) + "</channel></rss>", encoding="utf-8")
    routes["/rss/gn_rss_allArticle.xml"] = "rss.xml"
    (out / "site.json").write_text(json.dumps({"outlet": "jnilbo", "routes": routes}), encoding="utf-8")
    sites.append(SiteSpec.load(out))
    # 중도일보: list pages of 20, with a pager
    page = (fixtures / "joongdo" / "seed_20190823.html").read_text(encoding="utf-8")
    listing = (fixtures / "joongdo" / "list_N01.html").read_text(encoding="utf-8")
    head, rest = listing.split('<section class="news-list">', 1)
    tail = rest.split("</section>", 1)[1]
    out = folder / "joongdo"
    out.mkdir()
    routes = {"/robots.txt": "robots.txt"}
    (out / "robots.txt").write_text("User-agent: *\nAllow: /\n", encoding="utf-8")
    keys = [f"2019082301{n:07d}" for n in range(articles)]
    for n, key in enumerate(keys):
        (out / f"a{n}.html").write_text(page.replace("20190823010011746", key).replace("세종형 스마트시티", f"세종형 스마트시티 {n}호"), encoding="utf-8")
        routes[f"/web/view.php?key={key}"] = f"a{n}.html"
    pages = [keys[i : i + 20] for i in range(0, len(keys), 20)]
    for number, chunk in enumerate(pages, start=1):
        entries = "".join(f'<article><h2><a href="view.php?key={k}">기사 {k}</a></h2></article>' for k in chunk)
        pager = "".join(f'<a href="section.php?ncid=N01&amp;page={p}">{p}</a>' for p in range(1, len(pages) + 1))
        html = head + '<section class="news-list">' + entries + "</section>" + f'<div class="paging">{pager}</div>' + tail
        (out / f"list{number}.html").write_text(html, encoding="utf-8")
        routes[f"/web/section.php?ncid=N01&page={number}"] = f"list{number}.html"
        if number == 1:
            routes["/web/section.php?ncid=N01"] = "list1.html"
    (out / "site.json").write_text(json.dumps({"outlet": "joongdo", "routes": routes}), encoding="utf-8")
    sites.append(SiteSpec.load(out))
    return sites


def measure(sites: list[SiteSpec], tmp: Path, env_extra: dict[str, str]) -> tuple[dict[str, int], dict[str, int]]:
    with ExitStack() as stack:
        server = SecantusDBServer(port=0, storage_path=str(tmp / "db"), replica_set_name=None)
        server.start()
        stack.callback(server.stop)
        env = dict(os.environ, MONGO_URI=server.uri, NEWSDESK_DB="recrawl_bench", NEWSDESK_ENV="test",
                   NEWSDESK_DATA_DIR=str(tmp / "data"), **env_extra)
        bases = {s.outlet: stack.enter_context(FixtureSite(s)).base_url for s in sites}
        return crawl(bases, env), crawl(bases, env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=60, help="articles per grown site")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        (tmp_path / "grown").mkdir()
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        grown = grown_sites(tmp_path / "grown", args.articles)
        g_first, g_second = measure(grown, tmp_path / "a", {"NEWSDESK_MAX_LIST_PAGES": "5"})
        sites = [s for s in find_sites() if s.outlet in registry()]
        first, second = measure(sites, tmp_path / "b", {})
    result = {
        "grown_sites": {"articles_per_site": args.articles, "first_requests": sum(g_first.values()),
                        "recrawl_requests": sum(g_second.values()),
                        "ratio": round(sum(g_second.values()) / sum(g_first.values()), 3),
                        "per_outlet": {k: [g_first[k], g_second[k]] for k in g_first}},
        "bundled_sites": {"outlets": len(sites), "first_requests": sum(first.values()),
                          "recrawl_requests": sum(second.values()),
                          "ratio": round(sum(second.values()) / sum(first.values()), 3),
                          "per_outlet": {k: [first[k], second[k]] for k in first}},
    }
    out = ROOT / "bench" / "results" / "recrawl.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    for name, block in result.items():
        print(f"{name}: first crawl {block['first_requests']} requests, recrawl {block['recrawl_requests']} "
              f"(ratio {block['ratio']:.2f})")
        for outlet, (a, b) in block["per_outlet"].items():
            print(f"  {outlet:12s} {a:4d} -> {b:4d}")
    print(f"results in {out}")


if __name__ == "__main__":
    main()
