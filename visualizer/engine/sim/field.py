"""The oscillator field: state, configuration and the public stepping API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from visualizer.engine.sim.energy import field_energy
from visualizer.engine.sim.frequencies import natural_frequencies
from visualizer.engine.sim.kernels import (
    NOISE_TABLE_BITS,
    TWO_PI,
    coefficients_of_shells,
    fill_sin_cos,
    kuramoto_step,
    step_scratch,
)
from visualizer.engine.sim.neighbourhood import (
    BOUNDARIES,
    HALO,
    MAX_DISTANCE,
    MAX_SMALL_WORLD_LINKS,
    NEIGHBOURHOODS,
    draw_small_world,
    lattice_taps,
    neighbour_counts,
)
from visualizer.system.threads import ThreadChoice

MIN_SIDE = 2 * MAX_DISTANCE + 1  # smaller grids would make a cell its own neighbour on a torus
MAX_SIDE = 2048  # 4 M cells: about 10 steps per second on a 2-core laptop, the edge of usable


@dataclass(frozen=True)
class SimulationConfig:
    """A preset's [simulation] section: Euler step ``dt`` (s of field time per step, before the
    ``speed`` parameter) and ``substeps`` per video frame."""

    dt: float = 0.02
    substeps: int = 2


@dataclass(frozen=True)
class FieldConfig:
    """Everything that fixes a field's structure.

    height, width : grid size (cells), each ≥ 9.
    neighborhood : "diamond" (all cells at Manhattan distance 1..4) or "cross" (axis cells only).
    boundary : "wrap" (torus) or "open".
    small_world_links : random long-range targets per cell, 0..8.
    seed : seeds phases, frequencies and small-world targets.
    omega_mean, omega_spread : mean and standard deviation of the natural frequencies (rad/s).
    omega_correlation : spatial correlation length of ω (cells, Gaussian sigma).
    """

    height: int = 256
    width: int = 256
    neighborhood: str = "diamond"
    boundary: str = "wrap"
    small_world_links: int = 2
    seed: int = 0
    omega_mean: float = 1.0
    omega_spread: float = 0.5
    omega_correlation: float = 4.0

    def __post_init__(self) -> None:
        if not (MIN_SIDE <= self.height <= MAX_SIDE and MIN_SIDE <= self.width <= MAX_SIDE):
            raise ValueError(f"grid sides must be in {MIN_SIDE}..{MAX_SIDE} cells, got {self.height}×{self.width}")
        if self.neighborhood not in NEIGHBOURHOODS:
            raise ValueError(f"neighborhood must be one of {NEIGHBOURHOODS}, not {self.neighborhood!r}")
        if self.boundary not in BOUNDARIES:
            raise ValueError(f"boundary must be one of {BOUNDARIES}, not {self.boundary!r}")
        _check_links(self.small_world_links)
        if self.omega_spread < 0 or self.omega_correlation < 0:
            raise ValueError("omega_spread and omega_correlation must be ≥ 0")


def _check_links(links: int) -> None:
    if not 0 <= links <= MAX_SMALL_WORLD_LINKS:
        raise ValueError(f"small_world_links must be in 0..{MAX_SMALL_WORLD_LINKS}, not {links}")


class Field:
    """A grid of Kuramoto phase oscillators with a distance-dependent coupling kernel.

    ``theta`` (rad, [0, 2π)), ``omega`` (rad/s), both float32 (H, W), and ``small_world``
    (int32 (H·W, links) flat target indices) are plain numpy arrays: read them, write them
    (assign ``omega`` as a whole: it is kept as drawn and narrowed by the frequency spread share).
    """

    def __init__(self, config: FieldConfig = FieldConfig()):
        self.config = config
        h, w = config.height, config.width
        taps = lattice_taps(config.neighborhood)
        self._lattice_counts = neighbour_counts(h, w, taps, config.boundary)
        self._shell_counts = [neighbour_counts(h, w, taps[taps[:, 2] == shell], config.boundary)
                              for shell in range(1, MAX_DISTANCE + 1)]
        self._satisfaction_rows = np.zeros(h, np.float64)
        self._shells = coefficients_of_shells(config.neighborhood == "diamond")
        self._k_by_shell = np.zeros(MAX_DISTANCE + 1, np.float32)  # [0, K1..K4]
        self._coefficients = np.zeros(self._shells.shape, np.float32)
        self._trig_pad = np.zeros((h + 2 * HALO, 2 * (w + 2 * HALO)), np.float32)
        self._packed_trig = np.zeros(h * w, np.int32)
        self._scratch = step_scratch(w)
        self._threads = ThreadChoice(h * w)
        self._no_forcing = np.zeros((1, 1), np.float32)
        self._theta = np.zeros((h, w), np.float32)
        self._omega = np.zeros((h, w), np.float32)
        self._omega_drawn = np.zeros((h, w), np.float32)
        self._spread_share = 1.0
        self.reseed(config.seed)

    # -- state -----------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        return self._theta.shape

    @property
    def theta(self) -> np.ndarray:
        """Phases, float32 (H, W), rad in [0, 2π)."""
        return self._theta

    @theta.setter
    def theta(self, value: np.ndarray) -> None:
        self._theta[...] = np.mod(np.asarray(value, np.float64), 2 * np.pi)

    def displace(self, delta: np.ndarray) -> None:
        """Add ``delta`` (float32 (H, W), rad) to the phases at once (a kick), wrapped into [0, 2π)."""
        self._theta += delta
        np.mod(self._theta, TWO_PI, out=self._theta)

    @property
    def omega(self) -> np.ndarray:
        """Natural frequencies, float32 (H, W), rad/s."""
        return self._omega

    @omega.setter
    def omega(self, value: np.ndarray) -> None:
        self._omega_drawn[...] = value
        self._omega_mean = np.float32(self._omega_drawn.mean(dtype=np.float64))
        self._apply_spread()

    @property
    def frequency_spread_share(self) -> float:
        """The natural frequencies' spread around their mean as a share of the drawn one (0..1)."""
        return self._spread_share

    def set_frequency_spread_share(self, share: float) -> None:
        """Narrow (or restore) the natural frequencies around their mean: ω = ω̄ + share·(ω₀ − ω̄),
        ω₀ as drawn or set (the annealer's consolidation). Rewrites ω only when the share moves
        by more than 1e-3 or reaches 1."""
        share = min(max(float(share), 0.0), 1.0)
        if abs(share - self._spread_share) > 1e-3 or (share == 1.0 and self._spread_share != 1.0):
            self._spread_share = share
            self._apply_spread()

    def _apply_spread(self) -> None:
        if self._spread_share == 1.0:
            self._omega[...] = self._omega_drawn
            return
        np.subtract(self._omega_drawn, self._omega_mean, out=self._omega)
        self._omega *= np.float32(self._spread_share)
        self._omega += self._omega_mean

    @property
    def small_world(self) -> np.ndarray:
        """Long-range targets, int32 (H·W, links), flat cell indices."""
        return self._small_world

    @small_world.setter
    def small_world(self, value: np.ndarray) -> None:
        value = np.ascontiguousarray(value, dtype=np.int32)
        n_cells = self._theta.size
        if value.ndim != 2 or value.shape[0] != n_cells or value.shape[1] > MAX_SMALL_WORLD_LINKS:
            raise ValueError(f"small_world must have shape ({n_cells}, 0..{MAX_SMALL_WORLD_LINKS}), got {value.shape}")
        if value.size and (value.min() < 0 or value.max() >= n_cells):
            raise ValueError(f"small_world indices must lie in 0..{n_cells - 1}")
        self._small_world = value
        self._small_world_targets = value.view(np.uint32)  # unsigned: numba indexes by it without a sign test
        self._inv_n = (1.0 / (self._lattice_counts + value.shape[1])).astype(np.float32)
        self._uniform_inv_n = np.float32(self._inv_n.flat[0] if self.config.boundary == "wrap" else 0.0)
        inv_n = self._inv_n.astype(np.float64)
        self._strength_weights = (np.array([(inv_n * counts).mean() for counts in self._shell_counts]),
                                  value.shape[1] * inv_n.mean())

    @property
    def small_world_links(self) -> int:
        return self._small_world.shape[1]

    def set_small_world_links(self, links: int) -> None:
        """Redraw the small-world targets with ``links`` (0..8) per cell."""
        _check_links(links)
        if links != self.small_world_links:
            self.small_world = draw_small_world(self._theta.size, links, self._rng)

    def reseed(self, seed: int) -> None:
        """Fresh random phases, frequencies and small-world targets from ``seed``."""
        c = self.config
        self._rng = np.random.default_rng(seed)
        self._noise_table = self._rng.standard_normal(2**NOISE_TABLE_BITS).astype(np.float32)
        self._theta[...] = self._rng.uniform(0.0, 2 * np.pi, self._theta.shape)
        self.omega = natural_frequencies(
            height=c.height, width=c.width, mean_rad_s=c.omega_mean, spread_rad_s=c.omega_spread,
            correlation_cells=c.omega_correlation, wrap=c.boundary == "wrap", rng=self._rng)
        links = getattr(self, "_small_world", np.empty((0, c.small_world_links))).shape[1]
        self.small_world = draw_small_world(self._theta.size, links, self._rng)

    # -- dynamics --------------------------------------------------------------------------
    def step(
        self,
        *,
        dt: float,
        k: Sequence[float],
        k_sw: float,
        forcing: np.ndarray | None = None,
        temperature: float = 0.0,
        measure_energy: bool = False,
    ) -> float | None:
        """One Euler step in place; with ``measure_energy``, returns the field's energy (see
        :mod:`visualizer.engine.sim.energy`) under this kernel of the state before the step, measured in
        the same pass at no extra cost (NaN if a phase is not finite). Runs on all of numba's threads
        only where the field is large enough to pay for them and, on a busy machine, only while they
        do (``system.threads.ThreadChoice``).

        Parameters
        ----------
        dt : step (s).
        k : K1..K4, coupling at Manhattan distance 1..4.
        k_sw : coupling of the small-world links.
        forcing : optional float32 (H, W) extra phase velocity F (rad/s), e.g. energy injection.
        temperature : T ≥ 0; adds Langevin phase noise √(2T·Δt)·ξ per step (ξ standard
            normal, drawn from a seeded table: the same seed gives the same run).
        """
        self._k_by_shell[1:] = k
        np.take(self._k_by_shell, self._shells, out=self._coefficients)
        noise_std = np.float32(np.sqrt(2.0 * max(temperature, 0.0) * dt))
        with self._threads.threads():  # small fields, or a busy machine: waking threads costs more
            fill_sin_cos(self._theta, self._trig_pad, self._packed_trig, self.config.boundary == "wrap")
            kuramoto_step(
                self._theta, self._omega, self._no_forcing if forcing is None else forcing, forcing is not None,
                self._trig_pad, self._coefficients, self._packed_trig, self._small_world_targets, np.float32(k_sw),
                self._inv_n, self._uniform_inv_n, self._noise_table, noise_std,
                int(self._rng.integers(2**62)) if noise_std > 0 else 0, np.float32(dt), self._scratch,
                self._satisfaction_rows, measure_energy)
        if not measure_energy:
            return None
        strength = self.kernel_strength(k, k_sw)
        return field_energy(self._satisfaction_rows.sum() / self._theta.size, strength)

    def energy(self, *, k: Sequence[float], k_sw: float) -> float:
        """The field's energy now under the kernel (K1..K4, k_sw): dimensionless, 0 in the
        kernel's ground state, 1 for random phases (a pass of the step kernel with Δt = 0)."""
        return self.step(dt=0.0, k=k, k_sw=k_sw, measure_energy=True)

    def kernel_strength(self, k: Sequence[float], k_sw: float) -> float:
        """S = mean over cells of (1/Nᵢ)·Σⱼ |Kᵢⱼ| (rad/s): the kernel's strength on this grid."""
        shells, links = self._strength_weights
        return float(np.abs(np.asarray(k, np.float64)) @ shells + abs(k_sw) * links)

    def order_parameter(self) -> float:
        """Global Kuramoto order R = |mean(exp(iθ))| in [0, 1]."""
        theta = self._theta.astype(np.float64)
        return float(np.hypot(np.cos(theta).mean(), np.sin(theta).mean()))
