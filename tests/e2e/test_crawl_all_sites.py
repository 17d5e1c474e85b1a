"""End to end for every bundled outlet site: crawl its saved copy, check what was stored.

One Scrapy process crawls all outlets at once (as `newsdesk demo` does), through the real
spiders and pipelines, into the test database. Every hand-checked article of every outlet must
be stored with its expected fields; nothing may be dropped or fail to parse. (The 중도일보
test beside this one also covers recrawl idempotence and the CLI.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

import pytest

from crawler.devtools.fixturesite import FixtureSite, find_sites
from crawler.outlets import registry
from crawler.text.dates import KST

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]

CRAWL = """
import json, sys
from crawler.crawl.process import crawl_outlets
bases, overrides = json.loads(sys.argv[1]), json.loads(sys.argv[2])
outcomes = crawl_outlets(list(bases), base_urls=bases, settings_overrides=overrides)
print(json.dumps({o.outlet: {k: v for k, v in o.stats.items() if k.startswith(("newsdesk/", "finish_reason"))} for o in outcomes}))
"""


# parsed in the crawl process, and by two parse worker processes that also sign the stories
# (crawler/crawl/parse_pool.py): the stored articles must be the same
@pytest.mark.parametrize("parse_processes", ["0", "2"])
def test_every_bundled_site_crawls_into_the_store(mongo_uri, mongo_client, parse_processes):
    sites = [s for s in find_sites() if s.outlet in registry()]
    assert len(sites) >= 9
    db_name = f"test_all_{uuid.uuid4().hex[:10]}"
    env = dict(os.environ, MONGO_URI=mongo_uri, NEWSDESK_DB=db_name, NEWSDESK_ENV="test")
    try:
        with ExitStack() as stack:
            servers = {s.outlet: stack.enter_context(FixtureSite(s)) for s in sites}
            bases = {name: server.base_url for name, server in servers.items()}
            overrides = {"NEWSDESK_PARSE_PROCESSES": parse_processes}
            proc = subprocess.run([sys.executable, "-c", CRAWL, json.dumps(bases), json.dumps(overrides)], env=env, cwd=ROOT,
                                  capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-4000:]
        stats = json.loads(proc.stdout.strip().splitlines()[-1])
        db = mongo_client[db_name]
        for site in sites:
            s = stats[site.outlet]
            assert s["finish_reason"] == "finished", site.outlet
            assert not any(k.startswith("newsdesk/dropped/") for k in s), (site.outlet, s)
            assert "newsdesk/parse_errors" not in s, site.outlet
            # signatures come from the workers exactly when there are workers
            assert bool(s.get("newsdesk/dedup/presigned")) == (parse_processes != "0"), (site.outlet, s)
            expected = {}
            for path in site.folder.glob("*.json"):
                if path.name != "site.json" and path.with_suffix(".html").exists():
                    exp = json.loads(path.read_text(encoding="utf-8"))["expected"]
                    expected[exp["canonical_url"]] = exp
            stored = {d["canonical_url"]: d for d in db.articles.find({"outlet": site.outlet})}
            assert set(expected) <= set(stored), (site.outlet, set(expected) - set(stored))
            for url, exp in expected.items():
                doc = stored[url]
                for field, value in exp.items():
                    got = doc.get(field)
                    if isinstance(got, datetime):
                        got = got.astimezone(KST).isoformat()
                    assert got == value, f"{site.outlet} {url} {field}"
    finally:
        mongo_client.drop_database(db_name)
