"""Benchmark of the 3D lattice: ``python -m devtools.bench_lattice [--json]``.

For 7³, 16³ and 32³ and both metrics: oscillator-steps per second of ``Lattice3D.step`` (the view
still, and turning every step so the projected kernel is rebuilt each time) beside the demo's own
algorithm, a plain NumPy float64 O(N²) step of the same formula measured in the same run. The
brute force times whole rows of the all-to-all sum; at 16³ and 32³ it times a block of rows and
scales to N rows (said in the ``brute_rows`` column). Then the equivalence figures: the engine
against the brute force, max phase error (rad) after a number of steps. Last, the demo convention
(``Lattice3D(convention="demo")``: the demo's in-place, depth-ordered O(N²) update) at 7³ and 12³.
Last, the window's frame rate with a 32³ lattice turning (`window_turning`: the real app, headless).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

from visualizer.engine.sim.lattice3d import (
    CORNER_ROTATION,
    Lattice3D,
    ring_kernel,
    rotation_matrix,
)

SIDES = (7, 16, 32)
COUPLINGS = (-0.1, 0.0, 0.0, 0.0)  # the standing-waves preset
ROTATION = (0.4, -0.7)
DT = 0.02
BRUTE_ROWS = {7: 343, 16: 1024, 32: 256}


def median_seconds(fn: Callable[[], object], *, repeats: int, warmup: int = 1) -> tuple[float, float, float]:
    """(median, worst) wall time and median CPU time (all threads) of ``fn()`` over ``repeats`` calls (s).

    On a shared machine the CPU time is the steadier figure: wall time includes waiting for a core.
    """
    for _ in range(warmup):
        fn()
    times, cpu = [], []
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(times), max(times), statistics.median(cpu)


def brute_force_rows(positions: np.ndarray, theta: np.ndarray, rows: slice, *, couplings, alpha: float,
                     rotation: tuple[float, float]) -> np.ndarray:
    """Σ_{j≠i} I(d_ij)·sin(θⱼ − θᵢ) for the nodes in ``rows``, the demo's way: every pair's distance,
    kernel and sine computed afresh, float64 (rows,)."""
    d_max = np.sqrt(3.0) * (round(len(positions) ** (1 / 3)) - 1)
    delta = positions[None, :, :] - positions[rows, None, :]
    d3 = np.sqrt((delta**2).sum(axis=2))
    flat = delta @ rotation_matrix(rotation)[:2].T
    d = (1 - alpha) * d3 + alpha * np.sqrt((flat**2).sum(axis=2))
    kernel = ring_kernel(d, couplings, d_max)
    kernel[d3 == 0] = 0.0
    return (kernel * np.sin(theta[None, :] - theta[rows, None])).sum(axis=1)


def brute_force_step(positions, theta, omega, dt, *, block: int = 512, **kw) -> np.ndarray:
    """One Jacobi step of the brute force, rows in blocks of ``block`` to bound memory."""
    pull = np.concatenate([brute_force_rows(positions, theta, slice(i, i + block), **kw)
                           for i in range(0, len(theta), block)])
    return np.mod(theta + dt * (omega + pull), 2 * np.pi)


def rows() -> list[dict]:
    """One row per (side, metric): engine and brute-force oscillator-steps per second."""
    out = []
    for n in SIDES:
        nodes = n**3
        lattice = Lattice3D(n)
        repeats = 15 if n < 32 else 7
        theta = lattice.theta.astype(np.float64)
        count = BRUTE_ROWS[n]
        for metric, alpha in (("lattice", 0.0), ("projected", 1.0)):
            still, still_worst, still_cpu = median_seconds(
                lambda: lattice.step(DT, COUPLINGS, metric=metric, rotation=ROTATION), repeats=repeats)
            angle = iter(np.linspace(0, 1, 10_000))
            turning, turning_worst, _ = median_seconds(
                lambda: lattice.step(DT, COUPLINGS, metric=metric, rotation=(0.4, next(angle))), repeats=repeats)
            brute, _, brute_cpu = median_seconds(lambda: brute_force_rows(lattice.positions, theta, slice(0, count),
                                                               couplings=COUPLINGS, alpha=alpha, rotation=ROTATION),
                                      repeats=3 if n < 32 else 2, warmup=0)
            brute_rate = count / brute  # node-steps per second, wall
            brute_cpu_rate = count / brute_cpu
            out.append({
                "n": n, "nodes": nodes, "metric": metric,
                "engine_steps_per_s": 1 / still, "engine_node_steps_per_s": nodes / still,
                "engine_worst_ms": still_worst * 1e3, "engine_cpu_ms": still_cpu * 1e3,
                "turning_steps_per_s": 1 / turning, "turning_worst_ms": turning_worst * 1e3,
                "brute_node_steps_per_s": brute_rate, "brute_steps_per_s": brute_rate / nodes,
                "brute_rows": f"{count} of {nodes}" if count < nodes else "all",
                "brute_cpu_ms_per_step": nodes / brute_cpu_rate * 1e3,
                "speedup": nodes / still / brute_rate, "cpu_speedup": nodes / still_cpu / brute_cpu_rate,
            })
    return out


def _phase_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(np.angle(np.exp(1j * (np.asarray(a, np.float64) - b)))).max())


def equivalence() -> list[dict]:
    """Max phase error (rad) of the engine against the brute force after ``steps`` steps, ω ~ N(1, 0.3)."""
    cases = [(7, 100, "lattice", 0.0, ROTATION), (7, 100, "projected", 1.0, ROTATION),
             (7, 100, "blend", 0.5, ROTATION), (7, 100, "projected", 1.0, CORNER_ROTATION),
             (16, 10, "lattice", 0.0, ROTATION), (16, 10, "projected", 1.0, ROTATION)]
    out = []
    for n, steps, label, alpha, rotation in cases:
        lattice = Lattice3D(n, seed=3)
        lattice.omega[:] = np.random.default_rng(1).normal(1.0, 0.3, n**3)
        theta, omega = lattice.theta.astype(np.float64), lattice.omega.astype(np.float64)
        for _ in range(steps):
            lattice.step(DT, COUPLINGS, alpha=alpha, rotation=rotation)
            theta = brute_force_step(lattice.positions, theta, omega, DT, couplings=COUPLINGS, alpha=alpha,
                                     rotation=rotation)
        out.append({"n": n, "metric": label, "alpha": alpha, "rotation": tuple(round(r, 4) for r in rotation),
                    "steps": steps, "max_error_rad": _phase_error(lattice.theta, theta)})
    return out


def demo_rows() -> list[dict]:
    """Milliseconds per step of the demo convention (in-place, depth-ordered, O(N²)), both metrics."""
    out = []
    for n in (7, 12):
        lattice = Lattice3D(n, convention="demo")
        for metric in ("lattice", "projected"):
            wall, worst, cpu = median_seconds(lambda: lattice.step(0.05, COUPLINGS, metric=metric, rotation=ROTATION),
                                              repeats=15)
            out.append({"n": n, "metric": metric, "ms": wall * 1e3, "worst_ms": worst * 1e3, "cpu_ms": cpu * 1e3})
    return out


def window_turning(n: int = 32, *, frames: int = 120, spin_deg_s: float = 30.0,
                   window: tuple[int, int] = (1920, 1080)) -> dict:
    """Frames per second of the real app (headless, 256² field, ``window``) drawing the standing-waves
    preset with an n³ lattice turning at ``spin_deg_s`` (free projection, projected metric: its kernel
    changes every frame), the lattice's dots over the field, the metric-sharing measures included; the
    frames' wall times and their median CPU time (all threads, the steadier figure on a shared machine)."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    from visualizer.engine.presets import resolve
    from visualizer.window.app import App, AppOptions

    text = resolve("standing-waves").read_text()
    text = re.sub(r"(?m)^n = \d+$", f"n = {n}", text)
    text = re.sub(r'(?m)^projection = "corner"$', f'projection = "free"\nauto_rotate_deg_s = {spin_deg_s}', text)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"turning-{n}.toml"
        path.write_text(text)
        app = App(AppOptions(preset=str(path), size=(256, 256), headless=True, window=window))
        try:
            for _ in range(10):
                app.frame()
            times, cpu = [], []
            for _ in range(frames):
                c0, t0 = time.process_time(), time.perf_counter()
                app.frame()
                times.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
        finally:
            app.close()
    ms = np.array(times) * 1e3
    return {"n": n, "spin_deg_s": spin_deg_s, "frames_per_s": round(1e3 / float(np.median(ms)), 1),
            "frame_ms": {"p50": round(float(np.median(ms)), 2), "p99": round(float(np.percentile(ms, 99)), 2),
                         "max": round(float(ms.max()), 2)},
            "cpu_ms_p50": round(float(np.median(cpu)) * 1e3, 2), "load_average_1min": round(os.getloadavg()[0], 2)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    args = parser.parse_args(argv)
    speed, equal, demo, window = rows(), equivalence(), demo_rows(), window_turning()
    if args.json:
        print(json.dumps({"rows": speed, "equivalence": equal, "demo": demo, "window_turning": window}, indent=2))
        return
    print(f"{'lattice':>8} {'metric':>9} {'engine steps/s':>15} {'node-steps/s':>13} {'worst ms':>9} {'cpu ms':>7} "
          f"{'turning steps/s':>16} {'brute steps/s':>14} {'brute cpu ms':>13} {'brute rows':>14} "
          f"{'speed-up':>9} {'cpu':>8}")
    for r in speed:
        print(f"{r['n']:>6}³ {r['metric']:>9} {r['engine_steps_per_s']:>15.1f} {r['engine_node_steps_per_s']:>13.3g} "
              f"{r['engine_worst_ms']:>9.2f} {r['engine_cpu_ms']:>7.2f} {r['turning_steps_per_s']:>16.1f} "
              f"{r['brute_steps_per_s']:>14.3g} {r['brute_cpu_ms_per_step']:>13.4g} {r['brute_rows']:>14} "
              f"{r['speedup']:>8.0f}× {r['cpu_speedup']:>7.0f}×")
    print("\nequivalence with the float64 brute force (dt = 0.02, C = (-0.1, 0, 0, 0), ω ~ N(1, 0.3))")
    for e in equal:
        print(f"  {e['n']}³ {e['metric']:>9} α={e['alpha']:.1f} rotation={e['rotation']}: "
              f"max |Δθ| after {e['steps']} steps = {e['max_error_rad']:.2e} rad")
    print("\nthe demo convention (in place, depth-ordered, O(N²)), ms a step: median, worst, CPU")
    for d in demo:
        print(f"  {d['n']}³ {d['metric']:>9}: {d['ms']:.2f}  {d['worst_ms']:.2f}  {d['cpu_ms']:.2f}")
    f = window["frame_ms"]
    print(f"\nthe window (256² field, 1920×1080) with a {window['n']}³ lattice turning at {window['spin_deg_s']}°/s: "
          f"{window['frames_per_s']} fps (frame p50 {f['p50']}, p99 {f['p99']}, max {f['max']} ms; CPU p50 "
          f"{window['cpu_ms_p50']} ms, all threads; load {window['load_average_1min']})")


if __name__ == "__main__":
    main()
