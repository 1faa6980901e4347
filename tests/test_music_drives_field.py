"""Integration: the demo track through the real analysis path drives a headless N,N-DMT field."""

import json

import numpy as np
import pytest
import scipy.signal

from devtools.plot import record
from visualizer.engine.audio.decode import load_audio, mono
from visualizer.engine.audio.demo import demo_paths

FPS = 60


@pytest.fixture(scope="module")
def session():
    return record(preset="nn-dmt", seconds=47.0, size=48)


def bass_envelope(times_s):
    """Independent of the analyser: power of the < 250 Hz band (4th-order Butterworth) over the
    last 1024 samples, divided by (itself + its 10 s running mean) as the auto-gain does, then
    followed with the preset route's 20 ms attack and 250 ms release, at 60 frames per second."""
    samples, sr = load_audio(demo_paths()[0])
    low = scipy.signal.sosfilt(scipy.signal.butter(4, 250, "low", fs=sr, output="sos"), mono(samples))
    frames = np.arange(1, int(times_s.max() * FPS) + 2) / FPS
    power = np.array([np.mean(low[max(0, int(t * sr) - 1024):int(t * sr)] ** 2) for t in frames])
    envelope, mean, level = [], 0.0, 0.0
    for n, p in enumerate(power, 1):
        mean += max(1 / (10 * FPS), 1 / n) * (p - mean)
        x = p / (p + mean + 1e-12)
        tau = 0.02 if x > level else 0.25
        level += (x - level) * (1 - np.exp(-1 / (FPS * tau)))
        envelope.append(level)
    return np.interp(times_s, frames, envelope)


def test_k3_follows_the_bass_envelope(session):
    assert np.corrcoef(session["k3"], bass_envelope(session["time_s"]))[0, 1] >= 0.8
    assert session["k3"].min() < -15 and session["k3"].max() > 10  # it sweeps the source table's range


def test_energy_and_temperature_rise_and_fall_with_the_loud_sections(session):
    sections = {name: (start, end) for start, end, _, name in json.loads(demo_paths()[1].read_text())["sections"]}
    t = session["time_s"]

    def mean(series, start, end):
        return session[series][(t > start) & (t < end)].mean()
    groove, breakdown, peak = sections["groove"], sections["breakdown"], sections["peak"]
    late_groove = (groove[1] - 6, groove[1])
    end_of_breakdown = (breakdown[1] - 2, breakdown[1])
    # E is the field's own energy now: the loud groove pumps it up, the quiet breakdown lets it relax
    assert mean("E", *late_groove) > 1.2 * mean("E", *end_of_breakdown)
    loud = (t > groove[0]) & (t < groove[1]) | (t > peak[0]) & (t < peak[1])
    assert session["hot"][loud].mean() > 0.1  # it disintegrates in the loud sections (measured ≈ 0.3)
    # at the end of the breakdown it is cold again: at most the last whisper of a cooling schedule
    assert mean("hot", *end_of_breakdown) == 0.0 and mean("T", *end_of_breakdown) < 0.01 * session["T"].max()
    assert mean("audio_energy", *late_groove) > mean("audio_energy", *end_of_breakdown)
