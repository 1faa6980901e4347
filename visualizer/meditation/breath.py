"""The breath pacer: a slow whole-field breathing cue.

A breath cycle lasts 60 / rate seconds and is split inhale : exhale. The breath value rises
0 → 1 over the inhale and falls 1 → 0 over the exhale along half-cosines (zero speed at the
turns, like a real breath). The renderer applies it as a gentle gain on the palette: full
brightness at the top of the inhale, ``depth`` dimmer at the bottom of the exhale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

DEPTH = 0.12  # the exhale dims the picture by 12 %: visible, not distracting


@dataclass(frozen=True)
class BreathSample:
    """value : 0 (empty) .. 1 (full). word : "in" or "out". active : a pacer is running."""

    value: float
    word: str
    active: bool


REST = BreathSample(0.5, "", False)


def breath_value(fraction: float, *, inhale: float = 1.0, exhale: float = 1.0) -> BreathSample:
    """The breath at ``fraction`` (0..1) of one cycle split ``inhale`` : ``exhale``."""
    share = inhale / (inhale + exhale)
    fraction %= 1.0
    if fraction < share:
        return BreathSample(0.5 - 0.5 * math.cos(math.pi * fraction / share), "in", True)
    return BreathSample(0.5 + 0.5 * math.cos(math.pi * (fraction - share) / (1.0 - share)), "out", True)


def breath_at(t_s: float, *, rate_per_min: float, inhale: float = 1.0, exhale: float = 1.0) -> BreathSample:
    """The breath ``t_s`` seconds after an inhale began, at ``rate_per_min`` breaths a minute."""
    if rate_per_min <= 0:
        return REST
    return breath_value(t_s * rate_per_min / 60.0, inhale=inhale, exhale=exhale)


class BreathPacer:
    """The breath across phases: a new rate or proportion is taken up only when the next
    breath begins, so the cue never jumps; rate 0 finishes the breath under way, then rests."""

    def __init__(self) -> None:
        self._cycle = 0.0  # position in the current breath, 0..1
        self._current = (0.0, 1.0, 1.0)  # (rate, inhale, exhale) of the breath under way

    def advance(self, dt_s: float, *, rate_per_min: float, inhale: float, exhale: float) -> BreathSample:
        """Move on ``dt_s`` seconds with the phase's breath; returns the breath now."""
        rate = self._current[0]
        if rate <= 0:  # resting: start breathing as soon as a phase asks for it
            self._current, self._cycle = (rate_per_min, inhale, exhale), 0.0
            if rate_per_min <= 0:
                return REST
            rate = rate_per_min
        self._cycle += dt_s * rate / 60.0
        if self._cycle >= 1.0:  # a breath ended: the next one follows the phase's breath
            self._cycle = self._cycle % 1.0 if rate_per_min > 0 else 0.0
            self._current = (rate_per_min, inhale, exhale)
            if rate_per_min <= 0:
                return REST
        _, i, e = self._current
        return breath_value(self._cycle, inhale=i, exhale=e)


    def ahead(self, dt_s: float) -> BreathSample:
        """The breath ``dt_s`` seconds from now if the breath under way keeps its pace (for a
        sound heard that much later); ``REST`` while resting."""
        rate, inhale, exhale = self._current
        if rate <= 0:
            return REST
        return breath_value(self._cycle + dt_s * rate / 60.0, inhale=inhale, exhale=exhale)


def breath_gain(sample: BreathSample, *, depth: float = DEPTH) -> float:
    """Brightness multiplier for the picture: 1 at the top of the inhale, 1 − depth at the
    bottom of the exhale, 1 − depth/2 (steady) with no pacer."""
    return 1.0 - depth * (1.0 - sample.value)

