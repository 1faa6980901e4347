"""Audio-reactive live visualizer: music shapes a field of coupled Kuramoto oscillators.

Importing the package fixes the process-global thread settings, here and nowhere else: OpenBLAS
runs single-threaded, and OpenMP (numba's threading layer) waits passively. Every entry point (the CLI, ``python -m visualizer.tools.*``, the tests, a
user's own script) imports this module before any of ours touches NumPy, which is why this is the
one right place. See ``docs/DESIGN-NOTES.md`` ("OpenBLAS at exit") for the hang it prevents.
"""

import os
import sys

__version__ = "0.2.0"


def _single_threaded_blas() -> None:
    """OpenBLAS with one thread: no server threads to deadlock at exit, none to fight numba's.

    OpenBLAS reads OPENBLAS_NUM_THREADS once, when NumPy first loads it; if NumPy is already
    loaded (a user's script imported it first), the running pool is capped with threadpoolctl
    instead, so no BLAS call is ever handed to its server threads.
    """
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    if "numpy" in sys.modules:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1, user_api="blas")


_single_threaded_blas()
# An OpenMP worker that finishes early spins by default; under load it burns the core its partner
# needs (512² step, 2 threads, a loaded machine: 2–4 M cell-steps/s spinning, 23–32 passive), and it
# steals from our render and audio threads. OpenMP reads this once, when numba first loads it.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")
