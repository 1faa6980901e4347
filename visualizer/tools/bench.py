"""Benchmark: ``python -m visualizer.tools.bench`` prints one table of figures measured in one run.

Figures are medians (and p99s) over repeats, and compared as ratios to references measured in
the same run (a plain NumPy float64 step; a float32 matmul for the machine's FMA peak), because
the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from typing import Callable

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import numba  # noqa: E402
import numpy as np  # noqa: E402

from visualizer.sim import Field, FieldConfig  # noqa: E402
from visualizer.sim.neighbourhood import lattice_taps  # noqa: E402
from visualizer.sim.reference import reference_step  # noqa: E402

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
    """float32 matmul throughput (GFLOP/s) with every core: the machine's practical FMA peak."""
    code = ("import numpy as np, time, statistics\n"
            f"a = np.random.default_rng(0).standard_normal(({n}, {n})).astype(np.float32); b = a.T.copy(); a @ b\n"
            "ts = []\nfor _ in range(5):\n    t = time.perf_counter(); a @ b; ts.append(time.perf_counter() - t)\n"
            f"print(2 * {n}**3 / statistics.median(ts) / 1e9)")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}  # BLAS with all cores
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env).stdout)


def step_rate(size: int, *, links: int = 2, steps: int = 10, threads: int | None = None) -> float:
    """Cell-steps per second of ``Field.step`` (diamond, wrap, float32) at size²."""
    field = Field(FieldConfig(height=size, width=size, small_world_links=links))
    all_threads = numba.get_num_threads()
    numba.set_num_threads(threads or all_threads)
    try:
        def run() -> None:
            for _ in range(steps):
                field.step(dt=0.01, k=K_5MEO, k_sw=-10.0)
        return size * size * steps / median_seconds(run, repeats=9)
    finally:
        numba.set_num_threads(all_threads)


def reference_rate(size: int, repeats: int) -> float:
    """Cell-steps per second of the plain NumPy float64 reference at size²."""
    field = Field(FieldConfig(height=size, width=size, small_world_links=2))
    theta, omega, sw = field.theta.copy(), field.omega.copy(), field.small_world.copy()
    seconds = median_seconds(lambda: reference_step(theta, omega, sw, dt=0.01, k=K_5MEO, k_sw=-10.0,
                                                    neighborhood="diamond", boundary="wrap"), repeats=repeats, warmup=0)
    return size * size / seconds


def flops_per_cell(links: int = 2) -> int:
    """Floating-point operations per cell and step of the equation as the kernel evaluates it.

    The lattice sum over the 40 diamond taps for sin and cos (an add and a multiply each, 160),
    the small-world gather (2 adds per link each for sin and cos, and 2 FMAs: 4·links + 4), the
    update (sin/cos identity 3, ×1/N, 2 adds, ×Δt: 7) and sin θ, cos θ (polynomials: ~30).
    """
    return 4 * len(lattice_taps("diamond")) + 4 * links + 4 + 7 + 30


def colourise_ms(field_size: int = 256, screen: tuple[int, int] = (1920, 1080)) -> float:
    """Milliseconds to colourise and scale a field² into a 1920×1080 surface (SDL dummy driver)."""
    import pygame

    from visualizer.render.colour import build_lut
    from visualizer.render.display import Display

    display = Display(size=screen)
    display.set_palette(build_lut("lab"))
    theta = Field(FieldConfig(height=field_size, width=field_size)).theta
    ms = median_seconds(lambda: display.draw_field(theta), repeats=30, warmup=2) * 1e3
    pygame.quit()
    return ms


def frame_times_ms(preset: str, size: int, *, frames: int, window: tuple[int, int] = (1920, 1080),
                   warmup: int = 120) -> np.ndarray:
    """Whole-frame times (ms) of the real app, headless, at ``window``: the demo track analysed in
    lockstep, the session's routes, injection, annealing and measures, colourise, HUD, present.
    Measured after the one-time eigenmodes are ready (cached on disk) and ``warmup`` frames."""
    from visualizer.app import App, AppOptions

    app = App(AppOptions(preset=preset, size=(size, size), headless=True, window=window))
    try:
        app.frame()
        while app.session.eigenmodes_busy:
            time.sleep(0.05)
        for _ in range(warmup):
            app.frame()
        times = []
        for _ in range(frames):
            t0 = time.perf_counter()
            app.frame()
            times.append(time.perf_counter() - t0)
    finally:
        app.close()
    return np.array(times) * 1e3


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


def startup_seconds() -> float:
    """Wall time of ``visualizer --headless --frames 1`` with a warm numba cache (the second run)."""
    command = [sys.executable, "-m", "visualizer", "--headless", "--frames", "1", "--no-audio", "--size", "256"]
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    return min(times[1:])


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def memory_soak(minutes: float = 10.0, size: int = 64) -> tuple[float, float, float, float]:
    """In a fresh process: RSS (MiB) after 1 minute and after ``minutes`` of accelerated app time
    (headless, lockstep demo track, small grid and window so it runs many times faster than real
    time), the peak RSS, and the wall time it took (s)."""
    code = f"from visualizer.tools.bench import soak; print(*soak({minutes}, {size}))"
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    one, end, peak = (float(v) for v in out.split()[-3:])
    return one, end, peak, time.perf_counter() - t0


def soak(minutes: float, size: int) -> tuple[float, float, float]:
    from visualizer.app import FPS, App, AppOptions

    app = App(AppOptions(preset="nn-dmt", size=(size, size), headless=True, window=(320, 240)))
    try:
        at_one = 0.0
        for frame in range(int(minutes * 60 * FPS)):
            app.frame()
            if frame == 60 * FPS:
                at_one = rss_mib()
        at_end = rss_mib()
    finally:
        app.close()
    return at_one, at_end, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentiles(ms: np.ndarray) -> str:
    return f"p50 {np.percentile(ms, 50):6.2f} ms   p99 {np.percentile(ms, 99):6.2f} ms   max {ms.max():6.2f} ms"


def table(rows: list[tuple[str, str]]) -> str:
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m visualizer.tools.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--skip-soak", action="store_true", help="skip the 10-minute accelerated memory run")
    args = parser.parse_args(argv)
    step_rate(64, steps=1)  # compile, and start the threading layer so it can be named
    rows: list[tuple[str, str]] = [
        ("machine", f"{platform.machine()}, {os.cpu_count()} cores, numba {numba.__version__}, "
                    f"{numba.get_num_threads()} threads ({numba.threading_layer()})"),
    ]
    peak = fma_peak_gflops()
    rows.append(("float32 matmul peak (all cores)", f"{peak:8.1f} GFLOP/s"))
    flops = flops_per_cell()
    rows.append(("kernel work per cell and step", f"{flops} flop (diamond, 2 small-world links)"))
    for size in (256, 512, 1024):
        numpy_rate = reference_rate(size, repeats=3 if size < 1024 else 1)
        rate = step_rate(size)
        single = step_rate(size, threads=1)
        rows += [
            (f"step {size}² all threads", f"{rate / 1e6:8.1f} M cell-steps/s  = {rate * flops / 1e9:5.1f} GFLOP/s, "
                                          f"{100 * rate * flops / 1e9 / peak:4.1f}% of peak"),
            (f"step {size}² 1 thread", f"{single / 1e6:8.1f} M cell-steps/s  (scaling ×{rate / single:.2f} "
                                       f"on {numba.get_num_threads()} threads)"),
            (f"step {size}² numpy float64", f"{numpy_rate / 1e6:8.2f} M cell-steps/s  (kernel is ×{rate / numpy_rate:.0f})"),
        ]
    rows.append(("colourise+scale 256² → 1920×1080", f"{colourise_ms():8.2f} ms/frame"))
    for size, frames in ((256, 600), (512, 300)):
        rows.append((f"end-to-end nn-dmt {size}² at 1920×1080", percentiles(frame_times_ms("nn-dmt", size, frames=frames))))
    lightness = frame_times_ms("mosaic", 128, frames=600)
    rows.append(("mosaic (lightness route on the beat) 128²", percentiles(lightness)
                 + f"   max/median {lightness.max() / np.median(lightness):.2f}"))
    rows.append(("audio analysis CPU", f"{100 * analysis_cpu_share():8.2f} % of one core in real time"))
    rows.append(("start-up to first frame, warm cache", f"{startup_seconds():8.2f} s (whole process, --frames 1)"))
    if not args.skip_soak:
        one, ten, peak_rss, wall = memory_soak()
        rows.append(("memory, 10-minute accelerated run (64²)", f"RSS {one:.0f} MiB at 1 min, {ten:.0f} MiB at 10 min "
                                                               f"(growth {ten - one:+.1f} MiB); peak {peak_rss:.0f} MiB; "
                                                               f"ran in {wall:.0f} s"))
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
