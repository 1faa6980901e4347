"""Drone gaps: does a session's drone ever drop out while the machine is busy?

    python -m devtools.drone_gaps [--session mettannealing-short] [--minutes M] [--busy 2] [--json]

Plays a real session in its real window (SDL's dummy driver unless a display is set, e.g. under
``xvfb-run``) on the wall clock to its end (or for ``--minutes``), its sound bed into a private
PulseAudio server's null sink (``devtools.pulse_server``), beside ``--busy`` processes that each
spin one core, and records the sink's monitor with ``parecord``. The session's silent phases
(energy "none", e.g. the integration) are made drone phases, so the drone should sound from the
fade-in to the fade-out without a break; its loudness swings only between 0.55 and 1 with the
breath. In the recording, a gap is a run of 10 ms windows whose RMS is under ``FLOOR`` of the
median window's, between the fade-in and the fade-out (``gaps``). Prints one
table (or ``--json``): gaps longer than ``GAP_MS``, the longest, the time lost, the bed's own
count of PortAudio underflows and the load average; exits 1
if there was a gap longer than ``GAP_MS``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

WINDOW_S = 0.010
FLOOR = 0.1  # of the median window's RMS: a drop to -20 dB is heard as a hole in a steady drone
GAP_MS = 50.0
LOUD = 0.01  # |sample| above this: the drone is sounding (its quietest breath is ~0.06)


def gaps(samples: np.ndarray, sr: int) -> dict:
    """Gaps in the drone of mono ``samples`` (float, ``sr`` Hz). The span analysed runs from the
    first to the last 10 ms window at half the median level or more (the fades are outside it);
    returns its length (s), the median window level (dBFS) and every gap in it as [start (s, from
    the span's start), length (ms)]."""
    loud = np.flatnonzero(np.abs(samples) > LOUD)
    if loud.size == 0:
        raise SystemExit("drone_gaps: the recording is silent: the bed played nothing into the sink")
    window = round(WINDOW_S * sr)
    sounding = samples[loud[0]:loud[-1] + 1]
    rms = np.sqrt(np.mean(sounding[: sounding.size // window * window].reshape(-1, window) ** 2, axis=1))
    median = float(np.median(rms))
    full = np.flatnonzero(rms >= 0.5 * median)
    rms = rms[full[0]:full[-1] + 1]
    quiet = np.concatenate([[False], rms < FLOOR * median, [False]])
    edges = np.flatnonzero(np.diff(quiet.astype(np.int8)))
    runs = [[round(start * WINDOW_S, 2), round((end - start) * WINDOW_S * 1000, 1)]
            for start, end in zip(edges[::2], edges[1::2])]
    return {"span_s": rms.size * WINDOW_S, "median_dbfs": 20 * np.log10(max(median, 1e-9)), "gaps": runs}


def busy_loops(n: int) -> list[subprocess.Popen]:
    """``n`` processes that each spin one core until killed."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def drone_throughout(name: str):
    """Session ``name``'s plan with every silent phase made a drone phase."""
    from dataclasses import replace

    from visualizer.meditation import timeline

    plan = timeline.load(timeline.resolve(name))
    return replace(plan, phases=tuple(replace(p, energy="drone") if p.energy == "none" else p for p in plan.phases))


def play(session: str, seconds: float, sink: str, capture: Path) -> dict:
    """Play ``session`` (``drone_throughout``) in its window to its end or for ``seconds`` (then
    end it as Q would) while ``parecord`` records ``sink``'s monitor into ``capture``; returns
    the bed's counts and the frame rate."""
    from visualizer.meditation.cli import WindowRequest
    from visualizer.meditation.sound import SoundBed
    from visualizer.meditation.window import run_session_window
    from visualizer.window.pygame_loader import pygame

    recorder = subprocess.Popen(["parecord", f"--device={sink}.monitor", "--latency-msec=50",
                                 "--file-format=wav", str(capture)])
    bed = SoundBed()
    if not bed.playing:
        recorder.terminate()
        raise SystemExit("drone_gaps: the sound bed found no output on the private server")
    frames, started = [0], time.monotonic()

    def watch(canvas, view) -> None:
        frames[0] += 1
        if time.monotonic() - started >= seconds:
            pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_q, mod=0, unicode="q", scancode=0))

    request = WindowRequest(plan=drone_throughout(session), ask=False, keep_history=False)
    try:
        run_session_window(request, observe=watch, bed=bed)
    finally:
        time.sleep(1.0)  # what is still in the server's buffers reaches the monitor
        recorder.terminate()
        recorder.wait(10)
    played_s = time.monotonic() - started
    return {"played_s": played_s, "fps": frames[0] / played_s, "output_underflows": bed.output_underflows}


def measure(*, minutes: float, busy: int, session: str) -> dict:
    """The whole run (see the module docstring) → its figures."""
    import soundfile

    from devtools.pulse_server import PulseServer

    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    loops = busy_loops(busy)
    loads = []
    try:
        with tempfile.TemporaryDirectory() as folder, PulseServer() as server:
            capture = Path(folder) / "monitor.wav"
            played = play(session, 60 * minutes, server.sink, capture)
            loads.append(os.getloadavg())
            recorded, sr = soundfile.read(capture, dtype="float32", always_2d=True)
    finally:
        for loop in loops:
            loop.kill()
            loop.wait(10)
    found = gaps(recorded[:, 0], sr)
    long_gaps = [g for g in found["gaps"] if g[1] > GAP_MS]
    return {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "session": session, "busy_loops": busy,
            "cores": os.cpu_count(), "load_average_1_5_15": [round(x, 2) for x in loads[-1]], **played,
            "span_s": found["span_s"], "median_dbfs": found["median_dbfs"], "gaps_over_50ms": len(long_gaps),
            "longest_gap_ms": max((g[1] for g in found["gaps"]), default=0.0),
            "gap_time_ms": sum(g[1] for g in found["gaps"]), "gaps": found["gaps"]}


def table(r: dict) -> str:
    rows = [
        ("date", r["date"]),
        ("session, played", f"{r['session']}, {r['played_s']:.0f} s in its window at {r['fps']:.0f} frames/s"),
        ("beside", f"{r['busy_loops']} busy loops on {r['cores']} cores; load average "
                   + " / ".join(f"{x:.2f}" for x in r["load_average_1_5_15"])),
        ("drone recorded", f"{r['span_s']:.1f} s from the sink's monitor, median {r['median_dbfs']:.1f} dBFS"),
        (f"gaps > {GAP_MS:.0f} ms", str(r["gaps_over_50ms"])),
        ("longest gap", f"{r['longest_gap_ms']:.0f} ms"),
        ("time lost to gaps", f"{r['gap_time_ms']:.0f} ms"),
        ("PortAudio underflows", str(r["output_underflows"])),
    ]
    return "\n".join(f"{name:22s} {value}" for name, value in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.drone_gaps", description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=float("inf"), help="stop earlier (default: the session's end)")
    parser.add_argument("--busy", type=int, default=2, help="busy-loop processes beside the session")
    parser.add_argument("--session", default="mettannealing-short")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = measure(minutes=args.minutes, busy=args.busy, session=args.session)
    print(json.dumps(result, indent=1) if args.json else table(result))
    return 0 if result["gaps_over_50ms"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
