"""Render benchmark: ``python -m devtools.bench_render [--json]``.

Prints the cost of a colour LUT rebuild (per palette) and of drawing a field into the window
(colourise + scale + flash limiter, then present) at 1280×720, 1920×1080 and 3840×2160 for
256² and 512² fields, through the real `Display` (SDL dummy driver: ``present`` copies nothing
to a GPU here, so on a real screen add the driver's upload). Wall-clock medians, p99s and
maxima, and the process CPU time per frame (all threads), which is what a busy shared machine
distorts least. `rows()` returns the same figures for the main bench.
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import numba  # noqa: E402
import numpy as np  # noqa: E402

from visualizer.engine.sim import Field, FieldConfig  # noqa: E402
from visualizer.render.colour import PALETTES, build_lut  # noqa: E402
from visualizer.render.gamut import chroma_table  # noqa: E402

SCREENS = ((1280, 720), (1920, 1080), (3840, 2160))
FIELDS = (256, 512)


def _stats(samples_s: list[float]) -> dict[str, float]:
    ms = np.asarray(samples_s) * 1e3
    return {"p50": round(float(np.median(ms)), 3), "p99": round(float(np.percentile(ms, 99)), 3),
            "max": round(float(ms.max()), 3)}


def lut_rebuild(rebuilds: int = 200) -> dict[str, object]:
    """ms per `build_lut` at a new lightness each time (the beat-driven case), per palette."""
    t0 = time.perf_counter()
    chroma_table()
    first_s = time.perf_counter() - t0
    out: dict[str, object] = {"gamut_table_first_use_s": round(first_s, 3)}
    for palette in PALETTES:
        build_lut(palette)
        times = []
        for lightness in np.linspace(40.0, 80.0, rebuilds):
            t = time.perf_counter()
            build_lut(palette, lightness=float(lightness))
            times.append(time.perf_counter() - t)
        stats = _stats(times)
        out[palette] = {"p50": stats["p50"], "max": stats["max"]}
    return out


def draw_times(field_size: int, screen: tuple[int, int], *, frames: int = 60,
               block: int | None = None) -> dict[str, object]:
    """Per-frame ms of `Display.draw_field` (+ flash limiter) and `present` at one size."""
    from visualizer.window.display import Display
    from visualizer.window.pygame_loader import pygame

    display = Display(size=screen, block=block)
    display.set_palette(build_lut("vivid"))
    field = Field(FieldConfig(height=field_size, width=field_size))
    for _ in range(5):
        display.draw_field(field.theta, time_s=0.0)
    draw, present, total, cpu = [], [], [], []
    for i in range(frames):
        c0, t0 = time.process_time(), time.perf_counter()
        display.draw_field(field.theta, time_s=i / 60)
        t1 = time.perf_counter()
        display.present()
        t2 = time.perf_counter()
        cpu.append(time.process_time() - c0)
        draw.append(t1 - t0)
        present.append(t2 - t1)
        total.append(t2 - t0)
    used_block = display.scaler.block
    pygame.display.quit()
    return {"draw": _stats(draw), "present": _stats(present), "total": _stats(total),
            "cpu_ms_p50": round(float(np.median(cpu)) * 1e3, 3), "block": used_block}


def rows(frames: int = 60) -> dict[str, object]:
    """Every figure of this bench as one JSON-able dict."""
    out: dict[str, object] = {"threads": numba.get_num_threads(), "load_average_1min": round(os.getloadavg()[0], 2),
                              "lut_rebuild_ms": lut_rebuild()}
    draw: dict[str, dict[str, object]] = {}
    for size in FIELDS:
        for w, h in SCREENS:
            draw.setdefault(str(size), {})[f"{w}x{h}"] = draw_times(size, (w, h), frames=frames)
    draw["512"]["3840x2160 block 1"] = draw_times(512, (3840, 2160), frames=frames, block=1)
    out["draw_ms"] = draw
    out["output_4k_ms"] = draw["512"]["3840x2160"]["total"]["p50"]
    return out


def _print_table(figures: dict[str, object]) -> None:
    print(f"threads {figures['threads']}, 1-min load average {figures['load_average_1min']}")
    lut = figures["lut_rebuild_ms"]
    print(f"\nLUT rebuild at a new lightness (ms)   gamut table, first use: {lut['gamut_table_first_use_s']} s")
    for palette in PALETTES:
        print(f"  {palette:<14} median {lut[palette]['p50']:7.3f}   max {lut[palette]['max']:7.3f}")
    print("\ncolourise + scale + flash limit (draw) and present, ms per frame")
    print(f"  {'field':>5} {'screen':<20} {'block':>5} {'draw p50':>9} {'p99':>7} {'max':>7} "
          f"{'+present p50':>13} {'p99':>7} {'max':>7} {'CPU p50':>8}")
    for size, screens in figures["draw_ms"].items():
        for screen, r in screens.items():
            d, t = r["draw"], r["total"]
            print(f"  {size + '²':>5} {screen:<20} {r['block']:>5} {d['p50']:9.2f} {d['p99']:7.2f} {d['max']:7.2f} "
                  f"{t['p50']:13.2f} {t['p99']:7.2f} {t['max']:7.2f} {r['cpu_ms_p50']:8.2f}")
    print(f"\n4K output (512² field, 3840×2160, draw + present) median: {figures['output_4k_ms']} ms")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devtools.bench_render", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--frames", type=int, default=60, help="frames timed per size (default 60)")
    args = parser.parse_args(argv)
    figures = rows(frames=args.frames)
    if args.json:
        print(json.dumps(figures))
    else:
        _print_table(figures)


if __name__ == "__main__":  # SIGTERM ends it like Ctrl-C (before SDL could take it)
    from visualizer.system.signals import until_interrupted

    raise SystemExit(until_interrupted(main, "python -m devtools.bench_render", exit_now=True))
