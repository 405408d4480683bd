"""Regenerate the shipped voice prompts with espeak-ng (offline; not needed at run time)."""

from __future__ import annotations

import shutil
import subprocess
import sys

from alerts.prompts import FOLDER, GENERIC, TEXTS

VOICES = {"zh": "cmn", "en": "en-us"}


def main() -> int:
    """Write ``<language>/<kind>.wav`` for every prompt text."""
    if shutil.which("espeak-ng") is None:
        sys.stderr.write("espeak-ng is not installed (apt install espeak-ng)\n")
        return 1
    for language, voice in VOICES.items():
        (FOLDER / language).mkdir(exist_ok=True)
        texts = {kind: words[language] for kind, words in TEXTS.items()} | {"generic": GENERIC[language]}
        for kind, words in texts.items():
            target = FOLDER / language / f"{kind}.wav"
            subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(target), words], check=True)
            sys.stdout.write(f"{target.relative_to(FOLDER)}: {words}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
