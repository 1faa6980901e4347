"""Neural annealing: an energy reservoir that heats the field past a threshold and lets it cool.

Energy E fills from injection and drains through sinks (dE/dt = gain·g − sink_rate·E). Past the
metastability threshold the field turns *hot* (entropic disintegration: Langevin temperature
up, effective coupling down). When E falls back below the threshold (with hysteresis) it
*cools* on a schedule over ``cooling_time_s`` and new order crystallises; when the schedule has
run its course it is *settled*. Slow cooling → large regular domains; quench → a patchwork.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SCHEDULES = ("linear", "exponential")
PHASES = ("charging", "hot", "cooling", "settled")


@dataclass(frozen=True)
class AnnealingConfig:
    """enabled : whether the layer acts at all.
    gain : E per second per unit of injection gain (1/rad).
    sink_rate : fraction of E drained per second (1/s).
    threshold : E above which the field turns hot; it cools below threshold·hysteresis.
    hot_temperature : T while hot (rad²/s), scaled up by E/threshold.
    coupling_drop : fraction of the coupling removed while hot (0..1).
    cooling_time_s : length of the cooling schedule (s); schedule : "linear" or "exponential".
    """

    enabled: bool = True
    gain: float = 1.0
    sink_rate: float = 0.5
    threshold: float = 8.0
    hysteresis: float = 0.75
    hot_temperature: float = 0.15
    coupling_drop: float = 0.5
    cooling_time_s: float = 8.0
    schedule: str = "linear"


@dataclass(frozen=True)
class AnnealingState:
    """A snapshot of the annealer: energy E, temperature T (rad²/s), phase, threshold, coupling scale."""

    energy: float
    temperature: float
    phase: str
    threshold: float
    coupling_scale: float


class Annealer:
    """State: ``energy`` E, ``temperature`` T, ``phase`` and the coupling scale it implies."""

    def __init__(self, config: AnnealingConfig = AnnealingConfig()):
        self.config = config
        self.energy = 0.0
        self.temperature = 0.0
        self.coupling_scale = 1.0
        self.phase = "charging"
        self._cool_from = 0.0
        self._cooling_s = 0.0

    @property
    def state(self) -> AnnealingState:
        return AnnealingState(self.energy, self.temperature, self.phase, self.config.threshold, self.coupling_scale)

    def cooling_fraction(self, t_s: float) -> float:
        """Share of the hot temperature left ``t_s`` into cooling (1 → 0 over cooling_time_s)."""
        c = self.config
        x = min(max(t_s / c.cooling_time_s, 0.0), 1.0) if c.cooling_time_s > 0 else 1.0
        if c.schedule == "exponential":
            return 0.0 if x >= 1.0 else math.exp(-5.0 * x) * (1.0 - x)
        return 1.0 - x

    def update(self, *, dt_s: float, injection: float) -> None:
        """Advance by ``dt_s`` seconds with injection gain ``injection`` (rad/s, ≥ 0)."""
        c = self.config
        if not c.enabled:
            self.temperature, self.coupling_scale, self.phase = 0.0, 1.0, "settled"
            return
        self.energy += (c.gain * max(injection, 0.0) - c.sink_rate * self.energy) * dt_s
        self.energy = max(self.energy, 0.0)
        above = self.energy > c.threshold
        if above:
            self.phase = "hot"
            self.temperature = c.hot_temperature * self.energy / c.threshold
            self.coupling_scale = 1.0 - c.coupling_drop
            self._cool_from = self.temperature
            return
        if self.phase == "hot" and self.energy > c.threshold * c.hysteresis:
            self.temperature = c.hot_temperature * self.energy / c.threshold
            self._cool_from = self.temperature
            return
        if self.phase == "hot":
            self.phase, self._cooling_s = "cooling", 0.0
        if self.phase == "cooling":
            self._cooling_s += dt_s
            left = self.cooling_fraction(self._cooling_s)
            self.temperature = self._cool_from * left
            self.coupling_scale = 1.0 - c.coupling_drop * left
            if self._cooling_s >= c.cooling_time_s:
                self.phase, self.temperature, self.coupling_scale = "settled", 0.0, 1.0
        elif self.phase == "settled" and self.energy > c.threshold * c.hysteresis:
            self.phase = "charging"
