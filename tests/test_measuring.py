"""Measures off the render thread: the same figures as measuring on the frame, never waited for."""

import os
import time

import numpy as np
import pytest

from visualizer.background.worker_process import NICENESS_VARIABLE, background_niceness
from visualizer.engine.audio.features import FeatureSnapshot
from visualizer.engine.measuring import MeasureWorker
from visualizer.engine.session import Session
from visualizer.engine.sim.harmonics import kernel_weights, lattice_harmonics
from visualizer.engine.sim.measures import MEASURES_PROCESS, measure


def wait_for(condition, timeout_s=60.0):
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "the measure worker never finished"
        time.sleep(0.01)


@pytest.fixture
def harmonics():
    weights, _ = kernel_weights((20.0, 20.0, 10.0, 0.0), 0.0, neighborhood="diamond", links=0)
    return lattice_harmonics(32, 40, neighborhood="diamond", boundary="wrap", count=8, weights=weights)


def test_background_measures_equal_measures_on_the_frame(harmonics):
    worker = MeasureWorker((32, 40))
    try:
        theta = np.random.default_rng(0).uniform(0, 2 * np.pi, (32, 40)).astype(np.float32)
        assert worker.latest is None and worker.submit(theta, harmonics, wrap=True)
        submitted = theta.copy()
        theta[...] = 0.0  # the caller's array moves on: the worker measures its own copy
        wait_for(lambda: worker.latest is not None)
        want = measure(submitted, harmonics, wrap=True)
        got = worker.latest
        child = MEASURES_PROCESS._child  # the GIL-bound part ran in the measures' child process
        assert child is not None and child.pid != os.getpid() and child.poll() is None
        assert os.getpriority(os.PRIO_PROCESS, child.pid) == max(os.getpriority(os.PRIO_PROCESS, 0),
                                                                background_niceness())
        assert (got.order, got.patches, got.antiphase, got.corr_length) == (want.order, want.patches, want.antiphase, want.corr_length)
        np.testing.assert_array_equal(got.spectrum, want.spectrum)
        worker.forget()
        assert worker.latest is None  # a replaced field's measures are never shown
    finally:
        worker.close()


def test_background_work_is_nice_19_unless_the_environment_says_otherwise(monkeypatch, caplog):
    monkeypatch.delenv(NICENESS_VARIABLE, raising=False)
    assert background_niceness() == 19
    monkeypatch.setenv(NICENESS_VARIABLE, "0")  # what the test suite runs with
    assert background_niceness() == 0
    for bad in ("high", "25", "-5"):
        monkeypatch.setenv(NICENESS_VARIABLE, bad)
        caplog.clear()
        assert background_niceness() == 19
        assert [r.getMessage() for r in caplog.records] == [
            f"VISUALIZER_BACKGROUND_NICE={bad!r}: not a niceness from 0 to 19; using 19"]


def test_a_failing_measurement_is_reported_and_the_worker_goes_on(harmonics):
    worker = MeasureWorker((32, 40))
    try:
        worker.submit(np.zeros((32, 40), np.float32), None, wrap=True)  # no harmonics: the job raises
        wait_for(lambda: worker.status != "")
        assert worker.status.startswith("field measures failed")
        wait_for(lambda: worker.submit(np.zeros((32, 40), np.float32), harmonics, wrap=True), timeout_s=60)
        wait_for(lambda: worker.latest is not None)
        assert worker.latest.order == pytest.approx(1.0)
    finally:
        worker.close()


def test_a_live_session_measures_in_the_background_and_its_frames_never_wait():
    session = Session.from_preset("5meo", size=(48, 48), seed=0)
    try:
        assert session._measurer is not None
        features = FeatureSnapshot(status="script")
        first = session.measures
        deadline = time.monotonic() + 120  # the worker runs at nice 19: on a busy machine it waits its turn
        state = session.advance(features, 1 / 60)
        while state.measures is first and time.monotonic() < deadline:
            time.sleep(0.01)
            state = session.advance(features, 1 / 60)
        assert state.measures is not first  # a background result arrived and was shown
        assert state.measures.order > 0.0
    finally:
        session.close()
    assert session._measurer._guard.close(timeout_s=120)  # it ends (after a measurement in flight)
