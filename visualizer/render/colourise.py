"""Numba kernels: a phase field → packed pixels, scaled smoothly into a pygame surface's buffer.

Scaling interpolates the complex field e^{iθ} bilinearly (its cos and sin), then takes the
angle, so the 2π wrap-around leaves no seam and every output pixel follows the field smoothly
whatever the ratio of screen to grid (no uneven integer cell sizes, no moiré). Where the field
turns through anti-phase between two cells the interpolated vector passes near zero and the
colour changes sharply at the midpoint: a checkerboard is drawn as crisp cells.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from visualizer.sim.kernels import sin_cos

VIEWS = ("phase", "antiphase")

# minimax odd polynomial for atan on [0, 1], |error| < 1e-5 rad (Abramowitz & Stegun 4.4.49 form)
_C1, _C3, _C5 = np.float32(0.99997726), np.float32(-0.33262347), np.float32(0.19354346)
_C7, _C9, _C11 = np.float32(-0.11643287), np.float32(0.05265332), np.float32(-0.01172120)
_HALF_PI, _PI = np.float32(np.pi / 2), np.float32(np.pi)
_INV_TWO_PI = np.float32(1 / (2 * np.pi))
_TINY = np.float32(1e-30)


@njit(fastmath=True, error_model="numpy", inline="always")
def _turns(y, x):
    """atan2(y, x) / 2π wrapped into [0, 1) (float32, error < 1e-6 turns; 0 at the origin).

    Branch-free after inlining (selects), so loops over it vectorise.
    """
    ax, ay = abs(x), abs(y)
    swap = ay > ax
    a = (ax if swap else ay) / ((ay if swap else ax) + _TINY)
    s = a * a
    r = a * (_C1 + s * (_C3 + s * (_C5 + s * (_C7 + s * (_C9 + s * _C11)))))
    r = _HALF_PI - r if swap else r
    r = _PI - r if x < 0 else r
    t = (-r if y < 0 else r) * _INV_TWO_PI
    return t + np.float32(t < 0)


@njit(parallel=True, fastmath=True, cache=True, nogil=True, error_model="numpy")
def unit_vectors(theta, staggered, cos_out, sin_out):
    """cos θ and sin θ of every cell into ``cos_out``, ``sin_out`` (float32 (H, W)).

    ``staggered``: add π to every cell with odd x + y first, so a perfect checkerboard
    (anti-phase order) becomes uniform and its domains show as flat colour regions.
    """
    for y in prange(theta.shape[0]):
        row, cos_row, sin_row = theta[y], cos_out[y], sin_out[y]
        for x in range(theta.shape[1]):
            sign = np.float32(1 - 2 * ((x + y) & 1)) if staggered else np.float32(1.0)
            sin_t, cos_t = sin_cos(row[x])
            cos_row[x] = sign * cos_t
            sin_row[x] = sign * sin_t


@njit(parallel=True, fastmath=True, cache=True, nogil=True, error_model="numpy")
def interpolate_into(cos_f, sin_f, lut, rows, block, col0, col1, col_w, row0, row1, row_w, field_rows, line_rows, line_index):
    """Bilinearly scale the unit field (cos_f, sin_f) into ``rows``, colouring its angle by ``lut``.

    The angle is evaluated once per ``block``×``block`` square of output pixels (block 1 = every
    pixel; 2 halves the work for 4K output), the square filled with its colour.

    Parameters
    ----------
    cos_f, sin_f : float32 (H, W), the field's cos θ and sin θ.
    lut : uint32 (n,), n a power of two: packed surface pixel value for phase 2π·i/n.
    rows : uint32 (out_h, out_w), the surface's pixel rows.
    block : output pixels per evaluated sample along each axis.
    col0, col1, col_w : uint32, uint32, float32 (ceil(out_w / block),): the two field columns each
        sample column lies between and the weight of the second.
    row0, row1, row_w : the same for sample rows, (ceil(out_h / block),).
    field_rows : float32 (chunks, 2, W) scratch: one vertically blended field row per chunk.
    line_rows : float32 (chunks, 2, ceil(out_w / block)) scratch: one interpolated sample line.
    line_index : uint32 (chunks, ceil(out_w / block)) scratch: that line's LUT indices.
    """
    mask = lut.shape[0] - 1
    scale = np.float32(lut.shape[0])
    out_h, out_w = rows.shape
    lines, samples = row0.shape[0], col0.shape[0]
    chunks = field_rows.shape[0]
    for chunk in prange(chunks):
        blend_c, blend_s = field_rows[chunk, 0], field_rows[chunk, 1]
        line_c, line_s, index = line_rows[chunk, 0], line_rows[chunk, 1], line_index[chunk]
        for line in range(chunk * lines // chunks, (chunk + 1) * lines // chunks):
            wy = row_w[line]
            c_top, c_bottom = cos_f[row0[line]], cos_f[row1[line]]
            s_top, s_bottom = sin_f[row0[line]], sin_f[row1[line]]
            for j in range(blend_c.shape[0]):
                blend_c[j] = c_top[j] + wy * (c_bottom[j] - c_top[j])
                blend_s[j] = s_top[j] + wy * (s_bottom[j] - s_top[j])
            for x in range(samples):
                a, b, wx = col0[x], col1[x], col_w[x]
                line_c[x] = blend_c[a] + wx * (blend_c[b] - blend_c[a])
                line_s[x] = blend_s[a] + wx * (blend_s[b] - blend_s[a])
            for x in range(samples):
                index[x] = np.int32(_turns(line_s[x], line_c[x]) * scale) & mask
            y0 = line * block
            out = rows[y0]
            if block == 1:
                for x in range(samples):
                    out[x] = lut[index[x]]
            else:
                whole = out_w // block  # samples whose square lies wholly inside the row
                for x in range(whole):
                    colour = lut[index[x]]
                    for k in range(block):
                        out[x * block + k] = colour
                for ox in range(whole * block, out_w):
                    out[ox] = lut[index[ox // block]]
                for y in range(y0 + 1, min(y0 + block, out_h)):
                    below = rows[y]
                    for ox in range(out_w):
                        below[ox] = out[ox]


def bilinear_taps(out_size: int, in_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each of ``out_size`` output samples stretched over ``in_size`` cells: the two cells its
    centre lies between and the weight of the second (uint32, uint32, float32 (out_size,)).

    Pixel centres map to cell coordinates u = (o + ½)·in/out − ½, clamped at the edges.
    """
    u = np.clip((np.arange(out_size) + 0.5) * (in_size / out_size) - 0.5, 0.0, in_size - 1.0)
    first = np.minimum(np.floor(u).astype(np.uint32), in_size - 1)
    second = np.minimum(first + 1, in_size - 1).astype(np.uint32)
    return first, second, (u - first).astype(np.float32)
