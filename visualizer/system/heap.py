"""The garbage collector kept out of the frame loop.

A full collection of the start-up heap (numba, scipy, librosa, pygame and the session: about
130 000 tracked objects) takes about 70 ms on this machine: four dropped frames whenever CPython
decides to run one, on the render thread or on any thread that holds the GIL. Inside
``frozen_startup_heap()`` everything alive when the show starts sits in the permanent generation
(``gc.freeze``), so collections scan only what the show itself allocates (a full one: 0.3 ms after
600 frames). On exit the objects go back to the collector; a start-up object that dies in a
reference cycle during the show is freed then (plain garbage is freed at once, by reference count).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def frozen_startup_heap() -> Iterator[None]:
    """Collect once, freeze what is left for the duration of the block, unfreeze after it."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
