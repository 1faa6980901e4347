"""Phase → colour: CIELAB palettes baked into lookup tables of sRGB bytes.

Palettes
--------
vivid : the default. A cyclic map whose lightness swings smoothly around the circle (light
    yellow-green, dark blue-magenta), so every hue can take the chroma the gamut allows at a
    lightness that suits it, as colorcet's cyclic perceptual maps do; neighbouring phases are
    equally far apart in CIE94 ΔE. Opposite phases are light/dark complementary pairs.
lab : constant L*, hue angle = θ, the largest chroma for which the whole hue circle at that L*
    stays inside sRGB (nothing clips). Perceptually flattest, least vivid.
mono : black ↔ white, L* follows cos θ (the monochrome 5-MeO-DMT look).
complementary : neon green ↔ magenta; opposite phases get opposite colours and the hue lingers
    near the two poles (the alternating complementary colours of N,N-DMT).

Every palette reads the gamut from a table computed once (`visualizer.render.gamut`), so
`build_lut` at any lightness and chroma costs well under a millisecond.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.ndimage import minimum_filter1d

from visualizer.render.gamut import (
    delta_e94,
    full_circle_max_chroma,
    lab_to_linear_srgb,
    lch_to_lab,
    linear_to_srgb_bytes,
    max_chroma_lookup,
)

PALETTES = ("vivid", "lab", "mono", "complementary")
DEFAULT_PALETTE = "vivid"
LUT_SIZE = 1024
DEFAULT_LIGHTNESS = 70.0
GAMUT_MARGIN = 0.99  # stay inside the edge so table interpolation and any implementation's rounding agree

_GREEN_HUE_DEG = 136.0  # hue of sRGB green in CIELAB
_MAGENTA_HUE_DEG = 328.0  # hue of sRGB magenta in CIELAB

# vivid: L* = lightness + swing·cos(hue − peak hue), clipped; chroma follows the gamut at that
# L*, with its narrow dips opened out over ±VIVID_DIP_WIDTH and smoothed over VIVID_SMOOTHING
VIVID_SWING = 20.0
VIVID_PEAK_HUE_DEG = 150.0  # lightest between yellow and cyan, darkest at blue-violet
VIVID_LIGHTNESS_RANGE = (8.0, 95.0)
_VIVID_FINE = 1024  # hue samples the palette is designed on before equal-ΔE resampling
_VIVID_DIP_WIDTH = 12  # samples (~4°) each side: minimum filter under the gamut's chroma
_VIVID_SMOOTHING = 20.0  # samples (~7°): Gaussian sigma of the chroma curve


def full_circle_chroma(lightness: float) -> float:
    """Largest chroma (less GAMUT_MARGIN) for which every hue at ``lightness`` is inside sRGB."""
    return full_circle_max_chroma(lightness) * GAMUT_MARGIN


def _complementary_hue(theta: np.ndarray) -> np.ndarray:
    # warp θ so the hue dwells at the poles (θ = 0 green, θ = π magenta) and races between
    warped = theta - 0.8 * np.sin(2 * theta) / 2
    green, magenta = np.radians(_GREEN_HUE_DEG), np.radians(_MAGENTA_HUE_DEG)
    first = green + (warped / np.pi) * (magenta - green)
    second = magenta + ((warped - np.pi) / np.pi) * (green + 2 * np.pi - magenta)
    return np.where(warped < np.pi, first, second)


def _circular_gaussian(values: np.ndarray, sigma: float) -> np.ndarray:
    """Smooth a periodic sequence with a Gaussian of ``sigma`` samples (by FFT)."""
    frequencies = np.fft.rfftfreq(values.size)
    return np.fft.irfft(np.fft.rfft(values) * np.exp(-2 * (np.pi * sigma * frequencies) ** 2), n=values.size)


def _vivid_lightness(hue: np.ndarray, lightness: float) -> np.ndarray:
    return np.clip(lightness + VIVID_SWING * np.cos(hue - np.radians(VIVID_PEAK_HUE_DEG)), *VIVID_LIGHTNESS_RANGE)


def _vivid_lab(size: int, lightness: float, chroma: float | None) -> np.ndarray:
    hue = np.linspace(0.0, 2 * np.pi, _VIVID_FINE, endpoint=False)
    light = _vivid_lightness(hue, lightness)
    gamut = max_chroma_lookup(light, hue) * GAMUT_MARGIN
    c = _circular_gaussian(minimum_filter1d(gamut, 2 * _VIVID_DIP_WIDTH + 1, mode="wrap"), _VIVID_SMOOTHING)
    c = np.minimum(c, gamut)
    if chroma is not None:
        c = np.minimum(c, chroma)
    # resample so that neighbouring LUT entries are equally far apart (CIE94 arc length)
    lab = lch_to_lab(light, c, hue)
    arc = np.concatenate([[0.0], np.cumsum(delta_e94(lab, np.roll(lab, -1, axis=0)))])
    hue_closed, c_closed = np.append(hue, 2 * np.pi), np.append(c, c[0])
    targets = arc[-1] * np.arange(size) / size
    hue_out = np.interp(targets, arc, hue_closed)
    return lch_to_lab(_vivid_lightness(hue_out, lightness), np.interp(targets, arc, c_closed), hue_out)


def palette_lab(palette: str, *, size: int = LUT_SIZE, lightness: float = DEFAULT_LIGHTNESS,
                chroma: float | None = None) -> np.ndarray:
    """CIELAB colour of each of ``size`` equally spaced phases θ = 2π·i/size, shape (size, 3).

    ``lightness`` (L*, 0..100) is the palette's (mean) lightness; ``chroma`` caps C* (None = the
    most the gamut allows). Both apply to ``vivid``, ``lab`` and ``complementary``.
    """
    theta = np.linspace(0.0, 2 * np.pi, size, endpoint=False)
    if palette == "vivid":
        return _vivid_lab(size, float(lightness), chroma)
    if palette == "lab":
        c = full_circle_chroma(lightness) if chroma is None else chroma
        return lch_to_lab(np.full(size, float(lightness)), np.full(size, c), theta)
    if palette == "mono":
        return lch_to_lab(50.0 + 50.0 * np.cos(theta), np.zeros(size), theta)
    if palette == "complementary":
        hue = _complementary_hue(theta)
        c = max_chroma_lookup(lightness, hue) * GAMUT_MARGIN
        c = c if chroma is None else np.minimum(chroma, c)
        return lch_to_lab(np.full(size, float(lightness)), c, hue)
    raise ValueError(f"palette must be one of {PALETTES}, not {palette!r}")


def build_lut(palette: str, *, size: int = LUT_SIZE, lightness: float = DEFAULT_LIGHTNESS,
              chroma: float | None = None) -> np.ndarray:
    """sRGB bytes for ``size`` equally spaced phases: uint8 (size, 3). Under 1 ms after the first call."""
    lab = palette_lab(palette, size=size, lightness=lightness, chroma=chroma)
    return linear_to_srgb_bytes(lab_to_linear_srgb(lab))


def palette_lut(palette: str, *, lightness: float, saturation: float = 1.0) -> np.ndarray:
    """uint8 (n, 3) colours for ``palette`` at ``lightness`` (L*) with ``saturation`` (share of
    the largest chroma that keeps the whole hue circle inside sRGB; 1 = the palette's own)."""
    chroma = None if saturation >= 0.999 else saturation * full_circle_chroma(lightness)
    return build_lut(palette, lightness=lightness, chroma=chroma)


def rotate_lut(packed_lut: np.ndarray, reference: float) -> np.ndarray:
    """The table that colours phase θ as ``packed_lut`` colours θ − ``reference`` (n entries,
    n/2π per radian; rotated by whole entries)."""
    if reference == 0.0:
        return packed_lut
    n = packed_lut.shape[0]
    return np.roll(packed_lut, int(round(reference * n / (2 * math.pi))) % n)
