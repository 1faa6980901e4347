"""The frame's thread policy (visualizer.system.threads): small fields run their kernels on one thread,
and the field evolves the same whichever way it runs."""

import numba
import numpy as np

import visualizer.engine.session
from visualizer.engine.audio.features import FeatureSnapshot
from visualizer.engine.session import Session
from visualizer.system.threads import kernel_threads


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
    monkeypatch.setattr(visualizer.engine.session, "PARALLEL_FROM_CELLS", 0)  # every field on all threads
    all_threads = _phases_after(40)
    assert np.array_equal(one_thread, all_threads)
