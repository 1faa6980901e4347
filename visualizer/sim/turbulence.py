"""Disintegration as turbulence: phase noise correlated over a few cells and a fraction of a second.

White noise per cell at every step reads on screen as TV static. The hot phase instead drives
the field with an Ornstein–Uhlenbeck velocity field ξ (rad/s) that is smooth in space (Gaussian,
``correlation_cells``) and in time (``correlation_s``). For temperature T its amplitude is
σ = √(T / τ), so the phases diffuse as fast as under Langevin noise of that temperature
(D = σ²·τ = T), but in eddies rather than grains.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


class Turbulence:
    """A correlated noise field for a (H, W) grid. ``forcing(temperature, dt)`` → float32 (H, W) rad/s.

    correlation_cells : spatial Gaussian sigma (cells). correlation_s : time constant τ (s).
    wrap : torus boundaries for the smoothing. seed : the random stream.
    """

    def __init__(self, shape: tuple[int, int], *, correlation_cells: float = 2.5, correlation_s: float = 0.3,
                 wrap: bool = True, seed: int = 0):
        self.correlation_cells = correlation_cells
        self.correlation_s = correlation_s
        self._mode = "wrap" if wrap else "reflect"
        self._rng = np.random.default_rng(seed)
        self._state = self._smooth_unit_noise(shape)
        self._out = np.zeros(shape, np.float32)

    def _smooth_unit_noise(self, shape: tuple[int, int]) -> np.ndarray:
        """White noise smoothed over ``correlation_cells``, rescaled to unit variance per cell."""
        noise = ndimage.gaussian_filter(self._rng.standard_normal(shape).astype(np.float32), self.correlation_cells,
                                        mode=self._mode)
        return noise / max(float(noise.std()), 1e-12)

    def forcing(self, temperature: float, dt: float) -> np.ndarray:
        """Advance the noise by ``dt`` (s) and return its velocity field for ``temperature`` (rad²/s)."""
        a = float(np.exp(-dt / self.correlation_s))
        self._state *= a
        self._state += np.sqrt(1.0 - a * a) * self._smooth_unit_noise(self._state.shape)
        np.multiply(self._state, np.float32(np.sqrt(max(temperature, 0.0) / self.correlation_s)), out=self._out)
        return self._out
