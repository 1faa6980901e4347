"""The field's measures taken off the render thread, so no frame pays for them.

A full set of measures (``visualizer.engine.sim.measures.measure``: the harmonic spectrum, the local
order maps, the patch labelling and the FFT correlation length) costs about a frame at 512²;
taken on the frame, it made that frame late every few frames. ``MeasureWorker`` copies the
phases on the frame (a memcpy) and measures the copy from a guarded background thread; the frame
reads the latest finished result and never waits. A submission while the worker is still busy
is skipped, so a slow machine measures less often rather than queueing work. The thread computes
the spectrum (a numba projection that releases the GIL) and hands the rest, NumPy and SciPy that
hold the GIL, to the measures' child process (``visualizer.background.worker_process``): on a nice-19
thread of the app they stalled frames that waited for the GIL. Thread and child run at the
lowest priority (nice 19), in the time the frames leave idle.
"""

from __future__ import annotations

import os
import threading

import numba
import numpy as np

from visualizer.background.guard import GuardedThread
from visualizer.background.worker_process import background_niceness
from visualizer.engine.sim.harmonics import Harmonics
from visualizer.engine.sim.measures import (
    MEASURES_PROCESS,
    Measures,
    harmonic_spectrum,
    with_spectrum,
)


class MeasureWorker:
    """Measures of submitted field states, computed in the background.

    shape : the field's (H, W). ``submit`` copies θ if the worker is idle; ``latest`` is the most
    recent finished ``Measures`` (None before the first); ``status`` is "" while healthy.
    """

    def __init__(self, shape: tuple[int, int]):
        self.shape = shape
        self._theta = np.zeros(shape, np.float32)
        self._job: tuple[Harmonics, bool, int] | None = None
        self._generation = 0  # bumped by ``forget``: results of older submissions are dropped
        self._result: tuple[int, Measures] | None = None
        self._idle = threading.Event()
        self._idle.set()
        self._wake = threading.Event()
        self._guard = GuardedThread("field measures", self._run, on_failure=lambda _: self._idle.set())

    @property
    def status(self) -> str:
        return self._guard.status

    @property
    def latest(self) -> Measures | None:
        """The newest finished measures of a state submitted since the last ``forget``."""
        result = self._result
        return result[1] if result is not None and result[0] == self._generation else None

    def forget(self) -> None:
        """Drop every result so far (the field was replaced)."""
        self._generation += 1

    def submit(self, theta: np.ndarray, harmonics: Harmonics, *, wrap: bool) -> bool:
        """Measure a copy of ``theta`` (float32 (H, W)) with ``harmonics``; False if still busy."""
        if not self._idle.is_set():
            return False
        self._idle.clear()
        self._theta[...] = theta
        self._job = (harmonics, wrap, self._generation)
        self._wake.set()
        return True

    def _run(self, stop: threading.Event) -> None:
        try:  # below the frame's threads: measures come a little later, frames never wait for a core
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), background_niceness())
        except (AttributeError, OSError):
            pass
        numba.set_num_threads(1)  # (per thread) no second OpenMP team spinning beside the frame's
        while not stop.is_set():
            if not self._wake.wait(0.5):
                continue
            self._wake.clear()
            if self._job is None:
                continue
            harmonics, wrap, generation = self._job
            self._job = None
            spectrum = harmonic_spectrum(self._theta, harmonics)
            local = MEASURES_PROCESS.call(self._theta, wrap=wrap)
            self._result = (generation, with_spectrum(spectrum, local))
            self._idle.set()

    def close(self, timeout_s: float = 2.0) -> None:
        """Stop the worker (waits up to ``timeout_s`` for a measurement in progress)."""
        self._guard.stop_event.set()
        self._wake.set()
        self._guard.close(timeout_s)
