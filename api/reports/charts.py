"""Small SVG charts for briefs: stacked bars and horizontal bars, as markup with no dependency.

Example:
    >>> svg = bars("Per kind", [("no_helmet", 3), ("smoking", 1)])
    >>> svg.startswith("<svg") and "no_helmet" in svg
    True
"""

from __future__ import annotations

from html import escape

COLORS = ("#e4572e", "#f3a712", "#6c5ce7", "#29335c", "#8d99ae", "#17a398")


def stacked(title: str, labels: list[str], series: list[tuple[str, list[int]]], width: int = 640) -> str:
    """Vertical bars per label, stacked by series ``(name, values)``, with a legend."""
    height, left, bottom = 260, 40, 46
    totals = [sum(values[i] for _, values in series) for i in range(len(labels))]
    top = -(-max([1, *totals]) // 4) * 4  # a multiple of 4, so that the five grid lines are whole numbers
    band = (width - left - 10) / max(1, len(labels))
    plot = height - bottom - 20
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" class="chart">'
    ]
    for k in range(5):
        y = height - bottom - k / 4 * plot
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e2e5ea"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{round(top * k / 4)}</text>')
    for i, label in enumerate(labels):
        y = height - bottom
        for j, (_, values) in enumerate(series):
            value = values[i]
            bar = value / top * plot
            if value:
                x0 = left + i * band + band * 0.15
                parts.append(
                    f'<rect x="{x0:.1f}" y="{y - bar:.1f}" width="{band * 0.7:.1f}" height="{bar:.1f}" '
                    f'fill="{COLORS[j % len(COLORS)]}"/>'
                )
            y -= bar
        parts.append(
            f'<text x="{left + i * band + band / 2:.1f}" y="{height - bottom + 14}" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    x = left
    for j, (name, _) in enumerate(series):
        parts.append(
            f'<rect x="{x}" y="{height - 16}" width="10" height="10" fill="{COLORS[j % len(COLORS)]}"/>'
        )
        parts.append(f'<text x="{x + 14}" y="{height - 7}">{escape(name)}</text>')
        x += 14 + len(name) * 12 + 16
    parts.append("</svg>")
    return "".join(parts)


def bars(title: str, items: list[tuple[str, int]], width: int = 640) -> str:
    """Horizontal bars, one per ``(label, value)``, largest first as given."""
    row, left = 24, 160
    height = max(1, len(items)) * row + 10
    top = max([1, *(v for _, v in items)])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" class="chart">'
    ]
    for i, (label, value) in enumerate(items):
        length = value / top * (width - left - 60)
        y = i * row + 5
        parts.append(f'<text x="{left - 6}" y="{y + 14}" text-anchor="end">{escape(label)}</text>')
        parts.append(
            f'<rect x="{left}" y="{y}" width="{length:.1f}" height="{row - 8}" fill="{COLORS[0]}" rx="2"/>'
        )
        parts.append(f'<text x="{left + length + 6:.1f}" y="{y + 14}">{value}</text>')
    parts.append("</svg>")
    return "".join(parts)
