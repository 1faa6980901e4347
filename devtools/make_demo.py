"""The built-in demo track: synthesised drums, bass and pads with tempo changes.

``python -m devtools.make_demo`` writes ``assets/demo.flac`` and ``assets/demo.json`` (its exact
onset and beat times). Sections: a quiet hi-hat intro over pads, a 100 BPM groove, a quiet
breakdown, a 128 BPM four-on-the-floor peak, a 90 BPM half-time outro.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from devtools.synth import Score, hat, kick, snare, tone
from visualizer.system.paths import shipped_dir

SR = 44100
SECONDS = 48.0


# (start_s, end_s, bpm, style)
SECTIONS = [
    (0.0, 4.0, 100.0, "breakdown"),
    (4.0, 18.0, 100.0, "groove"),
    (18.0, 24.0, 100.0, "breakdown"),
    (24.0, 38.0, 128.0, "peak"),
    (38.0, 47.0, 90.0, "halftime"),
]
BASS_NOTES_HZ = [55.0, 55.0, 65.4, 49.0]  # A1 A1 C2 G1, one per bar


def generate(sr: int = SR, seed: int = 1) -> Score:
    """Render the demo track; the returned Score knows its onsets and beats."""
    rng = np.random.default_rng(seed)
    score = Score(sr=sr, seconds=SECONDS)
    k, s, h = kick(sr), snare(sr, rng), hat(sr, rng)
    for bar, start in enumerate(np.arange(0.0, SECONDS - 4.0, 4.0)):  # pads: one chord per 4 s, soft attack
        root = [220.0, 196.0, 261.6, 174.6][bar % 4]
        for ratio in (1.0, 1.25, 1.5):
            score.place(tone(sr, freq_hz=root * ratio, seconds=4.0, attack_s=1.2, decay=0.2, harmonics=2),
                        start, 0.05, onset=False)
    for start, end, bpm, style in SECTIONS:
        period = 60.0 / bpm
        n_beats = int(round((end - start) / period))
        for i in range(n_beats):
            t = start + i * period
            score.beats.append(t)
            bar, beat = divmod(i, 4)
            bass_hz = BASS_NOTES_HZ[bar % 4]
            if style == "breakdown":
                score.place(h, t, 0.5)
                continue
            if style == "groove":
                if beat in (0, 2):
                    score.place(k, t, 1.0)
                else:
                    score.place(s, t, 0.8)
                score.place(tone(sr, freq_hz=bass_hz, seconds=period * 0.9, decay=2.0), t, 0.5)
            elif style == "peak":
                score.place(k, t, 1.0)
                if beat in (1, 3):
                    score.place(s, t, 0.9)
                score.place(tone(sr, freq_hz=bass_hz, seconds=period * 0.45, decay=4.0), t + period / 2, 0.6)
            elif style == "halftime":
                if beat == 0:
                    score.place(k, t, 1.0)
                if beat == 2:
                    score.place(s, t, 0.9)
                score.place(tone(sr, freq_hz=bass_hz, seconds=period * 0.9, decay=1.5), t, 0.4)
            for eighth in (0.0, 0.5):
                score.place(h, t + eighth * period, 0.6 if eighth == 0.0 else 0.35)
    return score


def main(argv: list[str] | None = None) -> int:
    import soundfile

    parser = argparse.ArgumentParser(prog="python -m visualizer.engine.audio.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=shipped_dir("assets"))
    args = parser.parse_args(argv)
    score = generate()
    onsets, beats = score.truth()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    soundfile.write(args.out_dir / "demo.flac", score.normalised(), SR, subtype="PCM_16")
    truth = {"sr": SR, "seconds": SECONDS, "sections": SECTIONS,
             "onsets": [round(float(t), 6) for t in onsets], "beats": [round(float(t), 6) for t in beats]}
    (args.out_dir / "demo.json").write_text(json.dumps(truth, indent=1) + "\n")
    print(f"wrote {args.out_dir / 'demo.flac'} ({SECONDS:.0f} s, {len(onsets)} onsets, {len(beats)} beats)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
