"""Evaluation: ``python -m devtools.eval`` scores the streaming analyser against ground truth.

mir_eval scores (onset F ±50 ms; beat F ±70 ms, AMLt, downbeat F ±70 ms, all with beats before
5 s trimmed — the mir_eval convention) on the demo track, on generated fixtures with exact ground
truth (clicks and drum patterns at 70–180 BPM, tempo changes, silence gaps), on held-out
popular-music drum grooves (country, sixteenth-note rock, four-on-the-floor, off-beat skank) and on the annotated
recordings in ``../shared/data/beats/`` beside the checkout. In the same run, beside this project:
aubio's causal ``tempo`` tracker (aubio-ledfx), a causal librosa baseline (``beat_track`` on the
last 10 s, re-run every 0.5 s, its grid extrapolated over the next 0.5 s) and librosa's offline
``beat_track`` (whole file: not causal, the ceiling). Also phantom beats per minute on
non-rhythmic input (speech, pink noise, a pad, silence) and the onset event latency.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from devtools import MATERIAL, SHARED_BEATS
from devtools.synth import Score, beat_grid, click, hat, kick, snare, tone
from visualizer.engine.audio.decode import load_audio, mono
from visualizer.engine.audio.demo import demo_paths
from visualizer.engine.audio.offline import analyse_samples
from visualizer.offline.scoring import beat_scores, read_beats

SR = 44100


@dataclass
class Case:
    """One evaluation item. ``onsets``/``beats`` None = not annotated; ``bpm`` for steady tempo."""

    name: str
    samples: np.ndarray
    sr: int
    onsets: np.ndarray | None
    beats: np.ndarray | None
    bpm: float | None = None
    downbeats: np.ndarray | None = None


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


def _groove(bpm: float, style: str, *, seconds: float = 30.0, seed: int = 0) -> Score:
    """One popular-music drum groove at ``bpm`` (beats on the quarter notes).

    country: kick on 1 and 3, snare on 2 and 4, loud eighth-note hats, a bass note on 1 and 3;
    rock16: sixteenth-note hats at one gain, kick on 1 and the and of 3, snare on 2 and 4;
    four: four-on-the-floor kick, open hat on every off-beat, snare on 2 and 4;
    offbeat: kick on 1 and 3, a short chord on every off-beat (reggae's skank), soft hat on the beat.
    """
    rng = np.random.default_rng(seed)
    score = Score(sr=SR, seconds=seconds)
    k, s, h = kick(SR), snare(SR, rng), hat(SR, rng)
    period = 60.0 / bpm
    for i, t in enumerate(beat_grid([(seconds - 1.0, bpm)], start_s=0.5)):
        score.beats.append(float(t))
        if style == "country":
            score.place(k if i % 2 == 0 else s, t, 1.0)
            score.place(h, t, 0.8)
            score.place(h, t + period / 2, 0.8)
            if i % 2 == 0:
                score.place(tone(SR, freq_hz=(55.0, 55.0, 73.4, 65.4)[i // 4 % 4], seconds=period), t, 0.5)
        elif style == "rock16":
            for quarter in range(4):
                score.place(h, t + quarter * period / 4, 0.7)
            score.place(k if i % 2 == 0 else s, t, 1.0)
            if i % 2:
                score.place(k, t + period / 2, 0.8)
        elif style == "four":
            score.place(k, t, 1.0)
            score.place(h, t + period / 2, 0.9)
            if i % 2:
                score.place(s, t, 0.7)
        elif style == "offbeat":
            if i % 2 == 0:
                score.place(k, t, 1.0)
            score.place(h, t, 0.4)
            score.place(tone(SR, freq_hz=440.0, seconds=0.12, decay=20.0), t + period / 2, 0.6)
    return score


def grooves() -> list[Case]:
    """Popular-music drum grooves whose off-beats sound as loud as the beats (the octave trap:
    ≈85 BPM country tracked at 170). Written after the tracker was tuned and never used to tune
    it: a check that its metrical-level decision generalises."""
    cases = []
    for bpm, style in ((85, "country"), (75, "country"), (95, "rock16"), (120, "rock16"), (100, "four"),
                       (128, "four"), (80, "offbeat")):
        score = _groove(bpm, style, seed=bpm)
        cases.append(Case(f"{style} {bpm} BPM", score.normalised(), SR, *score.truth(), bpm=float(bpm)))
    return cases


def demo_case() -> Case:
    audio, truth = demo_paths()
    samples, sr = load_audio(audio)
    meta = json.loads(truth.read_text())
    return Case("demo track", mono(samples), sr, np.array(meta["onsets"]), np.array(meta["beats"]))


def shared_cases(folder: Path = SHARED_BEATS) -> list[Case]:
    """The annotated recordings in shared/data/beats, wav and flac (empty if the folder is absent).

    ``.beats``: ``time`` or ``time<TAB>beat-in-bar`` per line (the latter gives downbeats);
    ``.onsets``/``.notes``: onset time first on each line; ``#`` starts a comment line.
    """
    if not folder.is_dir():
        return []
    cases = []
    for audio in sorted(p for p in folder.iterdir() if p.suffix in (".wav", ".flac")):
        samples, sr = load_audio(audio)
        case = Case(audio.stem, mono(samples), sr, None, None)
        for suffix in (".onsets", ".notes", ".beats"):
            ann = audio.with_suffix(suffix)
            if not ann.exists():
                continue
            if suffix == ".beats":
                case.beats, case.downbeats = read_beats(ann)
            else:
                case.onsets = np.unique(read_beats(ann)[0])
        cases.append(case)
    return cases


def material_cases(part: str, folder: Path = MATERIAL) -> list[Case]:
    """The project's own generated music (``devtools/make_music.py``) in ``folder``: ``part`` is
    "dev", "holdout" or "unseen" as listed in its split.json (empty if the folder or the part is
    absent). The learned beat activation never trained on these; the held-out half was never used
    to tune, and the unseen part was written by someone who never saw the tracker and scored once."""
    split_file = folder / "split.json"
    if not split_file.is_file():
        return []
    cases = []
    for name in json.loads(split_file.read_text()).get(part, []):
        samples, sr = load_audio(folder / f"{name}.flac")
        beats, downbeats = read_beats(folder / f"{name}.beats")
        cases.append(Case(name, mono(samples), sr, None, beats, downbeats=downbeats))
    return cases


def aubio_beats(samples: np.ndarray, *, sr: int, hop: int = 512) -> np.ndarray:
    """aubio's causal ``tempo`` tracker: each beat at the stream time it was reported (s)."""
    import aubio

    tracker = aubio.tempo("default", 2 * hop, hop, sr)
    x = np.ascontiguousarray(samples, dtype=np.float32)
    out = []
    for start in range(0, x.size - hop + 1, hop):
        if tracker(x[start:start + hop])[0]:
            out.append((start + hop) / sr)
    return np.array(out)


def librosa_sliding_beats(samples: np.ndarray, *, sr: int, window_s: float = 10.0, every_s: float = 0.5) -> np.ndarray:
    """A causal librosa baseline: every ``every_s`` librosa ``beat_track`` runs on the last
    ``window_s`` of audio; its last beat and tempo predict the beats of the next ``every_s``."""
    import librosa

    y = librosa.resample(samples.astype(np.float32), orig_sr=sr, target_sr=22050)
    out: list[float] = []
    now = 4.0  # the first estimate needs a few seconds of audio
    while now < y.size / 22050:
        start = max(0.0, now - window_s)
        window = y[int(start * 22050):int(now * 22050)]
        tempo, beats = librosa.beat.beat_track(y=window, sr=22050, units="time")
        tempo = float(np.atleast_1d(tempo)[0])
        if beats.size and tempo > 0:
            period, last = 60.0 / tempo, start + beats[-1]
            t = last + period * np.ceil((now - last) / period)
            while t < now + every_s:
                out.append(float(t))
                t += period
        now += every_s
    return np.array(out)


def librosa_offline_beats(samples: np.ndarray, *, sr: int) -> np.ndarray:
    """librosa ``beat_track`` over the whole file (sees the future: the offline ceiling)."""
    import librosa

    return librosa.beat.beat_track(y=samples.astype(np.float32), sr=sr, units="time")[1]


TRACKERS = {"aubio": aubio_beats, "librosa sliding": librosa_sliding_beats, "librosa offline": librosa_offline_beats}


def score_case(case: Case, *, with_others: bool = True) -> dict:
    """Scores, tempo and onset latencies for one case; the other trackers' beat F and AMLt too."""
    import mir_eval

    started = time.process_time()
    report = analyse_samples(case.samples, sr=case.sr)
    row: dict = {"name": case.name, "cpu_s": time.process_time() - started, "audio_s": case.samples.size / case.sr}
    if case.onsets is not None:
        row["onset_f"] = mir_eval.onset.f_measure(case.onsets, np.array(report.onsets), window=0.05)[0]
        matched = mir_eval.util.match_events(case.onsets, np.array(report.onsets), 0.05)
        row["latency_ms"] = [1000 * (report.onset_reported_at[j] - case.onsets[i]) for i, j in matched]
    if case.beats is not None:
        row["beat_f"], row["amlt"] = beat_scores(case.beats, np.array(report.beats))
        # how long after the music's first beat the first beat was reported (the presence gate)
        row["turn_on_s"] = report.beats[0] - float(case.beats[0]) if report.beats else float(case.samples.size / case.sr)
    if case.downbeats is not None:
        row["downbeat_f"] = beat_scores(case.downbeats, np.array(report.downbeats))[0]
    if case.bpm is not None:
        row["tempo_error"] = abs(report.final_tempo() - case.bpm) / case.bpm
    row["tempo"] = report.final_tempo()
    if with_others:
        if case.onsets is not None:
            import librosa

            lib_onsets = librosa.onset.onset_detect(y=case.samples.astype(np.float32), sr=case.sr, units="time")
            row["librosa_onset_f"] = mir_eval.onset.f_measure(case.onsets, lib_onsets, window=0.05)[0]
        if case.beats is not None:
            for name, tracker in TRACKERS.items():
                row[f"{name} beat_f"], row[f"{name} amlt"] = beat_scores(case.beats, tracker(case.samples, sr=case.sr))
    return row


def phantom_rows(*, with_others: bool = True, seconds: float = 30.0) -> list[dict]:
    """Beats per minute reported on non-rhythmic input (should be ~0)."""
    from devtools.synth import non_rhythmic

    rows = []
    for name, samples in non_rhythmic(SR, seconds=seconds).items():
        minutes = samples.size / SR / 60.0
        row = {"name": name, "beats_per_min": len(analyse_samples(samples, sr=SR).beats) / minutes}
        if with_others:
            row["aubio beats_per_min"] = aubio_beats(samples, sr=SR).size / minutes
        rows.append(row)
    return rows


def click_latencies_ms(*, block: int = 256, trials: int = 50, sr: int = SR) -> list[float]:
    """Time from a click's first sample to the push() that returns its onset event (ms),
    clicks placed at random offsets within a hop, audio pushed in ``block``-sized pieces."""
    from visualizer.engine.audio.analysis import AnalysisConfig, StreamingAnalyser

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


COLUMNS = [("onset F", "onset_f"), ("lib onset", "librosa_onset_f"), ("beat F", "beat_f"), ("AMLt", "amlt"),
           ("downbeat", "downbeat_f"), ("aubio F", "aubio beat_f"), ("aubio AMLt", "aubio amlt"),
           ("slide F", "librosa sliding beat_f"), ("slide AMLt", "librosa sliding amlt"),
           ("offl F", "librosa offline beat_f"), ("offl AMLt", "librosa offline amlt")]


def print_table(title: str, rows: list[dict]) -> None:
    """One row per case, this project's columns first, then the other trackers'; means below."""
    columns = [(label, key) for label, key in COLUMNS if any(key in r for r in rows)]
    print(f"\n{title}")
    print(f"{'file':26s} " + " ".join(f"{label:>10s}" for label, _ in columns) + f" {'tempo':>7s} {'err':>6s}"
          f" {'on after':>8s}")
    for r in rows:
        err = f"{100 * r['tempo_error']:.1f}%" if "tempo_error" in r else ""
        on = f"{r['turn_on_s']:.1f} s" if "turn_on_s" in r else ""
        print(f"{r['name']:26s} " + " ".join(f"{_fmt(r, key):>10s}" for _, key in columns) + f" {r['tempo']:7.1f} {err:>6s}"
              f" {on:>8s}")
    means = {key: statistics.mean([r[key] for r in rows if key in r]) for _, key in columns}
    print(f"{'mean':26s} " + " ".join(f"{means[key]:10.3f}" for _, key in columns))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.eval", description=__doc__.splitlines()[0])
    parser.add_argument("--only-ours", action="store_true", help="skip aubio and librosa")
    parser.add_argument("--shared", type=Path, default=SHARED_BEATS, help="folder of annotated recordings")
    parser.add_argument("--material", type=Path, default=MATERIAL, help="folder of the generated music and split.json")
    parser.add_argument("--only", choices=["real", "material"], help="only the real recordings or the generated music")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    args = parser.parse_args(argv)
    others = not args.only_ours
    groups = [] if args.only else [("demo track", [demo_case()]), ("generated fixtures", fixtures()),
                                   ("popular-music grooves (held out: never used to tune)", grooves())]
    real = shared_cases(args.shared) if args.only != "material" else []
    if real:
        groups.append((f"real recordings ({args.shared})", real))
    elif args.only != "material":
        logging.warning("no annotated recordings at %s: skipping the real-music set", args.shared)
    for part, title in (("dev", "own generated music, development half"),
                        ("holdout", "own generated music, held out (never trained or tuned on)"),
                        ("unseen", "own generated music, unseen (written blind, scored once)")):
        cases = material_cases(part, args.material) if args.only != "real" else []
        if cases:
            groups.append((f"{title} ({args.material})", cases))
    result: dict = {"groups": {}}
    latencies = []
    analyse_samples(np.zeros(SR, np.float32), sr=SR)  # one-off start-up (filterbanks, kernels) off the CPU figures
    for title, cases in groups:
        rows = [score_case(c, with_others=others) for c in cases]
        result["groups"][title] = rows
        for r in rows:
            latencies += r.pop("latency_ms", [])
    result["phantom"] = phantom_rows(with_others=others)
    clicks = click_latencies_ms()
    latencies = latencies or [float("nan")]
    result["onset_latency_ms"] = {"median": statistics.median(latencies), "p95": float(np.percentile(latencies, 95)),
                                  "max": max(latencies), "n": len(latencies)}
    result["click_latency_ms"] = {"median": statistics.median(clicks), "max": max(clicks), "n": len(clicks)}
    cpu = [r["cpu_s"] / r["audio_s"] for rows in result["groups"].values() for r in rows]
    result["analysis_cpu_percent"] = {"median": 100 * statistics.median(cpu), "worst": 100 * max(cpu),
                                      "overall": 100 * sum(r["cpu_s"] for rows in result["groups"].values() for r in rows)
                                      / sum(r["audio_s"] for rows in result["groups"].values() for r in rows)}
    if args.json:
        print(json.dumps(result, default=float))
        return 0
    for title, rows in result["groups"].items():
        print_table(title, rows)
    print("\nphantom beats per minute on non-rhythmic input (goal ≤ 2)")
    for r in result["phantom"]:
        aubio = f"   aubio {r['aubio beats_per_min']:5.1f}" if "aubio beats_per_min" in r else ""
        print(f"{r['name']:26s} {r['beats_per_min']:5.1f}{aubio}")
    o = result["onset_latency_ms"]
    print(f"\nonset report time − true onset (all matched onsets above, n={o['n']}): "
          f"median {o['median']:.1f} ms, p95 {o['p95']:.1f} ms, max {o['max']:.1f} ms")
    print(f"onset event latency, clicks at random offsets, 256-sample blocks at {SR} Hz (n={len(clicks)}): "
          f"median {statistics.median(clicks):.1f} ms, max {max(clicks):.1f} ms "
          f"(bound: one hop + one block = {1000 * (512 + 256) / SR:.1f} ms)")
    c = result["analysis_cpu_percent"]
    print(f"analysis CPU (process time per second of audio, whole analyser, one thread): overall {c['overall']:.2f} %, "
          f"median file {c['median']:.2f} %, worst file {c['worst']:.2f} % of one core")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
