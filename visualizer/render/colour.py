"""Phase → colour: CIELAB palettes baked into lookup tables of sRGB bytes.

Palettes
--------
lab : constant L*, hue angle = θ, the largest chroma for which the whole hue circle at that L*
    stays inside sRGB (nothing clips).
mono : black ↔ white, L* follows cos θ (the monochrome 5-MeO-DMT look).
complementary : neon green ↔ magenta; opposite phases get opposite colours and the hue lingers
    near the two poles (the alternating complementary colours of N,N-DMT).
"""

from __future__ import annotations

import numpy as np

PALETTES = ("lab", "mono", "complementary")
LUT_SIZE = 1024
DEFAULT_LIGHTNESS = 70.0

# D65 reference white and the XYZ → linear sRGB matrix (IEC 61966-2-1)
_WHITE_D65 = np.array([0.95047, 1.0, 1.08883])
_XYZ_TO_LINEAR_SRGB = np.array([
    [3.2404542, -1.5371385, -0.4985314],
    [-0.9692660, 1.8760108, 0.0415560],
    [0.0556434, -0.2040259, 1.0572252],
])
_GREEN_HUE_DEG = 136.0  # hue of sRGB green in CIELAB
_MAGENTA_HUE_DEG = 328.0  # hue of sRGB magenta in CIELAB


def lab_to_linear_srgb(lab: np.ndarray) -> np.ndarray:
    """CIELAB (..., 3) → linear sRGB (..., 3), float64, unclipped (outside [0, 1] = out of gamut)."""
    lab = np.asarray(lab, np.float64)
    fy = (lab[..., 0] + 16.0) / 116.0
    f = np.stack([fy + lab[..., 1] / 500.0, fy, fy - lab[..., 2] / 200.0], axis=-1)
    eps = 6.0 / 29.0
    xyz = np.where(f > eps, f**3, 3 * eps**2 * (f - 4.0 / 29.0)) * _WHITE_D65
    return xyz @ _XYZ_TO_LINEAR_SRGB.T


def linear_to_srgb_bytes(rgb: np.ndarray) -> np.ndarray:
    """Linear sRGB (..., 3) in [0, 1] → gamma-encoded sRGB uint8 (..., 3)."""
    rgb = np.clip(rgb, 0.0, 1.0)
    encoded = np.where(rgb <= 0.0031308, 12.92 * rgb, 1.055 * rgb ** (1 / 2.4) - 0.055)
    return np.round(encoded * 255.0).astype(np.uint8)


def _in_gamut(lab: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    rgb = lab_to_linear_srgb(lab)
    return np.all((rgb >= -tol) & (rgb <= 1 + tol), axis=-1)


def _lch(lightness: np.ndarray, chroma: np.ndarray, hue_rad: np.ndarray) -> np.ndarray:
    lightness, chroma, hue_rad = np.broadcast_arrays(lightness, chroma, hue_rad)
    return np.stack([lightness, chroma * np.cos(hue_rad), chroma * np.sin(hue_rad)], axis=-1)


def max_chroma(lightness: np.ndarray, hue_rad: np.ndarray, iterations: int = 40) -> np.ndarray:
    """Largest chroma in sRGB gamut at each (L*, hue), by bisection; broadcasts its inputs."""
    lightness, hue_rad = np.broadcast_arrays(np.asarray(lightness, float), np.asarray(hue_rad, float))
    lo, hi = np.zeros(lightness.shape), np.full(lightness.shape, 200.0)
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        inside = _in_gamut(_lch(lightness, mid, hue_rad))
        lo, hi = np.where(inside, mid, lo), np.where(inside, hi, mid)
    return lo


GAMUT_MARGIN = 0.995  # stay a hair inside the edge so any implementation's rounding agrees


def full_circle_chroma(lightness: float) -> float:
    """Largest chroma (less a 0.5 % margin) for which every hue at ``lightness`` is inside sRGB."""
    hues = np.linspace(0.0, 2 * np.pi, 4 * LUT_SIZE, endpoint=False)
    return float(max_chroma(lightness, hues).min()) * GAMUT_MARGIN


def palette_lab(palette: str, *, size: int = LUT_SIZE, lightness: float = DEFAULT_LIGHTNESS,
                chroma: float | None = None) -> np.ndarray:
    """CIELAB colour of each of ``size`` equally spaced phases θ = 2π·i/size, shape (size, 3).

    ``lightness`` (L*, 0..100) and ``chroma`` apply to ``lab`` (chroma None = the largest
    that never clips) and ``complementary`` (chroma None = the most each hue allows).
    """
    theta = np.linspace(0.0, 2 * np.pi, size, endpoint=False)
    if palette == "lab":
        c = full_circle_chroma(lightness) if chroma is None else chroma
        return _lch(np.full(size, float(lightness)), np.full(size, c), theta)
    if palette == "mono":
        return _lch(50.0 + 50.0 * np.cos(theta), np.zeros(size), theta)
    if palette == "complementary":
        # warp θ so the hue dwells at the poles (θ = 0 green, θ = π magenta) and races between
        warped = theta - 0.8 * np.sin(2 * theta) / 2
        green, magenta = np.radians(_GREEN_HUE_DEG), np.radians(_MAGENTA_HUE_DEG)
        first = green + (warped / np.pi) * (magenta - green)
        second = magenta + ((warped - np.pi) / np.pi) * (green + 2 * np.pi - magenta)
        hue = np.where(warped < np.pi, first, second)
        c = max_chroma(lightness, hue) * GAMUT_MARGIN
        c = c if chroma is None else np.minimum(chroma, c)
        return _lch(np.full(size, float(lightness)), c, hue)
    raise ValueError(f"palette must be one of {PALETTES}, not {palette!r}")


def build_lut(palette: str, *, size: int = LUT_SIZE, lightness: float = DEFAULT_LIGHTNESS,
              chroma: float | None = None) -> np.ndarray:
    """sRGB bytes for ``size`` equally spaced phases: uint8 (size, 3)."""
    lab = palette_lab(palette, size=size, lightness=lightness, chroma=chroma)
    return linear_to_srgb_bytes(lab_to_linear_srgb(lab))
