"""Benchmark: ``python -m devtools.bench`` prints one table of figures measured in one run.

Figures are medians (and p99s) over repeats, and compared as ratios to references measured in
the same run (a plain NumPy float64 step; a float32 matmul for the machine's FMA peak), because
the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import numba  # noqa: E402
import numpy as np  # noqa: E402

FRAME_BUDGET_MS = 1000 / 60


def frame_times_ms(preset: str, size: int, *, frames: int, window: tuple[int, int] = (1920, 1080),
                   warmup: int = 120, clock=time.perf_counter, without_route_to: str | None = None,
                   paced: bool = False) -> np.ndarray:
    """Whole-frame times (ms) of the real app, headless, at ``window``: the demo track analysed in
    lockstep, the session's routes, injection, annealing and measures, colourise, HUD, present.
    Measured after the one-time eigenmodes are ready (cached on disk) and ``warmup`` frames, with
    the start-up heap frozen as the window's loop does. ``clock``: wall time by default;
    ``time.thread_time`` gives the frame's own work when numba runs on this thread alone (see
    ``frame_work_ms``). ``without_route_to``: drop the preset's music routes to this target (e.g.
    "lightness") to compare the frames with and without them. ``paced``: each frame starts on a
    60 fps schedule, sleeping in between as the live window does, instead of back to back."""
    import dataclasses

    from visualizer.system.heap import frozen_startup_heap
    from visualizer.window.app import App, AppOptions

    app = App(AppOptions(preset=preset, size=(size, size), headless=True, window=window))
    try:
        if without_route_to is not None:
            kept = tuple(r for r in app.session.preset.routes if r.target != without_route_to)
            app.session.use_preset(dataclasses.replace(app.session.preset, routes=kept))
        app.frame()
        while app.session.eigenmodes_busy:
            time.sleep(0.05)
        for _ in range(warmup):
            app.frame()
        times = []
        with frozen_startup_heap():
            due = time.perf_counter()
            for _ in range(frames):
                if paced:  # like pygame's Clock.tick: a late frame moves the schedule, no catching up
                    time.sleep(max(due - time.perf_counter(), 0.0))
                    due = max(due, time.perf_counter()) + 1 / 60
                t0 = clock()
                app.frame()
                times.append(clock() - t0)
    finally:
        app.close()
    return np.array(times) * 1e3


def frame_work_ms(preset: str, size: int, *, frames: int = 600) -> np.ndarray:
    """Each frame's own work (ms of CPU time on one thread, ``NUMBA_NUM_THREADS=1``, in a child
    process): what a frame costs whatever else the machine is doing, so periodic spikes (a table
    rebuilt, a measure taken on the frame) show here even when wall times are ruled by the load."""
    code = (f"import time; from devtools.bench import frame_times_ms; "
            f"print(*frame_times_ms({preset!r}, {size}, frames={frames}, clock=time.thread_time))")
    env = dict(os.environ, NUMBA_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    return np.array(out.split(), float)


@numba.njit(parallel=True, cache=True)
def _parallel_sines(x, y, rounds):
    """``rounds`` parallel loops of y = sin(x): a fixed job with the frame's fork/joins."""
    for _ in range(rounds):
        for i in numba.prange(x.size):
            y[i] = np.sin(x[i])


@numba.njit(parallel=True, cache=True)
def _empty_parallel_loop(a):
    """One parallel loop of two trivial iterations: nothing but waking the threads and joining."""
    for i in numba.prange(a.size):
        a[i] += 1.0


def parallel_wake_ms(*, gap_ms: float = 2.0, repeats: int = 2000) -> np.ndarray:
    """Wall times (ms) of an empty parallel loop called after ``gap_ms`` of serial work on this
    thread, ``repeats`` times: what a frame pays per parallel kernel to wake numba's sleeping
    threads (OMP_WAIT_POLICY=passive), the reason for ``visualizer.system.threads``' policy."""
    a = np.zeros(2)
    _empty_parallel_loop(a)
    times = []
    for _ in range(repeats):
        busy_until = time.perf_counter() + gap_ms / 1e3
        while time.perf_counter() < busy_until:
            pass
        t0 = time.perf_counter()
        _empty_parallel_loop(a)
        times.append(time.perf_counter() - t0)
    return np.array(times) * 1e3


def _serial_sines(x, y, rounds):
    """``rounds`` times y = sin(x) in NumPy, on this thread."""
    for _ in range(rounds):
        np.sin(x, out=y)


def constant_work_ms(length_ms: float, *, repeats: int = 600, parallel: bool = False) -> np.ndarray:
    """Wall times (ms) of one fixed job calibrated to ``length_ms``, run ``repeats`` times: the
    machine's own jitter, the floor under any worst/median frame ratio measured beside it. One
    thread (NumPy), or with ``parallel`` numba's threads in many short parallel loops, as a frame
    of 384² cells or more runs them (smaller fields simulate on one thread: ``visualizer.system.threads``)."""
    x = np.linspace(0.0, 1.0, 1 << 16)
    y = np.empty_like(x)
    job = functools.partial(_parallel_sines if parallel else _serial_sines, x, y)
    job(1)  # the parallel kernel loads on its first call
    t0 = time.perf_counter()
    job(20)
    rounds = max(1, round(20 * length_ms / ((time.perf_counter() - t0) * 1e3)))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        job(rounds)
        times.append(time.perf_counter() - t0)
    return np.array(times) * 1e3


def session_work_ms(size: int, *, repeats: int = 41) -> dict[str, float]:
    """Median ms per frame of the Session's energy and eigenmode work beside the field step, on the
    nn-dmt preset at ``size``²: the sinks' pull, the injection forcing (its pattern spread over
    frames), the hot phase's turbulence, the energy measured inside the last substep (the step's
    extra time), and the background measures' share (the copy the frame pays)."""
    from devtools.bench_kernel import median_seconds
    from visualizer.engine.measuring import MeasureWorker
    from visualizer.engine.session import Session

    session = Session.from_preset("nn-dmt", size=(size, size), seed=0, deterministic=True)
    try:
        field, injector, k = session.field, session._injector_now(), session.live.k
        out = np.zeros(field.shape, np.float32)
        clock = iter(np.arange(10**6) / 60.0)
        worker = MeasureWorker(field.shape)
        costs = {
            "step": median_seconds(lambda: field.step(dt=0.0, k=k, k_sw=5.0), repeats=repeats),
            "step_measuring_energy": median_seconds(lambda: field.step(dt=0.0, k=k, k_sw=5.0, measure_energy=True),
                                                    repeats=repeats),
            "sink_pull": median_seconds(lambda: injector.sink_pull(field.theta, rate=12.0, out=out), repeats=repeats),
            "injection": median_seconds(lambda: injector.forcing(gain=1.0, time_s=next(clock)), repeats=repeats),
            "turbulence": median_seconds(lambda: session._turbulence.forcing(1.0, 1 / 60), repeats=repeats),
            "measures_copy": median_seconds(lambda: worker._theta.__setitem__(Ellipsis, field.theta), repeats=repeats),
        }
        worker.close()
    finally:
        session.close()
    ms = {name: 1e3 * seconds for name, seconds in costs.items()}
    ms["energy"] = max(ms.pop("step_measuring_energy") - ms["step"], 0.0)
    return ms


def analysis_cpu_share(seconds: float = 20.0) -> float:
    """CPU time of the streaming analyser per second of audio (share of one core), demo track."""
    from visualizer.engine.audio.analysis import AnalysisConfig, StreamingAnalyser
    from visualizer.engine.audio.decode import load_audio, mono
    from visualizer.engine.audio.demo import demo_paths

    samples, sr = load_audio(demo_paths()[0])
    audio = mono(samples)[: int(seconds * sr)]
    analyser = StreamingAnalyser(AnalysisConfig(sr=sr))
    t0 = time.process_time()
    for start in range(0, audio.size, 256):
        analyser.push(audio[start:start + 256])
    return (time.process_time() - t0) / (audio.size / sr)


STARTUP_CHILD = ("from visualizer.window.app import App, AppOptions\n"
                 "from visualizer.engine.audio.engine import AudioChoice\n"
                 "app = App(AppOptions(preset='nn-dmt', size=(256, 256), headless=True, audio=AudioChoice('none')))\n"
                 "app.frame()\nprint('first frame', flush=True)\napp.close()\n")


def seconds_to_first_frame(env: dict[str, str] | None = None) -> float:
    """Seconds from starting ``python`` to the first frame drawn (headless, nn-dmt 256², no audio)
    in a child with ``env``. The child prints a line once the first frame is drawn; quitting
    afterwards is not counted."""
    t0 = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", STARTUP_CHILD], stdout=subprocess.PIPE, text=True, env=env)
    line = child.stdout.readline()
    seconds = time.perf_counter() - t0
    child.wait()
    if line.strip() != "first frame":
        raise RuntimeError("the start-up run did not draw a frame")
    return seconds


def startup_seconds(runs: int = 4) -> float:
    """Seconds to the first frame with warm caches: the best of ``runs`` after a first run that fills them."""
    times = [seconds_to_first_frame() for _ in range(runs + 1)]
    return min(times[1:])


def first_start_seconds() -> dict[str, float]:
    """The first start after installing, numba's cache empty (NUMBA_CACHE_DIR in a new folder):
    seconds of the install step that compiles every kernel ahead (``visualizer compile``), then to
    the first frame of the first start after it."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="numba-cache-") as folder:
        env = dict(os.environ, NUMBA_CACHE_DIR=folder)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "visualizer", "compile"], env=env, check=True,
                       capture_output=True)
        install_s = time.perf_counter() - t0
        return {"install_step_s": install_s, "first_frame_s": seconds_to_first_frame(env)}


def shipped_presets() -> list[str]:
    """Every preset shipped with the program (file stems; the user's own are left out)."""
    from visualizer.engine.presets import preset_dirs

    return sorted(path.stem for path in preset_dirs()[-1].glob("*.toml"))


def soak_figures(minutes: float) -> dict:
    """``devtools.soak.figures`` in a fresh process (its RSS is the soak's alone): a
    real-time Session on live audio from a private PulseAudio server, with forced reconnects."""
    code = f"import json; from devtools.soak import figures; print(json.dumps(figures({minutes})))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return json.loads(out.splitlines()[-1])


def summary(ms: np.ndarray) -> dict[str, float]:
    """{"p50", "p99", "max"} of times ``ms`` (ms), for the JSON."""
    return {"p50": float(np.percentile(ms, 50)), "p99": float(np.percentile(ms, 99)), "max": float(ms.max())}


def percentiles(ms: np.ndarray) -> str:
    s = summary(ms)
    return f"p50 {s['p50']:6.2f} ms   p99 {s['p99']:6.2f} ms   max {s['max']:6.2f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--skip-soak", action="store_true", help="skip the real-time soak with live audio")
    parser.add_argument("--soak-minutes", type=float, default=10.0, metavar="N",
                        help="length of the soak (default 10; python -m devtools.soak runs it alone)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--preset-frames", type=int, default=3600, metavar="N",
                        help="frames per shipped preset for its worst frame (default 3600, a minute at 60 fps)")
    args = parser.parse_args(argv)
    from devtools import bench_kernel, bench_lattice, bench_render, soak

    load_at_start = os.getloadavg()
    kernel = bench_kernel.figures()
    render = bench_render.rows(frames=30)
    frames = {str(size): frame_times_ms("nn-dmt", size, frames=n)
              for size, n in ((256, 3600), (512, 1200), (1024, 300))}
    paced = frame_times_ms("nn-dmt", 256, frames=3600, paced=True)
    preset_frames = {name: frame_times_ms(name, 256, frames=args.preset_frames) for name in shipped_presets()}
    presets_max = {name: float(ms.max()) for name, ms in preset_frames.items()}
    presets_late = {name: int(np.count_nonzero(ms > FRAME_BUDGET_MS)) for name, ms in preset_frames.items()}
    mosaic = preset_frames["mosaic"]  # its route moves lightness on the beat (issue 9: no LUT stall)
    mosaic_unlit = frame_times_ms("mosaic", 256, frames=600, without_route_to="lightness")
    control = constant_work_ms(float(np.median(mosaic[:600])))
    parallel_control = constant_work_ms(float(np.median(mosaic[:600])), parallel=True)
    wake = parallel_wake_ms()
    work = {str(size): session_work_ms(size) for size in (256, 512)}
    one_thread = {f"{name} {size}": frame_work_ms(name, size) for name, size in (("mosaic", 128), ("nn-dmt", 256))}
    result = {
        **{k: kernel[k] for k in ("machine", "fma_peak_gflops", "step_mcells_per_s", "step_peak_fraction",
                                  "single_thread_mcells_per_s", "single_thread_cpu_mcells_per_s", "under_load_fraction",
                                  "kernel_over_numpy", "parallel_over_single", "thread_policy",
                                  "under_two_busy_loops")},
        "numpy_mcells_per_s": kernel["numpy_mcells_per_s"],
        "frame_ms": {size: summary(ms) for size, ms in frames.items()},
        "frame_ms_paced": {"256": summary(paced)},
        "preset_frame_max_ms": presets_max,
        "preset_frames_over_16_7_ms": presets_late,
        "session_work_ms": work,
        "lightness_route_max_over_median": float(mosaic.max() / np.median(mosaic)),
        "lightness_route_600_max_over_median": float(mosaic[:600].max() / np.median(mosaic[:600])),
        "lightness_route_removed_600_max_over_median": float(mosaic_unlit.max() / np.median(mosaic_unlit)),
        "constant_work_600_max_over_median": float(control.max() / np.median(control)),
        "constant_parallel_work_600_max_over_median": float(parallel_control.max() / np.median(parallel_control)),
        "parallel_wake_ms": summary(wake),
        "frame_work_one_thread_ms": {name: summary(ms) for name, ms in one_thread.items()},
        "output_4k_ms": render.get("output_4k_ms"),
        "lut_rebuild_ms": render.get("lut_rebuild_ms"),
        "analysis_cpu_share": analysis_cpu_share(),
        "startup_s": startup_seconds(),
        "first_start": first_start_seconds(),
        "lattice": bench_lattice.rows(),
        "lattice_window_turning": bench_lattice.window_turning(),
    }
    result["load_average"] = {"start": [round(v, 2) for v in load_at_start],
                              "end": [round(v, 2) for v in os.getloadavg()]}  # 1, 5 and 15 min
    if not args.skip_soak:
        result["soak"] = soak_figures(args.soak_minutes)
    if args.json:
        print(json.dumps(result, default=float))
        return 0
    rows = [("machine", str(result["machine"])), ("float32 matmul peak", f"{result['fma_peak_gflops']:.1f} GFLOP/s")]
    rows.append(("thread policy", result["thread_policy"]))
    for size, rate in result["step_mcells_per_s"].items():
        rows.append((f"step {size}²", f"{rate:8.1f} M cell-steps/s, ×{result['parallel_over_single'][size]:.2f} "
                                      "the one-thread rate (back-to-back pairs)"))
    rows.append(("step 512² numpy float64", f"{result['numpy_mcells_per_s']['512']} M cell-steps/s"))
    rows.append(("kernel under load (share of idle rate)", f"{result['under_load_fraction']}"))
    rows.append(("kernel beside two busy loops (share of idle rate)", f"{result['under_two_busy_loops']['fraction']}"))
    for size, ms in frames.items():
        rows.append((f"end-to-end nn-dmt {size}² at 1920×1080", percentiles(ms)))
    rows.append(("end-to-end nn-dmt 256² at 1920×1080, paced at 60 fps as the live window runs", percentiles(paced)))
    for name, worst in presets_max.items():
        rows.append((f"{name} 256², worst frame of {args.preset_frames}; frames over 16.7 ms",
                     f"{worst:6.2f} ms; {presets_late[name]}"))
    rows.append(("mosaic (lightness on the beat): worst / median frame, first 600 | all",
                 f"{result['lightness_route_600_max_over_median']:.2f} | "
                 f"{result['lightness_route_max_over_median']:.2f}"))
    rows.append(("the same without its lightness route: worst / median frame of 600",
                 f"{result['lightness_route_removed_600_max_over_median']:.2f}"))
    rows.append(("controls: a fixed job of mosaic's median frame length, worst / median of 600: "
                 "one thread | all threads",
                 f"{result['constant_work_600_max_over_median']:.2f} | "
                 f"{result['constant_parallel_work_600_max_over_median']:.2f}"))
    rows.append(("waking numba's threads: an empty parallel loop after 2 ms of serial work", percentiles(wake)))
    for name, ms in one_thread.items():
        rows.append((f"frame work {name}² at 1920×1080, one thread (CPU)",
                     percentiles(ms) + f"   max/p50 {ms.max() / np.median(ms):.2f}"))
    for size, parts in work.items():
        rows.append((f"session work per frame {size}² (ms)", "  ".join(f"{k} {v:.2f}" for k, v in parts.items())))
    rows += [("3840×2160 output, 512² field", f"{result['output_4k_ms']} ms"),
             ("palette rebuild", f"{result['lut_rebuild_ms']} ms"),
             ("audio analysis CPU", f"{100 * result['analysis_cpu_share']:.2f} % of one core"),
             ("start-up to first frame, warm", f"{result['startup_s']:.2f} s"),
             ("first start after installing: install step (compiles ahead) | first frame",
              f"{result['first_start']['install_step_s']:.1f} s | {result['first_start']['first_frame_s']:.2f} s")]
    for row in result["lattice"]:
        rows.append((f"lattice {row.get('n')}³ {row.get('metric')}", f"{row}"))
    turning = result["lattice_window_turning"]
    rows.append((f"window with a {turning['n']}³ lattice turning, 256² field at 1920×1080",
                 f"{turning['frames_per_s']} fps, frame {turning['frame_ms']}, CPU p50 {turning['cpu_ms_p50']} ms"))
    rows.append(("load average (1, 5, 15 min) at start | end",
                 f"{result['load_average']['start']} | {result['load_average']['end']}"))
    if "soak" in result:
        rows += soak.summary_rows(result["soak"])
    print(bench_kernel.aligned(rows))
    return 0


if __name__ == "__main__":  # SIGTERM ends it like Ctrl-C (before SDL could take it)
    from visualizer.system.signals import until_interrupted

    raise SystemExit(until_interrupted(main, "python -m devtools.bench", exit_now=True))
