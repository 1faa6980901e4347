"""Kernel benchmark: ``python -m devtools.bench_kernel [--json] [--settings] [--parts]``.

Measures ``Field.step`` (diamond, wrap, 2 small-world links, float32) at 256², 512² and 1024²,
with every thread and with one, against the plain NumPy float64 step and the machine's float32
matmul peak, and how much of its idle rate the kernel keeps beside one busy process. The machine
is shared: every figure is a median over repeats, ratios are taken between figures measured in
the same run, and the idle and loaded rates are measured alternately.

``figures()`` returns the same numbers as a dict (``python -m devtools.bench`` merges it).
``--settings`` also compares OpenMP wait policies and scheduling in child processes; ``--parts``
prints where one thread's CPU time of a step goes (``part_ms``) instead of the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numba

from visualizer.engine.sim import Field, FieldConfig, kernels
from visualizer.engine.sim.float64_reference import reference_step
from visualizer.engine.sim.neighbourhood import lattice_taps
from visualizer.system.threads import POLICY

K_5MEO = (20.0, 20.0, 10.0, 0.0)
SIZES = (256, 512, 1024)
CELL_STEPS_PER_CALL = 2**20  # each timed call runs enough steps to cover about a million cells
BUSY_LOOP = "while 1: pass"
# child-process settings compared by --settings: name → (environment, numba parallel chunk size)
THREAD_SETTINGS = {
    "OpenMP default (spin, static)": ({}, 0),
    "OMP_WAIT_POLICY=passive, static": ({"OMP_WAIT_POLICY": "passive"}, 0),
    "OMP_WAIT_POLICY=passive, 8-row chunks": ({"OMP_WAIT_POLICY": "passive"}, 8),
    "1 thread": ({"NUMBA_NUM_THREADS": "1"}, 0),
}


def median_seconds(fn: Callable[[], object], *, repeats: int, warmup: int = 1,
                   clock: Callable[[], float] = time.perf_counter) -> float:
    """Median time of ``fn()`` over ``repeats`` calls (s) by ``clock``: wall time by default;
    ``time.thread_time`` gives the calling thread's CPU time, blind to waits for a busy core."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    return statistics.median(times)


def fma_peak_gflops(n: int = 2048) -> float:
    """float32 matmul throughput (GFLOP/s) with every core: the machine's practical FMA peak."""
    code = ("import numpy as np, time, statistics\n"
            f"a = np.random.default_rng(0).standard_normal(({n}, {n})).astype(np.float32); b = a.T.copy(); a @ b\n"
            "ts = []\nfor _ in range(5):\n    t = time.perf_counter(); a @ b; ts.append(time.perf_counter() - t)\n"
            f"print(2 * {n}**3 / statistics.median(ts) / 1e9)")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}  # BLAS with all cores
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                                check=True).stdout)


def flops_per_cell(links: int = 2) -> int:
    """Floating-point operations per cell and step of the equation evaluated tap by tap.

    The lattice sum over the 40 diamond taps for sin and cos (an add and a multiply each, 160),
    the small-world gather (2 adds per link each for sin and cos, and 2 FMAs: 4·links + 4), the
    update (sin/cos identity 3, ×1/N, 2 adds, ×Δt: 7) and sin θ, cos θ (polynomials: ~30). The
    kernel does less (rows folded by symmetry, one multiply per shell): this is the yardstick the
    peak fraction has used since the first round, kept so the fractions stay comparable.
    """
    return 4 * len(lattice_taps("diamond")) + 4 * links + 4 + 7 + 30


def step_rate(size: int, *, links: int = 2, threads: int | None = None, repeats: int = 9,
              clock: Callable[[], float] = time.perf_counter) -> float:
    """Cell-steps per second of ``Field.step`` (diamond, wrap, float32) at size², median, timed
    by ``clock`` (with ``threads=1`` and ``time.thread_time``: CPU time on a shared machine).
    ``threads`` caps numba's threads (default: all, of which the step uses as many as its work
    pays for, ``visualizer.system.threads``)."""
    field = Field(FieldConfig(height=size, width=size, small_world_links=links))
    steps = max(1, CELL_STEPS_PER_CALL // (size * size))
    all_threads = numba.get_num_threads()
    numba.set_num_threads(threads or all_threads)
    try:
        def run() -> None:
            for _ in range(steps):
                field.step(dt=0.01, k=K_5MEO, k_sw=-10.0)
        return size * size * steps / median_seconds(run, repeats=repeats, clock=clock)
    finally:
        numba.set_num_threads(all_threads)


def part_ms(size: int, *, repeats: int = 41) -> dict[str, float]:
    """Where a step's time goes at size² (diamond, wrap, 2 links): median ms of one thread's CPU
    time for the whole step, the same step of a field without links, and the sin/cos pass alone;
    the links are the difference of the first two, the stencil and update the rest."""
    fields = {links: Field(FieldConfig(height=size, width=size, small_world_links=links)) for links in (2, 0)}
    all_threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        def step(links: int) -> Callable[[], object]:
            return lambda: fields[links].step(dt=0.01, k=K_5MEO, k_sw=-10.0 if links else 0.0)

        field = fields[2]
        fill = lambda: kernels.fill_sin_cos(field._theta, field._trig_pad, field._packed_trig, True)  # noqa: E731
        times = {name: 1e3 * median_seconds(fn, repeats=repeats, clock=time.thread_time)
                 for name, fn in (("step", step(2)), ("step without links", step(0)), ("sin/cos pass", fill))}
    finally:
        numba.set_num_threads(all_threads)
    times["links"] = times["step"] - times["step without links"]
    times["stencil and update"] = times["step without links"] - times["sin/cos pass"]
    return times


def parallel_over_single(size: int, *, rounds: int = 5) -> float:
    """Rate of ``Field.step`` at size² with every thread allowed (the thread policy then picks
    the count from the work: ``visualizer.system.threads``) over its rate on one thread, median
    of ``rounds`` pairs measured back to back, so the machine's load falls on both alike."""
    return statistics.median(step_rate(size, repeats=5) / step_rate(size, threads=1, repeats=5) for _ in range(rounds))


def reference_rate(size: int, *, repeats: int) -> float:
    """Cell-steps per second of the plain NumPy float64 reference at size², median."""
    field = Field(FieldConfig(height=size, width=size, small_world_links=2))
    theta, omega, sw = field.theta.copy(), field.omega.copy(), field.small_world.copy()
    seconds = median_seconds(lambda: reference_step(theta, omega, sw, dt=0.01, k=K_5MEO, k_sw=-10.0,
                                                    neighborhood="diamond", boundary="wrap"),
                             repeats=repeats, warmup=0)
    return size * size / seconds


@contextmanager
def busy_process(count: int = 1) -> Iterator[None]:
    """``count`` extra processes, each spinning on a core, for the duration of the block."""
    busy = [subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) for _ in range(count)]
    try:
        time.sleep(0.2)  # let the scheduler place them
        yield
    finally:
        for process in busy:
            process.kill()
            process.wait()


def under_load_fraction(size: int = 512, *, rounds: int = 3, busy: int = 1) -> tuple[float, float, float]:
    """Kernel rate beside ``busy`` busy processes over its rate without them, at size².

    Idle and loaded measurements alternate ``rounds`` times so that other users' load falls on
    both alike. Returns (median idle rate, median loaded rate, their ratio), rates in cell-steps/s.
    """
    idle, loaded = [], []
    for _ in range(rounds):
        idle.append(step_rate(size, repeats=5))
        with busy_process(busy):
            loaded.append(step_rate(size, repeats=5))
    idle_rate, loaded_rate = statistics.median(idle), statistics.median(loaded)
    return idle_rate, loaded_rate, loaded_rate / idle_rate


def figures() -> dict:
    """Every kernel figure of the table, as one dict (rates in M cell-steps/s)."""
    step_rate(64)  # compile and start the threading layer
    peak = fma_peak_gflops()
    flops = flops_per_cell()
    numpy_rate = reference_rate(512, repeats=3)
    rates = {str(size): step_rate(size) for size in SIZES}
    single = {str(size): step_rate(size, threads=1) for size in SIZES}
    single_cpu = {str(size): step_rate(size, threads=1, clock=time.thread_time) for size in SIZES}
    paired = {str(size): parallel_over_single(size) for size in SIZES}
    numpy_rate = statistics.median([numpy_rate, reference_rate(512, repeats=3)])  # bracket the kernel runs
    idle, loaded, fraction = under_load_fraction()
    idle_2, loaded_2, fraction_2 = under_load_fraction(busy=2)
    return {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, numba {numba.__version__}, "
                   f"{numba.get_num_threads()} threads ({numba.threading_layer()}), "
                   f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}",
        "fma_peak_gflops": peak,
        "flops_per_cell": flops,
        "step_mcells_per_s": {s: r / 1e6 for s, r in rates.items()},
        "step_peak_fraction": {s: r * flops / 1e9 / peak for s, r in rates.items()},
        "single_thread_mcells_per_s": {s: r / 1e6 for s, r in single.items()},
        "single_thread_cpu_mcells_per_s": {s: r / 1e6 for s, r in single_cpu.items()},
        "parallel_over_single": paired,
        "thread_policy": POLICY,
        "numpy_mcells_per_s": {"512": numpy_rate / 1e6},
        "kernel_over_numpy": {"512": rates["512"] / numpy_rate},
        "under_load_mcells_per_s": {"idle": idle / 1e6, "one busy process": loaded / 1e6},
        "under_load_fraction": fraction,
        "under_two_busy_loops": {"idle": idle_2 / 1e6, "loaded": loaded_2 / 1e6, "fraction": fraction_2},
    }


def settings_figures(size: int = 512) -> dict[str, dict[str, float]]:
    """Idle and loaded rates (M cell-steps/s) at size² for each of ``THREAD_SETTINGS``, each in a
    child process started with that environment (OpenMP reads it once, at start-up)."""
    results = {}
    for name, (env, chunk) in THREAD_SETTINGS.items():
        code = ("import json, numba; from devtools.bench_kernel import under_load_fraction, step_rate\n"
                f"numba.set_parallel_chunksize({chunk}); step_rate(64)\n"
                f"i, l, f = under_load_fraction({size}); print(json.dumps([i / 1e6, l / 1e6, f]))")
        child_env = {**{k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY",)}, **env}
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=child_env,
                             check=True).stdout
        idle, loaded, fraction = json.loads(out.splitlines()[-1])
        results[name] = {"idle": idle, "one busy process": loaded, "fraction": fraction}
    return results


def table(fig: dict) -> str:
    rows = [("machine", fig["machine"]), ("thread policy", fig["thread_policy"]),
            ("float32 matmul peak (all cores)", f"{fig['fma_peak_gflops']:8.1f} GFLOP/s"),
            ("yardstick work per cell and step", f"{fig['flops_per_cell']} flop (diamond, 2 links, tap by tap)")]
    for size in map(str, SIZES):
        rate = fig["step_mcells_per_s"][size]
        single = fig["single_thread_mcells_per_s"][size]
        peak_share = 100 * fig["step_peak_fraction"][size]
        rows.append((f"step {size}² all threads", f"{rate:8.1f} M cell-steps/s  {peak_share:5.1f}% of peak"))
        rows.append((f"step {size}² 1 thread", f"{single:8.1f} M cell-steps/s  (×{rate / single:.2f} on all threads; "
                                               f"×{fig['parallel_over_single'][size]:.2f} in back-to-back pairs)"))
        single_cpu = fig["single_thread_cpu_mcells_per_s"][size]
        rows.append((f"step {size}² 1 thread, CPU time", f"{single_cpu:8.1f} M cell-steps per CPU second"))
    numpy_rate, speed_up = fig["numpy_mcells_per_s"]["512"], fig["kernel_over_numpy"]["512"]
    rows.append(("step 512² numpy float64", f"{numpy_rate:8.2f} M cell-steps/s  (kernel is ×{speed_up:.0f})"))
    load = fig["under_load_mcells_per_s"]
    loaded, idle, share = load["one busy process"], load["idle"], 100 * fig["under_load_fraction"]
    rows.append(("step 512² beside one busy process",
                 f"{loaded:8.1f} M cell-steps/s  = {share:.0f}% of {idle:.1f} without it"))
    two = fig["under_two_busy_loops"]
    rows.append(("step 512² beside two busy processes",
                 f"{two['loaded']:8.1f} M cell-steps/s  = {100 * two['fraction']:.0f}% of {two['idle']:.1f} "
                 "without them"))
    for name, s in fig.get("thread_settings", {}).items():
        busy, share = s["one busy process"], 100 * s["fraction"]
        rows.append((f"  {name}",
                     f"idle {s['idle']:7.1f}, beside a busy process {busy:7.1f} M cell-steps/s ({share:.0f}%)"))
    return aligned(rows)


def aligned(rows: list[tuple[str, str]]) -> str:
    """(name, value) rows as aligned text."""
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.bench_kernel", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--settings", action="store_true", help="also compare OpenMP thread settings (child processes)")
    parser.add_argument("--parts", action="store_true", help="only where one thread's time of a step goes")
    args = parser.parse_args(argv)
    if args.parts:
        step_rate(64)  # compile
        for size in SIZES:
            print(aligned([(f"{size}² {name}", f"{ms:7.3f} ms") for name, ms in part_ms(size).items()]))
        return 0
    fig = figures()
    if args.settings:
        fig["thread_settings"] = settings_figures()
    print(json.dumps(fig, indent=1) if args.json else table(fig))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
