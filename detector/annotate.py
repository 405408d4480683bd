"""Drawing evidence: people boxes coloured by verdict, one label per person naming its violations in the
site's language, and a small legend.

Boxes are drawn by supervision (OpenCV); the labels by Pillow, because OpenCV's ``putText`` has no CJK
glyphs. Chinese labels need a CJK font (Debian's ``fonts-noto-cjk``, which ``make system-deps`` and the
Docker image install); without one the labels are drawn in English, said once in the log. Each label is
placed at the first of a few spots around its person's box that overlaps no label placed before it (people
with violations first) nor the legend, so that two people side by side never cover each other's label.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import supervision as sv
from PIL import Image, ImageDraw, ImageFont

from detector.engine import Scene
from detector.ppe import violations
from detector.types import CLASS_NAME, HELMET, PERSON, VEST, Attr, Violation, subset

logger = logging.getLogger(__name__)

#: Colour index 0 for a person without violation, 1 for a violation, 2 for other boxes.
_PALETTE = sv.ColorPalette(
    [sv.Color.from_hex("#2e7d32"), sv.Color.from_hex("#d32f2f"), sv.Color.from_hex("#f9a825")]
)
#: What a label says of a person, per language: each violation, none (helmet and vest seen), unverified.
WORDS: dict[str, dict[str, str]] = {
    "zh": {
        Violation.NO_HELMET: "未戴安全帽",
        Violation.NO_VEST: "未穿反光衣",
        Violation.SMOKING: "吸烟",
        "ok": "合格",
        "unverified": "未确认",
        "legend.bad": "违规",
        "legend.ok": "无违规",
        "legend.item": "其他检测",
    },
    "en": {
        Violation.NO_HELMET: "No hard hat",
        Violation.NO_VEST: "No vest",
        Violation.SMOKING: "Smoking",
        "ok": "ok",
        "unverified": "unverified",
        "legend.bad": "violation",
        "legend.ok": "no violation",
        "legend.item": "other detections",
    },
}
#: CJK fonts looked for, in order (Debian's fonts-noto-cjk first), with the face of Simplified Chinese in
#: each collection.
CJK_FONTS: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2),
    ("/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
)
#: Latin fonts for English labels; Pillow's own font when none is found.
LATIN_FONTS: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 0),
    *CJK_FONTS,
)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@dataclass(frozen=True)
class Label:
    """A label as drawn: its text, its rectangle (x1, y1, x2, y2 in pixels, x2 and y2 excluded) and its
    colour index in the palette (0 no violation, 1 violation)."""

    text: str
    rect: tuple[int, int, int, int]
    color: int


def _first_font(candidates: Sequence[tuple[str, int]], size: int) -> ImageFont.FreeTypeFont | None:
    for path, index in candidates:
        if Path(path).is_file():
            try:
                return ImageFont.truetype(path, size=size, index=index)
            except OSError:
                continue
    return None


@cache
def _font(language: str, size: int, fonts: tuple[tuple[str, int], ...] | None) -> tuple[Font, str]:
    """The font of labels in ``language`` at ``size`` px, and the language it can draw (English when no
    CJK font is found: logged once per process)."""
    if language == "zh":
        font = _first_font(fonts or CJK_FONTS, size)
        if font is not None:
            return font, "zh"
        _no_cjk_font()
    font = _first_font(fonts or LATIN_FONTS, size)
    return (font if font is not None else ImageFont.load_default(size)), "en"


@cache
def _no_cjk_font() -> None:
    """Say once that Chinese labels fall back to English."""
    logger.warning("no CJK font found (install fonts-noto-cjk): snapshot labels are drawn in English")


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> int:
    """The area two rectangles share."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return max(0, w) * max(0, h)


class SceneAnnotator:
    """Draws a :class:`~detector.engine.Scene` on a copy of its frame; configure once, call per frame.

    Args:
        thickness: of people's boxes (items' are 1 px).
        language: of the labels (``zh`` or ``en``); ``zh`` falls back to ``en`` without a CJK font.
        text_scale: label text height as a share of the frame's height (at least 14 px).
        fonts: font files (path, face index) to use instead of the system's (tests).

    Example:
        >>> import cv2
        >>> from detector.engine import Engine, EngineSettings
        >>> frame = cv2.imread("configs/demo/images/site-1.jpg")
        >>> scene = Engine(EngineSettings(smoking_model=None)).detect([frame])[0]
        >>> SceneAnnotator().annotate(frame, scene).shape == frame.shape
        True
    """

    def __init__(
        self,
        thickness: int = 2,
        language: str = "zh",
        text_scale: float = 0.028,
        fonts: Sequence[tuple[str, int]] | None = None,
    ) -> None:
        if language not in WORDS:
            raise ValueError(f"no labels in language {language!r}: one of {sorted(WORDS)}")
        lookup = sv.ColorLookup.CLASS
        self.boxes = sv.BoxAnnotator(color=_PALETTE, thickness=thickness, color_lookup=lookup)
        self.items = sv.BoxAnnotator(color=_PALETTE, thickness=1, color_lookup=lookup)
        self.language = language
        self.text_scale = text_scale
        self.fonts = tuple(fonts) if fonts is not None else None

    def font(self, height: int) -> tuple[Font, str]:
        """The labels' font for a frame ``height`` px high, and the language it draws."""
        return _font(self.language, max(14, round(height * self.text_scale)), self.fonts)

    def labels(self, frame_shape: tuple[int, ...], scene: Scene) -> tuple[list[Label], Label | None]:
        """Where the people's labels go on a frame of ``frame_shape``, and the legend's box (``None`` for
        a scene without people): labels overlap neither each other nor the legend wherever the frame
        leaves room."""
        h, w = frame_shape[:2]
        font, language = self.font(h)
        words = WORDS[language]
        pad = max(2, round(getattr(font, "size", 14) * 0.2))
        people = scene.people
        if not len(people):
            return [], None
        legend = self._legend_rect(font, words, pad, w, h)
        taken = [legend.rect]
        found = [violations(people, i) for i in range(len(people))]
        order = sorted(range(len(people)), key=lambda i: (not found[i], i))  # violations placed first
        placed: dict[int, Label] = {}
        for i in order:
            if found[i]:
                text = " · ".join(words[v] for v in found[i])
            else:
                seen = people.data[HELMET][i] == Attr.YES and people.data[VEST][i] == Attr.YES
                text = words["ok" if seen else "unverified"]
            x1, y1, x2, y2 = (round(float(v)) for v in people.xyxy[i])
            left, top, right, bottom = font.getbbox(text)
            lw, lh = int(right - left) + 2 * pad, int(bottom - top) + 2 * pad
            spots = [
                (x1, y1 - lh),  # above the box, left-aligned
                (x1, y2),  # below it
                (x2 - lw, y1 - lh),  # above, right-aligned
                (x2 - lw, y2),  # below, right-aligned
                (x1, y1),  # inside, at the top
                (x1, y2 - lh),  # inside, at the bottom
            ]
            spots += [(x1, y1 - lh - k * (lh + 2)) for k in range(1, 4)]  # stacked higher
            spots += [(x1, y2 + k * (lh + 2)) for k in range(1, 4)]  # stacked lower
            best: tuple[int, int, tuple[int, int, int, int]] | None = None
            for rank, (x, y) in enumerate(spots):
                x = min(max(0, x), max(0, w - lw))
                y = min(max(0, y), max(0, h - lh))
                rect = (x, y, x + lw, y + lh)
                cost = sum(_overlap(rect, other) for other in taken)
                if best is None or (cost, rank) < best[:2]:
                    best = (cost, rank, rect)
                if cost == 0:
                    break
            assert best is not None
            taken.append(best[2])
            placed[i] = Label(text, best[2], 1 if found[i] else 0)
        return [placed[i] for i in range(len(people))], legend

    def _legend_rect(self, font: Font, words: dict[str, str], pad: int, w: int, h: int) -> Label:
        """The legend at the frame's bottom left: a swatch and a word per colour."""
        text = "   ".join(words[k] for k in ("legend.bad", "legend.ok", "legend.item"))
        left, top, right, bottom = font.getbbox(text)
        swatch = int(bottom - top)
        lw = int(right - left) + 3 * (swatch + pad) + 2 * pad
        lh = int(bottom - top) + 2 * pad
        return Label(text, (0, max(0, h - lh), min(w, lw), h), 2)

    def annotate(self, frame: np.ndarray, scene: Scene) -> np.ndarray:
        """Return a copy of ``frame`` (BGR) with the scene's people, their labels, items and a legend
        drawn; ``frame`` itself is left as it is."""
        canvas = frame.copy()
        items = subset(scene.detections, scene.detections.data[CLASS_NAME] != PERSON)
        if len(items):
            items.class_id = np.full(len(items), 2)
            canvas = self.items.annotate(canvas, items)
        people = scene.people
        if not len(people):
            return canvas
        found = [violations(people, i) for i in range(len(people))]
        boxes = sv.Detections(
            xyxy=people.xyxy,
            confidence=people.confidence,
            class_id=np.array([1 if v else 0 for v in found]),
        )
        canvas = self.boxes.annotate(canvas, boxes)
        labels, legend = self.labels(canvas.shape, scene)
        font, language = self.font(canvas.shape[0])
        image = Image.fromarray(canvas[:, :, ::-1])  # Pillow draws RGB
        draw = ImageDraw.Draw(image)
        for label in labels:
            self._draw_label(draw, font, label, _PALETTE.by_idx(label.color).as_rgb())
        if legend is not None:
            self._draw_legend(draw, font, legend, WORDS[language])
        return np.ascontiguousarray(np.asarray(image)[:, :, ::-1])

    @staticmethod
    def _draw_label(draw: ImageDraw.ImageDraw, font: Font, label: Label, color: tuple[int, int, int]) -> None:
        x1, y1, x2, y2 = label.rect
        draw.rectangle((x1, y1, x2 - 1, y2 - 1), fill=color)
        left, top, _, _ = font.getbbox(label.text)
        pad = (y2 - y1 - (font.getbbox(label.text)[3] - top)) // 2
        draw.text((x1 + pad - left, y1 + pad - top), label.text, font=font, fill=(255, 255, 255))

    @staticmethod
    def _draw_legend(draw: ImageDraw.ImageDraw, font: Font, legend: Label, words: dict[str, str]) -> None:
        x1, y1, x2, y2 = legend.rect
        draw.rectangle((x1, y1, x2 - 1, y2 - 1), fill=(255, 255, 255))
        left, top, _, bottom = font.getbbox(legend.text)
        swatch = int(bottom - top)
        pad = (y2 - y1 - swatch) // 2
        x = x1 + pad
        for color, key in ((1, "legend.bad"), (0, "legend.ok"), (2, "legend.item")):
            draw.rectangle(
                (x, y1 + pad, x + swatch - 1, y1 + pad + swatch - 1), fill=_PALETTE.by_idx(color).as_rgb()
            )
            x += swatch + pad
            draw.text((x - left, y1 + pad - top), words[key], font=font, fill=(29, 35, 48))
            x += int(draw.textlength(words[key] + "   ", font=font))
