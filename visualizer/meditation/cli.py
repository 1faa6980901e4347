"""``visualizer session NAME [--play FILE | --input DEV] [--headless --report DIR] [--fast] …``
and ``visualizer session --history``.

This module parses the command, lists sessions, prints the history, runs the headless form and
turns every session error into one line. The window form belongs to the pygame front end: it is
handed a ``WindowRequest`` through the ``open_window`` callable given to ``main``. The music
phases hear what the main app would (``engine.audio.engine``: the same ``AudioChoice``, checks,
analysis and the preset's routes); a file given to a session loops, a session being longer than
most songs.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from visualizer.engine.audio.decode import AudioFileError
from visualizer.engine.audio.engine import AudioChoice, open_audio, validate_choice
from visualizer.engine.audio.sources import AudioUnavailable
from visualizer.engine.presets import PresetError
from visualizer.meditation import ReportError, history, timeline
from visualizer.meditation.report import Person, SessionReport, headline, write_report
from visualizer.system.signals import until_interrupted

log = logging.getLogger(__name__)

EXIT_USAGE = 2
EXIT_FAILED = 1


@dataclass(frozen=True)
class WindowRequest:
    """What the window needs to play a session: the plan, the person (intention, ratings given
    by flag), whether to ask for the ratings that were not given, whether to speak cues and to
    show the timer all along, the field's seed, what the music phases hear (``AudioChoice``;
    kind "none": silence), where to write the report (None: nowhere), whether to add the
    session to the history."""

    plan: timeline.SessionPlan
    person: Person = Person()
    ask: bool = True
    speak: bool = False
    timer: bool = False
    seed: int = 0
    audio: AudioChoice = AudioChoice("none")
    report_dir: Path | None = None
    keep_history: bool = True


def calm(text: str) -> int:
    """An argparse type: a calm rating, an integer 1..5."""
    if text.strip() not in ("1", "2", "3", "4", "5"):
        raise argparse.ArgumentTypeError(f"expected a calm rating 1 (restless) .. 5 (calm), not {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="visualizer session",
        description="Run a guided meditation session: a timeline of phases on the field, a breath pacer, "
                    "a drone and bell bed, and a report at the end.")
    p.add_argument("name", nargs="?", help="session name (see --list) or path to a session .toml file")
    p.add_argument("--list", action="store_true", help="list the sessions and exit")
    p.add_argument("--history", action="store_true", help="print your past sessions (date, length, calm before "
                                                          "and after, intention) and exit")
    p.add_argument("--headless", action="store_true", help="no window (needs --report to keep anything)")
    p.add_argument("--report", type=Path, metavar="DIR", help="write DIR/report.json and DIR/report.png at the end")
    p.add_argument("--fast", action="store_true",
                   help="headless, accelerated lockstep on a small grid (tests, previews; not kept in the history)")
    audio = p.add_mutually_exclusive_group()
    audio.add_argument("--play", metavar="FILE", type=Path,
                       help="the music phases hear this file (wav/flac/ogg/mp3, played and looped), as the main app")
    audio.add_argument("--input", metavar="DEVICE",
                       help="the music phases hear this input (name substring or index; a .monitor source hears what "
                            "the computer plays), as the main app")
    p.add_argument("--intention", default="", metavar="TEXT", help="an intention shown at the start and at the peak")
    p.add_argument("--calm-before", type=calm, metavar="1-5", help="how calm you are now (otherwise the window asks)")
    p.add_argument("--calm-after", type=calm, metavar="1-5",
                   help="how calm you were after (headless; otherwise the window asks)")
    p.add_argument("--no-ask", action="store_true", help="the window does not ask how calm you are")
    p.add_argument("--timer", action="store_true", help="show the time left all along (otherwise after a key press)")
    p.add_argument("--no-history", action="store_true", help="do not add this session to your history")
    p.add_argument("--speak", action="store_true", help="speak the cues with espeak-ng (off by default)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the field")
    return p


def list_sessions() -> None:
    def describe(path):
        plan = timeline.load(path)
        return f"{plan.name} ({plan.duration_s / 60:.0f} min)\n{'':24s} {plan.description}"
    timeline.CATALOGUE.print_listing(describe, width=24)


def print_history() -> None:
    entries = history.read()
    if not entries:
        print(f"no sessions yet (they are kept in {history.history_path()})")
        return
    print(history.table(entries))
    print(f"({len(entries)} sessions, in {history.history_path()})")


def audio_choice(args: argparse.Namespace) -> AudioChoice:
    """What the music phases hear, checked before anything opens (AudioFileError,
    AudioUnavailable: one line)."""
    if args.play is not None:
        choice = AudioChoice("file", path=args.play, loop=True)
    elif args.input is not None:
        choice = AudioChoice("input", device=args.input)
    else:
        return AudioChoice("none")
    validate_choice(choice)
    return choice


def audio_label(choice: AudioChoice) -> str:
    """How the report names what the music phases heard ("" for nothing)."""
    return choice.path.name if choice.kind == "file" else (choice.device or "")


def keep(report: SessionReport, series: dict, *, report_dir: Path | None, keep_history: bool) -> None:
    """After a session: add it to the history (unless told not to), then write the report
    (with the ratings over the sessions so far) if asked."""
    if keep_history:
        history.append(report)
    if report_dir is not None:
        write_report(report_dir, report, series, history.read() if keep_history else [])
        print(f"report: {report_dir / 'report.json'}", flush=True)


def run(args: argparse.Namespace, plan: timeline.SessionPlan, choice: AudioChoice) -> int:
    """The headless form: ``plan`` without a window (real time, or ``--fast``), its line, the
    history and the report."""
    from visualizer.meditation.runner import run_headless
    from visualizer.meditation.sound import SoundBed

    music = None if choice.kind == "none" else open_audio(choice, headless=args.fast)
    bed = None if args.fast else SoundBed(speak=args.speak)
    person = Person(args.intention, args.calm_before, args.calm_after)
    try:
        report, series = run_headless(plan, fast=args.fast, person=person, seed=args.seed, bed=bed, music=music,
                                      music_label=audio_label(choice))
    finally:
        if bed is not None:
            bed.close()
        if music is not None:
            music.close()
    quench = "n/a" if report.quench_corr_length is None else f"{report.quench_corr_length:.1f}"
    equal = "n/a" if report.equal_time_quench_corr_length is None else f"{report.equal_time_quench_corr_length:.1f}"
    print(f"{headline(report)}; correlation length {report.final_corr_length:.1f} cells at the end vs {quench} "
          f"after a quench ({equal} after a quench held as long)")
    keep(report, series, report_dir=args.report, keep_history=not (args.fast or args.no_history))
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
        if args.history:
            print_history()
            return 0
        if not args.name:
            raise timeline.SessionError("which session? give a name (see `visualizer session --list`) or a path")
        plan = timeline.load(timeline.resolve(args.name))
        choice = audio_choice(args)
        if not any(p.energy == "music" for p in plan.phases) and choice.kind != "none":
            log.warning("session %s has no music phase: --play/--input is heard by none of its phases", plan.name)
        if args.headless or args.fast:
            return run(args, plan, choice)
        if open_window is None:
            raise timeline.SessionError("no window front end here: use --headless --report DIR or --fast")
        person = Person(args.intention, args.calm_before, args.calm_after)
        return open_window(WindowRequest(plan=plan, person=person, ask=not args.no_ask, speak=args.speak,
                                         timer=args.timer, seed=args.seed, audio=choice, report_dir=args.report,
                                         keep_history=not args.no_history))
    except (timeline.SessionError, PresetError, AudioFileError, AudioUnavailable) as e:
        print(f"visualizer session: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except ReportError as e:  # the session ran; only its report or history entry is lost
        print(f"visualizer session: error: {e}", file=sys.stderr)
        return EXIT_FAILED
