"""``python -m devtools.soak --minutes N [--json]``: a long real-time run with live audio
and forced reconnects; resources and frame times at its start and end.

A Session steps in real time (60 fps) on the features of a live AudioEngine listening to the
monitor of a null sink on a private PulseAudio server (``devtools.pulse_server``), into
which ``paplay`` plays the demo track over and over. Every ``--reconnect-every`` seconds a
saboteur thread takes the audio away — alternately killing the sound server (SIGKILL) and
starting it again, and unloading the null sink and loading it again — and records whether the
engine went "lost" and came back to "live" with audio flowing. The render loop never waits on it.

Printed for the first and the last ``window`` of the run: RSS (MiB), open file descriptors, OS
threads, and session frame time p50/p99/max (ms); then reconnects attempted/recovered, and RSS
at every minute (a leak climbs; a warming heap levels off).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from devtools.pulse_server import PulseServer
from visualizer.engine.audio.demo import demo_paths
from visualizer.engine.audio.engine import AudioChoice, AudioEngine
from visualizer.engine.session import Session

FPS = 60
RECOVERY_TIMEOUT_S = 60.0  # a reconnect that takes longer than this counts as not recovered


def process_figures() -> dict[str, float]:
    """This process now: RSS (MiB), open file descriptors, OS threads (numba's and PortAudio's too)."""
    with open("/proc/self/statm") as f:
        rss = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    with open("/proc/self/status") as f:
        threads = next(int(line.split()[1]) for line in f if line.startswith("Threads:"))
    return {"rss_mib": round(rss, 1), "open_fds": len(os.listdir("/proc/self/fd")), "threads": threads}


def frame_figures(ms: list[float]) -> dict[str, float]:
    a = np.array(ms) if ms else np.zeros(1)
    return {"frames": len(ms), "p50_ms": round(float(np.percentile(a, 50)), 2),
            "p99_ms": round(float(np.percentile(a, 99)), 2), "max_ms": round(float(a.max()), 2)}


class Player:
    """``paplay`` of one file into the server's sink, started again whenever it ends (the file's
    end, or the server killed under it), on a daemon thread."""

    def __init__(self, server: PulseServer, path):
        self.server, self.path = server, path
        self.starts = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="soak-player", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            process = self.server.play(self.path)
            self.starts += 1
            while process.poll() is None and not self._stop.wait(0.2):
                pass
            if process.poll() is None:
                process.kill()
            process.wait()
            self._stop.wait(0.5)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)


@dataclass
class Saboteur:
    """Takes the audio away every ``every_s`` seconds and checks that the engine comes back."""

    server: PulseServer
    engine: AudioEngine
    every_s: float
    attempted: list[str] = field(default_factory=list)
    recovered: list[float] = field(default_factory=list)  # seconds from the restore to audio flowing again
    failed: list[str] = field(default_factory=list)

    def __post_init__(self):
        self._stop = threading.Event()  # no new attempt; one under way is seen through
        self._thread = threading.Thread(target=self._run, name="soak-saboteur", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            how = ("kill the sound server", "unload the sink")[len(self.attempted) % 2]
            self.attempted.append(how)
            before = self.engine.reconnects
            if how == "kill the sound server":
                self.server.kill()
                lost = self._wait(lambda: self.engine.latest().status == "lost", 30)
                self.server.start()
            else:
                module = self.server.module_of_sink(self.server.sink)
                self.server.unload_module(module)
                lost = self._wait(lambda: self.engine.latest().status == "lost", 30)
                self.server.pactl("load-module", "module-null-sink", f"sink_name={self.server.sink}",
                                  f"sink_properties=device.description={self.server.sink}")
            restored = time.monotonic()
            back = self._wait(lambda: self.engine.reconnects > before and self._flowing(), RECOVERY_TIMEOUT_S)
            if lost and back:
                self.recovered.append(round(time.monotonic() - restored, 1))
            else:
                self.failed.append(f"{how}: lost {lost}, back {back}, status {self.engine.latest().status!r}")

    def _flowing(self) -> bool:
        """Live, and the stream time moves (audio is being analysed)."""
        first = self.engine.latest()
        if not first.status.startswith("live"):
            return False
        time.sleep(1.0)
        return self.engine.latest().time_s > first.time_s + 0.5

    @staticmethod
    def _wait(predicate, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.1)
        return False

    def close(self) -> None:
        """Start no new attempt; wait for one under way to be decided."""
        self._stop.set()
        self._thread.join(RECOVERY_TIMEOUT_S + 70)


def figures(minutes: float, *, size: int = 128, preset: str = "nn-dmt", reconnect_every_s: float = 180.0,
            window_s: float = 60.0) -> dict:
    """Run the soak for ``minutes`` of wall time; see the module docstring. ``window_s`` (capped at
    a third of the run) is how much of its start and end the frame times cover."""
    duration_s = minutes * 60.0
    window_s = min(window_s, duration_s / 3)
    with PulseServer() as server:
        player = Player(server, demo_paths()[0])
        engine = AudioEngine(AudioChoice("input", device=f"{server.sink}.monitor"))
        session = Session.from_preset(preset, size=(size, size))
        saboteur = None
        try:
            deadline = time.monotonic() + 60  # warm up: kernels compiled, eigenmodes ready, audio live
            for _ in range(2 * FPS):
                session.advance(engine.latest(), 1 / FPS)
            while (session.eigenmodes_busy or not engine.latest().status.startswith("live")) \
                    and time.monotonic() < deadline:
                session.advance(engine.latest(), 1 / FPS)
                time.sleep(1 / FPS)
            saboteur = Saboteur(server, engine, reconnect_every_s)
            first, last, start, live_frames, frames = [], [], None, 0, 0
            rss_each_minute = [process_figures()["rss_mib"]]
            began = next_frame = time.monotonic()
            while (now := time.monotonic()) - began < duration_s:
                if now - began >= 60.0 * len(rss_each_minute):
                    rss_each_minute.append(process_figures()["rss_mib"])
                features = engine.latest()
                t0 = time.perf_counter()
                session.advance(features, 1 / FPS)
                ms = (time.perf_counter() - t0) * 1e3
                frames += 1
                live_frames += features.status.startswith("live")
                if now - began < window_s:
                    first.append(ms)
                elif start is None:
                    start = process_figures()
                if now - began >= duration_s - window_s:
                    last.append(ms)
                next_frame = max(next_frame + 1 / FPS, time.monotonic() - 1.0)  # a long stall is not caught up
                time.sleep(max(0.0, next_frame - time.monotonic()))
            end = process_figures()
        finally:
            if saboteur is not None:
                saboteur.close()
            player.close()
            engine.close()
            session.close()
    return {
        "minutes": minutes, "size": size, "preset": preset, "reconnect_every_s": reconnect_every_s,
        "window_s": window_s,
        "start": {**(start or process_figures()), **frame_figures(first)},
        "end": {**end, **frame_figures(last)},
        "live_share": round(live_frames / max(frames, 1), 3),
        "rss_mib_each_minute": rss_each_minute,
        "reconnects": {"attempted": len(saboteur.attempted), "recovered": len(saboteur.recovered),
                       "recovery_s": saboteur.recovered, "failed": saboteur.failed,
                       "engine_reconnects": engine.reconnects, "paplay_starts": player.starts},
    }


def summary_rows(result: dict) -> list[tuple[str, str]]:
    """(name, value) rows of ``figures``' result, for a printed table."""
    def line(part: dict) -> str:
        return (f"RSS {part['rss_mib']:7.1f} MiB   fds {part['open_fds']:3d}   threads {part['threads']:3d}   "
                f"frame p50 {part['p50_ms']:6.2f} ms  p99 {part['p99_ms']:6.2f} ms  max {part['max_ms']:7.2f} ms")
    r = result["reconnects"]
    return [(f"soak {result['minutes']:g} min, {result['preset']} {result['size']}², live audio: start", line(result["start"])),
            ("soak: end", line(result["end"])),
            ("soak: reconnects attempted / recovered",
             f"{r['attempted']} / {r['recovered']}   (recovery s {r['recovery_s']}; failed {r['failed']})"),
            ("soak: frames on live audio", f"{100 * result['live_share']:.1f} %"),
            ("soak: RSS each minute (MiB)", " ".join(f"{v:.0f}" for v in result["rss_mib_each_minute"]))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="wall-clock length (default 60)")
    parser.add_argument("--size", type=int, default=128, help="grid side (default 128)")
    parser.add_argument("--reconnect-every", type=float, default=180.0, metavar="S",
                        help="seconds between forced reconnects (default 180)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")  # each loss and recovery
    result = figures(args.minutes, size=args.size, reconnect_every_s=args.reconnect_every)
    if args.json:
        print(json.dumps(result))
    else:
        from devtools.bench_kernel import aligned

        print(aligned(summary_rows(result)))
    r = result["reconnects"]
    return 0 if r["recovered"] == r["attempted"] else 1


if __name__ == "__main__":
    sys.exit(main())
