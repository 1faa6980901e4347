"""``visualizer analyze FILE [--json] [--truth BEATS]``: the streaming analyser run over a file,
faster than real time, printing onsets, beats and tempo as they were reported (causally)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from visualizer.engine.audio.decode import AudioFileError
from visualizer.engine.audio.offline import analyse_file
from visualizer.offline.scoring import beat_scores, read_beats
from visualizer.system.signals import until_interrupted

EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="visualizer analyze",
                                description="Run the streaming analyser over a file, faster than real time, and print "
                                            "onsets, beats and tempo as they were reported.")
    p.add_argument("file", type=Path)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--truth", type=Path, metavar="BEATS",
                   help="annotated beats (time, or time<TAB>beat-in-bar, per line): also print beat F, AMLt and "
                        "downbeat F (mir_eval, ±70 ms, beats before 5 s trimmed)")
    return p


def main(argv: list[str] | None = None) -> int:
    """``visualizer analyze``; Ctrl-C and SIGTERM end it with one line and exit 130 / 143."""
    return until_interrupted(lambda: _main(argv), "visualizer analyze", ended="nothing printed")


def _main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.truth is not None and not args.truth.is_file():
        print(f"visualizer analyze: error: {args.truth}: no such annotation file; check the path", file=sys.stderr)
        return EXIT_USAGE
    try:
        report = analyse_file(args.file)
    except AudioFileError as e:
        print(f"visualizer analyze: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    result = report.as_dict()
    if args.truth is not None:
        beats, downbeats = read_beats(args.truth)
        result["scores"] = dict(zip(("beat_f", "amlt"), beat_scores(beats, report.beats)))
        if downbeats is not None:
            result["scores"]["downbeat_f"] = beat_scores(downbeats, report.downbeats)[0]
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"# {args.file}: {len(report.onsets)} onsets, {len(report.beats)} beats, {len(report.downbeats)} downbeats, "
          f"final tempo {report.final_tempo():.1f} BPM")
    for key, value in result.get("scores", {}).items():
        print(f"# {key} {value:.3f}")
    for kind, times in (("onset", report.onsets), ("beat", report.beats), ("downbeat", report.downbeats)):
        for t in times:
            print(f"{kind}\t{t:.4f}")
    for t, bpm in report.tempo_bpm:
        print(f"tempo\t{t:.4f}\t{bpm:.2f}")
    return 0
