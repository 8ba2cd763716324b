"""Small server-rendered SVG charts (no chart library, works without JavaScript)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP, PAD_RIGHT = 560, 260, 44, 30, 14, 70
COLOURS = ("#1b6ac9", "#d9480f", "#2b8a3e", "#862e9c")


def line_chart(series: dict[str, Sequence[tuple[int, float]]], title: str) -> str:
    """Draw an accessible SVG line chart of ``series`` (name -> [(year, value)]).

    Returns
    -------
    str
        SVG markup with a ``<title>``; empty when there is nothing to draw.
    """
    points = [p for values in series.values() for p in values]
    if not points:
        return ""
    years = sorted({x for x, _ in points})
    low = min(v for _, v in points)
    high = max(v for _, v in points)
    low, high = (low - 0.5, high + 0.5) if high - low < 1 else (low - 0.25, high + 0.25)
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM

    def sx(year: int) -> float:
        return PAD_LEFT + (plot_w * (years.index(year) / max(1, len(years) - 1)))

    def sy(value: float) -> float:
        return PAD_TOP + plot_h * (1 - (value - low) / (high - low))

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'role="img" aria-label="{escape(title)}" class="line-chart"><title>{escape(title)}</title>']
    for i in range(5):
        value = low + (high - low) * i / 4
        y = sy(value)
        parts.append(f'<line x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                     'stroke="#ddd"/>')
        parts.append(f'<text x="{PAD_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" '
                     f'font-size="11">{value:.1f}</text>')
    for year in years:
        parts.append(f'<text x="{sx(year):.1f}" y="{HEIGHT - 10}" text-anchor="middle" '
                     f'font-size="11">{year}</text>')
    for (name, values), colour in zip(series.items(), COLOURS, strict=False):
        ordered = sorted(values)
        path = " ".join(f"{sx(x):.1f},{sy(v):.1f}" for x, v in ordered)
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>')
        for x, v in ordered:
            parts.append(f'<circle cx="{sx(x):.1f}" cy="{sy(v):.1f}" r="3" fill="{colour}">'
                         f'<title>{escape(name)} {x}: {v:g}</title></circle>')
        last_x, last_v = ordered[-1]
        parts.append(f'<text x="{sx(last_x) + 8:.1f}" y="{sy(last_v) + 4:.1f}" font-size="12" '
                     f'fill="{colour}">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)
