"""Presence benchmark: ``python -m devtools.presence`` checks the "no beat" judgement beyond
eval's four non-rhythmic inputs.

Phantom beats per minute on speech (espeak-ng voices × speaking rates, two prose texts and counting
aloud), ambient pads and pink noise (several seeds) and unpulsed note textures (random notes,
never a pause); then, with music followed by speech, noise or a pad, how long the beat stays
present after the music has stopped and how many beats are reported there.
"""

from __future__ import annotations

import argparse
import json
import statistics

import numpy as np

from devtools.eval import fixtures, shared_cases
from devtools.synth import SPEECH_TEXT, ambient_pad, pink_noise, random_notes, speech
from visualizer.engine.audio.analysis import AnalysisConfig, StreamingAnalyser
from visualizer.engine.audio.offline import analyse_samples

SR = 44100
VOICES = ("en", "en-us", "en-gb-scotland", "en-gb-x-rp")
WORDS_PER_MINUTE = (140, 175, 220)
TEXTS = {
    "prose": SPEECH_TEXT,
    "minutes": ("In the beginning the committee met twice a week, and every meeting began with a long reading "
                "of the minutes, followed by questions from the floor, a short break for coffee, and then the "
                "real argument about money, which nobody ever settled before the caretaker switched off the "
                "lights."),
    "counting": " ".join(["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"] * 4),
}
SEEDS = {"ambient pad": 10, "pink noise": 5, "random notes": 5}


def non_rhythmic_inputs(*, seconds: float = 30.0) -> dict[str, dict[str, np.ndarray]]:
    """Inputs by class: speech ``voice text wpm``, and each generated class by seed."""
    classes: dict[str, dict[str, np.ndarray]] = {"speech": {}}
    for voice in VOICES:
        for name, text in TEXTS.items():
            for wpm in WORDS_PER_MINUTE:
                classes["speech"][f"{voice} {name} {wpm}"] = speech(SR, text, voice=voice, words_per_minute=wpm)
    makers = {"ambient pad": ambient_pad, "pink noise": pink_noise, "random notes": random_notes}
    for kind, make in makers.items():
        classes[kind] = {f"{kind} {seed}": make(SR, seconds=seconds, rng=np.random.default_rng(100 + seed))
                         for seed in range(SEEDS[kind])}
    return classes


def phantom_rates(classes: dict[str, dict[str, np.ndarray]]) -> dict[str, dict[str, float]]:
    """Beats per minute reported on each input, by class."""
    return {kind: {name: len(analyse_samples(x, sr=SR).beats) / (x.size / SR / 60.0) for name, x in inputs.items()}
            for kind, inputs in classes.items()}


def after_music(music: np.ndarray, follow: np.ndarray) -> tuple[float, int]:
    """(seconds the beat stays present after ``music`` ends and ``follow`` starts, beats reported
    in that time): the two played back to back through one analyser."""
    samples = np.concatenate([music, follow]).astype(np.float32)
    end_s = music.size / SR
    analyser = StreamingAnalyser(AnalysisConfig(sr=SR))
    last_present, beats = end_s, 0
    for start in range(0, samples.size, 512):
        events = analyser.push(samples[start:start + 512])
        if analyser.time_s > end_s:
            beats += sum(kind == "beat" for kind, _ in events)
            if analyser.snapshot.beat_present:
                last_present = analyser.time_s
    return last_present - end_s, beats


def transitions(*, seconds: float = 30.0) -> list[dict]:
    """Music (two fixtures, and the waltz and 30 s of Beethoven when the shared recordings are
    there) followed by prose speech, pink noise and an ambient pad."""
    music = {c.name: c.samples for c in fixtures() if c.name in ("clicks 90 BPM", "drums 120 BPM")}
    music.update({c.name: c.samples[: int(seconds * SR)] for c in shared_cases()
                  if c.name in ("ballroom_waltz", "asap_dev_beethoven")})
    rng = np.random.default_rng(0)
    follows = {"speech": speech(SR, SPEECH_TEXT), "pink noise": pink_noise(SR, seconds=seconds, rng=rng),
               "ambient pad": ambient_pad(SR, seconds=seconds, rng=rng)}
    rows = []
    for name, x in music.items():
        row: dict = {"music": name}
        for kind, follow in follows.items():
            row[f"{kind} s"], row[f"{kind} beats"] = after_music(x, follow)
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.presence", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    args = parser.parse_args(argv)
    rates = phantom_rates(non_rhythmic_inputs())
    moves = transitions()
    if args.json:
        print(json.dumps({"phantom_beats_per_min": rates, "after_music": moves}, default=float))
        return 0
    print(f"{'phantom beats per minute':26s} {'inputs':>6s} {'with beats':>10s} {'mean':>6s} {'max':>6s}")
    for kind, by_name in rates.items():
        values = list(by_name.values())
        print(f"{kind:26s} {len(values):6d} {sum(v > 0 for v in values):10d} {statistics.mean(values):6.1f} "
              f"{max(values):6.1f}")
    for kind, by_name in rates.items():
        for name, rate in by_name.items():
            if rate > 0:
                print(f"  {name}: {rate:.1f}")
    print("\nafter the music stops: seconds the beat stays present (beats reported)")
    kinds = [key[:-2] for key in moves[0] if key.endswith(" s")] if moves else []
    print(f"{'music, then':26s} " + " ".join(f"{k:>18s}" for k in kinds))
    for row in moves:
        print(f"{row['music']:26s} " + " ".join(f"{row[k + ' s']:8.1f} s ({row[k + ' beats']:3d})" for k in kinds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
