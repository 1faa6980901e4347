"""Numba kernel: phases → packed pixels, scaled straight into a pygame surface's pixel buffer."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

_INV_TWO_PI = 1.0 / (2.0 * np.pi)


@njit(parallel=True, fastmath=True, cache=True, nogil=True)
def colourise_into(theta, lut, pixels, x0, y0, source_col, source_row):
    """Nearest-neighbour scale ``theta`` into a rectangle of ``pixels``, colouring through ``lut``.

    Parameters
    ----------
    theta : float32 (H, W), phases in [0, 2π).
    lut : uint32 (n,), packed surface pixel value for phase 2π·i/n.
    pixels : uint32 (screen_w, screen_h), the surface's pixels (pygame's x-major view).
    x0, y0 : top-left corner of the field's rectangle on the surface (pixels).
    source_col : int32 (out_w,), field column for each output column.
    source_row : int32 (out_h,), field row for each output row.
    """
    n = lut.shape[0]
    scale = np.float32(n * _INV_TWO_PI)
    for oy in prange(source_row.shape[0]):
        row = theta[source_row[oy]]
        for ox in range(source_col.shape[0]):
            index = np.int32(row[source_col[ox]] * scale)
            index = min(max(index, 0), n - 1)
            pixels[x0 + ox, y0 + oy] = lut[index]
