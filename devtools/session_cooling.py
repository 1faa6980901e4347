"""A session's slow cooling against a quench of the same hot state, over seeds, with settings tried.

    python -m devtools.session_cooling [--session mettannealing] [--seeds 0,1,2]
        [--set "slow cooling.cooling=exponential" --set "integration.duration_s=30" …] [--json]

Runs the session headless and accelerated (``--fast``: 64², lockstep) once per seed, with each
``--set PHASE.KEY=VALUE`` replacing one field of the named phase (numbers are read as numbers;
see ``timeline.Phase``), and prints per seed the correlation length (cells) at the session's end,
after the report's quench held as long as the cooling and what followed (the fair comparison),
and after the 'stopping abruptly' quench; then the median ratio slow / equal-time quench. The
runs are the same as ``visualizer session NAME --fast --report DIR --seed S`` on the edited plan.
"""

from __future__ import annotations

import argparse
import json
import statistics
from dataclasses import replace

from visualizer.meditation import timeline
from visualizer.meditation.runner import run_headless


def edited(plan: timeline.SessionPlan, settings: list[str]) -> timeline.SessionPlan:
    """``plan`` with each "PHASE.KEY=VALUE" of ``settings`` applied (SystemExit naming a bad one)."""
    phases = list(plan.phases)
    for setting in settings:
        try:
            target, value = setting.split("=", 1)
            name, key = target.rsplit(".", 1)
            index = [p.name for p in phases].index(name)
            if not hasattr(phases[index], key):
                raise ValueError
        except ValueError:
            raise SystemExit(f"session_cooling: --set {setting!r}: expected PHASE.KEY=VALUE with a phase of "
                             f"{plan.name} ({', '.join(p.name for p in phases)}) and a key of timeline.Phase") from None
        try:
            parsed: object = float(value)
        except ValueError:
            parsed = value
        phases[index] = replace(phases[index], **{key: parsed})
        if key == "duration_s":
            phases[index] = replace(phases[index], transition_s=min(phases[index].transition_s, float(value)))
    return replace(plan, phases=tuple(phases))


def measure(plan: timeline.SessionPlan, seeds: list[int]) -> list[dict]:
    """One fast run per seed → rows of correlation lengths (cells)."""
    rows = []
    for seed in seeds:
        report, _ = run_headless(plan, fast=True, seed=seed)
        rows.append({"seed": seed, "slow": report.final_corr_length, "equal_time_quench":
                     report.equal_time_quench_corr_length, "quench": report.quench_corr_length,
                     "ratio": report.final_corr_length / report.equal_time_quench_corr_length})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.session_cooling", description=__doc__.splitlines()[0])
    parser.add_argument("--session", default="mettannealing")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--set", action="append", default=[], metavar="PHASE.KEY=VALUE")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    plan = edited(timeline.load(timeline.resolve(args.session)), args.set)
    rows = measure(plan, [int(s) for s in args.seeds.split(",")])
    median = statistics.median(r["ratio"] for r in rows)
    if args.json:
        print(json.dumps({"session": args.session, "settings": args.set, "rows": rows, "median_ratio": median}))
        return 0
    print(f"{plan.name} ({plan.duration_s:.0f} s){': ' + ', '.join(args.set) if args.set else ''}")
    print(f"{'seed':>4s}  {'slow':>6s}  {'quench, equal time':>18s}  {'quench, abrupt':>14s}  {'slow / equal':>12s}")
    for r in rows:
        print(f"{r['seed']:4d}  {r['slow']:6.1f}  {r['equal_time_quench']:18.1f}  {r['quench']:14.1f}  "
              f"{r['ratio']:12.2f}")
    print(f"median slow / equal-time quench: {median:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
