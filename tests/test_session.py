"""The headless Session: no pygame, routes vs LFO, frame state, controls through the registry."""

import subprocess
import sys

import numpy as np
import pytest

from visualizer.engine.audio.features import FeatureSnapshot
from visualizer.engine.params import REGISTRY, Params
from visualizer.engine.session import Session

DT = 1 / 60


def test_importing_the_session_does_not_import_pygame():
    code = "import sys, visualizer.engine.session; print('pygame' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_without_music_the_sweeps_follow_an_lfo_and_with_music_the_routes_apply():
    silent = Session.from_preset("nn-dmt", size=(32, 32))
    for _ in range(60 * 10):  # 10 s into the 40 s LFO: a quarter period, the top of the range
        state = silent.advance(FeatureSnapshot(status="none"), DT)
    assert state.params.k3 == pytest.approx(20.0, abs=0.5)
    music = Session.from_preset("nn-dmt", size=(32, 32))
    for _ in range(30):  # full bass: the route's top, 20, after its 20 ms attack
        state = music.advance(FeatureSnapshot(status="test", bass=1.0), DT)
    assert state.params.k3 == pytest.approx(20.0, abs=0.1)
    assert state.base.k3 == 0.0


def test_frame_state_is_read_only_and_carries_the_clock():
    session = Session.from_preset("5meo", size=(24, 24))
    state = session.advance(FeatureSnapshot(), 0.5)
    assert state.time_s == 0.5 and state.frame == 1 and state.theta.shape == (24, 24)
    with pytest.raises(ValueError):
        state.theta[0, 0] = 1.0
    session.paused = True
    before = session.field.theta.copy()
    assert session.advance(FeatureSnapshot(), 0.5).time_s == 0.5
    assert np.array_equal(before, session.field.theta)


def test_set_base_clamps_to_the_registry_range():
    session = Session.from_preset("5meo", size=(24, 24))
    assert session.set_base("k3", 99.0) == REGISTRY["k3"].hi
    assert session.set_base("speed", -1.0) == REGISTRY["speed"].lo
    with pytest.raises(KeyError, match="unknown parameter 'k9'"):
        session.set_base("k9", 1.0)
    assert Params().replace(k1=-50.0).k1 == -20.0


def test_a_preset_switch_keeps_the_size_override_and_seed():
    session = Session.from_preset("5meo", size=(24, 30), seed=3)
    session.use_preset(session.preset.__class__(**{**session.preset.__dict__, "name": "again"}))
    assert session.field.shape == (24, 30) and session.field.config.seed == 3
