"""Audio-reactive live visualizer: music shapes a field of coupled Kuramoto oscillators.

The scripting API is importable from here (loaded on first use, so ``import visualizer`` stays
fast)::

    from visualizer import Session, FeatureSnapshot, Field, FieldConfig, Lattice3D

Importing the package fixes the process-global thread settings, here and nowhere else: OpenBLAS
runs single-threaded, and OpenMP (numba's threading layer) waits passively. Every entry point (the CLI, ``python -m devtools.*``, the tests, a
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
# name → module that defines it: the public scripting API, loaded lazily (PEP 562)
API = {
    "Session": "visualizer.engine.session",
    "FrameState": "visualizer.engine.session",
    "FeatureSnapshot": "visualizer.engine.audio.features",
    "Field": "visualizer.engine.sim.field",
    "FieldConfig": "visualizer.engine.sim.field",
    "Lattice3D": "visualizer.engine.sim.lattice3d",
    "Params": "visualizer.engine.params",
    "REGISTRY": "visualizer.engine.params",
    "load_preset": "visualizer.engine.presets",
    "analyse_file": "visualizer.engine.audio.offline",
    "FramePainter": "visualizer.render.frames",
}
__all__ = sorted(API)


def __getattr__(name: str):
    if name not in API:
        raise AttributeError(f"module 'visualizer' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(API[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(API))


# An OpenMP worker that finishes early spins by default; under load it burns the core its partner
# needs (512² step, 2 threads, a loaded machine: 2–4 M cell-steps/s spinning, 23–32 passive), and it
# steals from our render and audio threads. OpenMP reads this once, when numba first loads it.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

from visualizer import _moved  # noqa: E402  (after the thread settings: it imports nothing heavy)

_moved.install()
