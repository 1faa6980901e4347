"""The colour reference: the phase the renderer draws as the palette's zero, followed on the field.

"fixed" keeps it at 0, so the palette shows absolute phase and a coherent field cycles through
every colour at its collective frequency (the hue drifts; in black-and-white the whole screen
goes white → grey → black → grey). "mean" lets the reference follow the field's mean phase ψ
(a co-rotating frame): a coherent field keeps one steady colour (white in ``mono``) and the
waves, ripples and vortices the music sends through it show as departures from it.

The reference moves toward ψ at FOLLOW_RATE·R (R the order parameter), so it holds still in a
disordered field, whose ψ jumps about, and it never turns faster than MAX_TURN_RATE: the screen
never inverts in a flash.
"""

from __future__ import annotations

import math

import numpy as np

from visualizer.render.config import REFERENCES

FOLLOW_RATE = 8.0  # 1/s at R = 1: a field turning at 1 rad/s is followed 0.13 rad behind
MAX_TURN_RATE = 2 * math.pi  # rad/s: at most one colour cycle a second
SAMPLES_PER_SIDE = 64  # the mean phase is taken on about this many cells along each axis


def mean_unit_vector(theta: np.ndarray, *, staggered: bool = False) -> complex:
    """⟨e^{iθ}⟩ over an evenly spread subsample of ``theta`` (float32 (H, W), rad).

    staggered : add π on cells with odd x + y first (the anti-phase view's field). The sample
        stride is odd, so both parities are sampled.
    """
    stride = max(1, min(theta.shape) // SAMPLES_PER_SIDE) | 1
    sample = theta[::stride, ::stride].astype(np.float64)
    z = np.exp(1j * sample)
    if staggered:
        y, x = np.ogrid[0:theta.shape[0]:stride, 0:theta.shape[1]:stride]
        z = np.where((x + y) % 2 == 1, -z, z)
    return complex(z.mean())


class PhaseReference:
    """Tracks the reference phase (rad) for one of REFERENCES; ``update`` once a frame."""

    def __init__(self, mode: str = "fixed"):
        if mode not in REFERENCES:
            raise ValueError(f"reference must be one of {REFERENCES}, not {mode!r}")
        self.mode = mode
        self.phase = 0.0
        self._started = False

    def update(self, theta: np.ndarray, dt: float, *, staggered: bool = False) -> float:
        """Follow the field ``theta`` over ``dt`` seconds; returns the reference phase in (−π, π]."""
        if self.mode == "fixed":
            return 0.0
        z = mean_unit_vector(theta, staggered=staggered)
        order, psi = abs(z), math.atan2(z.imag, z.real)
        if not self._started:  # start aligned: no sweep across the palette on the first frames
            self.phase, self._started = psi, True
            return self.phase
        turn = FOLLOW_RATE * order * math.sin(psi - self.phase) * dt
        limit = MAX_TURN_RATE * dt
        self.phase = math.remainder(self.phase + min(max(turn, -limit), limit), 2 * math.pi)
        return self.phase
