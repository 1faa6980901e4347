"""How often a lattice preset reaches cessation with music (issue 33).

    python -m devtools.cessation [--preset somatic-visual] [--seconds 60] [--json] FILE...

Each file is played in step with the frames (the analyser fed exactly 1/60 s a frame, seed 0) into
the preset for ``--seconds`` (looped if shorter); the table gives, per file, the cessation index's
share of frames at or above the preset's threshold, how often it rose through it (entries), its
lowest value after the first entry (the music taking it back out) and its peak. With no FILE: the
demo track.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from visualizer.engine import presets
from visualizer.engine.audio.demo import demo_paths
from visualizer.engine.audio.engine import LockstepAudio
from visualizer.engine.session import Session

FPS = 60


def cessation_index(preset: str, song: Path, seconds: float) -> np.ndarray:
    """The cessation index (0..1) of every frame of ``preset`` played ``song``."""
    session = Session(presets.load_preset(preset), seed=0, deterministic=True)
    audio = LockstepAudio(song, loop=True)
    index = np.zeros(int(seconds * FPS))
    try:
        for i in range(index.size):
            audio.advance(1 / FPS)
            measures = session.advance(audio.latest(), 1 / FPS).lattice.measures
            index[i] = measures.cessation if measures else 0.0
    finally:
        audio.close()
        session.close()
    return index


def summary(index: np.ndarray, threshold: float) -> dict:
    above = index >= threshold
    first = int(np.argmax(above)) if above.any() else index.size
    return {"share_at_or_above": round(float(above.mean()), 3),
            "entries": int(np.sum(above[1:] & ~above[:-1])),
            "lowest_after_first": round(float(index[first:].min()), 3) if first < index.size else None,
            "peak": round(float(index.max()), 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.cessation", description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--preset", default="somatic-visual")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    lattice = presets.load_preset(args.preset).lattice
    if lattice is None:
        parser.error(f"{args.preset} has no [lattice]: choose a lattice preset")
    rows = {str(f): summary(cessation_index(args.preset, f, args.seconds), lattice.cessation_threshold)
            for f in (args.files or [demo_paths()[0]])}
    if args.json:
        print(json.dumps({"preset": args.preset, "seconds": args.seconds, "threshold": lattice.cessation_threshold,
                          "files": rows}, indent=2))
        return 0
    print(f"{args.preset}, {args.seconds:g} s per file, threshold {lattice.cessation_threshold:g}")
    print(f"{'file':<28} {'≥ threshold':>12} {'entries':>8} {'lowest after':>13} {'peak':>6}")
    for name, r in rows.items():
        low = "-" if r["lowest_after_first"] is None else f"{r['lowest_after_first']:.2f}"
        print(f"{Path(name).name:<28} {r['share_at_or_above']:>12.0%} {r['entries']:>8} {low:>13} {r['peak']:>6.2f}")
    return 0


if __name__ == "__main__":
    from visualizer.system.signals import until_interrupted

    sys.exit(until_interrupted(main, "python -m devtools.cessation"))
