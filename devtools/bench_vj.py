"""VJ figures: ``python -m devtools.bench_vj [--json]`` prints a table.

- OSC round trip: ``/visualizer/get k1`` → ``/visualizer/value`` over UDP on 127.0.0.1, repeated;
  median and worst (ms). This is the controller-side latency of the OSC thread; a set reaches the
  field at the next frame on top of it (≤ 1/60 s).
- Offline render speed at 1920×1080 (60 fps, the demo track, the grid ``render`` picks): frames per
  second for the whole pipeline (lockstep analysis, session, painting, flash limiter, H.264
  encoding), its CPU time per frame (this process and ffmpeg: less sensitive to other load than
  wall time), and the same frames again split into stages so the ratios say where the time goes.
The machine is shared: compare ratios measured in one run, not absolute numbers across runs.
"""

from __future__ import annotations

import argparse
import json
import resource
import socket
import statistics
import tempfile
import time
from pathlib import Path

from pythonosc.osc_message import OscMessage

from visualizer.background.video_writer import VideoWriter
from visualizer.engine import presets
from visualizer.engine.audio.demo import demo_paths
from visualizer.engine.audio.engine import LockstepAudio
from visualizer.engine.params import Params
from visualizer.engine.session import Session
from visualizer.offline.render import render_video
from visualizer.render.flash import FlashLimiter
from visualizer.render.frames import FramePainter
from visualizer.render.layout import grid_for_screen
from visualizer.stage.changes import ControlQueue
from visualizer.stage.osc import OscServer, build_message


def osc_round_trip(count: int) -> dict:
    """Median and worst /get round trip (ms) over ``count`` messages."""
    base = Params()
    server = OscServer(ControlQueue(), read_value=base.get, port=0)
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.settimeout(5.0)
    request = build_message("/visualizer/get", "k1")
    times = []
    try:
        for _ in range(count + 10):
            t0 = time.perf_counter()
            client.sendto(request, (server.host, server.port))
            reply = OscMessage(client.recv(65536))
            times.append(time.perf_counter() - t0)
            assert reply.address == "/visualizer/value"
    finally:
        client.close()
        server.close()
    times = times[10:]  # warm-up
    return {"messages": count, "median_ms": 1e3 * statistics.median(times), "max_ms": 1e3 * max(times)}


def render_speed(*, preset: str, seconds: float, size: tuple[int, int], fps: float) -> dict:
    """Whole-pipeline frames/s, then the stages timed separately over the same frames."""
    audio = demo_paths()[0]
    chosen = presets.load_preset(preset)
    grid = grid_for_screen(size, chosen.field.height * chosen.field.width)  # as render chooses it
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "bench.mp4"
        render_video(audio, preset=preset, out=Path(folder) / "warm.mp4", size=(320, 180), fps=fps, seconds=0.2,
                     progress=False)  # compile / load every kernel first
        cpu0, children0 = time.process_time(), resource.getrusage(resource.RUSAGE_CHILDREN)
        result = render_video(audio, preset=preset, out=out, size=size, fps=fps, seconds=seconds, grid=grid,
                              progress=False)
        cpu = time.process_time() - cpu0
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        ffmpeg_cpu = (children.ru_utime + children.ru_stime) - (children0.ru_utime + children0.ru_stime)
        stage = {"analysis": 0.0, "session": 0.0, "paint": 0.0, "limit": 0.0, "encode": 0.0}
        source = LockstepAudio(audio, loop=False)
        session = Session(chosen, size=grid)
        painter = FramePainter(size)
        limiter = FlashLimiter()
        with VideoWriter(Path(folder) / "stages.mp4", size=size, fps=fps) as writer:
            for i in range(result.frames):
                t0 = time.perf_counter()
                source.advance(1 / fps)
                t1 = time.perf_counter()
                state = session.advance(source.latest(), 1 / fps)
                t2 = time.perf_counter()
                painter.use_palette(state.palette, lightness=state.params.lightness, saturation=state.params.saturation)
                frame = painter.paint(state.theta, view=state.view, reference=state.reference, stagger=state.stagger)
                t3 = time.perf_counter()
                limiter.apply(frame, shifts=FramePainter.SHIFTS, time_s=(i + 1) / fps)
                t4 = time.perf_counter()
                writer.write(frame)
                t5 = time.perf_counter()
                for name, dt in zip(stage, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True):
                    stage[name] += dt
        session.close()
    return {"preset": preset, "size": f"{size[0]}x{size[1]}", "grid": "x".join(map(str, session.field.shape)),
            "frames": result.frames, "fps": result.fps, "real_time_ratio": result.fps / fps,
            "cpu_ms_per_frame": {"render process": 1e3 * cpu / result.frames,
                                 "ffmpeg": 1e3 * ffmpeg_cpu / result.frames},
            "stage_ms_per_frame": {k: 1e3 * v / result.frames for k, v in stage.items()}}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m devtools.bench_vj", description=__doc__.splitlines()[0])
    p.add_argument("--messages", type=int, default=200, help="OSC round trips (default 200)")
    p.add_argument("--seconds", type=float, default=5.0, help="seconds of video to render (default 5)")
    p.add_argument("--preset", default="nn-dmt")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = p.parse_args(argv)
    figures = {"osc": osc_round_trip(args.messages),
               "render": render_speed(preset=args.preset, seconds=args.seconds, size=(1920, 1080), fps=60.0)}
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    o, r = figures["osc"], figures["render"]
    print(f"OSC /get round trip over UDP 127.0.0.1 ({o['messages']} messages): "
          f"median {o['median_ms']:.3f} ms, max {o['max_ms']:.3f} ms")
    print(f"render {r['preset']} at {r['size']} (grid {r['grid']}), 60 fps, {r['frames']} frames: "
          f"{r['fps']:.1f} frames/s = {r['real_time_ratio']:.2f}× real time")
    print("  stages (wall ms/frame): " + ", ".join(f"{k} {v:.1f}" for k, v in r["stage_ms_per_frame"].items()))
    print("  CPU time (ms/frame): " + ", ".join(f"{k} {v:.1f}" for k, v in r["cpu_ms_per_frame"].items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
