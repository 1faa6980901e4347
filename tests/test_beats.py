"""The causal beat tracker against human and exact ground truth, its "no beat" judgement, and one
analyser behind every path (live blocks, lockstep frames, ``visualizer analyze``, eval).

Figures in the comments were measured with ``python -m devtools.eval`` on this machine.
"""

import functools
import json
import statistics
import subprocess
import sys
from pathlib import Path

import mir_eval
import numpy as np
import pytest

from devtools.eval import beat_scores, fixtures, grooves, shared_cases
from devtools.presence import TEXTS
from devtools.synth import folk_dance, non_rhythmic, speech
from visualizer.engine.audio.analysis import AnalysisConfig, StreamingAnalyser
from visualizer.engine.audio.offline import analyse_samples

SR = 44100
SHARED = Path(__file__).parents[1].parent / "shared" / "data" / "beats"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason=f"{SHARED} is not beside the checkout")


@functools.lru_cache(maxsize=None)
def real_cases():
    return {c.name: c for c in shared_cases(SHARED)}


def real(name: str):
    return real_cases()[name]


@functools.lru_cache(maxsize=None)
def generated():
    return fixtures()


@functools.lru_cache(maxsize=None)
def held_out():
    return grooves()


@functools.lru_cache(maxsize=None)
def report(name: str):
    """The analysis of a real recording or a generated fixture, once per test session."""
    case = next((c for c in generated() + held_out() if c.name == name), None) or real(name)
    return analyse_samples(case.samples, sr=case.sr)


@functools.lru_cache(maxsize=None)
def non_rhythmic_inputs():
    return non_rhythmic(SR, seconds=30.0)


def push_in_blocks(samples: np.ndarray, sizes) -> tuple[list[float], list[float], StreamingAnalyser]:
    """Beats and downbeats of a fresh analyser fed ``samples`` in blocks of the given sizes (cycled)."""
    analyser = StreamingAnalyser(AnalysisConfig(sr=SR))
    beats, downbeats, start, i = [], [], 0, 0
    while start < samples.size:
        size = sizes[i % len(sizes)]
        for kind, t in analyser.push(samples[start:start + size]):
            (beats if kind == "beat" else downbeats if kind == "downbeat" else []).append(t)
        start += size
        i += 1
    return beats, downbeats, analyser


@needs_shared
def test_every_real_recording_gets_beats():
    """Issue 28: on an unseen Greek 2/4 song the presence gate never opened (F 0). Every annotated
    recording here must get beats: the first within 4 s of the first annotated beat on the waltz
    (measured 1.4 s), within 6 s on the rubato piano performances (measured 3.1–5.2 s; before the
    learned pulse Beethoven 12.3 s, Chopin 8.4 s)."""
    for case in real_cases().values():
        if case.beats is None:
            continue
        beats = report(case.name).beats
        # measured ≥ 0.299 (Chopin; 0.381 before the learned activation shared the observation, round eight)
        assert beat_scores(case.beats, beats)[0] > 0.25, case.name
        assert beats[0] - case.beats[0] <= (6.0 if case.name.startswith("asap") else 4.0), case.name


@needs_shared
def test_beats_on_the_real_waltz():
    f, amlt = beat_scores(real("ballroom_waltz").beats, report("ballroom_waltz").beats)
    # measured 0.845 / 1.000 since the learned activation shares the observation (round eight; 0.971
    # before): from 21 s its output is more periodic than the envelope's but 50-80 ms early, and the
    # last beats fall outside the 70 ms window (docs/lab/ears.md, "Round eight")
    assert f >= 0.80
    assert amlt >= 0.95


@needs_shared
def test_downbeats_on_the_real_waltz():
    case = real("ballroom_waltz")
    f, _ = beat_scores(case.downbeats, report("ballroom_waltz").downbeats)
    assert f >= 0.60  # measured 0.667 (0.783 before round eight's early beats): bar starts from bass onsets and harmony


@needs_shared
def test_beats_on_expressive_piano_performances():
    names = ["asap_dev_bach", "asap_dev_beethoven", "asap_dev_chopin", "asap_dev_schumann"]
    fs = [beat_scores(real(n).beats, report(n).beats)[0] for n in names]
    # measured mean 0.634 (bach 0.694, beethoven 0.699, chopin 0.381, schumann 0.761) with the
    # learned pulse opening the gate earlier; 0.606 before it (issue 11, round three), 0.595 with
    # one presence threshold for all input, 0.578 before the octave decision; librosa offline
    # 0.667, aubio 0.386. Issue 28's goal, 0.70, is not reached (docs/lab/ears.md).
    assert statistics.mean(fs) >= 0.62


def test_beats_on_generated_fixtures():
    fs = [beat_scores(c.beats, report(c.name).beats)[0] for c in generated()]
    assert statistics.mean(fs) >= 0.95  # measured 0.987
    assert min(fs) >= 0.93  # measured 0.963 (drums 100→140 BPM; drums 85 BPM was 0.863 before the octave decision)


@pytest.mark.parametrize("name", [c.name for c in generated() if c.bpm])
def test_tempo_within_two_percent_on_steady_fixtures(name):
    # drums 85 BPM (eighth-note hats) was tracked at 103.7 BPM before the octave decision and the
    # metrical-level window; now 84.9 (all steady fixtures within 1 %)
    case = next(c for c in generated() if c.name == name)
    assert abs(report(name).final_tempo() - case.bpm) / case.bpm <= 0.02
    assert mir_eval.onset.f_measure(case.onsets, np.array(report(name).onsets), window=0.05)[0] >= 0.85


def test_popular_music_grooves_are_tracked_at_the_quarter_note():
    # held out: written after the tracker was tuned. Off-beats as loud as the beats (eighth- and
    # sixteenth-note hats, open hats) are the octave trap the issue reports (≈85 BPM country at
    # 170); before the octave decision: country 85 → 136 BPM (F 0.83), country 75 → 150 (0.66),
    # rock16 95 → 126 (0.70), four 100 → 143 (0.80).
    traps = ("country 85 BPM", "country 75 BPM", "rock16 95 BPM", "four 100 BPM")
    cases = [c for c in held_out() if c.name in traps]
    fs = [beat_scores(c.beats, report(c.name).beats)[0] for c in cases]
    assert len(cases) == 4 and min(fs) >= 0.95  # measured 1.000, 0.984, 0.987, 1.000
    assert all(abs(report(c.name).final_tempo() - c.bpm) / c.bpm <= 0.02 for c in cases)


def test_tempo_change_is_followed_within_four_seconds():
    case = next(c for c in generated() if "→" in c.name)  # 100 BPM for 12 s, then 140 from 12.5 s
    beats, _, _ = push_in_blocks(case.samples, [512])
    truth = case.beats[case.beats >= 12.5 + 4.0]
    # beats while the music plays (the last hit is at 24.07 s; the file runs silent to 25 s,
    # where the filter, hearing no onset, lets its next predicted beat slip later)
    settled = np.array([b for b in beats if 12.5 + 4.0 <= b <= truth[-1] + 0.07])
    assert np.allclose(np.diff(settled), 60 / 140, atol=0.02)
    matched = sum(np.min(np.abs(truth - b)) <= 0.07 for b in settled)
    assert matched >= len(truth) - 1


@pytest.mark.parametrize("bpm,seed", [(95, 1), (120, 7), (150, 1)])
def test_folk_dances_in_two_four_are_tracked_on_the_beat_not_the_off_beat(bpm, seed):
    """Issue 28: bass and frame drum on the beats, louder chord stabs and melody on the off-beats.
    The full-band envelope locks half a beat late (F 0.000–0.035 with AMLt 0.86–0.97 on all six
    2/4 dances of devtools.synth at 95/120/150 BPM, seeds 1 and 7); the low band's onsets move it
    onto the beat (measured F 0.68–0.94 on the six)."""
    score = folk_dance(SR, meter="2/4", bpm=bpm, seed=seed)
    beats, _, analyser = push_in_blocks(score.normalised(), [256])
    assert analyser.beats.half_beat_shifts == 1
    assert beat_scores(np.array(score.beats), beats)[0] >= 0.6


@pytest.mark.parametrize("cue", ["none", "low band", "backbeat"])
def test_a_half_beat_move_follows_the_low_band_or_the_backbeat_network(cue):
    """The tracker alone, fed an exact envelope: full-band peaks (stabs) on the off-beats, 120 BPM.
    With no other cue it keeps the off-beats; with low-band peaks (bass) on the beats, or a backbeat
    network's activation that peaks on the beats, the beats move onto them once and stay there."""
    from visualizer.engine.audio.beat import BeatTracker

    rate = SR / 512
    hops = np.arange(int(30 * rate))
    period = 0.5 * rate  # 43.07 hops
    beat_hops = np.arange(0.5 * rate, hops.size, period)
    on_beat = np.zeros(hops.size)
    on_beat[np.round(beat_hops).astype(int)] = 1.0
    off_beat = np.zeros(hops.size)
    off_beat[np.round(beat_hops + period / 2).astype(int)[:-1]] = 1.0
    odf = 2.0 * off_beat + 1.0 * on_beat + 0.05
    low = 3.0 * on_beat if cue == "low band" else np.zeros(hops.size)
    backbeat = 0.8 * on_beat + 0.02 if cue == "backbeat" else None
    truth = beat_hops / rate
    tracker = BeatTracker(hop_rate_hz=rate)
    reported, shares = [], set()
    for h in hops:
        if tracker.step(float(odf[h]), power=1e-2, accent=float(odf[h]), low=float(low[h]),
                        backbeat=None if backbeat is None else float(backbeat[h])):
            reported.append((h + 1) / rate)
        shares.add((tracker.low_weight > 0, tracker.learned_hold > 0))
    late = [b for b in reported if b > 15.0]
    error = np.array([np.min(np.abs(truth - b)) for b in late])
    if cue == "none":
        assert tracker.half_beat_shifts == 0 and np.median(error) > 0.2  # on the off-beats, 0.25 s out
    else:
        assert tracker.half_beat_shifts == 1 and np.all(error < 0.05)
        assert shares == {(False, False), (cue == "low band", cue == "backbeat")}  # the moving cue then holds it


@pytest.mark.parametrize("name", ["speech", "pink noise", "ambient pad", "silence"])
def test_no_phantom_beats_on_non_rhythmic_input(name):
    samples = non_rhythmic_inputs()[name]
    beats, _, analyser = push_in_blocks(samples, [256])
    per_minute = len(beats) / (samples.size / SR / 60)
    assert per_minute <= 2.0  # measured 0.0 on all four (aubio: ~118 per minute)
    assert not analyser.snapshot.beat_present and analyser.snapshot.tempo_bpm == 0.0


def test_no_phantom_beats_when_counting_aloud():
    """Counting aloud is the most periodic speech: 86 beats per minute with one presence
    threshold for all input (0.2), none once input that pauses needs 0.25."""
    samples = speech(SR, TEXTS["counting"], voice="en-gb-scotland", words_per_minute=140)
    beats, _, analyser = push_in_blocks(samples, [256])
    assert len(beats) / (samples.size / SR / 60) <= 2.0
    assert not analyser.snapshot.beat_present


def share_at_the_lower_on_threshold(samples: np.ndarray) -> float:
    """Share of the hops after the first 6 s in which a continuous texture's on-threshold is in force."""
    analyser = StreamingAnalyser(AnalysisConfig(sr=SR))
    in_force = []
    for start in range(0, samples.size, 512):
        analyser.push(samples[start:start + 512])
        if analyser.time_s > 6.0:
            in_force.append(analyser.beats.on_threshold < 0.25)
    return float(np.mean(in_force))


@pytest.mark.parametrize("name", ["speech", "ambient pad"])
def test_speech_and_pads_never_get_the_lower_on_threshold(name):
    """Speech pauses between words; a pad's swells give the onset envelope nothing above its
    flutter floor (measured: 0.00 of the time on both)."""
    assert share_at_the_lower_on_threshold(non_rhythmic_inputs()[name]) < 0.05


@needs_shared
def test_continuous_piano_gets_the_lower_on_threshold():
    """Chopin op. 10/1's pedalled semiquavers never pause (measured: 0.64 of the time)."""
    assert share_at_the_lower_on_threshold(real("asap_dev_chopin").samples) > 0.5


def test_silence_after_music_decays_to_no_beat():
    case = next(c for c in generated() if c.name == "drums 120 BPM")
    samples = np.concatenate([case.samples, np.zeros(6 * SR, np.float32)])
    analyser = StreamingAnalyser(AnalysisConfig(sr=SR))
    present_during_music = []
    for start in range(0, samples.size, 735):
        analyser.push(samples[start:start + 735])
        if 8.0 < analyser.time_s < 20.0:
            present_during_music.append(analyser.snapshot.beat_present)
    assert all(present_during_music)
    s = analyser.snapshot
    assert not s.beat_present and s.tempo_bpm == 0.0 and s.beat_confidence < 0.5 and s.bar_phase == 0.0


@needs_shared
def test_live_blocks_lockstep_frames_analyze_and_eval_give_identical_beats():
    case = real("ballroom_waltz")
    expected = report("ballroom_waltz")  # analyse_samples: what eval and ``visualizer analyze`` call
    live_beats, live_down, _ = push_in_blocks(case.samples, [256])
    frame_beats, frame_down, _ = push_in_blocks(case.samples, [735])  # one 60 fps frame at 44.1 kHz
    ragged_beats, _, _ = push_in_blocks(case.samples, [1, 700, 2048, 37, 512, 3000])  # ring-buffer reads
    cli = subprocess.run([sys.executable, "-m", "visualizer", "analyze", str(SHARED / "ballroom_waltz.wav"), "--json"],
                         capture_output=True, text=True, check=True)
    out = json.loads(cli.stdout)
    assert len(expected.beats) > 30
    assert live_beats == frame_beats == ragged_beats == expected.beats
    assert live_down == frame_down == expected.downbeats
    assert out["beats"] == [round(t, 4) for t in expected.beats]
    assert out["downbeats"] == [round(t, 4) for t in expected.downbeats]


def test_bar_fields_are_consistent():
    case = next(c for c in generated() if c.name == "clicks 130 BPM")
    analyser = StreamingAnalyser(AnalysisConfig(sr=SR))
    beats = downbeats = 0
    for start in range(0, case.samples.size, 512):
        events = analyser.push(case.samples[start:start + 512])
        s = analyser.snapshot
        beats += sum(k == "beat" for k, _ in events)
        downbeats += sum(k == "downbeat" for k, _ in events)
        assert s.meter in (3, 4) and 0 <= s.beat_in_bar <= s.meter and 0.0 <= s.bar_phase < 1.0
        assert s.beat_count == beats and s.downbeat_count == downbeats
    assert analyser.snapshot.beat_present and 0 < downbeats < beats


def test_beat_config_is_checked_and_frozen():
    from dataclasses import FrozenInstanceError

    from visualizer.engine.audio.beat import BeatConfig, BeatTracker

    config = BeatConfig(present_on=0.3)
    with pytest.raises(FrozenInstanceError):
        config.present_on = 0.2  # type: ignore[misc]
    for bad in ({"min_bpm": 300.0}, {"beat_fraction": 1.0}, {"present_on": 1.5}, {"octave_beats": 2.5},
                {"present_off": 0.2, "present_on_continuous": 0.1}, {"learned_weight": -0.1}, {"level_rate": "fast"}):
        with pytest.raises(ValueError, match="BeatConfig"):
            BeatConfig(**bad)
    tracker = BeatTracker(hop_rate_hz=44100 / 512, config=BeatConfig(min_bpm=60.0, max_bpm=180.0))
    bpms = 60.0 * 44100 / 512 / tracker.periods
    assert 180.0 <= bpms.max() <= 190.0 and 59.0 <= bpms.min() <= 60.0  # integer periods: the grid rounds outwards
    analyser = StreamingAnalyser(AnalysisConfig(sr=SR, min_bpm=70.0, beat=BeatConfig(present_on=0.3)))
    assert analyser.beats.config.min_bpm == 70.0 and analyser.beats.config.present_on == 0.3
