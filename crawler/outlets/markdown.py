"""docs/outlets.md, the table of supported outlets, generated from the registry.

`newsdesk outlets --markdown > docs/outlets.md` writes it; tests/test_outlets.py fails when the
committed page and the registry disagree, so the page cannot drift from what newsdesk crawls.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable

from crawler.outlets import REGIONS, OutletSpec


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _entry_points(spec: OutletSpec) -> str:
    links = [f"[RSS]({u})" for u in spec.rss_urls] + [f"[list]({u})" for u in spec.list_urls]
    links += [f"[sitemap]({u})" for u in spec.sitemap_urls]
    return " · ".join(links)


def _verified(spec: OutletSpec) -> str:
    if spec.verified:
        pages = ", ".join(f"`{p}`" for p in spec.verified_by)
        return f"**yes**: {pages}"
    return f"no: {spec.unverified}" if spec.unverified else "no"


def _order(spec: OutletSpec) -> tuple[int, str]:
    return (REGIONS.index(spec.region) if spec.region in REGIONS else len(REGIONS), spec.name)


def _regions_phrase(n: int) -> str:
    return f"all {n} of Korea's 시/도" if n == len(REGIONS) else f"{n} of Korea's {len(REGIONS)} 시/도"


def outlets_markdown(specs: Iterable[OutletSpec]) -> str:
    """The page: a count per 시/도, then one row per outlet (region order, then id)."""
    rows = sorted(specs, key=_order)
    per_region = Counter(s.region for s in rows)
    verified_per_region = Counter(s.region for s in rows if s.verified)
    verified = [s for s in rows if s.verified]
    regions = [r for r in REGIONS if per_region[r]] + sorted(r for r in per_region if r not in REGIONS)
    lines = [
        "# Supported outlets",
        "",
        "<!-- Generated from crawler/outlets/outlets.toml by `newsdesk outlets --markdown > docs/outlets.md`;",
        "     edit the registry, not this page (tests/test_outlets.py compares the two). -->",
        "",
        f"newsdesk crawls {len(rows)} outlets in {_regions_phrase(len(regions))}. "
        f"{len(verified)} of them {'is' if len(verified) == 1 else 'are'} **verified**: a real article page "
        "of the outlet, saved from a "
        "public source, sits in `tests/fixtures/<outlet>/` with its fields checked by hand, and "
        "every test run extracts it. The others are **unverified**: their specs follow the outlet's "
        "known URL shapes and its CMS family's template, but no saved page of that outlet has "
        "tested them yet (the reason is given below). `newsdesk outlets` and the dashboard's health "
        "page mark them; [adding an outlet](adding-an-outlet.md) "
        "says how to verify one.",
        "",
        "| 시/도 | outlets | verified |",
        "|---|---:|---:|",
    ]
    lines += [f"| {r} | {per_region[r]} | {verified_per_region[r]} |" for r in regions]
    lines += [
        f"| all | {len(rows)} | {len(verified)} |",
        "",
        "| outlet | 이름 | region | family | verified | entry points |",
        "|---|---|---|---|---|---|",
    ]
    for s in rows:
        lines.append(f"| `{s.name}` | {_cell(s.name_ko)} | {_cell(s.region)} | {_cell(s.family)} | "
                     f"{_cell(_verified(s))} | {_entry_points(s)} |")
    return "\n".join(lines) + "\n"
