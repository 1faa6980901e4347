"""Benchmark: ``python -m visualizer.tools.bench`` prints one table of figures measured in one run.

Figures are medians (and p99s) over repeats, and compared as ratios to references measured in
the same run (a plain NumPy float64 step; a float32 matmul for the machine's FMA peak), because
the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import numpy as np  # noqa: E402

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m visualizer.tools.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--skip-soak", action="store_true", help="skip the 10-minute accelerated memory run")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args(argv)
    from visualizer.tools import bench_kernel, bench_lattice, bench_render

    kernel = bench_kernel.figures()
    render = bench_render.rows(frames=30)
    frames = {str(size): frame_times_ms("nn-dmt", size, frames=n) for size, n in ((256, 600), (512, 300), (1024, 120))}
    presets_max = {name: float(frame_times_ms(name, 256, frames=600).max())
                   for name in ("5meo", "nn-dmt", "mosaic", "spiral-garden")}
    result = {
        **{k: kernel[k] for k in ("machine", "fma_peak_gflops", "step_mcells_per_s", "step_peak_fraction",
                                  "single_thread_mcells_per_s", "under_load_fraction", "kernel_over_numpy")},
        "numpy_mcells_per_s": kernel["numpy_mcells_per_s"],
        "frame_ms": {size: {"p50": float(np.percentile(ms, 50)), "p99": float(np.percentile(ms, 99)),
                            "max": float(ms.max())} for size, ms in frames.items()},
        "preset_frame_max_ms": presets_max,
        "output_4k_ms": render.get("output_4k_ms"),
        "lut_rebuild_ms": render.get("lut_rebuild_ms"),
        "analysis_cpu_share": analysis_cpu_share(),
        "startup_s": startup_seconds(),
        "lattice": bench_lattice.rows(),
    }
    if not args.skip_soak:
        one, ten, peak_rss, wall = memory_soak()
        result["soak_rss_mib"] = {"at_1_min": one, "at_10_min": ten, "peak": peak_rss, "wall_s": wall}
    if args.json:
        print(json.dumps(result, default=float))
        return 0
    rows = [("machine", str(result["machine"])), ("float32 matmul peak", f"{result['fma_peak_gflops']:.1f} GFLOP/s")]
    for size, rate in result["step_mcells_per_s"].items():
        rows.append((f"step {size}²", f"{rate:8.1f} M cell-steps/s"))
    rows.append(("step 512² numpy float64", f"{result['numpy_mcells_per_s']['512']} M cell-steps/s"))
    rows.append(("kernel under load (share of idle rate)", f"{result['under_load_fraction']}"))
    for size, ms in frames.items():
        rows.append((f"end-to-end nn-dmt {size}² at 1920×1080", percentiles(ms)))
    for name, worst in presets_max.items():
        rows.append((f"{name} 256², worst frame of 600", f"{worst:6.2f} ms"))
    rows += [("3840×2160 output, 512² field", f"{result['output_4k_ms']} ms"),
             ("palette rebuild", f"{result['lut_rebuild_ms']} ms"),
             ("audio analysis CPU", f"{100 * result['analysis_cpu_share']:.2f} % of one core"),
             ("start-up to first frame, warm", f"{result['startup_s']:.2f} s")]
    for row in result["lattice"]:
        rows.append((f"lattice {row.get('n')}³ {row.get('metric')}", f"{row}"))
    if "soak_rss_mib" in result:
        rows.append(("memory soak", str(result["soak_rss_mib"])))
    print(bench_kernel.aligned(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
