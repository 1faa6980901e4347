"""The streaming analyser: onset latency and accuracy, the demo track, auto-gain, the silence gate, tap
tempo (beats and tempo on the fixtures and real music: tests/test_beats.py)."""

from pathlib import Path

import mir_eval
import numpy as np
import pytest

from devtools.eval import SHARED_BEATS, beat_scores, demo_case, fixtures, shared_cases
from devtools.synth import click
from visualizer.engine.audio.analysis import AnalysisConfig, StreamingAnalyser
from visualizer.engine.audio.offline import analyse_samples

SR = 44100
FIXTURES = fixtures()


@pytest.mark.parametrize("block", [64, 256, 512])
def test_onset_event_arrives_within_one_hop_plus_one_block(block):
    hop = AnalysisConfig().hop
    rng = np.random.default_rng(block)
    for offset in rng.integers(SR, SR + hop * 3, size=12):  # a click anywhere within a hop
        audio = np.zeros(2 * SR, np.float32)
        audio[offset:offset + 441] += click(SR)
        analyser = StreamingAnalyser(AnalysisConfig(sr=SR))
        emitted_at = None
        for start in range(0, audio.size, block):
            if any(kind == "onset" for kind, _ in analyser.push(audio[start:start + block])):
                emitted_at = start + block  # the sample count when push returned the event
                break
        assert emitted_at is not None
        assert offset <= emitted_at <= offset + hop + block
        assert (emitted_at - offset) / SR <= 0.025 or block > 256


needs_shared = pytest.mark.skipif(not Path(SHARED_BEATS).is_dir(), reason=f"{SHARED_BEATS} is not beside the checkout")


@needs_shared
def test_onsets_on_the_real_instrument_recording():
    case = next(c for c in shared_cases() if c.name == "madmom_sample")  # decodes the folder: ~1 s
    report = analyse_samples(case.samples, sr=case.sr)
    assert mir_eval.onset.f_measure(case.onsets, np.array(report.onsets), window=0.05)[0] >= 0.90


def test_demo_track_against_its_generator():
    case = demo_case()
    report = analyse_samples(case.samples, sr=case.sr)
    beat_f = beat_scores(case.beats, np.array(report.beats))[0]
    assert mir_eval.onset.f_measure(case.onsets, np.array(report.onsets), window=0.05)[0] >= 0.85
    assert beat_f >= 0.65  # three tempo changes in 48 s: each costs the tracker a second or two


def test_auto_gain_makes_quiet_and_loud_tracks_alike():
    case = FIXTURES[7]  # drums 120
    energies = []
    for gain in (0.03, 1.0):
        analyser = StreamingAnalyser(AnalysisConfig(sr=case.sr))
        values = []
        for start in range(0, case.samples.size, 512):
            analyser.push(case.samples[start:start + 512] * gain)
            values.append(analyser.snapshot.energy)
        energies.append(np.mean(values[len(values) // 2:]))
    assert abs(energies[0] - energies[1]) < 0.05
    assert 0.2 < energies[1] < 0.8


def test_silence_gate_closes_and_stops_beats():
    case = next(c for c in FIXTURES if "gap" in c.name)
    analyser = StreamingAnalyser(AnalysisConfig(sr=case.sr))
    gated, beats_in_gap = [], 0
    for start in range(0, case.samples.size, 512):
        events = analyser.push(case.samples[start:start + 512])
        t = analyser.time_s
        if 12.5 < t < 14.3:  # the 4 s gap is 10.5..14.5 s; the gate closes 1.5 s into it
            gated.append(analyser.snapshot.silent)
            beats_in_gap += sum(kind == "beat" for kind, _ in events)
    assert all(gated) and beats_in_gap == 0
    assert not analyser.snapshot.silent


def test_tap_tempo_overrides_the_tracker_until_cleared():
    case = next(c for c in FIXTURES if c.name == "clicks 130 BPM")
    analyser = StreamingAnalyser(AnalysisConfig(sr=case.sr))
    tap_at = [5.0, 5.5, 6.0, 6.5]  # 120 BPM taps over 130 BPM music
    beats = []
    for start in range(0, case.samples.size, 512):
        if tap_at and analyser.time_s >= tap_at[0]:
            analyser.tap()
            tap_at.pop(0)
        if start == 12 * 44100 // 512 * 512:
            analyser.clear_tap()
        beats += [t for kind, t in analyser.push(case.samples[start:start + 512]) if kind == "beat"]
        if 8.0 < analyser.time_s < 11.0:
            assert analyser.snapshot.tap_tempo and analyser.snapshot.tempo_bpm == pytest.approx(120, abs=0.5)
        if 19.0 < analyser.time_s < 20.0:  # the clicks end at 20.5 s
            assert not analyser.snapshot.tap_tempo and analyser.snapshot.tempo_bpm == pytest.approx(130, rel=0.02)
    tapped = np.array([b for b in beats if 8.0 < b < 11.0])
    assert np.allclose(np.diff(tapped), 0.5, atol=0.015)
