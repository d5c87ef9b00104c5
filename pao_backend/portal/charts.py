"""Small inline SVG charts rendered on the server (no build step, no CDN, readable without JS).

Every chart carries a <title> and an aria-label, and the page shows the numbers in a table beside it.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

__all__ = ["column_chart", "hbar_chart", "stacked_bar"]

PALETTE = ("#4f46e5", "#0f7b4f", "#9a5b00", "#1d5fb8", "#b42318", "#6b7280")


def _fmt(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _open(width: int, height: int, label: str) -> str:
    return (
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'aria-label="{escape(label)}"><title>{escape(label)}</title>'
    )


def column_chart(
    points: Sequence[tuple[str, float]],
    *,
    label: str,
    second: Sequence[float] | None = None,
    second_label: str = "",
    width: int = 640,
    height: int = 200,
) -> Markup:
    """Columns per label (e.g. requests per week), optionally a line for a second series."""
    if not points:
        return Markup('<p class="muted">No data in this period.</p>')
    top = max([p[1] for p in points] + list(second or [0])) or 1
    left, bottom, plot_h = 34, 28, height - 44
    step = (width - left - 8) / len(points)
    bar = max(4.0, step * 0.6)
    parts = [
        _open(width, height, label),
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 4}" y2="{height - bottom}" '
        'stroke="#e3e6ee"/>',
        f'<text x="4" y="16" font-size="11" fill="#5d6577">{_fmt(top)}</text>',
    ]
    line_points = []
    for index, (name, value) in enumerate(points):
        x = left + index * step + (step - bar) / 2
        h = plot_h * value / top
        y = height - bottom - h
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" rx="3" '
            f'fill="{PALETTE[0]}"><title>{escape(name)}: {_fmt(value)}</title></rect>'
        )
        if len(points) <= 16 or index % max(1, len(points) // 8) == 0:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{height - 10}" font-size="10" text-anchor="middle" '
                f'fill="#5d6577">{escape(name[-3:] if name[:2] == "20" else name)}</text>'
            )
        if second is not None:
            line_points.append(f"{x + bar / 2:.1f},{height - bottom - plot_h * second[index] / top:.1f}")
    if second is not None and line_points:
        parts.append(
            f'<polyline points="{" ".join(line_points)}" fill="none" stroke="{PALETTE[2]}" stroke-width="2">'
            f"<title>{escape(second_label)}</title></polyline>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def hbar_chart(
    rows: Sequence[tuple[str, float]],
    *,
    label: str,
    maximum: float | None = None,
    unit: str = "",
    width: int = 640,
) -> Markup:
    """One horizontal bar per row (e.g. failure classes, automation share by team)."""
    if not rows:
        return Markup('<p class="muted">No data in this period.</p>')
    top = maximum or max(v for _, v in rows) or 1
    row_h, name_w = 26, 190
    height = row_h * len(rows) + 8
    parts = [
        _open(width, height, label),
    ]
    for index, (name, value) in enumerate(rows):
        y = 4 + index * row_h
        w = (width - name_w - 70) * min(value, top) / top
        shown = f"{_fmt(value)}{unit}"
        parts.append(
            f'<text x="0" y="{y + 16}" font-size="12" fill="#1b1f2a">{escape(name)}</text>'
            f'<rect class="bar" x="{name_w}" y="{y + 4}" width="{max(w, 1):.1f}" height="16" rx="3" '
            f'fill="{PALETTE[index % len(PALETTE)]}"><title>{escape(name)}: {shown}</title></rect>'
            f'<text x="{name_w + w + 6:.1f}" y="{y + 16}" font-size="12" fill="#5d6577">{shown}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def stacked_bar(segments: Sequence[tuple[str, float]], *, label: str, width: int = 640) -> Markup:
    """One bar split into shares (e.g. where the lead time went), with a legend."""
    total = sum(v for _, v in segments)
    if total <= 0:
        return Markup('<p class="muted">No completed requests in this period.</p>')
    parts = [
        _open(width, 82, label),
    ]
    x = 0.0
    for index, (name, value) in enumerate(segments):
        w = width * value / total
        color = PALETTE[index % len(PALETTE)]
        share = f"{100 * value / total:.0f} %"
        if w > 0:
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="4" width="{w:.1f}" height="26" fill="{color}">'
                f"<title>{escape(name)}: {share}</title></rect>"
            )
        legend_x, legend_y = (index % 2) * (width // 2), 42 + (index // 2) * 20
        parts.append(
            f'<rect x="{legend_x}" y="{legend_y}" width="12" height="12" fill="{color}"/>'
            f'<text x="{legend_x + 16}" y="{legend_y + 10}" font-size="12" fill="#1b1f2a">'
            f"{escape(name)} {share}</text>"
        )
        x += w
    parts.append("</svg>")
    return Markup("".join(parts))
