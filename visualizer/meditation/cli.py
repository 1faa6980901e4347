"""``visualizer session NAME [--headless --report DIR] [--fast] [--intention TEXT]``.

This module parses the command, lists sessions, runs the headless form and turns every session
error into one line. The window form belongs to the pygame front end: it is handed a
``WindowRequest`` through the ``open_window`` callable given to ``main``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from visualizer.engine.presets import PresetError
from visualizer.meditation import ReportError, timeline
from visualizer.system.signals import until_interrupted

log = logging.getLogger(__name__)

EXIT_USAGE = 2
EXIT_FAILED = 1


@dataclass(frozen=True)
class WindowRequest:
    """What the window needs to play a session: the plan, the user's intention, whether to
    speak cues, the field's seed, where to write the report (None: nowhere)."""

    plan: timeline.SessionPlan
    intention: str
    speak: bool
    seed: int
    report_dir: Path | None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="visualizer session",
        description="Run a guided meditation session: a timeline of phases on the field, a breath pacer, "
                    "a drone and bell bed, and a report at the end.")
    p.add_argument("name", nargs="?", help="session name (see --list) or path to a session .toml file")
    p.add_argument("--list", action="store_true", help="list the sessions and exit")
    p.add_argument("--headless", action="store_true", help="no window (needs --report to keep anything)")
    p.add_argument("--report", type=Path, metavar="DIR", help="write DIR/report.json and DIR/report.png at the end")
    p.add_argument("--fast", action="store_true", help="headless, accelerated lockstep on a small grid (tests, previews)")
    p.add_argument("--intention", default="", metavar="TEXT", help="an intention shown at the start and at the peak")
    p.add_argument("--speak", action="store_true", help="speak the cues with espeak-ng (off by default)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the field")
    return p


def list_sessions() -> None:
    def describe(path):
        plan = timeline.load(path)
        return f"{plan.name} ({plan.duration_s / 60:.0f} min)\n{'':24s} {plan.description}"
    timeline.CATALOGUE.print_listing(describe, width=24)


def run(args: argparse.Namespace) -> int:
    from visualizer.meditation.runner import run_headless
    from visualizer.meditation.sound import SoundBed

    plan = timeline.load(timeline.resolve(args.name))
    bed = None if args.fast else SoundBed(speak=args.speak)
    try:
        report = run_headless(plan, report_dir=args.report, fast=args.fast, intention=args.intention,
                              seed=args.seed, bed=bed)
    finally:
        if bed is not None:
            bed.close()
    if report is not None:
        quench = "n/a" if report.quench_corr_length is None else f"{report.quench_corr_length:.1f}"
        equal = "n/a" if report.equal_time_quench_corr_length is None else f"{report.equal_time_quench_corr_length:.1f}"
        print(f"{plan.name}: {report.time_above_threshold_s:.0f} s above the threshold, {report.cooling_time_s:.0f} s "
              f"of cooling, correlation length {report.final_corr_length:.1f} cells after slow cooling vs "
              f"{quench} after a quench ({equal} after a quench held as long); report in {args.report}")
    return 0


def main(argv: list[str], *, open_window: Callable[[WindowRequest], int] | None = None) -> int:
    """``visualizer session``; Ctrl-C and SIGTERM end it with one line and exit 130 / 143."""
    return until_interrupted(lambda: _main(argv, open_window=open_window), "visualizer session",
                             ended="the session ended early")


def _main(argv: list[str], *, open_window: Callable[[WindowRequest], int] | None = None) -> int:
    """Entry point of ``visualizer session``; returns the exit code. ``--headless`` and
    ``--fast`` run here; otherwise ``open_window(WindowRequest)`` plays it in the window."""
    args = build_parser().parse_args(argv)
    try:
        if args.list:
            list_sessions()
            return 0
        if not args.name:
            raise timeline.SessionError("which session? give a name (see `visualizer session --list`) or a path")
        if args.headless or args.fast:
            return run(args)
        if open_window is None:
            raise timeline.SessionError("no window front end here: use --headless --report DIR or --fast")
        plan = timeline.load(timeline.resolve(args.name))
        return open_window(WindowRequest(plan=plan, intention=args.intention, speak=args.speak, seed=args.seed,
                                         report_dir=args.report))
    except (timeline.SessionError, PresetError) as e:
        print(f"visualizer session: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except ReportError as e:  # the session ran; only its report is lost
        print(f"visualizer session: error: {e}", file=sys.stderr)
        return EXIT_FAILED
