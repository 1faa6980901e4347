"""``python -m devtools.music_sheet SONG_A SONG_B --out assets/music.png``: each preset on two
contrasting songs, on the beat and off it, as ``visualizer render`` paints them.

One row per preset; per song two frames: 80 ms after an annotated beat (the kick) and halfway to
the next beat. The beats come from ``SONG.beats`` beside the song (one time per line) or, without
one, from the causal analyser. Labels sit in a margin, never over the field.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from visualizer.engine.audio.offline import analyse_file
from visualizer.offline.render import open_audio, painted_frames
from visualizer.offline.scoring import read_beats

PRESETS = ("5meo", "nn-dmt", "mosaic", "spiral-garden")
TILE = (256, 144)
FPS = 60
AT_S = 20.0  # the beat nearest this time is shown
LABEL_W, HEADER_H, GAP = 120, 22, 4


def beats_of(song: Path) -> np.ndarray:
    annotations = song.with_suffix(".beats")
    return read_beats(annotations)[0] if annotations.is_file() else np.asarray(analyse_file(song).beats)


def on_and_off(song: Path, preset: str) -> tuple[np.ndarray, np.ndarray]:
    """(on, off) uint8 (h, w, 3) frames of ``preset`` on ``song`` around the beat nearest AT_S."""
    beats = beats_of(song)
    i = int(np.argmin(np.abs(beats - AT_S)))
    on_s, off_s = beats[i] + 0.08, (beats[i] + beats[i + 1]) / 2
    wanted = {round(on_s * FPS): "on", round(off_s * FPS): "off"}
    source, frames = open_audio(song, max(wanted) / FPS + 0.1, FPS)
    shots = {}
    for n, (frame, _) in enumerate(painted_frames(source, frames=frames, preset=preset, size=TILE, fps=FPS), 1):
        if n in wanted:
            shots[wanted[n]] = frame.view(np.uint8).reshape(*frame.shape, 4)[..., :3].copy()
    return shots["on"], shots["off"]


def sheet(songs: list[Path], out: Path) -> None:
    columns = [(song, kind) for song in songs for kind in ("on the beat", "off the beat")]
    width = LABEL_W + len(columns) * (TILE[0] + GAP)
    height = HEADER_H + len(PRESETS) * (TILE[1] + GAP)
    canvas = Image.new("RGB", (width, height), (16, 16, 16))
    draw = ImageDraw.Draw(canvas)
    for c, (song, kind) in enumerate(columns):
        draw.text((LABEL_W + c * (TILE[0] + GAP) + 6, 5), f"{song.stem}: {kind}", fill=(220, 220, 220))
    for r, preset in enumerate(PRESETS):
        y = HEADER_H + r * (TILE[1] + GAP)
        draw.text((8, y + TILE[1] // 2 - 6), preset, fill=(220, 220, 220))
        for s, song in enumerate(songs):
            for k, frame in enumerate(on_and_off(song, preset)):
                canvas.paste(Image.fromarray(frame), (LABEL_W + (2 * s + k) * (TILE[0] + GAP), y))
    canvas.save(out, optimize=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m devtools.music_sheet", description=__doc__.splitlines()[0])
    p.add_argument("songs", type=Path, nargs=2, help="two contrasting songs (beats from SONG.beats if present)")
    p.add_argument("--out", type=Path, default=Path("assets/music.png"))
    args = p.parse_args(argv)
    sheet(args.songs, args.out)
    print(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
