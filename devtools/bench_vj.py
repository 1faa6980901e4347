"""VJ figures: ``python -m devtools.bench_vj [--json] [--flashes-only]`` prints a table.

- Flash attacks on the real app (headless, SDL dummy, --no-audio, OSC over real UDP), limiter on
  and off, flashes counted on the frames as presented by ``devtools.flash_count`` (most in any
  second of any 10° field): ``strobe+tap`` (/visualizer/strobe 1, then /visualizer/tap ten times a
  second), ``view flip`` (the vivid palette, whose reds make colour flashes, and the V key ten
  times a second: the whole frame's colours turn at once) and ``palette flip`` (/visualizer/palette
  vivid | mono every 3 frames: ten full-frame flashes a second).
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
    server = OscServer(ControlQueue(), read_value=lambda name: (base.get(name), base.get(name)), port=0)
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


ATTACK_FRAMES = {  # per frame i: OSC messages to send before it, or the key to press ("key", name)
    "strobe+tap": lambda i: ([("/visualizer/strobe", 1.0)] if i == 0 else []) + ([("/visualizer/tap",)]
                                                                                  if i % 6 == 0 else []),
    "view flip": lambda i: ([("/visualizer/palette", "vivid")] if i == 0 else []) + ([("key", "v")]
                                                                                   if i % 6 == 0 else []),
    "palette flip": lambda i: [("/visualizer/palette", ("vivid", "mono")[(i // 3) % 2])] if i % 3 == 0 else [],
}


def flash_attack(attack: str, *, preset: str, limit: bool, seconds: float = 5.0,
                 window: tuple[int, int] = (320, 180)) -> dict:
    """Run ``attack`` (a key of ATTACK_FRAMES) on the real app; the most flashes in any second.

    Headless at 60 frames/s of frame time: each frame's OSC datagrams are sent over UDP and
    received by the app's OSC thread before the frame runs, so the attack is exactly on time.
    """
    import os

    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    from devtools.flash_count import FlashCounter
    from visualizer.engine.audio.engine import AudioChoice
    from visualizer.stage.stage import StageOptions
    from visualizer.window.app import FPS, App, AppOptions
    from visualizer.window.pygame_loader import pygame

    app = App(AppOptions(preset=preset, headless=True, window=window, hud=False, flash_limit=limit,
                         audio=AudioChoice("none"), stage=StageOptions(osc=True, osc_port=0)))
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    counter, sent = FlashCounter(), 0
    try:
        for _ in range(FPS):  # a second to settle: the field forms, nothing is counted
            app.frame()
        for i in range(round(seconds * FPS)):
            for message in ATTACK_FRAMES[attack](i):
                if message[0] == "key":
                    key = pygame.key.key_code(message[1])
                    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode="", scancode=0))
                    continue
                client.sendto(build_message(*message), (app.stage.osc.host, app.stage.osc.port))
                sent += 1
            deadline = time.monotonic() + 10.0
            while app.stage.osc.received < sent and time.monotonic() < deadline:
                time.sleep(0.0005)
            app.frame()
            counter.add(pygame.surfarray.array3d(app.display.canvas))
        limited = app.display.flash_limiter.limited_frames if app.display.flash_limiter else 0
    finally:
        client.close()
        app.close()
    return {"attack": attack, "preset": preset, "limiter": "on" if limit else "off",
            "flashes_per_s": counter.most_flashes_in_a_second(FPS), "limited_frames": limited,
            "frames": round(seconds * FPS)}


def flash_attacks(seconds: float) -> list[dict]:
    """Every attack (strobe+tap on two presets), limiter on and off."""
    runs = [("strobe+tap", "nn-dmt"), ("strobe+tap", "5meo"), ("view flip", "nn-dmt"), ("palette flip", "nn-dmt"),
            ("palette flip", "5meo")]
    return [flash_attack(attack, preset=preset, limit=limit, seconds=seconds)
            for attack, preset in runs for limit in (False, True)]


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
    p.add_argument("--flashes-only", action="store_true", help="only the flash attacks")
    p.add_argument("--attack-seconds", type=float, default=5.0, help="seconds of each flash attack (default 5)")
    args = p.parse_args(argv)
    figures = {"flashes": flash_attacks(args.attack_seconds)}
    if not args.flashes_only:
        figures.update(osc=osc_round_trip(args.messages),
                       render=render_speed(preset=args.preset, seconds=args.seconds, size=(1920, 1080), fps=60.0))
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(f"flash attacks ({args.attack_seconds:g} s each; most flashes in any second of any 10° field):")
    for f in figures["flashes"]:
        print(f"  {f['attack']:15s} {f['preset']:7s} limiter {f['limiter']:3s}: {f['flashes_per_s']:2d} flashes/s "
              f"({f['limited_frames']} of {f['frames']} frames limited)")
    if args.flashes_only:
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
