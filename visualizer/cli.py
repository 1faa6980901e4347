"""Command line: ``visualizer [options]`` runs the app; errors become one line and exit code 2."""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from pathlib import Path

from visualizer import __version__

log = logging.getLogger("visualizer")

EXIT_USAGE = 2


class UserError(Exception):
    """Something the user can fix; printed as one line."""


def parse_size(text: str) -> tuple[int, int]:
    """``N`` or ``HxW`` → (height, width)."""
    m = re.fullmatch(r"\s*(\d+)\s*(?:[x×]\s*(\d+))?\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"--size expects N or HxW (e.g. 256 or 144x256), not {text!r}")
    h = int(m.group(1))
    return h, int(m.group(2) or h)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="visualizer",
        description="Audio-reactive field of coupled Kuramoto oscillators. "
                    "Keys: F fullscreen, H HUD, Space pause, R reseed, S screenshot, N/P preset, "
                    "Tab/arrows sliders, Q/Esc quit.")
    p.add_argument("--version", action="version", version=f"visualizer {__version__}")
    p.add_argument("--preset", default="nn-dmt", help="preset name or path to a .toml file (default: nn-dmt)")
    p.add_argument("--list-presets", action="store_true", help="list the presets and exit")
    p.add_argument("--size", type=parse_size, help="grid size N or HxW, overriding the preset's")
    p.add_argument("--seed", type=int, default=0, help="random seed for phases, frequencies, links")
    p.add_argument("--fullscreen", action="store_true", help="start fullscreen (F toggles)")
    p.add_argument("--display", type=int, default=0, help="monitor to open on (0-based)")
    p.add_argument("--headless", action="store_true", help="render offscreen (SDL dummy driver), fixed 60 fps clock")
    p.add_argument("--frames", type=int, help="stop after this many frames")
    p.add_argument("--screenshot", type=Path, help="save the last frame as PNG here")
    return p


def list_presets() -> None:
    from visualizer import presets

    for path in presets.discover():
        try:
            p = presets.load(path)
            print(f"{path.stem:16s} {p.name}\n{'':16s} {p.description}")
        except presets.PresetError as e:
            print(f"{path.stem:16s} BROKEN: {e}")


def run_app(args: argparse.Namespace) -> None:
    if args.headless:
        os.environ["SDL_VIDEODRIVER"] = "dummy"
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    from visualizer.app import App, AppOptions

    App(AppOptions(preset=args.preset, size=args.size, seed=args.seed, fullscreen=args.fullscreen,
                   display=args.display, headless=args.headless, frames=args.frames,
                   screenshot=args.screenshot)).run()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = build_parser().parse_args(argv)
    from visualizer.presets import PresetError

    try:
        if args.list_presets:
            list_presets()
        else:
            run_app(args)
    except (UserError, PresetError, ValueError) as e:
        print(f"visualizer: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    return 0
