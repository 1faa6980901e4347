"""``python -m devtools.contact_sheet --out sheet.png``: what every preset looks like.

Every preset × {the demo track, a real recording from ../shared/data/beats, no audio} × {10 s, 30 s},
each run headless and deterministic (audio analysed in lockstep), drawn through the real renderer
(SDL's dummy video driver) and labelled. Needs matplotlib (the test extra brings it).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from devtools import SHARED_BEATS
from visualizer.engine import presets
from visualizer.engine.audio.demo import demo_paths
from visualizer.engine.audio.engine import LockstepAudio, NoAudio
from visualizer.engine.session import Session

FPS = 60
REAL = SHARED_BEATS / "ballroom_waltz.wav"
TILE = (320, 180)  # (width, height) px of one picture


def snapshots(preset: str, audio: Path | None, *, times_s: tuple[float, ...], size: tuple[int, int],
              tile: tuple[int, int] = TILE) -> list[np.ndarray]:
    """RGB pictures (tile_h, tile_w, 3) uint8 of ``preset`` at each of ``times_s`` (ascending)."""
    from visualizer.render.colour import palette_lut
    from visualizer.window.display import Display
    from visualizer.window.lattice_view import draw_lattice, pack_lut
    from visualizer.window.pygame_loader import pygame

    display = Display(size=tile)
    source = LockstepAudio(audio, loop=True) if audio else NoAudio()
    session = Session.from_preset(preset, size=size, deterministic=True)
    pictures, frame = [], 0
    try:
        for t in times_s:
            while frame < round(t * FPS):
                source.advance(1 / FPS)
                state = session.advance(source.latest(), 1 / FPS)
                frame += 1
            lut = palette_lut(state.palette, lightness=state.params.lightness, saturation=state.params.saturation)
            display.set_palette(lut)
            display.draw_field(state.theta, view=state.view, reference=state.reference, time_s=state.time_s)
            if state.lattice is not None:
                draw_lattice(display.canvas, display.canvas.get_rect(), state.lattice.positions, state.lattice.theta,
                             state.lattice.rotation, pack_lut(display.canvas, lut))
            display.limit_flashes()  # the picture as the window would show it
            pictures.append(pygame.surfarray.array3d(display.canvas).transpose(1, 0, 2).copy())
    finally:
        session.close()
    return pictures


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    parser = argparse.ArgumentParser(prog="python -m devtools.contact_sheet", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("presets.png"))
    parser.add_argument("--size", type=int, help="grid cells per side overriding each preset's (faster)")
    parser.add_argument("--presets", nargs="*", help="preset names (default: all)")
    parser.add_argument("--real", type=Path, default=REAL, help="the real recording to use")
    args = parser.parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = args.presets or [p.stem for p in presets.discover()]
    sources = [("demo track", demo_paths()[0]), (args.real.stem, args.real if args.real.is_file() else None),
               ("no audio", None)]
    sources = [(label, path) for label, path in sources if path is not None or label == "no audio"]
    times = (10.0, 30.0)
    columns = len(sources) * len(times)
    fig, axes = plt.subplots(len(names), columns, figsize=(2.2 * columns, 1.45 * len(names)), squeeze=False)
    for row, name in enumerate(names):
        for s, (label, path) in enumerate(sources):
            grid = None
            if args.size:
                h = presets.load_preset(name).field
                grid = (args.size, max(9, round(args.size * h.width / h.height)))
            for i, picture in enumerate(snapshots(name, path, times_s=times, size=grid)):
                ax = axes[row, s * len(times) + i]
                ax.imshow(picture)
                ax.set_xticks([])
                ax.set_yticks([])
                if row == 0:
                    ax.set_title(f"{label}\n{times[i]:.0f} s", fontsize=7)
                if s == 0 and i == 0:
                    ax.set_ylabel(name, fontsize=7)
        print(f"{name} done", flush=True)
    fig.tight_layout(pad=0.3)
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":  # SIGTERM ends it like Ctrl-C (before SDL could take it)
    from visualizer.system.signals import until_interrupted

    raise SystemExit(until_interrupted(main, "python -m devtools.contact_sheet", exit_now=True))
