"""Benchmark: ``python -m visualizer.bench`` prints one table of figures measured in one run.

Figures are medians over repeats, and compared as ratios to references measured in the same run
(a plain NumPy float64 step, a float32 matmul for the machine's FMA peak), because the machine is
shared and noisy.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from typing import Callable

import numba
import numpy as np

from visualizer.sim import Field, FieldConfig
from visualizer.sim.reference import reference_step

K_5MEO = (20.0, 20.0, 10.0, 0.0)


def median_seconds(fn: Callable[[], object], *, repeats: int, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` over ``repeats`` calls (s)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def fma_peak_gflops(n: int = 2048) -> float:
    """float32 matmul throughput (GFLOP/s): the machine's practical FMA peak."""
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    b = a.T.copy()
    return 2 * n**3 / median_seconds(lambda: a @ b, repeats=5) / 1e9


def step_rate(size: int, *, links: int = 2, steps: int = 10) -> float:
    """Cell-steps per second of ``Field.step`` (diamond, wrap, float32) at size²."""
    field = Field(FieldConfig(height=size, width=size, small_world_links=links))

    def run() -> None:
        for _ in range(steps):
            field.step(dt=0.01, k=K_5MEO, k_sw=-10.0)
    return size * size * steps / median_seconds(run, repeats=5)


def reference_rate(size: int) -> float:
    """Cell-steps per second of the plain NumPy float64 reference at size²."""
    field = Field(FieldConfig(height=size, width=size, small_world_links=2))
    theta, omega, sw = field.theta.copy(), field.omega.copy(), field.small_world.copy()
    seconds = median_seconds(lambda: reference_step(theta, omega, sw, dt=0.01, k=K_5MEO, k_sw=-10.0,
                                                    neighborhood="diamond", boundary="wrap"), repeats=3, warmup=0)
    return size * size / seconds


def flops_per_cell(links: int = 2, taps: int = 40) -> int:
    """Floating-point operations per cell and step in the kernel as written.

    Two stencils of ``taps`` FMAs (2 flops each); the small-world gather (2 adds per link,
    2 FMAs); the update (2 mul + 1 sub for the sin/cos identity, 1 mul by 1/N, 3 adds, 1 FMA);
    the wrap (mul, floor, FMA). sin and cos are counted as one op each.
    """
    return 2 * 2 * taps + 2 * links + 4 + 10 + 4 + 2


def colourise_ms(field_size: int = 256, screen: tuple[int, int] = (1920, 1080)) -> float:
    """Milliseconds to colourise and scale a field² into a 1920×1080 surface (SDL dummy driver)."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    import pygame

    from visualizer.render.colour import build_lut
    from visualizer.render.display import Display

    display = Display(size=screen)
    display.set_palette(build_lut("lab"))
    theta = Field(FieldConfig(height=field_size, width=field_size)).theta
    ms = median_seconds(lambda: display.draw_field(theta), repeats=30, warmup=2) * 1e3
    pygame.quit()
    return ms


def analysis_cpu_share(seconds: float = 20.0) -> float:
    """CPU time of the streaming analyser per second of audio (share of one core), demo track."""
    from visualizer.audio.analysis import AnalysisConfig, StreamingAnalyser
    from visualizer.audio.decode import load_audio, mono
    from visualizer.audio.demo import demo_paths

    samples, sr = load_audio(demo_paths()[0])
    audio = mono(samples)[: int(seconds * sr)]
    analyser = StreamingAnalyser(AnalysisConfig(sr=sr))
    t0 = time.process_time()
    for start in range(0, audio.size, 256):
        analyser.push(audio[start:start + 256])
    return (time.process_time() - t0) / (audio.size / sr)


def table(rows: list[tuple[str, str]]) -> str:
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m visualizer.bench", description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    step_rate(64, steps=1)  # compile, and start the threading layer so it can be named
    rows: list[tuple[str, str]] = [
        ("machine", f"{platform.machine()}, {os.cpu_count()} cores, numba {numba.__version__}, "
                    f"{numba.config.NUMBA_NUM_THREADS} threads ({numba.threading_layer()})"),
    ]
    peak = fma_peak_gflops()
    rows.append(("float32 matmul peak", f"{peak:8.1f} GFLOP/s"))
    flops = flops_per_cell()
    for size in (256, 512):
        numpy_rate = reference_rate(size)
        rate = step_rate(size)
        rows += [
            (f"step {size}² kernel", f"{rate / 1e6:8.1f} M cell-steps/s  ({flops} flop/cell: {rate * flops / 1e9:.1f} GFLOP/s, "
                                     f"{100 * rate * flops / 1e9 / peak:.0f}% of peak)"),
            (f"step {size}² numpy float64", f"{numpy_rate / 1e6:8.2f} M cell-steps/s"),
            (f"step {size}² ratio", f"{rate / numpy_rate:8.0f}×"),
        ]
    rows.append(("colourise+scale 256² → 1920×1080", f"{colourise_ms():8.2f} ms/frame"))
    rows.append(("audio analysis CPU", f"{100 * analysis_cpu_share():8.2f} % of one core in real time"))
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
