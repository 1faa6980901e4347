"""A branch-free float32 sin/cos for numba kernels, shared by the simulation and the renderer."""

from __future__ import annotations

import numpy as np
from numba import njit

_HALF_PI = np.float32(np.pi / 2)
_TWO_OVER_PI = np.float32(2 / np.pi)


@njit(inline="always", fastmath=True, cache=True)
def sin_cos(t):
    """(sin t, cos t) in float32 to ~5e-7, branch-free so row loops vectorise (libm's sin and cos
    do not). Reduces t by quadrant to |r| ≤ π/4, then short Taylor polynomials."""
    q = np.floor(t * _TWO_OVER_PI + np.float32(0.5))
    r = t - q * _HALF_PI
    r2 = r * r
    s = r * (np.float32(1.0) + r2 * (np.float32(-1 / 6) + r2 * (np.float32(1 / 120) + r2 * np.float32(-1 / 5040))))
    c = np.float32(1.0) + r2 * (np.float32(-0.5) + r2 * (np.float32(1 / 24) + r2 * (np.float32(-1 / 720)
                                                                                 + r2 * np.float32(1 / 40320))))
    quadrant = np.int32(q)
    odd = (quadrant & 1) == 1
    sin_sign = np.float32(1 - 2 * ((quadrant >> 1) & 1))
    cos_sign = np.float32(1 - 2 * (((quadrant + 1) >> 1) & 1))
    return sin_sign * (c if odd else s), cos_sign * (s if odd else c)
