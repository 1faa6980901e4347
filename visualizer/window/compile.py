"""``visualizer compile``: every numba kernel compiled into numba's on-disk cache, once, so the
first start draws its first frame in about two seconds instead of compiling first (the README's
install command runs it). Run it again after updating: numba recompiles a module's kernels when
its source changes."""

from __future__ import annotations

import argparse
import time

from visualizer.window.pygame_loader import pygame  # noqa: F401  (SDL set up as the window does)


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(prog="visualizer compile", description=__doc__.splitlines()[0]).parse_args(argv)
    from visualizer.engine.sim.warmup import prepare_kernels
    from visualizer.window.lattice_view import warm_up

    seconds = prepare_kernels()
    start = time.perf_counter()
    warm_up()
    print(f"visualizer: kernels compiled and cached in {seconds + time.perf_counter() - start:.1f} s")
    return 0
