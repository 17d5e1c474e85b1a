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
