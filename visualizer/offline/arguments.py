"""argparse types shared by the sub-commands: grid sizes, counts and positive numbers, each
rejected in one line that names the option and what it takes."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable


def grid_size(option: str = "--size") -> Callable[[str], tuple[int, int]]:
    """An argparse type: ``N`` or ``HxW`` cells → (height, width), each side within what the
    machine can step usably; ``option`` is named in the error."""
    def parse(text: str) -> tuple[int, int]:
        from visualizer.engine.sim.field import MAX_SIDE, MIN_SIDE

        m = re.fullmatch(r"\s*(\d+)\s*(?:[x×]\s*(\d+))?\s*", text)
        if not m:
            raise argparse.ArgumentTypeError(f"{option} expects N or HxW (e.g. 256 or 144x256), not {text!r}")
        h = int(m.group(1))
        w = int(m.group(2) or h)
        if not (MIN_SIDE <= h <= MAX_SIDE and MIN_SIDE <= w <= MAX_SIDE):
            raise argparse.ArgumentTypeError(f"{option} sides must be in {MIN_SIDE}..{MAX_SIDE} cells (larger grids "
                                             f"step too slowly to watch), not {text!r}")
        return h, w
    return parse


parse_size = grid_size("--size")


def at_least(lowest: int, option: str) -> Callable[[str], int]:
    """An argparse type: an integer ≥ ``lowest``, named ``option`` in its error."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = lowest - 1
        if value < lowest:
            raise argparse.ArgumentTypeError(f"{option} expects an integer ≥ {lowest}, not {text!r}")
        return value
    return parse


def positive(text: str) -> float:
    """An argparse type: a number > 0."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, not {text!r}")
    return value
