"""How many threads the frame's numba kernels run on: all of them only where the work pays for
waking them.

With ``OMP_WAIT_POLICY=passive`` (``visualizer/__init__.py``) the other OpenMP threads sleep
between parallel loops, and every loop wakes them. On the 2-vCPU VM of ``docs/lab/kernel.md`` an
empty parallel loop called between 0.5–5 ms of serial work takes p50 0.1–0.2 ms, p99 1.2–1.6 ms,
worst 5–11 ms. A 256² frame launched about ten such loops (the field's substeps, injection, sinks,
turbulence, colourising, the flash limiter) of 0.03–0.5 ms of work each: the wake-ups cost more
than the second thread gave back and they set the frame's tail. Two substeps at 256², 150 frames
with 3 ms of serial work between, 3 rounds: one thread p50 1.42 / p99 1.83 ms, two 1.26 / 2.90; at
384² one thread 3.16 / 5.31, two 2.36 / 6.89; at 512² 5.41 / 9.82 against 3.88 / 13.42.

Where all threads may pay, the field's step also watches how its own calls go (``ThreadChoice``):
on a machine that other processes keep busy a thread that loses its core holds up every join,
and two threads ran the 512² step at 0.73–0.87 of one thread's speed (load 4–5, issue 29).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numba

PARALLEL_FROM_CELLS = 384 * 384  # a field this large steps (and is colourised) on all threads
PARALLEL_FROM_PIXELS = 1_500_000  # output samples from which colourising runs on all threads (1080p: 2.1 M)
PROBE_EVERY = 40  # a measured call site tries the count it does not prefer once in this many calls
SMOOTHING = 0.25  # weight of a call's time in the running mean of its count's times
POLICY = (f"by work: one thread below {PARALLEL_FROM_CELLS} field cells and {PARALLEL_FROM_PIXELS} output "
          f"samples, all threads from there; the field's step keeps whichever count its recent calls ran faster "
          f"on (the other tried every {PROBE_EVERY}th call); "
          f"OpenMP waits {os.environ.get('OMP_WAIT_POLICY', 'by its default')}")


def parallel_for_cells(cells: int) -> bool:
    """Whether a field kernel over ``cells`` cells runs on all threads: only from
    ``PARALLEL_FROM_CELLS``, and never when the caller has already capped numba at one thread."""
    return cells >= PARALLEL_FROM_CELLS and numba.get_num_threads() > 1


@contextmanager
def kernel_threads(parallel: bool) -> Iterator[None]:
    """Numba kernels called inside run on all threads if ``parallel``, else on the calling thread
    alone (numba's thread count is per calling thread; the previous count comes back after)."""
    previous = numba.get_num_threads()
    wanted = numba.config.NUMBA_NUM_THREADS if parallel else 1
    if wanted == previous:
        yield
        return
    numba.set_num_threads(wanted)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


class ThreadChoice:
    """One thread or all for a call site whose work is the same from call to call (a field's
    step): all threads where ``parallel_for_cells`` allows, unless its recent calls on one thread
    ran faster, as they do when other processes keep the cores busy. Keeps a running mean
    (``SMOOTHING``) of each count's wall time a call and runs the faster; every ``PROBE_EVERY``th
    call runs the other, so a change in the machine's load is seen within that many calls."""

    def __init__(self, cells: int):
        self._cells = cells
        self._mean_s = {True: 0.0, False: 0.0}  # 0: not measured yet
        self._calls = 0

    @property
    def prefers_all(self) -> bool:
        """Whether the calls run on all threads, probes aside: until one thread has been seen faster."""
        one, every = self._mean_s[False], self._mean_s[True]
        return not (one and every) or every <= one

    @contextmanager
    def threads(self) -> Iterator[None]:
        """Run the block on the chosen count (``kernel_threads``) and record its wall time."""
        measured = parallel_for_cells(self._cells)  # else one thread, by the work or the caller's cap
        parallel = False
        if measured:
            self._calls += 1
            parallel = self.prefers_all != (self._calls % PROBE_EVERY == 0)
        start = time.perf_counter()
        with kernel_threads(parallel):
            yield
        if measured:
            self.record(parallel, time.perf_counter() - start)

    def record(self, parallel: bool, seconds: float) -> None:
        """Count a call of ``seconds`` on all threads (``parallel``) or on one."""
        mean = self._mean_s[parallel]
        self._mean_s[parallel] = seconds if mean == 0.0 else mean + SMOOTHING * (seconds - mean)
