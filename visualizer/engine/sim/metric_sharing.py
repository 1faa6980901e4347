"""Metric sharing: the 3D somatic lattice and the 2D visual field coupled through the projection.

Each lattice node i projects (with the view rotation) to one visual-field cell c(i). With cross
coupling K_x (rad/s) the two fields pull on each other where they meet:

    node i  gets   K_x·sin(θ2[c(i)] − θᵢ)                              (added to its phase velocity)
    cell c  gets   K_x·mean_{i: c(i)=c} sin(θᵢ − θ2[c])                (0 where no node projects)

Measures (all in [0, 1]):

- agreement A = |mean_i e^{i(θᵢ − θ2[c(i)])}|: 1 when the two patterns agree where they meet (up to
  one common phase offset).
- indistinguishability M: from the current lattice state, run ``horizon_steps`` steps under the 3D
  metric and under the projected metric (no cross forcing); with a, b the coupling-driven
  displacements (θ(h) − θ(0) − ω·h·dt, wrapped), M = 1 − ‖a − b‖²/(‖a‖² + ‖b‖² + N·ε²),
  clipped at 0, ε = 1e-3 rad: 1 when the waves cannot tell which metric they live in.
- cessation index Z = R_lattice · R_visual · A · M: high only when both fields are globally
  coherent (R = |mean e^{iθ}|) and no distinction between them or between the metrics remains.
  ``cessation_active`` turns on at Z ≥ threshold and off at Z < threshold − hysteresis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, Sequence

import numpy as np
from numba import njit

from visualizer.engine.schema import (
    check_table,
    choice,
    flag,
    integer,
    number,
    numbers,
    ordered_pair,
    parameter,
)
from visualizer.engine.params import REGISTRY
from visualizer.engine.sim.lattice3d import (
    CONVENTIONS,
    CORNER_ROTATION,
    DEMO_DT,
    DEMO_SCREEN,
    METRICS,
    SQUARE_ROTATION,
    Lattice3D,
)
from visualizer.system.trig import sin_cos

PROJECTIONS = ("corner", "square", "free")
DEMO_MAX_N = 16  # the demo's update is O(N²) a step: 16³ takes tens of ms
INDISTINGUISHABLE_RAD = 1e-3  # ε: displacement differences below this (RMS) count as none


# -- configuration --------------------------------------------------------------------------
@dataclass(frozen=True)
class SomaticConfig:
    """A preset's ``[lattice]`` section.

    enabled : run the lattice at all.
    convention : "pinned" (the pinned model, FFT-exact, any n) or "demo" (QRI's demo as it runs:
        its d_max, the pixel metric on ``screen``, the in-place depth-ordered update, ω uniform in
        [0.5, 1), dt 0.05 unless given; n ≤ 16; omega_mean/omega_spread do not apply). See
        ``visualizer.engine.sim.lattice3d``.
    screen : (width, height) px of the demo's window (the projected metric's d_max is its
        diagonal); only with convention "demo".
    n : lattice side (n³ nodes), 2..64.
    metric : "lattice" (3D distance) or "projected" (distance on screen).
    alpha : blend weight of the projected distance in [0, 1]; None → 0 or 1 from ``metric``.
    projection : "corner" (down the (1,1,1) diagonal: hexagonal), "square" (down z) or "free"
        (``rotation_deg``, mouse and auto-rotate).
    rotation_deg : (rx, ry) starting rotation (deg), only with projection "free"; the demo's
        convention (x' = x·cos ry − z·sin ry, ...; before issue 33 ry had the other sign).
    auto_rotate_deg_s : turning speed about y (deg/s).
    couplings : C1..C4 of the four rings.
    normalised : sᵢ = 1/Σⱼ|I(d_ij)| instead of 1.
    k_x : cross coupling between the lattice and the visual field (rad/s), ≥ 0.
    omega_mean, omega_spread : the nodes' natural frequencies (rad/s): normal(mean, spread).
    dt, substeps : lattice step (s) and steps per frame.
    cessation_threshold, cessation_hysteresis : when the cessation index counts as reached.
    sweep_c1 : (low, high) of a sine sweep of C1, or None; sweep_period_s its period (s).
    """

    enabled: bool = True
    convention: str = "pinned"
    screen: tuple[int, int] = DEMO_SCREEN
    n: int = 7
    metric: str = "projected"
    alpha: float | None = None
    projection: str = "free"
    rotation_deg: tuple[float, float] = (20.0, 30.0)
    auto_rotate_deg_s: float = 0.0
    couplings: tuple[float, float, float, float] = (-0.1, 0.0, 0.0, 0.0)
    normalised: bool = False
    k_x: float = 0.0
    omega_mean: float = 1.0
    omega_spread: float = 0.0
    dt: float = 0.02
    substeps: int = 1
    cessation_threshold: float = 0.8
    cessation_hysteresis: float = 0.1
    sweep_c1: tuple[float, float] | None = None
    sweep_period_s: float = 20.0

    @property
    def rotation(self) -> tuple[float, float]:
        """The starting (rx, ry) in rad: fixed by ``projection`` unless it is "free"."""
        if self.projection == "corner":
            return CORNER_ROTATION
        if self.projection == "square":
            return SQUARE_ROTATION
        return math.radians(self.rotation_deg[0]), math.radians(self.rotation_deg[1])

    def couplings_at(self, time_s: float) -> tuple[float, float, float, float]:
        """C1..C4 at ``time_s``: C1 follows the sweep, lo + (hi − lo)·(½ + ½ sin(2πt/period))."""
        if self.sweep_c1 is None:
            return self.couplings
        lo, hi = self.sweep_c1
        c1 = lo + (hi - lo) * (0.5 + 0.5 * math.sin(2 * math.pi * time_s / self.sweep_period_s))
        return (c1,) + self.couplings[1:]

    @classmethod
    def from_table(cls, table: dict[str, Any], where: str) -> "SomaticConfig":
        """Validate a ``[lattice]`` TOML table; ValueError with one line naming the key, the bad
        value and what is allowed. ``where`` prefixes the message (e.g. "presets/x.toml: [lattice]")."""
        clean = check_table(table, _CHECKS, where)
        if "rotation_deg" in clean and clean.get("projection", cls.projection) != "free":
            raise ValueError(f"{where}: rotation_deg = {table['rotation_deg']!r}: "
                             "allowed only with projection = 'free'")
        if clean.get("convention", cls.convention) == "demo":
            for key in ("omega_mean", "omega_spread"):
                if key in clean:
                    raise ValueError(f"{where}: {key} = {table[key]!r}: not with convention = 'demo' "
                                     "(the demo draws ω uniform in [0.5, 1))")
            if clean.get("n", cls.n) > DEMO_MAX_N:
                raise ValueError(f"{where}: n = {clean['n']!r}: convention = 'demo' updates in place, O(N²) a step: "
                                 f"n ≤ {DEMO_MAX_N}")
            clean.setdefault("dt", DEMO_DT)
        elif "screen" in clean:
            raise ValueError(f"{where}: screen = {table['screen']!r}: allowed only with convention = 'demo'")
        return cls(**clean)


def _screen(v: Any) -> tuple[int, int]:
    if (not isinstance(v, list) or len(v) != 2
            or not all(isinstance(x, int) and not isinstance(x, bool) and 16 <= x <= 16384 for x in v)):
        raise ValueError("[width, height], integers in 16..16384 (px)")
    return int(v[0]), int(v[1])


_CHECKS = {
    "enabled": flag,
    "convention": choice(CONVENTIONS),
    "screen": _screen,
    "n": integer(2, 64),
    "metric": choice(METRICS),
    "alpha": parameter("metric_blend"),
    "projection": choice(PROJECTIONS),
    "rotation_deg": numbers(2, -360.0, 360.0),
    "auto_rotate_deg_s": parameter("spin"),
    "couplings": numbers(4, REGISTRY["c1"].lo, REGISTRY["c1"].hi),
    "normalised": flag,
    "k_x": parameter("k_x"),
    "omega_mean": number(-50.0, 50.0),
    "omega_spread": number(0.0, 50.0),
    "dt": number(1e-4, 0.2),
    "substeps": integer(1, 16),
    "cessation_threshold": number(0.05, 1.0),
    "cessation_hysteresis": number(0.0, 0.5),
    "sweep_c1": ordered_pair(REGISTRY["c1"].lo, REGISTRY["c1"].hi),
    "sweep_period_s": number(1.0, 3600.0),
}
assert set(_CHECKS) == {f.name for f in fields(SomaticConfig)}


# -- the projection onto the grid -----------------------------------------------------------
def projected_cells(lattice: Lattice3D, rotation: tuple[float, float], grid_shape: tuple[int, int]) -> np.ndarray:
    """Flat visual-field cell index of each node, int64 (n³,).

    The disc that holds every rotation of the lattice (radius √3·(n−1)/2) fills the grid: screen
    x ∈ [−r, r] → column 0..W−1, screen y ∈ [−r, r] → row 0..H−1 (y down, as on screen).
    """
    height, width = grid_shape
    r = lattice.extent
    xy = lattice.project(rotation)[:, :2]
    cols = np.clip(np.floor((xy[:, 0] + r) / (2 * r) * width), 0, width - 1).astype(np.int64)
    rows = np.clip(np.floor((xy[:, 1] + r) / (2 * r) * height), 0, height - 1).astype(np.int64)
    return rows * width + cols


# -- measures -------------------------------------------------------------------------------
@dataclass(frozen=True)
class SomaticMeasures:
    """One frame's metric-sharing measures, each in [0, 1] (see the module docstring), and the mean
    phase (rad) of both fields together: the colour a dissolved, uniform screen would take."""

    order_lattice: float
    order_visual: float
    agreement: float
    indistinguishability: float
    cessation: float
    cessation_active: bool
    mean_phase: float


@njit(fastmath=True, cache=True, nogil=True)
def _phasor_sums(theta):
    """(Σ cos θ, Σ sin θ) over a 1-D float32 array (each term to ~5e-7): float32 sums over runs of
    256, which vectorise (an indexed loop; ``for t in theta`` did not: 65 536 phases 202 → 37 µs),
    added up in float64."""
    total_cos = 0.0
    total_sin = 0.0
    for start in range(0, theta.shape[0], 256):
        run = theta[start:start + 256]
        run_cos = np.float32(0.0)
        run_sin = np.float32(0.0)
        for i in range(run.shape[0]):
            sin_t, cos_t = sin_cos(run[i])
            run_cos += cos_t
            run_sin += sin_t
        total_cos += run_cos
        total_sin += run_sin
    return total_cos, total_sin


def _mean_phasor(theta: np.ndarray) -> complex:
    """mean e^{iθ}. float32 phases (the visual field: 65k cells and more, every frame) go through
    one numba pass, 10× NumPy's float64 cos and sin; anything else (node differences) through NumPy."""
    if theta.dtype == np.float32:
        flat = np.ascontiguousarray(theta).reshape(-1)
        total_cos, total_sin = _phasor_sums(flat)
        return complex(total_cos / flat.size, total_sin / flat.size)
    theta = np.asarray(theta, np.float64)
    return complex(np.cos(theta).mean(), np.sin(theta).mean())


def order(theta: np.ndarray) -> float:
    """|mean e^{iθ}| of any phase array."""
    return abs(_mean_phasor(theta))


def agreement(theta_nodes: np.ndarray, theta_cells: np.ndarray) -> float:
    """|mean e^{i(θ_node − θ_cell)}| over node/cell pairs (equal shapes)."""
    return order(np.asarray(theta_nodes, np.float64) - np.asarray(theta_cells, np.float64))


def displacement_likeness(a: np.ndarray, b: np.ndarray) -> float:
    """1 − ‖a − b‖²/(‖a‖² + ‖b‖² + N·ε²), clipped at 0: how alike two displacement fields (rad) are."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    eps2 = a.size * INDISTINGUISHABLE_RAD**2
    return max(0.0, 1.0 - float(np.sum((a - b) ** 2)) / (float(np.sum(a * a) + np.sum(b * b)) + eps2))


def _wrap(x: np.ndarray) -> np.ndarray:
    return np.mod(x + np.pi, 2 * np.pi) - np.pi


# -- the driver -----------------------------------------------------------------------------
class SomaticField:
    """The lattice plus its coupling to a visual field of ``grid_shape``; call ``advance`` per frame.

    config : the preset's SomaticConfig.
    grid_shape : (H, W) of the visual field.
    seed : seeds the lattice's phases and natural frequencies (in the demo convention the lattice
        draws its own, uniform in [0.5, 1)).
    horizon_steps : steps of the indistinguishability look-ahead.
    indistinguishability_every : recompute M every this many frames (2·horizon steps, spread over them).
    """

    def __init__(self, config: SomaticConfig, grid_shape: tuple[int, int], seed: int = 0, *,
                 horizon_steps: int = 4, indistinguishability_every: int = 6):
        self.config = config
        self.grid_shape = tuple(grid_shape)
        def lattice() -> Lattice3D:
            return Lattice3D(config.n, seed, convention=config.convention, screen=config.screen)

        self.lattice = lattice()
        if config.convention == "pinned":
            rng = np.random.default_rng(seed + 1)
            self.lattice.omega[:] = rng.normal(config.omega_mean, config.omega_spread, config.n**3)
        self._probes = {metric: lattice() for metric in METRICS}
        self.horizon_steps = horizon_steps
        self.indistinguishability_every = indistinguishability_every
        self._frame = 0
        self._indistinguishability = 1.0
        self._look: tuple[np.ndarray, float, tuple[float, ...], tuple[float, float]] | None = None
        self._look_steps_done = 0
        self._moved: np.ndarray | None = None
        self._active = False
        size = self.grid_shape[0] * self.grid_shape[1]
        self._forcing = np.zeros(self.grid_shape, np.float32)
        self._node_forcing = np.zeros(config.n**3, np.float32)
        self._counts = np.zeros(size, np.float64)
        self._rotation_key: tuple[float, float] | None = None
        self.cells = np.zeros(config.n**3, np.int64)

    def _update_cells(self, rotation: tuple[float, float]) -> None:
        if rotation != self._rotation_key:
            self.cells[:] = projected_cells(self.lattice, rotation, self.grid_shape)
            self._counts[...] = np.bincount(self.cells, minlength=self._counts.size)
            self._rotation_key = rotation

    def advance(self, theta2d: np.ndarray, dt: float, *, couplings: Sequence[float], k_x: float,
                rotation: tuple[float, float], alpha: float | None = None) -> tuple[np.ndarray, SomaticMeasures]:
        """Run ``config.substeps`` lattice steps of ``dt`` s, pulled by ``theta2d``; measure.

        Parameters
        ----------
        theta2d : float32 (H, W) visual-field phases (rad), read only.
        dt : lattice step (s); pass ``config.dt``.
        couplings : C1..C4 this frame (``config.couplings_at(t)`` or modulated).
        k_x : cross coupling this frame (rad/s).
        rotation : (rx, ry) view rotation this frame (rad).
        alpha : the metric's blend this frame (0 lattice … 1 projected); None: ``config.alpha``.

        Returns
        -------
        forcing : float32 (H, W) phase velocity (rad/s) for the visual field's ``step(forcing=...)``;
            an internal buffer, valid until the next call.
        measures : SomaticMeasures.
        """
        if theta2d.shape != self.grid_shape:
            raise ValueError(f"theta2d has shape {theta2d.shape}, the somatic field was built for {self.grid_shape}")
        c = self.config
        rotation = (float(rotation[0]), float(rotation[1]))
        self._update_cells(rotation)
        cell_theta = theta2d.reshape(-1)[self.cells]
        lattice = self.lattice
        for _ in range(c.substeps):
            np.multiply(k_x, np.sin(cell_theta - lattice.theta), out=self._node_forcing)
            lattice.step(dt, couplings, metric=c.metric, alpha=c.alpha if alpha is None else alpha, rotation=rotation,
                         normalised=c.normalised, forcing=self._node_forcing)
        pull = np.sin(lattice.theta.astype(np.float64) - cell_theta)
        total = np.bincount(self.cells, weights=pull, minlength=self._counts.size)
        np.divide(k_x * total, np.maximum(self._counts, 1.0), out=self._forcing.reshape(-1), casting="unsafe")

        self._look_ahead(dt, couplings, rotation)
        self._frame += 1
        phasor_lattice, phasor_visual = _mean_phasor(lattice.theta), _mean_phasor(theta2d)
        r3, r2 = abs(phasor_lattice), abs(phasor_visual)
        mean_phase = float(np.mod(np.angle(phasor_lattice + phasor_visual), 2 * np.pi))
        a = agreement(lattice.theta, theta2d.reshape(-1)[self.cells])
        z = r3 * r2 * a * self._indistinguishability
        if z >= c.cessation_threshold:
            self._active = True
        elif z < c.cessation_threshold - c.cessation_hysteresis:
            self._active = False
        return self._forcing, SomaticMeasures(order_lattice=r3, order_visual=r2, agreement=a,
                                              indistinguishability=self._indistinguishability,
                                              cessation=z, cessation_active=self._active, mean_phase=mean_phase)

    def _look_ahead(self, dt: float, couplings: Sequence[float], rotation: tuple[float, float]) -> None:
        """M from the state saved every ``indistinguishability_every`` frames: its two probes'
        2·horizon_steps lattice steps are spread evenly over the frames until the next save (at
        most ⌈2·horizon / every⌉ a frame, so no frame pays for a whole probe), and M changes when
        the second probe ends."""
        if self._frame % self.indistinguishability_every == 0:
            self._look = (self.lattice.theta.copy(), dt, tuple(couplings), rotation)
            self._look_steps_done = 0
        if self._look is None:
            return
        start, look_dt, look_couplings, look_rotation = self._look
        for _ in range(-(-2 * self.horizon_steps // self.indistinguishability_every)):
            probe_index, step = divmod(self._look_steps_done, self.horizon_steps)
            metric = METRICS[probe_index]
            if step == 0:
                self._start_probe(metric, start)
            self._probes[metric].step(look_dt, look_couplings, metric=metric, rotation=look_rotation,
                                      normalised=self.config.normalised)
            self._look_steps_done += 1
            if step < self.horizon_steps - 1:
                continue
            moved = self._probe_displacement(metric, start, look_dt)
            if probe_index == 0:
                self._moved = moved
            else:
                self._indistinguishability = displacement_likeness(self._moved, moved)
                self._look = None
                return

    def indistinguishability(self, dt: float, *, couplings: Sequence[float], rotation: tuple[float, float]) -> float:
        """M of the current lattice state over ``horizon_steps`` steps of ``dt`` (see the module docstring)."""
        start = self.lattice.theta.copy()
        return displacement_likeness(*(self._probe(metric, start, dt, couplings, rotation) for metric in METRICS))

    def _probe(self, metric: str, start: np.ndarray, dt: float, couplings: Sequence[float],
               rotation: tuple[float, float]) -> np.ndarray:
        """How far (rad, wrapped, float64 (N,)) each node moves beyond its free rotation in
        ``horizon_steps`` steps under ``metric`` from the phases ``start`` (float32 (N,))."""
        self._start_probe(metric, start)
        for _ in range(self.horizon_steps):
            self._probes[metric].step(dt, couplings, metric=metric, rotation=rotation,
                                      normalised=self.config.normalised)
        return self._probe_displacement(metric, start, dt)

    def _start_probe(self, metric: str, start: np.ndarray) -> None:
        probe = self._probes[metric]
        probe.theta[:] = start
        probe.omega[:] = self.lattice.omega
        probe.order[:] = self.lattice.order

    def _probe_displacement(self, metric: str, start: np.ndarray, dt: float) -> np.ndarray:
        """The ``metric`` probe's move since ``start`` beyond ``horizon_steps`` of free rotation."""
        free = self.horizon_steps * dt * self.lattice.omega.astype(np.float64)
        return _wrap(self._probes[metric].theta - start.astype(np.float64) - free)
