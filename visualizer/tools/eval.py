"""Evaluation: ``python -m visualizer.tools.eval`` scores the streaming analyser against ground truth.

mir_eval F-measures (onsets ±50 ms, beats ±70 ms) on the demo track, on generated fixtures with
exact ground truth (clicks and drum patterns at 70–180 BPM, tempo changes, silence gaps) and on
the annotated recordings in ``../shared/data/beats/`` beside the checkout, next to librosa's
offline ``onset_detect``/``beat_track`` in the same run. Also prints the onset event latency.
"""

from __future__ import annotations

import argparse
import json
import statistics
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from visualizer.audio.decode import load_audio, mono
from visualizer.audio.demo import demo_paths
from visualizer.audio.offline import analyse_samples
from visualizer.tools.synth import Score, beat_grid, click, hat, kick, snare

SR = 44100
SHARED_BEATS = Path(__file__).resolve().parents[3] / "shared" / "data" / "beats"


@dataclass
class Case:
    """One evaluation item. ``onsets``/``beats`` None = not annotated; ``bpm`` for steady tempo."""

    name: str
    samples: np.ndarray
    sr: int
    onsets: np.ndarray | None
    beats: np.ndarray | None
    bpm: float | None = None


def _render(segments: list[tuple[float, float]], *, drums: bool, seconds: float, seed: int) -> Score:
    rng = np.random.default_rng(seed)
    score = Score(sr=SR, seconds=seconds)
    k, s, h, c = kick(SR), snare(SR, rng), hat(SR, rng), click(SR)
    for i, t in enumerate(beat_grid(segments, start_s=0.5)):
        score.beats.append(float(t))
        if not drums:
            score.place(c, t, 1.0 if i % 4 == 0 else 0.6)
            continue
        score.place(k if i % 2 == 0 else s, t, 1.0)
        score.place(h, t, 0.5)
    # off-beat hats in the drum patterns: onsets that are not beats
    if drums:
        beats = np.array(score.beats)
        for a, b in zip(beats[:-1], beats[1:]):
            if b - a < 1.0:
                score.place(h, (a + b) / 2, 0.3)
    return score


def fixtures() -> list[Case]:
    """Generated material with exact ground truth."""
    cases = []
    for bpm in (70, 90, 110, 130, 150, 180):
        score = _render([(20.0, bpm)], drums=False, seconds=21.0, seed=bpm)
        cases.append(Case(f"clicks {bpm} BPM", score.normalised(0.5), SR, *score.truth(), bpm=float(bpm)))
    for bpm in (85, 120, 160):
        score = _render([(20.0, bpm)], drums=True, seconds=21.0, seed=bpm)
        cases.append(Case(f"drums {bpm} BPM", score.normalised(), SR, *score.truth(), bpm=float(bpm)))
    score = _render([(12.0, 100), (12.0, 140)], drums=True, seconds=25.0, seed=1)
    cases.append(Case("drums 100→140 BPM", score.normalised(), SR, *score.truth()))
    score = _render([(10.0, 120), (4.0, 0), (10.0, 120)], drums=True, seconds=25.0, seed=2)
    cases.append(Case("drums 120 BPM, 4 s gap", score.normalised(), SR, *score.truth()))
    return cases


def demo_case() -> Case:
    audio, truth = demo_paths()
    samples, sr = load_audio(audio)
    meta = json.loads(truth.read_text())
    return Case("demo track", mono(samples), sr, np.array(meta["onsets"]), np.array(meta["beats"]))


def shared_cases(folder: Path = SHARED_BEATS) -> list[Case]:
    """The annotated recordings in shared/data/beats (empty if the folder is absent)."""
    if not folder.is_dir():
        return []
    cases = []
    for wav in sorted(folder.glob("*.wav")):
        samples, sr = load_audio(wav)
        onsets = beats = None
        for suffix in (".onsets", ".notes", ".beats"):
            ann = wav.with_suffix(suffix)
            if ann.exists():
                times = np.array([float(line.split()[0]) for line in ann.read_text().splitlines()
                                  if line.strip() and not line.startswith("#")])
                if suffix == ".beats":
                    beats = times
                else:
                    onsets = np.unique(times)
        cases.append(Case(wav.stem, mono(samples), sr, onsets, beats))
    return cases


def score_case(case: Case, *, with_librosa: bool = True) -> dict:
    """F-measures, tempo and onset latencies for one case."""
    import mir_eval

    report = analyse_samples(case.samples, sr=case.sr)
    row: dict = {"name": case.name}
    if case.onsets is not None:
        row["onset_f"] = mir_eval.onset.f_measure(case.onsets, np.array(report.onsets), window=0.05)[0]
        matched = mir_eval.util.match_events(case.onsets, np.array(report.onsets), 0.05)
        row["latency_ms"] = [1000 * (report.onset_reported_at[j] - case.onsets[i]) for i, j in matched]
    if case.beats is not None:
        row["beat_f"] = mir_eval.beat.f_measure(mir_eval.beat.trim_beats(case.beats),
                                                mir_eval.beat.trim_beats(np.array(report.beats)), 0.07)
    if case.bpm is not None:
        row["tempo_error"] = abs(report.final_tempo() - case.bpm) / case.bpm
    row["tempo"] = report.final_tempo()
    if with_librosa:
        import librosa

        y = case.samples.astype(np.float32)
        if case.onsets is not None:
            lib_onsets = librosa.onset.onset_detect(y=y, sr=case.sr, units="time")
            row["librosa_onset_f"] = mir_eval.onset.f_measure(case.onsets, lib_onsets, window=0.05)[0]
        if case.beats is not None:
            _, lib_beats = librosa.beat.beat_track(y=y, sr=case.sr, units="time")
            row["librosa_beat_f"] = mir_eval.beat.f_measure(mir_eval.beat.trim_beats(case.beats),
                                                            mir_eval.beat.trim_beats(lib_beats), 0.07)
    return row


def click_latencies_ms(*, block: int = 256, trials: int = 50, sr: int = SR) -> list[float]:
    """Time from a click's first sample to the push() that returns its onset event (ms),
    clicks placed at random offsets within a hop, audio pushed in ``block``-sized pieces."""
    from visualizer.audio.analysis import AnalysisConfig, StreamingAnalyser

    rng = np.random.default_rng(0)
    out = []
    for offset in rng.integers(sr, sr + 4 * AnalysisConfig().hop, size=trials):
        audio = np.zeros(2 * sr, np.float32)
        audio[offset:offset + int(0.01 * sr)] += click(sr)
        analyser = StreamingAnalyser(AnalysisConfig(sr=sr))
        for start in range(0, audio.size, block):
            if any(kind == "onset" for kind, _ in analyser.push(audio[start:start + block])):
                out.append(1000 * (start + block - offset) / sr)
                break
    return out


def _fmt(row: dict, key: str) -> str:
    return f"{row[key]:.3f}" if key in row else "  -  "


def print_table(title: str, rows: list[dict]) -> None:
    print(f"\n{title}")
    print(f"{'file':28s} {'onset F':>8s} {'librosa':>8s} {'beat F':>8s} {'librosa':>8s} {'tempo':>7s} {'err':>6s}")
    for r in rows:
        err = f"{100 * r['tempo_error']:.1f}%" if "tempo_error" in r else ""
        print(f"{r['name']:28s} {_fmt(r, 'onset_f'):>8s} {_fmt(r, 'librosa_onset_f'):>8s} {_fmt(r, 'beat_f'):>8s} "
              f"{_fmt(r, 'librosa_beat_f'):>8s} {r['tempo']:7.1f} {err:>6s}")
    for key in ("onset_f", "librosa_onset_f", "beat_f", "librosa_beat_f"):
        values = [r[key] for r in rows if key in r]
        if values:
            print(f"  mean {key:16s} {statistics.mean(values):.3f}  (n={len(values)})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m visualizer.tools.eval", description=__doc__.splitlines()[0])
    parser.add_argument("--no-librosa", action="store_true", help="skip the librosa comparison")
    parser.add_argument("--shared", type=Path, default=SHARED_BEATS, help="folder of annotated recordings")
    args = parser.parse_args(argv)
    lib = not args.no_librosa
    groups = [("demo track", [demo_case()]), ("generated fixtures", fixtures())]
    real = shared_cases(args.shared)
    if real:
        groups.append((f"real recordings ({args.shared})", real))
    else:
        print(f"(no annotated recordings at {args.shared}: skipping the real-music set)")
    latencies = []
    for title, cases in groups:
        rows = [score_case(c, with_librosa=lib) for c in cases]
        print_table(title, rows)
        for r in rows:
            latencies += r.get("latency_ms", [])
    print(f"\nonset report time − true onset (all matched onsets above, n={len(latencies)}): "
          f"median {statistics.median(latencies):.1f} ms, p95 {np.percentile(latencies, 95):.1f} ms, "
          f"max {max(latencies):.1f} ms")
    clicks = click_latencies_ms()
    print(f"onset event latency, clicks at random offsets, 256-sample blocks at {SR} Hz (n={len(clicks)}): "
          f"median {statistics.median(clicks):.1f} ms, max {max(clicks):.1f} ms "
          f"(bound: one hop + one block = {1000 * (512 + 256) / SR:.1f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
