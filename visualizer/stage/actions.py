"""Stage actions that shape the output rather than the field: blackout, strobe-on-beat, drop.

``StageActions.update`` runs once per frame and returns a ``Look`` — how bright the output is and
how much white the strobe adds — which ``look_lut`` applies to the palette, so it reaches the
screen with the field and *through* the photosensitive flash limiter (a strobe is always capped). A drop is armed by the
control and fires on the next bar line: the caller injects the burst when ``update`` says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from visualizer.engine.audio.features import FeatureSnapshot
from visualizer.stage.clock import BarClock

BLACKOUT_FADE_S = 1.0  # blackout fades out (and back in) over this long
STROBE_DECAY_S = 0.06  # a strobe flash decays to 1/e in this long
DROP_ENERGY = 8.0  # a drop's burst: rad/s of neutral injection gain, decaying over about a second


@dataclass(frozen=True)
class Look:
    """brightness : 0..1 multiplier of the frame; strobe : 0..1 white added on top."""

    brightness: float = 1.0
    strobe: float = 0.0


class StageActions:
    """Blackout (a fade), strobe on the beat, a drop armed for the next bar."""

    def __init__(self, *, beats_per_bar: int = 4):
        self.bars = BarClock(beats_per_bar)
        self.blackout = False
        self.strobe = False
        self.drop_armed = False
        self._brightness = 1.0
        self._flash = 0.0

    def toggle_blackout(self) -> str:
        self.blackout = not self.blackout
        return "blackout" if self.blackout else "blackout off"

    def toggle_strobe(self) -> str:
        self.strobe = not self.strobe
        return "strobe on the beat (flash limited)" if self.strobe else "strobe off"

    def arm_drop(self) -> str:
        self.drop_armed = True
        return "drop on the next bar"

    def update(self, features: FeatureSnapshot, dt_s: float) -> tuple[Look, bool]:
        """(the look for this frame, whether the armed drop fires now)."""
        bar, new_beats = self.bars.update(features)
        step = dt_s / BLACKOUT_FADE_S
        self._brightness = max(self._brightness - step, 0.0) if self.blackout else min(self._brightness + step, 1.0)
        self._flash *= math.exp(-dt_s / STROBE_DECAY_S)
        if self.strobe and new_beats:
            self._flash = 1.0
        fire = self.drop_armed and bar
        if fire:
            self.drop_armed = False
        return Look(brightness=self._brightness, strobe=self._flash if self.strobe else 0.0), fire


def look_lut(lut: np.ndarray, look: Look) -> np.ndarray:
    """The palette LUT (uint8 (n, 3) sRGB) with ``look`` applied: a new LUT, uint8 (n, 3).

    Each byte becomes round(x·b·(1 − s) + 255·s·b) for brightness b and strobe s: the strobe
    mixes toward white, the blackout scales toward black (in encoded sRGB, like a video mixer's
    fader). Applied to the LUT — every field pixel is a LUT entry — it costs nothing per pixel
    and goes through the display's flash limiter with the field.
    """
    if look.brightness >= 1.0 and look.strobe <= 0.0:
        return lut
    out = lut * (look.brightness * (1.0 - look.strobe)) + 255.0 * look.strobe * look.brightness
    return np.floor(out + 0.5).astype(np.uint8)
