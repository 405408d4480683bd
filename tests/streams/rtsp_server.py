"""A real RTSP server for the tests: GStreamer's rtsp-server streaming a folder of JPEG frames as MJPEG.

Runs under Debian's own python3 (``python3-gi``, ``gir1.2-gst-rtsp-server-1.0``), not the project's venv:

    /usr/bin/python3 tests/streams/rtsp_server.py --port 8554 --path /gate --frames DIR --fps 5

It prints ``READY`` once it listens and serves until killed. The frames loop forever.

A camera's main stream and substream: ``--mount /main=1280x720 --mount /sub=640x360`` serves the same
frames, scaled and H.264-encoded (OpenH264, a key frame every ``--gop`` frames), at each size. Every
client starts at the frame the clock has reached, so both streams show the same scene at the same moment,
as a camera's do.
"""

import argparse
import glob
import os
import sys
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/stream")
    parser.add_argument("--frames", required=True, help="folder of .jpg frames, streamed in name order")
    parser.add_argument("--fps", type=int, default=5)
    parser.add_argument("--mount", action="append", default=[], help="PATH=WIDTHxHEIGHT, H.264 (repeatable)")
    parser.add_argument("--gop", type=int, default=10, help="frames from one key frame to the next (H.264)")
    args = parser.parse_args()
    started = time.monotonic()

    Gst.init(None)
    frames = []
    for path in sorted(glob.glob(os.path.join(args.frames, "*.jpg"))):
        with open(path, "rb") as fh:
            frames.append(fh.read())
    if not frames:
        print(f"no .jpg frames in {args.frames}", file=sys.stderr, flush=True)
        sys.exit(1)
    duration = Gst.SECOND // args.fps

    def on_media(factory: object, media: GstRtspServer.RTSPMedia) -> None:
        # Each client's pipeline gets its own counter; timestamps pace the stream at --fps.
        src = media.get_element().get_by_name("src")
        state = {"i": 0, "first": int((time.monotonic() - started) * args.fps)}

        def need_data(appsrc: Gst.Element, _length: int) -> None:
            i = state["i"]
            buf = Gst.Buffer.new_wrapped(frames[(state["first"] + i) % len(frames)])
            buf.pts = buf.dts = i * duration
            buf.duration = duration
            state["i"] = i + 1
            appsrc.emit("push-buffer", buf)

        src.connect("need-data", need_data)

    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    source = f'appsrc name=src is-live=true format=time caps="image/jpeg,framerate={args.fps}/1"'
    launches = {args.path: f"( {source} ! jpegparse ! rtpjpegpay name=pay0 pt=26 )"}
    if args.mount:
        launches = {}
        for mount in args.mount:
            path, _, size = mount.partition("=")
            width, _, height = size.partition("x")
            launches[path] = (
                f"( {source} ! jpegdec ! videoscale ! videoconvert "
                f"! video/x-raw,format=I420,width={width},height={height} "
                f"! openh264enc gop-size={args.gop} bitrate=2000000 ! h264parse "
                "! rtph264pay name=pay0 pt=96 config-interval=1 )"
            )
    for path, launch in launches.items():
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(launch)
        factory.connect("media-configure", on_media)
        server.get_mount_points().add_factory(path, factory)
    if server.attach(None) == 0:
        print(f"cannot listen on port {args.port}", file=sys.stderr, flush=True)
        sys.exit(1)
    print("READY", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
