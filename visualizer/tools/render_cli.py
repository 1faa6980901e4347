"""``visualizer render AUDIO --preset NAME --out clip.mp4``: an offline render with the audio muxed in.

Deterministic (the audio is analysed in lockstep with the frames) and as fast as the machine
allows; a progress bar on stderr. Errors become one line and exit code 2.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from pathlib import Path

from visualizer import presets
from visualizer.audio.decode import AudioFileError
from visualizer.render.video import ENCODER_SPEEDS, VideoError, render_video

log = logging.getLogger(__name__)

EXIT_USAGE = 2


def parse_video_size(text: str) -> tuple[int, int]:
    """``WxH`` → (width, height), both even and at least 16."""
    m = re.fullmatch(r"\s*(\d+)\s*[x×]\s*(\d+)\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"--size expects WxH (e.g. 1920x1080), not {text!r}")
    w, h = int(m.group(1)), int(m.group(2))
    if w < 16 or h < 16 or w % 2 or h % 2 or w > 7680 or h > 4320:
        raise argparse.ArgumentTypeError(f"--size {w}x{h}: width and height must be even, 16..7680 × 16..4320")
    return w, h


def parse_grid(text: str) -> tuple[int, int]:
    """``N`` or ``HxW`` cells → (height, width)."""
    m = re.fullmatch(r"\s*(\d+)\s*(?:[x×]\s*(\d+))?\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"--grid expects N or HxW (e.g. 256 or 144x256), not {text!r}")
    return int(m.group(1)), int(m.group(2) or m.group(1))


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, not {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="visualizer render",
                                description="Render a preset driven by an audio file to a video file (H.264 + AAC).")
    p.add_argument("audio", type=Path, help="audio file that drives the field and is muxed into the video")
    p.add_argument("--preset", default="nn-dmt", help="preset name or path to a .toml file (default: nn-dmt)")
    p.add_argument("--out", type=Path, required=True, help="output video file (.mp4)")
    p.add_argument("--size", type=parse_video_size, default=(1920, 1080), help="video size WxH (default 1920x1080)")
    p.add_argument("--fps", type=_positive, default=60.0, help="frames per second (default 60)")
    p.add_argument("--seconds", type=_positive, help="render only this many seconds (default: the whole file)")
    p.add_argument("--grid", type=parse_grid, help="field size N or HxW (cells), overriding the preset's")
    p.add_argument("--seed", type=int, default=0, help="random seed for phases, frequencies, links")
    p.add_argument("--encoder-speed", choices=ENCODER_SPEEDS, default="veryfast",
                   help="x264 preset (default veryfast, the smallest file); superfast encodes with about half "
                        "the CPU into files about 2.3× bigger, ultrafast with a third into files about 3× bigger")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--no-flash-limit", action="store_true",
                   help="do NOT limit flashes to 3 per second (photosensitive epilepsy risk: only for "
                        "material you have checked yourself)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.audio.is_file():
        print(f"visualizer render: error: {args.audio}: no such audio file", file=sys.stderr)
        return EXIT_USAGE
    if args.out.suffix.lower() not in (".mp4", ".mov", ".mkv"):
        print(f"visualizer render: error: --out {args.out}: use a .mp4 (or .mov, .mkv) file name", file=sys.stderr)
        return EXIT_USAGE
    if args.no_flash_limit:
        log.warning("flash limiter off (--no-flash-limit): the video may flash more than 3 times a second")
    try:
        result = render_video(args.audio, preset=args.preset, out=args.out, size=args.size, fps=args.fps,
                              seconds=args.seconds, grid=args.grid, seed=args.seed,
                              progress=not args.no_progress, flash_limit=not args.no_flash_limit,
                              encoder_speed=args.encoder_speed)
    except (presets.PresetError, AudioFileError, VideoError, ValueError) as e:
        print(f"visualizer render: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"\nvisualizer render: interrupted; {args.out} is incomplete", file=sys.stderr)
        return 130
    print(f"{result.path}: {result.frames} frames, {result.seconds:.2f} s at {args.size[0]}x{args.size[1]}, "
          f"rendered at {result.fps:.1f} frames/s ({result.fps / args.fps:.2f}× real time)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
