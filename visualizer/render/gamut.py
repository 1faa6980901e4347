"""CIELAB ↔ sRGB and the sRGB gamut in CIELAB: the largest chroma at each lightness and hue.

The gamut boundary is found by bisection (`max_chroma`, ~0.1 ms per thousand points) once, on
first use, into a table over L* × hue (`chroma_table`); palettes then read it by bilinear
interpolation (`max_chroma_lookup`), so rebuilding a palette at a new lightness costs well under
a millisecond.
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit

# D65 reference white and the XYZ → linear sRGB matrix (IEC 61966-2-1)
WHITE_D65 = np.array([0.95047, 1.0, 1.08883])
XYZ_TO_LINEAR_SRGB = np.array([
    [3.2404542, -1.5371385, -0.4985314],
    [-0.9692660, 1.8760108, 0.0415560],
    [0.0556434, -0.2040259, 1.0572252],
])
_EPS = 6.0 / 29.0
_MAX_SEARCH_CHROMA = 200.0  # beyond every sRGB colour's chroma (the largest is ~134, blue)
BISECTION_STEPS = 30  # 200 / 2^30: far below anything 8-bit output can show

# the table: L* in 1-unit steps, hue in 0.5° steps; interpolation error is tested against bisection
TABLE_LIGHTNESS = np.linspace(0.0, 100.0, 101)
TABLE_HUES = 720


def lab_to_linear_srgb(lab: np.ndarray) -> np.ndarray:
    """CIELAB (..., 3) → linear sRGB (..., 3), float64, unclipped (outside [0, 1] = out of gamut)."""
    lab = np.asarray(lab, np.float64)
    fy = (lab[..., 0] + 16.0) / 116.0
    f = np.stack([fy + lab[..., 1] / 500.0, fy, fy - lab[..., 2] / 200.0], axis=-1)
    xyz = np.where(f > _EPS, f**3, 3 * _EPS**2 * (f - 4.0 / 29.0)) * WHITE_D65
    return xyz @ XYZ_TO_LINEAR_SRGB.T


def linear_to_srgb_bytes(rgb: np.ndarray) -> np.ndarray:
    """Linear sRGB (..., 3) in [0, 1] → gamma-encoded sRGB uint8 (..., 3)."""
    rgb = np.clip(rgb, 0.0, 1.0)
    encoded = np.where(rgb <= 0.0031308, 12.92 * rgb, 1.055 * rgb ** (1 / 2.4) - 0.055)
    return np.round(encoded * 255.0).astype(np.uint8)


def lch_to_lab(lightness: np.ndarray, chroma: np.ndarray, hue_rad: np.ndarray) -> np.ndarray:
    """Cylindrical L*, C*, h (rad) → CIELAB (..., 3); broadcasts its inputs."""
    lightness, chroma, hue_rad = np.broadcast_arrays(lightness, chroma, hue_rad)
    return np.stack([lightness, chroma * np.cos(hue_rad), chroma * np.sin(hue_rad)], axis=-1)


def delta_e94(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIE94 colour difference (graphic-arts weights) between CIELAB arrays (..., 3) → (...)."""
    dl = lab1[..., 0] - lab2[..., 0]
    c1, c2 = np.hypot(lab1[..., 1], lab1[..., 2]), np.hypot(lab2[..., 1], lab2[..., 2])
    dc = c1 - c2
    dh_sq = np.maximum((lab1[..., 1] - lab2[..., 1]) ** 2 + (lab1[..., 2] - lab2[..., 2]) ** 2 - dc**2, 0.0)
    return np.sqrt(dl**2 + (dc / (1 + 0.045 * c1)) ** 2 + dh_sq / (1 + 0.015 * c1) ** 2)


@njit(cache=True, nogil=True)
def _lab_in_srgb(lightness: float, a: float, b: float) -> bool:
    fy = (lightness + 16.0) / 116.0
    f0, f2 = fy + a / 500.0, fy - b / 200.0
    x = (f0**3 if f0 > _EPS else 3 * _EPS**2 * (f0 - 4.0 / 29.0)) * WHITE_D65[0]
    y = (fy**3 if fy > _EPS else 3 * _EPS**2 * (fy - 4.0 / 29.0)) * WHITE_D65[1]
    z = (f2**3 if f2 > _EPS else 3 * _EPS**2 * (f2 - 4.0 / 29.0)) * WHITE_D65[2]
    tol = 1e-9
    for k in range(3):
        channel = XYZ_TO_LINEAR_SRGB[k, 0] * x + XYZ_TO_LINEAR_SRGB[k, 1] * y + XYZ_TO_LINEAR_SRGB[k, 2] * z
        if channel < -tol or channel > 1 + tol:
            return False
    return True


@njit(cache=True, nogil=True)
def _max_chroma_each(lightness, hue_rad, out):
    """out[i] = the largest in-gamut chroma at (lightness[i], hue_rad[i]), by bisection (float64 (n,))."""
    for i in range(out.size):
        lo, hi = 0.0, _MAX_SEARCH_CHROMA
        ca, sb = np.cos(hue_rad[i]), np.sin(hue_rad[i])
        for _ in range(BISECTION_STEPS):
            mid = 0.5 * (lo + hi)
            if _lab_in_srgb(lightness[i], mid * ca, mid * sb):
                lo = mid
            else:
                hi = mid
        out[i] = lo


def max_chroma(lightness, hue_rad) -> np.ndarray:
    """Largest chroma C* in sRGB gamut at each (L*, hue), by bisection; broadcasts its inputs.

    A cached ``njit`` loop rather than ``numba.vectorize``: a vectorize ufunc is compiled again
    at every start (~1 s), which held up the first frame."""
    lightness, hue_rad = np.broadcast_arrays(np.asarray(lightness, np.float64), np.asarray(hue_rad, np.float64))
    out = np.empty(lightness.shape)
    _max_chroma_each(np.ascontiguousarray(lightness).ravel(), np.ascontiguousarray(hue_rad).ravel(), out.reshape(-1))
    return out


@functools.cache
def chroma_table() -> np.ndarray:
    """Max chroma on the grid TABLE_LIGHTNESS × TABLE_HUES equally spaced hues: float64 (101, 720).

    Computed once per process (~0.1 s) on first use.
    """
    hues = np.linspace(0.0, 2 * np.pi, TABLE_HUES, endpoint=False)
    table = max_chroma(TABLE_LIGHTNESS[:, None], hues[None, :])
    table.setflags(write=False)
    return table


@functools.cache
def _full_circle_table() -> np.ndarray:
    table = chroma_table().min(axis=1)
    table.setflags(write=False)
    return table


def max_chroma_lookup(lightness: np.ndarray, hue_rad: np.ndarray) -> np.ndarray:
    """Max in-gamut chroma at (L*, hue) interpolated bilinearly from `chroma_table`; broadcasts.

    Within ~0.3 % of `max_chroma` (tested); callers keep a small margin below it.
    """
    table = chroma_table()
    lightness, hue_rad = np.broadcast_arrays(np.asarray(lightness, float), np.asarray(hue_rad, float))
    li = np.clip(lightness, 0.0, 100.0) * ((TABLE_LIGHTNESS.size - 1) / 100.0)
    l0 = np.minimum(li.astype(np.intp), TABLE_LIGHTNESS.size - 2)
    wl = li - l0
    hi = np.mod(hue_rad, 2 * np.pi) * (TABLE_HUES / (2 * np.pi))
    h0 = np.minimum(hi.astype(np.intp), TABLE_HUES - 1)
    wh = hi - h0
    h1 = (h0 + 1) % TABLE_HUES
    lower = table[l0, h0] * (1 - wh) + table[l0, h1] * wh
    upper = table[l0 + 1, h0] * (1 - wh) + table[l0 + 1, h1] * wh
    return lower * (1 - wl) + upper * wl


def full_circle_max_chroma(lightness: float) -> float:
    """Largest chroma for which every hue at ``lightness`` is inside sRGB (table, interpolated in L*)."""
    return float(np.interp(lightness, TABLE_LIGHTNESS, _full_circle_table()))
