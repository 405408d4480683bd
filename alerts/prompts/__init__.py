"""Voice prompts for on-site warnings, shipped as WAV files in Chinese and English.

They were generated offline with espeak-ng (``python -m alerts.prompts`` regenerates them where espeak-ng is
installed); the product itself never synthesises speech, so an edge box needs no TTS engine.
"""

from __future__ import annotations

from pathlib import Path

FOLDER = Path(__file__).resolve().parent

#: What the speaker says, per event kind and language.
TEXTS: dict[str, dict[str, str]] = {
    "no_helmet": {"zh": "请佩戴好安全帽。", "en": "Please wear your hard hat."},
    "no_vest": {"zh": "请穿好反光背心。", "en": "Please wear your reflective vest."},
    "smoking": {"zh": "施工现场禁止吸烟，请立即熄灭。", "en": "No smoking on the construction site."},
}
GENERIC = {"zh": "请注意施工安全。", "en": "Please work safely."}


def text(kind: str, language: str) -> str:
    """The prompt's words for ``kind`` in ``language`` (``zh`` or ``en``)."""
    return TEXTS.get(kind, GENERIC)[language]


def audio(kind: str, language: str) -> Path:
    """The WAV file of the prompt (the generic one for kinds without their own)."""
    path = FOLDER / language / f"{kind}.wav"
    return path if path.exists() else FOLDER / language / "generic.wav"
