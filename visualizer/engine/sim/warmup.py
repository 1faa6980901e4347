"""Every numba kernel a live frame can call, loaded before the first frame: nothing compiles or
loads on the frame path.

numba compiles a kernel on its first call for each new combination of argument types, or loads
it from its on-disk cache (``cache=True``): seconds, or 17–70 ms a kernel. Called lazily, that
lands on the frame that first needs it: the first kick into graph eigenmodes, the first hot
frame, the first flash limited, the first switch to a preset with a 3D lattice (issue 29: a
694 ms frame in 5meo). ``prepare_kernels()`` calls each kernel once, through the objects that
call it on the frame path, on tiny inputs of the same types, so every one is compiled (first
run) or loaded (later runs) at start-up.

``visualizer compile`` (``visualizer.window.compile``) runs it once with the window's own kernel
(the 3D lattice's dots, a layer above) and fills numba's cache: the install step (32 s in the bench
on a quiet 2-core machine, 8 December) after which the first start draws its first frame in ~1 s instead of
compiling first. numba recompiles a module's kernels when its source file changes, so run it again after
updating.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from visualizer.engine.sim import kernels
from visualizer.engine.sim.field import Field, FieldConfig
from visualizer.engine.sim.harmonics import Harmonics, lattice_harmonics
from visualizer.engine.sim.injection import InjectionConfig, Injector
from visualizer.engine.sim.measures import measure
from visualizer.engine.sim.metric_sharing import SomaticConfig, SomaticField
from visualizer.engine.sim.turbulence import Turbulence

SIDE = 16  # cells a side of the fields the kernels are called on (types, not sizes, pick a kernel)
_prepared = False


def _field_kernels() -> Field:
    """The step with forcing, noise and the energy (one path for every size and neighbourhood)."""
    field = Field(FieldConfig(height=SIDE, width=SIDE))
    forcing = np.zeros(field.shape, np.float32)
    field.step(dt=0.01, k=(1.0, 1.0, 1.0, 1.0), k_sw=1.0, forcing=forcing, temperature=0.1, measure_energy=True)
    return field


def _mode_kernels(theta: np.ndarray) -> None:
    """Injection (neutral and semantic, sinks), kicks and the measures, for separable lattice
    modes and for stored graph modes (the eigenmodes with small-world links)."""
    lattice = lattice_harmonics(SIDE, SIDE, neighborhood="diamond", boundary="wrap", count=4)
    graph = Harmonics(lattice.eigenvalues, "graph", stored=np.ascontiguousarray(lattice.modes))
    for harmonics in (lattice, graph):
        injector = Injector(harmonics, InjectionConfig(blobs=2))
        for mode in ("neutral", "semantic"):
            injector.forcing(gain=1.0, time_s=0.0, mode=mode)
        injector.sink_pull(theta, rate=1.0)
        measure(theta, harmonics, wrap=True)


def _lattice_kernels() -> None:
    """The somatic lattice in both conventions, with its metric-sharing measures (normalised: the row sums of |K|)."""
    for convention in ("pinned", "demo"):
        config = SomaticConfig(convention=convention, n=3, normalised=True)
        somatic = SomaticField(config, (SIDE, SIDE))
        somatic.advance(np.zeros((SIDE, SIDE), np.float32), config.dt, couplings=config.couplings, k_x=config.k_x,
                        rotation=config.rotation)


def _render_kernels(theta: np.ndarray) -> None:
    """Colourising (every view, writable and read-only phases), the palette's gamut, the flash limiter (with
    a blend: frames alternating black and white) and the video frame conversion."""
    from visualizer.render.colour import build_lut
    from visualizer.render.colourise import VIEWS
    from visualizer.render.flash import FlashLimiter
    from visualizer.render.frames import Yuv420Frame
    from visualizer.render.scaler import FieldScaler

    build_lut("vivid", lightness=55.0)
    rows = np.zeros((32, 48), np.uint32)
    packed_lut = np.zeros(256, np.uint32)
    scaler = FieldScaler((48, 32))
    read_only = theta.view()
    read_only.flags.writeable = False
    for view in VIEWS:
        scaler.paint(theta, packed_lut, rows, view=view)
        scaler.paint(read_only, packed_lut, rows, view=view)
    limiter = FlashLimiter()
    flash_log = logging.getLogger("visualizer.render.flash")
    was_disabled, flash_log.disabled = flash_log.disabled, True  # a warm-up's strobe, not the show's: unsaid
    try:
        for frame in range(12):
            rows.fill(0xFFFFFF if frame % 2 else 0)
            limiter.apply(rows, shifts=(16, 8, 0), time_s=frame / 60)
    finally:
        flash_log.disabled = was_disabled
    Yuv420Frame((48, 32)).convert(rows, (16, 8, 0))


def _audio_kernels() -> None:
    """The beat tracker's forward step (the analysis thread's kernel)."""
    from visualizer.engine.audio.beat import BeatTracker

    BeatTracker(hop_rate_hz=86.0).step(1.0, power=1.0)


def prepare_kernels() -> float:
    """Compile (first run) or load (later runs) every kernel a live frame can call, once per
    process; returns the seconds it took (0 when already done)."""
    global _prepared
    if _prepared:
        return 0.0
    t0 = time.perf_counter()
    field = _field_kernels()
    kernels.trig_maps(field.theta)
    Turbulence(field.shape).forcing(0.1, 0.01)
    _mode_kernels(field.theta)
    _lattice_kernels()
    _render_kernels(field.theta)
    _audio_kernels()
    _prepared = True
    return time.perf_counter() - t0

