"""Small bar charts drawn on the server as inline SVG (no script: the CSP allows none from elsewhere, and
none is needed). Colours come from the stylesheet (classes), so the tenant's brand applies."""

from __future__ import annotations

from datetime import date

from markupsafe import Markup, escape

WIDTH = 280
HEIGHT = 120
TOP = 14
BOTTOM = 18


def bar_chart(title: str, days: list[date], values: list[int]) -> Markup:
    """One bar per day, the highest value on top, the first and last day under the axis."""
    peak = max(values, default=0) or 1
    plot = HEIGHT - TOP - BOTTOM
    step = WIDTH / max(len(values), 1)
    bars = []
    for index, (day, value) in enumerate(zip(days, values, strict=True)):
        height = round(plot * value / peak, 1)
        x = round(index * step + step * 0.15, 1)
        y = round(TOP + plot - height, 1)
        label = escape(f"{day.month}/{day.day}: {value}")
        bars.append(
            f'<rect class="admin-chart__bar" x="{x}" y="{y}" width="{round(step * 0.7, 1)}" height="{height}"><title>{label}</title></rect>'
        )
    axis_y = TOP + plot
    first = f"{days[0].month}/{days[0].day}" if days else ""
    last = f"{days[-1].month}/{days[-1].day}" if days else ""
    summary = escape(f"{title}: " + ", ".join(f"{d.month}/{d.day} {v}" for d, v in zip(days, values, strict=True)))
    return Markup(
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{summary}" xmlns="http://www.w3.org/2000/svg">'
        f'<text x="0" y="10">{escape(str(max(values, default=0)))}</text>'
        f"{''.join(bars)}"
        f'<line class="admin-chart__axis" x1="0" y1="{axis_y}" x2="{WIDTH}" y2="{axis_y}" stroke-width="1"/>'
        f'<text x="0" y="{HEIGHT - 4}">{first}</text>'
        f'<text x="{WIDTH}" y="{HEIGHT - 4}" text-anchor="end">{last}</text>'
        "</svg>"
    )
