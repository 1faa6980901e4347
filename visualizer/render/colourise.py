"""Numba kernels: a phase field → packed pixels, scaled smoothly into a pygame surface's buffer.

Scaling interpolates the complex field e^{iθ} bilinearly (its cos and sin), then takes the
angle, so the 2π wrap-around leaves no seam and every output pixel follows the field smoothly
whatever the ratio of screen to grid (no uneven integer cell sizes, no moiré). Where the field
turns through anti-phase between two cells the interpolated vector passes near zero and the
colour changes sharply at the midpoint: a checkerboard is drawn as crisp cells.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from visualizer.system.trig import sin_cos

VIEWS = ("phase", "antiphase", "domains")

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
def unit_vectors(theta, stagger_cos, stagger_sin, cos_out, sin_out):
    """cos θ and sin θ of every cell into ``cos_out``, ``sin_out`` (float32 (H, W)).

    Cells with odd x + y are first turned by the stagger angle s, given as (cos s, sin s): s = 0
    draws θ; s = π (−1, 0) draws a perfect checkerboard (anti-phase order) as uniform colour, its
    domains as flat colour regions; angles between cross-fade from one view to the other.
    """
    for y in prange(theta.shape[0]):
        row, cos_row, sin_row = theta[y], cos_out[y], sin_out[y]
        for x in range(theta.shape[1]):
            odd = np.float32((x + y) & 1)
            c = np.float32(1.0) + odd * (stagger_cos - np.float32(1.0))
            s = odd * stagger_sin
            sin_t, cos_t = sin_cos(row[x])
            cos_row[x] = c * cos_t - s * sin_t
            sin_row[x] = c * sin_t + s * cos_t


@njit(parallel=True, fastmath=True, cache=True, nogil=True, error_model="numpy")
def turn_antiphase_domains(cos_f, sin_f):
    """The "domains" view, in place on the unit vectors (float32 (H, W), wrapped at the edges):
    each cell with odd x + y is turned by π·w, where w (0..1) says how much its four neighbours
    are in anti-phase with it (mean cos of the differences m: w = 1 at m ≤ −0.5, 0 at m ≥ +0.5,
    smoothstep between). Checkerboard domains are drawn as flat colour like the antiphase view,
    smooth domains as the phase view draws them, each where it is, so a field holding both shows
    neither as cell-sized static. An odd cell reads only even cells (an even side wraps; an odd
    one stops at the edge, reading the cell itself), so turning odd cells in place is safe."""
    h, w = cos_f.shape
    wrap_y, wrap_x = h % 2 == 0, w % 2 == 0
    for y in prange(h):
        up = (y - 1) % h if wrap_y else max(y - 1, 0)
        down = (y + 1) % h if wrap_y else min(y + 1, h - 1)
        for x in range((y + 1) & 1, w, 2):
            left = (x - 1) % w if wrap_x else max(x - 1, 0)
            right = (x + 1) % w if wrap_x else min(x + 1, w - 1)
            c, s = cos_f[y, x], sin_f[y, x]
            m = np.float32(0.25) * (c * (cos_f[up, x] + cos_f[down, x] + cos_f[y, left] + cos_f[y, right])
                                    + s * (sin_f[up, x] + sin_f[down, x] + sin_f[y, left] + sin_f[y, right]))
            t = min(max(np.float32(0.5) - m, np.float32(0.0)), np.float32(1.0))
            sin_a, cos_a = sin_cos(_PI * t * t * (np.float32(3.0) - np.float32(2.0) * t))
            cos_f[y, x] = c * cos_a - s * sin_a
            sin_f[y, x] = c * sin_a + s * cos_a


def stagger_of(view: str, stagger: float | None = None) -> tuple[np.float32, np.float32]:
    """(cos s, sin s) of the stagger angle: ``stagger`` (rad) if given, else π for the "antiphase"
    view and 0 for "phase" (exactly −1, 0 and 1, 0)."""
    if stagger is None or view == "domains":  # the domains view turns cells after, on its own
        stagger = math.pi if view == "antiphase" else 0.0
    if stagger == math.pi:
        return np.float32(-1.0), np.float32(0.0)
    return np.float32(math.cos(stagger)), np.float32(math.sin(stagger))


@njit(fastmath=True, nogil=True, error_model="numpy", inline="always")
def _stretch_row(cos_row, sin_row, col0, col1, col_w, out_cos, out_sin):
    """One field row interpolated across the output's sample columns (linear, into out_cos/out_sin)."""
    for x in range(col0.shape[0]):
        a, b, wx = col0[x], col1[x], col_w[x]
        out_cos[x] = cos_row[a] + wx * (cos_row[b] - cos_row[a])
        out_sin[x] = sin_row[a] + wx * (sin_row[b] - sin_row[a])


@njit(parallel=True, fastmath=True, cache=True, nogil=True, error_model="numpy")
def interpolate_into(cos_f, sin_f, lut, rows, block, col0, col1, col_w, row0, row1, row_w, stretched, line_index):
    """Bilinearly scale the unit field (cos_f, sin_f) into ``rows``, colouring its angle by ``lut``.

    Each field row is first stretched across the sample columns (once per field row a band of
    lines needs, not once per output line: the screen has ~4 lines per field row at 1080p), then
    each sample line blends the two stretched rows around it. The angle is evaluated once per
    ``block``×``block`` square of output pixels (block 1 = every pixel; 2 halves the work for 4K
    output), the square filled with its colour.

    Parameters
    ----------
    cos_f, sin_f : float32 (H, W), the field's cos θ and sin θ.
    lut : uint32 (n,), n a power of two: packed surface pixel value for phase 2π·i/n.
    rows : uint32 (out_h, out_w), the surface's pixel rows.
    block : output pixels per evaluated sample along each axis.
    col0, col1, col_w : uint32, uint32, float32 (ceil(out_w / block),): the two field columns each
        sample column lies between and the weight of the second.
    row0, row1, row_w : the same for sample rows, (ceil(out_h / block),).
    stretched : float32 (chunks, 4, ceil(out_w / block)) scratch: the stretched rows above and
        below the current line (cos, sin, cos, sin).
    line_index : uint32 (chunks, ceil(out_w / block)) scratch: a line's LUT indices.
    """
    mask = lut.shape[0] - 1
    scale = np.float32(lut.shape[0])
    out_h, out_w = rows.shape
    lines, samples = row0.shape[0], col0.shape[0]
    chunks = stretched.shape[0]
    for chunk in prange(chunks):
        top_c, top_s = stretched[chunk, 0], stretched[chunk, 1]
        bottom_c, bottom_s = stretched[chunk, 2], stretched[chunk, 3]
        index = line_index[chunk]
        have_top, have_bottom = -1, -1
        for line in range(chunk * lines // chunks, (chunk + 1) * lines // chunks):
            r0, r1 = np.int64(row0[line]), np.int64(row1[line])
            if r0 != have_top:
                if r0 == have_bottom:  # the row below becomes the row above
                    top_c, bottom_c = bottom_c, top_c
                    top_s, bottom_s = bottom_s, top_s
                    have_top, have_bottom = have_bottom, have_top
                else:
                    _stretch_row(cos_f[r0], sin_f[r0], col0, col1, col_w, top_c, top_s)
                    have_top = r0
            if r1 != have_bottom:
                _stretch_row(cos_f[r1], sin_f[r1], col0, col1, col_w, bottom_c, bottom_s)
                have_bottom = r1
            wy = row_w[line]
            for x in range(samples):
                c = top_c[x] + wy * (bottom_c[x] - top_c[x])
                s = top_s[x] + wy * (bottom_s[x] - top_s[x])
                index[x] = np.int32(_turns(s, c) * scale) & mask
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
