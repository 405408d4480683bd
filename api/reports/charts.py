"""Small SVG charts for briefs: stacked bars and horizontal bars, as markup with no dependency.

Example:
    >>> svg = bars("Per kind", [("no_helmet", 3), ("smoking", 1)])
    >>> svg.startswith("<svg") and "no_helmet" in svg
    True
"""

from __future__ import annotations

from html import escape

COLORS = ("#e4572e", "#f3a712", "#6c5ce7", "#29335c", "#8d99ae", "#17a398")


def text_width(text: str, size: float = 10) -> float:
    """About how wide ``text`` is drawn at ``size`` px: CJK characters a full em, others some 0.62 em."""
    return sum(size if ord(c) >= 0x2E80 else size * 0.62 for c in text)


def label_step(labels: list[str], band: float) -> int:
    """Every how many bars a label fits under its bar without touching the next one shown: 1 when all fit
    (a week), more for the days of a month.

    Example:
        >>> label_step(["11-01"] * 7, 84.0), label_step(["11-01"] * 31, 19.0)
        (1, 2)
    """
    widest = max([0.0, *(text_width(label) for label in labels)])
    return max(1, -int(-(widest + 6) // band))


def stacked(title: str, labels: list[str], series: list[tuple[str, list[int]]], width: int = 640) -> str:
    """Vertical bars per label, stacked by series ``(name, values)``, with a legend; with many bars only
    every n-th label is written (:func:`label_step`), so that none overlap."""
    height, left, bottom = 260, 40, 46
    totals = [sum(values[i] for _, values in series) for i in range(len(labels))]
    top = -(-max([1, *totals]) // 4) * 4  # a multiple of 4, so that the five grid lines are whole numbers
    band = (width - left - 10) / max(1, len(labels))
    step = label_step(labels, band)
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
        if i % step:
            continue
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
    # A long name (a camera of a site) is cut to the room left of the bars, whole with its title on hover.
    room = left - 10
    top = max([1, *(v for _, v in items)])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" class="chart">'
    ]
    for i, (label, value) in enumerate(items):
        length = value / top * (width - left - 60)
        y = i * row + 5
        shown = label
        while text_width(shown) > room and len(shown) > 2:
            shown = shown[:-2] + "…"
        parts.append(
            f'<text x="{left - 6}" y="{y + 14}" text-anchor="end">'
            f"<title>{escape(label)}</title>{escape(shown)}</text>"
        )
        parts.append(
            f'<rect x="{left}" y="{y}" width="{length:.1f}" height="{row - 8}" fill="{COLORS[0]}" rx="2"/>'
        )
        parts.append(f'<text x="{left + length + 6:.1f}" y="{y + 14}">{value}</text>')
    parts.append("</svg>")
    return "".join(parts)
