"""``visualizer trace FILE --preset NAME [--seconds S] [--seed N] [--size N] --json``: run a preset
headless on an audio file (analysed in lockstep with the frames, deterministic) and print what the
field did, 10 samples per second.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from visualizer.engine.audio.engine import LockstepAudio, NoAudio
from visualizer.engine.session import Session
from visualizer.offline.arguments import parse_size
from visualizer.system.signals import interrupts_deferred, until_interrupted

FPS = 60
SAMPLES_PER_S = 10


def trace(audio: Path | None, *, preset: str, seconds: float, seed: int = 0, size: tuple[int, int] | None = None,
          loop: bool = True) -> dict:
    """{"fps": 60, "samples": [{"t", "R", "E", "T", "phase", "patches", "anti_phase", "corr_length",
    "k": [k1..k4], "k_sw", "disorder"}, ...]} at 10 samples per second (disorder: the frequency spread
    the annealer's consolidation leaves, share of the drawn one); ``audio`` None runs in silence."""
    source = LockstepAudio(audio, loop=loop) if audio is not None else NoAudio()
    session = Session.from_preset(preset, size=size, seed=seed, deterministic=True)
    every = FPS // SAMPLES_PER_S
    samples = []
    try:
        for frame in range(1, int(round(seconds * FPS)) + 1):
            with interrupts_deferred():  # Ctrl-C / SIGTERM end the trace between frames
                source.advance(1 / FPS)
                state = session.advance(source.latest(), 1 / FPS)
            if frame % every == 0:
                m, a, p = session.measure_now(), state.annealing, state.params
                samples.append({"t": round(state.time_s, 4), "R": round(m.order, 4), "E": round(a.energy, 4),
                                "T": round(a.temperature, 4), "phase": a.phase, "patches": m.patches,
                                "anti_phase": round(m.antiphase, 4), "corr_length": round(m.corr_length, 3),
                                "k": [round(v, 3) for v in p.k], "k_sw": round(p.k_sw, 3),
                                "disorder": round(a.disorder, 4)})
    finally:
        session.close()
    return {"fps": FPS, "samples": samples}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="visualizer trace", description=__doc__.splitlines()[0].strip("`"))
    p.add_argument("file", type=Path, help="audio file (wav/flac/ogg/mp3); 'none' for silence")
    p.add_argument("--preset", default="nn-dmt")
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--size", type=parse_size, help="grid N or HxW, overriding the preset's")
    p.add_argument("--json", action="store_true", help="print one JSON object (the default prints a table)")
    return p


def main(argv: list[str] | None = None) -> int:
    """``visualizer trace``; Ctrl-C and SIGTERM end it with one line and exit 130 / 143."""
    return until_interrupted(lambda: _main(argv), "visualizer trace", ended="nothing printed")


def _main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    audio = None if str(args.file) == "none" else args.file
    result = trace(audio, preset=args.preset, seconds=args.seconds, seed=args.seed, size=args.size)
    if args.json:
        json.dump(result, sys.stdout)
        print()
        return 0
    print(f"{'t':>6s} {'R':>6s} {'E':>6s} {'T':>6s} {'phase':>8s} {'patches':>7s} {'anti':>6s} {'corr':>6s}")
    for s in result["samples"][::SAMPLES_PER_S]:
        print(f"{s['t']:6.1f} {s['R']:6.3f} {s['E']:6.3f} {s['T']:6.2f} {s['phase']:>8s} {s['patches']:7d} "
              f"{s['anti_phase']:6.3f} {s['corr_length']:6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
