"""How a session colours the field: palette cross-fades, warmth, the fade and the breath.

The renderer asks ``SessionLook.lut(view)`` every frame for the 1024-entry sRGB table to draw θ
with (``Display.set_palette``). Palettes are mixed in CIELAB; the table is rebuilt only when the
mix has moved by a visible step, and the fade and breath are a cheap gain on the bytes.
"""

from __future__ import annotations

import numpy as np

from visualizer.meditation.breath import breath_gain
from visualizer.render.colour import GAMUT_MARGIN, LUT_SIZE, palette_lab
from visualizer.render.gamut import (
    lab_to_linear_srgb,
    linear_to_srgb_bytes,
    max_chroma_lookup,
)

WARM_CENTRE_DEG = 50.0  # CIELAB hue between rose (0°) and gold (100°)
WARM_SWING_DEG = 50.0
WARM_LIGHTNESS_SWING = 8.0  # opposite phases also differ a little in lightness
MIX_STEPS = 48  # cross-fade quantisation: a new table every 1/48 of a transition


def warm_lab(*, lightness: float, size: int = LUT_SIZE) -> np.ndarray:
    """The sessions' warm palette, CIELAB (size, 3): hue swings rose ↔ gold around the phase
    circle (θ = π/2 gold, 3π/2 rose), L* a little higher at θ = 0 than at π, each colour at 85 %
    of the chroma sRGB allows there. Continuous around the circle."""
    theta = np.linspace(0.0, 2 * np.pi, size, endpoint=False)
    hue = np.radians(WARM_CENTRE_DEG + WARM_SWING_DEG * np.sin(theta))
    light = np.clip(lightness + WARM_LIGHTNESS_SWING * np.cos(theta), 0.0, 100.0)
    chroma = 0.85 * GAMUT_MARGIN * max_chroma_lookup(light, hue)
    return np.stack([light, chroma * np.cos(hue), chroma * np.sin(hue)], axis=-1)


def session_palette_lab(name: str, *, lightness: float) -> np.ndarray:
    """Any session palette (``timeline.SESSION_PALETTES``) as CIELAB (LUT_SIZE, 3)."""
    return warm_lab(lightness=lightness) if name == "warm" else palette_lab(name, lightness=lightness)


class SessionLook:
    """Builds the frame's colour table from a ``runner.SessionView`` (cached between frames)."""

    def __init__(self) -> None:
        self._key = None
        self._base = np.zeros((LUT_SIZE, 3), np.float32)
        self._scratch = np.zeros((LUT_SIZE, 3), np.float32)
        self._out = np.zeros((LUT_SIZE, 3), np.uint8)
        self._palettes: dict[tuple[str, int], np.ndarray] = {}

    def _lab(self, name: str, lightness: int) -> np.ndarray:
        key = (name, lightness)
        if key not in self._palettes:
            if len(self._palettes) > 16:
                self._palettes.clear()
            self._palettes[key] = session_palette_lab(name, lightness=lightness)
        return self._palettes[key]

    def base_lut(self, *, palette_from: str, palette_to: str, mix: float, lightness: float,
                 warmth: float) -> np.ndarray:
        """sRGB bytes (LUT_SIZE, 3) as float32: the two palettes mixed ``mix`` (0..1) in CIELAB,
        then pulled ``warmth`` (0..1) toward the warm palette."""
        light = round(lightness)
        m, w = round(mix * MIX_STEPS) / MIX_STEPS, round(warmth * MIX_STEPS) / MIX_STEPS
        key = (palette_from, palette_to, m, light, w)
        if key != self._key:
            self._key = key
            lab = (1 - m) * self._lab(palette_from, light) + m * self._lab(palette_to, light)
            lab = (1 - w) * lab + w * self._lab("warm", light)
            self._base[...] = linear_to_srgb_bytes(lab_to_linear_srgb(lab))
        return self._base

    def lut(self, view) -> np.ndarray:
        """uint8 (LUT_SIZE, 3) for this frame: palette mix × fade × breath gain. The returned
        array is reused by the next call."""
        base = self.base_lut(palette_from=view.palette_from, palette_to=view.palette_to, mix=view.palette_mix,
                             lightness=view.lightness, warmth=view.warmth)
        gain = view.fade * breath_gain(view.breath)
        np.multiply(base, np.float32(gain), out=self._scratch)
        np.rint(self._scratch, out=self._scratch)
        self._out[...] = self._scratch
        return self._out
