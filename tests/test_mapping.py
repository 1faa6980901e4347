"""Modulation routes map features to parameters exactly, smoothing included."""

import math

import pytest

from visualizer.engine.audio.features import FeatureSnapshot
from visualizer.engine.modulation import Modulator, Route
from visualizer.engine.params import Params

BASE = Params(k1=2.0, k3=1.0, injection=0.0, lightness=70.0)
DT = 1 / 60


def run(route, snapshots, base=BASE):
    modulator = Modulator([route])
    return [modulator.update(base, s, time_s=i * DT, dt_s=DT).get(route.target) for i, s in enumerate(snapshots)]


def test_linear_route_adds_its_range_to_the_base():
    values = run(Route("bass", "k3", -20.0, 20.0), [FeatureSnapshot(bass=b) for b in (0.0, 0.25, 0.5, 1.0)])
    assert values == pytest.approx([1 - 20, 1 - 10, 1 + 0, 1 + 20 - 1])  # the last is clamped at 20


@pytest.mark.parametrize("curve, shape", [("square", lambda x: x * x), ("sqrt", math.sqrt),
                                          ("smoothstep", lambda x: x * x * (3 - 2 * x)), ("linear", lambda x: x)])
def test_curves_and_invert(curve, shape):
    xs = [0.0, 0.2, 0.7, 1.0]
    values = run(Route("energy", "injection", 0.0, 10.0, curve=curve), [FeatureSnapshot(energy=x) for x in xs])
    assert values == pytest.approx([10 * shape(x) for x in xs])
    inverted = run(Route("energy", "injection", 0.0, 10.0, curve=curve, invert=True),
                   [FeatureSnapshot(energy=x) for x in xs])
    assert inverted == pytest.approx([10 * shape(1 - x) for x in xs])


def test_attack_and_release_are_one_pole_followers():
    route = Route("energy", "injection", 0.0, 1.0, attack_ms=100.0, release_ms=400.0)
    values = run(route, [FeatureSnapshot(energy=1.0)] * 30 + [FeatureSnapshot(energy=0.0)] * 30)
    up, down = 1 - math.exp(-DT / 0.1), 1 - math.exp(-DT / 0.4)
    expected, y = [], 0.0
    for target in [1.0] * 30 + [0.0] * 30:
        y += (target - y) * (up if target > y else down)
        expected.append(y)
    assert values == pytest.approx(expected)
    assert values[29] == pytest.approx(1 - (1 - up) ** 30)


def test_onset_and_beat_are_one_frame_pulses_on_new_events():
    snapshots = [FeatureSnapshot(beat_count=n) for n in (0, 1, 1, 1, 3, 3)]
    assert run(Route("beat", "injection", 0.0, 4.0), snapshots) == [0, 4, 0, 0, 4, 0]
    onsets = [FeatureSnapshot(onset_count=n) for n in (0, 0, 2, 2)]
    assert run(Route("onset", "injection", 0.0, 2.0), onsets) == [0, 0, 2, 0]


def test_tempo_and_beat_phase_sources():
    tempi = [FeatureSnapshot(tempo_bpm=b) for b in (0, 60, 120, 180, 240)]
    assert run(Route("tempo", "injection", 0.0, 12.0), tempi) == pytest.approx([0, 0, 6, 12, 12])
    assert run(Route("beat_phase", "lightness", -10.0, 10.0), [FeatureSnapshot(beat_phase=p) for p in (0, 0.5, 1)]) == \
        pytest.approx([60, 70, 80])


def test_lfo_runs_through_its_range_starting_mid_way_and_rising():
    route = Route("lfo", "k3", -20.0, 20.0, period_s=4.0)
    modulator = Modulator([route])
    at = lambda t: modulator.update(Params(k3=0.0), FeatureSnapshot(), time_s=t, dt_s=DT).k3  # noqa: E731
    assert [at(t) for t in (0.0, 1.0, 2.0, 3.0)] == pytest.approx([0, 20, 0, -20])


def test_routes_to_one_target_add_up_and_clamp():
    modulator = Modulator([Route("bass", "k1", 0.0, 15.0), Route("mid", "k1", 0.0, 15.0)])
    live = modulator.update(Params(k1=2.0), FeatureSnapshot(bass=0.2, mid=0.4), time_s=0.0, dt_s=DT)
    assert live.k1 == pytest.approx(2 + 3 + 6)
    live = modulator.update(Params(k1=2.0), FeatureSnapshot(bass=1.0, mid=1.0), time_s=0.0, dt_s=DT)
    assert live.k1 == 20.0


def test_every_route_target_is_a_registry_parameter_and_clamps_to_its_range():
    from visualizer.engine.params import REGISTRY

    for name, spec in REGISTRY.items():
        modulator = Modulator([Route("energy", name, 0.0, 1000.0)])
        assert modulator.update(Params(), FeatureSnapshot(energy=1.0), time_s=0.0, dt_s=DT).get(name) == spec.hi


def test_pulse_source_is_one_while_a_steady_beat_is_heard():
    route = Route("pulse", "speed", 0.0, -0.5)
    heard = dict(silent=False, status="listening")
    snapshots = [FeatureSnapshot(beat_present=True, **heard), FeatureSnapshot(beat_present=False, **heard),
                 FeatureSnapshot(beat_present=True, silent=True, status="listening"),
                 FeatureSnapshot(beat_present=True, silent=False, status="lost"),
                 FeatureSnapshot(beat_present=True, **heard)]
    assert run(route, snapshots, base=Params(speed=1.0)) == pytest.approx([0.5, 1.0, 1.0, 1.0, 0.5])
