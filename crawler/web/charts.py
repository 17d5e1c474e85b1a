"""Bar charts as geometry for inline SVG, drawn on the server.

No chart library and no script: the templates turn these rectangles and labels into SVG
elements (Jinja escapes every label), styled by the dashboard's one CSS file, so a chart
shows with scripts off and under a Content-Security-Policy that allows none.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float
    tip: str  # the bar's <title>: what a pointer over it shows
    href: str | None = None
    show_label: bool = True


@dataclass(frozen=True)
class Tick:
    value: int
    position: float  # y for column charts, x for row charts


@dataclass
class Chart:
    kind: str  # "columns" (vertical bars over a time axis) or "rows" (horizontal, labelled)
    width: int
    height: int
    title: str
    bars: list[Bar]
    ticks: list[Tick] = field(default_factory=list)
    plot_left: float = 0
    plot_right: float = 0
    plot_top: float = 0
    plot_bottom: float = 0

    @property
    def empty(self) -> bool:
        return not any(bar.value for bar in self.bars)


def nice_ticks(top: int, count: int = 4) -> list[int]:
    """Round axis values from 0 to at least `top` (1, 2, 5 x 10^n steps)."""
    if top <= 0:
        return [0, 1]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(1, int(step))
    return list(range(0, int(math.ceil(top / step)) * step + 1, step))


def column_chart(
    points: Sequence[tuple[str, int]],
    *,
    title: str,
    width: int = 760,
    height: int = 240,
    hrefs: Sequence[str | None] | None = None,
    max_labels: int = 12,
) -> Chart:
    """Vertical bars in order (days), a labelled value axis, every n-th x label shown."""
    left, right, top, bottom = 44.0, 8.0, 10.0, 36.0
    plot_w, plot_h = width - left - right, height - top - bottom
    ticks = nice_ticks(max((v for _l, v in points), default=0))
    scale = plot_h / ticks[-1]
    slot = plot_w / max(1, len(points))
    gap = min(4.0, slot * 0.2)
    every = max(1, math.ceil(len(points) / max_labels))
    bars = []
    for index, (label, value) in enumerate(points):
        h = value * scale
        bars.append(Bar(
            label=label, value=value, x=round(left + index * slot + gap / 2, 2), y=round(top + plot_h - h, 2),
            width=round(max(1.0, slot - gap), 2), height=round(h, 2), tip=f"{label}: {value:,}",
            href=hrefs[index] if hrefs else None, show_label=index % every == 0,
        ))
    return Chart("columns", width, height, title, bars,
                 [Tick(t, round(top + plot_h - t * scale, 2)) for t in ticks],
                 left, width - right, top, top + plot_h)


def row_chart(
    points: Sequence[tuple[str, int]],
    *,
    title: str,
    width: int = 760,
    row: int = 22,
    label_width: int = 150,
    hrefs: Sequence[str | None] | None = None,
) -> Chart:
    """Horizontal bars, one labelled row each (outlets, regions), value at the bar's end."""
    left, right, top, bottom = float(label_width), 60.0, 4.0, 22.0
    height = int(top + bottom + row * max(1, len(points)))
    plot_w = width - left - right
    ticks = nice_ticks(max((v for _l, v in points), default=0))
    scale = plot_w / ticks[-1]
    bars = []
    for index, (label, value) in enumerate(points):
        bars.append(Bar(
            label=label, value=value, x=left, y=top + index * row + 3, width=round(value * scale, 2),
            height=row - 6, tip=f"{label}: {value:,}", href=hrefs[index] if hrefs else None,
        ))
    return Chart("rows", width, height, title, bars, [Tick(t, round(left + t * scale, 2)) for t in ticks],
                 left, width - right, top, height - bottom)


# The 17 시도 as tiles laid out roughly where they lie (column, row): a tile map, which keeps
# small 시도 (세종, 광주, 대전) as visible as large provinces, unlike a drawn outline.
TILES: dict[str, tuple[int, int, str]] = {
    "인천광역시": (0, 0, "인천"), "서울특별시": (1, 0, "서울"), "경기도": (2, 0, "경기"), "강원특별자치도": (3, 0, "강원"),
    "충청남도": (0, 1, "충남"), "세종특별자치시": (1, 1, "세종"), "충청북도": (2, 1, "충북"), "경상북도": (3, 1, "경북"),
    "전북특별자치도": (0, 2, "전북"), "대전광역시": (1, 2, "대전"), "대구광역시": (2, 2, "대구"), "울산광역시": (3, 2, "울산"),
    "광주광역시": (0, 3, "광주"), "전라남도": (1, 3, "전남"), "경상남도": (2, 3, "경남"), "부산광역시": (3, 3, "부산"),
    "제주특별자치도": (0, 4, "제주"),
}


@dataclass(frozen=True)
class Tile:
    name: str
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float
    shade: float  # 0 (none) to 1 (the most articles): the tile's fill opacity
    tip: str
    href: str | None = None


@dataclass
class TileMap:
    width: int
    height: int
    title: str
    tiles: list[Tile]

    @property
    def empty(self) -> bool:
        return not any(tile.value for tile in self.tiles)


def tile_map(counts: dict[str, int], *, title: str, hrefs: dict[str, str] | None = None,
             tile_w: int = 130, tile_h: int = 64, gap: int = 6) -> TileMap:
    """A tile per 시도 (TILES, keyed by official name), labelled with its short name and
    shaded by its count relative to the largest; every 시도 is drawn, those without articles
    blank."""
    top = max(counts.values(), default=0)
    tiles = []
    for name, (col, row, short) in TILES.items():
        value = counts.get(name, 0)
        tiles.append(Tile(
            name=name, label=short, value=value,
            x=col * (tile_w + gap), y=row * (tile_h + gap), width=tile_w, height=tile_h,
            shade=round(0.12 + 0.88 * value / top, 3) if value and top else 0.0,
            tip=f"{name}: {value:,}", href=(hrefs or {}).get(name),
        ))
    cols = 1 + max(c for c, _r, _s in TILES.values())
    rows = 1 + max(r for _c, r, _s in TILES.values())
    return TileMap(cols * (tile_w + gap) - gap, rows * (tile_h + gap) - gap, title, tiles)
