"""Event clips that browsers play: an H.264 clip is served as it is; an ``mp4v`` clip (what edge boxes
wrote before, and Chromium refuses) is transcoded on its first request and kept, and
``sitewatch transcode-clips`` does all stored ones at once."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from sqlalchemy import select

from api.http.services import services_of
from api.models import AuditEntry, Event
from sitewatch.cli import main
from streams.video import codec_of, encode_bytes
from tests.api.builders import JPEG, event, evidence_accounted_for, post
from tests.api.conftest import Api


def frames(count: int = 20, size: int = 96) -> list[np.ndarray]:
    """Moving noise, so that no frame is skipped."""
    base = np.random.default_rng(0).integers(0, 255, (size, size, 3), dtype=np.uint8)
    return [np.roll(base, 4 * i, axis=1) for i in range(count)]


def mp4v_clip(folder: Path, count: int = 20) -> bytes:
    """A clip as older edge boxes stored them: OpenCV's ``VideoWriter`` with the ``mp4v`` FourCC."""
    path = folder / "old.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), 10.0, (96, 96))
    for image in frames(count):
        writer.write(image)
    writer.release()
    return path.read_bytes()


def clip_of(api: Api, event_id: str) -> tuple[int, str, bytes]:
    got = api.client.get(f"/api/v1/events/{event_id}/clip", headers=api.as_("supervisor"))
    return got.status_code, got.headers.get("content-type", ""), got.content


def transcodes(api: Api) -> list[AuditEntry]:
    with services_of(api.app).sessions() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == "transcode_clip")))


def test_an_h264_clip_is_served_as_it_is(api: Api) -> None:
    h264 = encode_bytes(frames(), 10.0)
    assert h264 is not None and codec_of(h264) == "h264"
    assert post(api, event("evt-h264-0001"), files={"snapshot": JPEG, "clip": h264}).status_code == 201
    assert clip_of(api, "evt-h264-0001") == (200, "video/mp4", h264)
    assert transcodes(api) == []


def test_an_mp4v_clip_is_transcoded_on_its_first_request_and_kept(api: Api, tmp_path: Path) -> None:
    old = mp4v_clip(tmp_path)
    assert codec_of(old) == "mpeg4"
    assert post(api, event("evt-mp4v-0001"), files={"snapshot": JPEG, "clip": old}).status_code == 201
    status, media, first = clip_of(api, "evt-mp4v-0001")
    assert status == 200 and media == "video/mp4" and codec_of(first) == "h264"
    capture = cv2.VideoCapture()
    (tmp_path / "new.mp4").write_bytes(first)
    capture.open(str(tmp_path / "new.mp4"))
    assert capture.get(cv2.CAP_PROP_FRAME_COUNT) == 20
    capture.release()
    assert clip_of(api, "evt-mp4v-0001") == (200, "video/mp4", first)  # the kept copy, not a new one
    [entry] = transcodes(api)
    assert entry.target == "event:evt-mp4v-0001" and entry.details["to"] != entry.details["from"]
    with services_of(api.app).sessions() as session:
        assert session.get(Event, "evt-mp4v-0001").clip_sha256 == entry.details["to"]  # type: ignore[union-attr]
        assert services_of(api.app).store.get(entry.details["from"]) == old  # the original is kept
    assert evidence_accounted_for(api)


def test_a_clip_that_cannot_be_transcoded_is_served_as_it_is(api: Api) -> None:
    broken = b"\x00\x00\x00\x18ftypmp42" + bytes(64)
    assert post(api, event("evt-bad-00001"), files={"snapshot": JPEG, "clip": broken}).status_code == 201
    assert clip_of(api, "evt-bad-00001") == (200, "video/mp4", broken)
    assert transcodes(api) == []


def test_transcode_clips_converts_every_old_clip_once(
    api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    old = mp4v_clip(tmp_path)
    h264 = encode_bytes(frames(), 10.0)
    assert h264 is not None
    for event_id, clip in (("evt-old-00001", old), ("evt-old-00002", old), ("evt-new-00001", h264)):
        assert post(api, event(event_id), files={"snapshot": JPEG, "clip": clip}).status_code == 201
    monkeypatch.setenv("SITEWATCH_DATABASE_URL", api.database_url)
    assert main(["transcode-clips", "--data-dir", str(api.data_dir)]) == 0
    assert "3 checked, 1 transcoded to H.264, 0 failed" in capsys.readouterr().out
    with services_of(api.app).sessions() as session:
        digests = {e.id: e.clip_sha256 for e in session.scalars(select(Event))}
    assert digests["evt-old-00001"] == digests["evt-old-00002"] != digests["evt-new-00001"]
    for event_id in digests:
        assert codec_of(clip_of(api, event_id)[2]) == "h264"
    assert len(transcodes(api)) == 2  # one per event; none more on the requests after
    assert main(["transcode-clips", "--data-dir", str(api.data_dir)]) == 0
    assert "3 checked, 0 transcoded" in capsys.readouterr().out


def test_two_first_requests_at_once_both_get_the_copy(api: Api, tmp_path: Path) -> None:
    assert (
        post(api, event("evt-mp4v-0002"), files={"snapshot": JPEG, "clip": mp4v_clip(tmp_path)}).status_code
        == 201
    )
    answers: list[tuple[int, str, bytes]] = []
    threads = [
        threading.Thread(target=lambda: answers.append(clip_of(api, "evt-mp4v-0002"))) for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 3 and len({a[2] for a in answers}) == 1
    assert answers[0][0] == 200 and codec_of(answers[0][2]) == "h264"
    assert evidence_accounted_for(api)
