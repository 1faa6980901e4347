"""Disintegration as turbulence: phase noise correlated over a few cells and a fraction of a second.

White noise per cell at every step reads on screen as TV static. The hot phase instead drives
the field with an Ornstein–Uhlenbeck velocity field ξ (rad/s) that is smooth in space (Gaussian,
``correlation_cells``) and in time (``correlation_s``). For temperature T its amplitude is
σ = √(T / τ), so the phases diffuse as fast as under Langevin noise of that temperature
(D = σ²·τ = T), but in eddies rather than grains.

Smoothing fresh white noise every frame costs more than a whole field step (two Gaussian passes,
~17 ms at 512²). The smooth noise is instead drawn once, as a small bank of unit-variance fields
on the torus; each frame's innovation is one of them at a random cyclic offset and sign, which has
the same one-point and spatial statistics, and successive draws are uncorrelated beyond the
correlation length. One parallel pass per frame, no allocation.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange
from scipy import ndimage

BANK_FIELDS = 4  # smooth fields drawn at start; offsets and signs make each frame's draw new


@njit(parallel=True, fastmath=True, cache=True, nogil=True)
def _ou_update(state, bank, dy, dx, keep, innovation, scale, out):
    """state ← keep·state + innovation·bank[(y + dy) % H, (x + dx) % W]; out = scale·state.
    float32 (H, W) arrays; dy, dx cyclic offsets (cells); keep, innovation, scale float32."""
    height, width = state.shape
    for y in prange(height):
        source = bank[(y + dy) % height]
        row, row_out = state[y], out[y]
        for x in range(width):
            value = keep * row[x] + innovation * source[(x + dx) % width]
            row[x] = value
            row_out[x] = scale * value


class Turbulence:
    """A correlated noise field for a (H, W) grid. ``forcing(temperature, dt)`` → float32 (H, W) rad/s.

    correlation_cells : spatial Gaussian sigma (cells). correlation_s : time constant τ (s).
    wrap : kept for the callers' sake; the bank is periodic, which is smooth noise on any boundary.
    seed : the random stream.
    """

    def __init__(self, shape: tuple[int, int], *, correlation_cells: float = 2.5, correlation_s: float = 0.3,
                 wrap: bool = True, seed: int = 0):
        self.correlation_cells = correlation_cells
        self.correlation_s = correlation_s
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self._bank = np.stack([self._smooth_unit_noise(shape) for _ in range(BANK_FIELDS)])
        self._start = self._smooth_unit_noise(shape), self._rng.bit_generator.state
        self._state = self._start[0].copy()
        self._out = np.zeros(shape, np.float32)  # the kernel is loaded before the first frame (sim.warmup)

    @property
    def shape(self) -> tuple[int, int]:
        return self._out.shape

    def restart(self) -> None:
        """Back to the state and random stream it was made with (the bank, the costly part, stays)."""
        self._state[...] = self._start[0]
        self._rng.bit_generator.state = self._start[1]

    def _smooth_unit_noise(self, shape: tuple[int, int]) -> np.ndarray:
        """White noise smoothed over ``correlation_cells`` on the torus, unit variance per cell."""
        noise = ndimage.gaussian_filter(self._rng.standard_normal(shape).astype(np.float32), self.correlation_cells,
                                        mode="wrap")
        return (noise / max(float(noise.std()), 1e-12)).astype(np.float32)

    def forcing(self, temperature: float, dt: float) -> np.ndarray:
        """Advance the noise by ``dt`` (s) and return its velocity field for ``temperature`` (rad²/s)."""
        keep = float(np.exp(-dt / self.correlation_s))
        height, width = self._state.shape
        field, dy, dx, sign = self._rng.integers((BANK_FIELDS, height, width, 2))
        innovation = (1.0 - 2.0 * sign) * np.sqrt(1.0 - keep * keep)
        _ou_update(self._state, self._bank[field], int(dy), int(dx), np.float32(keep), np.float32(innovation),
                   np.float32(np.sqrt(max(temperature, 0.0) / self.correlation_s)), self._out)
        return self._out
