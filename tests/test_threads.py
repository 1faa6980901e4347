"""The frame's thread policy (visualizer.system.threads): small fields run their kernels on one thread,
and the field evolves the same whichever way it runs."""

import numba
import numpy as np

import visualizer.engine.session
from visualizer.engine.audio.features import FeatureSnapshot
from visualizer.engine.session import Session
import visualizer.system.threads
from visualizer.system.threads import PROBE_EVERY, PARALLEL_FROM_CELLS, ThreadChoice, kernel_threads, parallel_for_cells


def test_kernel_threads_sets_the_count_inside_and_restores_it():
    before = numba.get_num_threads()
    with kernel_threads(False):
        assert numba.get_num_threads() == 1
        with kernel_threads(True):
            assert numba.get_num_threads() == numba.config.NUMBA_NUM_THREADS
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before


def _phases_after(frames: int) -> np.ndarray:
    session = Session.from_preset("nn-dmt", size=(40, 40), deterministic=True)
    try:
        music = FeatureSnapshot(status="ok", energy=0.8, bass=0.9, mid=0.5, high=0.3)
        session.annealer.heat()  # the hot phase's turbulence joins the sinks and the injection
        for _ in range(frames):
            state = session.advance(music, 1 / 60)
        return state.theta.copy()
    finally:
        session.close()


def test_a_field_evolves_the_same_on_one_thread_and_on_all(monkeypatch):
    one_thread = _phases_after(40)
    monkeypatch.setattr(visualizer.engine.session, "PARALLEL_FROM_CELLS", 0)  # every field on all threads:
    monkeypatch.setattr(visualizer.system.threads, "PARALLEL_FROM_CELLS", 0)  # the session's kernels and the step
    all_threads = _phases_after(40)
    assert np.array_equal(one_thread, all_threads)


def test_the_step_runs_on_all_threads_only_from_the_size_that_pays_and_within_the_callers_cap():
    all_threads = numba.config.NUMBA_NUM_THREADS > 1
    assert not parallel_for_cells(PARALLEL_FROM_CELLS - 1)
    assert parallel_for_cells(PARALLEL_FROM_CELLS) == all_threads
    with kernel_threads(False):  # a caller that asked for one thread (the bench's single-thread rate) keeps it
        assert not parallel_for_cells(1024 * 1024)
        assert numba.get_num_threads() == 1
    assert parallel_for_cells(1024 * 1024) == all_threads


def test_a_measured_step_keeps_the_faster_count_and_tries_the_other_every_probe():
    choice = ThreadChoice(1024 * 1024)
    assert choice.prefers_all  # nothing measured yet
    choice.record(True, 0.010)
    assert choice.prefers_all  # one thread not measured yet
    choice.record(False, 0.006)  # a busy machine: one thread ran faster
    assert not choice.prefers_all
    for _ in range(8):  # all threads become faster again: the running mean follows within a few calls
        choice.record(True, 0.003)
    assert choice.prefers_all
    if numba.config.NUMBA_NUM_THREADS > 1:
        counts = []
        for _ in range(2 * PROBE_EVERY):
            with choice.threads():
                counts.append(numba.get_num_threads())
        assert counts.count(1) == 2 and counts[PROBE_EVERY - 1] == 1  # the probes of one thread
        with kernel_threads(False):  # under a caller's cap of one thread nothing is measured or probed
            with choice.threads():
                assert numba.get_num_threads() == 1
