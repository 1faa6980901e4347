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
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import numba

PARALLEL_FROM_CELLS = 384 * 384  # a field this large steps (and is colourised) on all threads
PARALLEL_FROM_PIXELS = 1_500_000  # output samples from which colourising runs on all threads (1080p: 2.1 M)
POLICY = (f"by work: one thread below {PARALLEL_FROM_CELLS} field cells and {PARALLEL_FROM_PIXELS} output "
          f"samples, all threads from there; OpenMP waits {os.environ.get('OMP_WAIT_POLICY', 'by its default')}")


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
