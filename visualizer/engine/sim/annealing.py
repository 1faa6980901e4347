"""Neural annealing driven by the field's own energy (see ``visualizer.engine.sim.energy``).

The energy E is measured from the field's state: 0 when every link of the kernel is satisfied, 1
for random phases. Music pours energy in (injection into the eigenmodes) and the coupling dynamics
drain it. Past the metastability ``threshold`` — while the music drives it and its energy is rising,
so a field still relaxing from its random start does not count — the field turns
*hot*: entropic disintegration, a temperature proportional to the kernel's own strength and a
loosened coupling. When the drive falls back (``hysteresis``) or after ``max_hot_s``, it *cools* on
a schedule over ``cooling_time_s`` and new order crystallises. Phases: "cold", "heating" (E above
``heating``·threshold), "hot", "cooling".

Relative trigger (``relative = true``): instead of a fixed E, the threshold is the field's own
recent level — the mean of its smoothed energy over the last ``memory_s`` seconds plus
``margin`` standard deviations (at least ``min_rise`` above the mean). A field turns hot when the
music pushes it above what this track has been doing lately (a drop, a climax, a section that
hits harder), whatever the recording's level or the preset's typical E; the statistics learn only
while cold, so a disintegration never raises its own bar. A quiet, even track rarely crosses it.
The music's side counts too: a stiff field (5meo) barely shows a climax in E, so the field also
turns hot when the smoothed drive rises to ``novelty`` times its own recent mean. Music whose
smoothed drive has fallen below ``CALM_DRIVE_SHARE`` of that mean (the calm after a climax) is
not driving: the energy a slowed field still holds then is the last heat's, and heats nothing.

Consolidation: while the field cools through the middle temperatures (rate ∝ left·(1 − left),
left the schedule's heat share), the natural frequencies' spread narrows (``disorder``, applied by
``Field.set_frequency_spread_share``), and returns over ``consolidation_memory_s`` once cold. A
quench passes no middle temperature and gets none: slow cooling → large domains, quench → a
patchwork (docs/lab/annealing.md §9).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SCHEDULES = ("linear", "exponential")
PHASES = ("cold", "heating", "hot", "cooling")
DRIVE_SMOOTHING_S = 1.0  # time constant of the smoothed music drive that holds the hot phase
RISE_SMOOTHING_S = 1.0  # time constant of the slow energy that tells a pumped field from a relaxing one
FAST_SMOOTHING_S = 0.5  # the relative trigger compares E smoothed this much with its recent level
RELATIVE_REHEAT = 1.25  # a cooling field (relative trigger) heats again only for 1.25× the drive that heated it
CALM_DRIVE_SHARE = 0.25  # the relative trigger: music drives while its smoothed drive is ≥ this share of its mean
WARM_UP_S = 5.0  # the relative trigger ignores this much music (a field relaxing from its start), then
LEARN_S = 10.0  # learns this long before its bar is used (over 5 s, one loud bar's kick crossed it)


@dataclass(frozen=True)
class AnnealingConfig:
    """enabled : whether the layer acts at all.
    threshold : field energy E (0 = ground state, 1 = random phases) above which a driven field turns hot.
    heating : share of the threshold from which the phase reads "heating".
    hysteresis : the field stays hot while the smoothed drive is above this share of its level
        when it turned hot.
    max_hot_s : the longest a hot phase lasts before cooling starts anyway (s).
    hot_temperature : temperature while hot, as a share of the kernel's strength S (T = share·S, rad²/s).
    coupling_drop : fraction of the coupling removed while hot (0..1).
    cooling_time_s : length of the cooling schedule (s); schedule : "linear" or "exponential".
    relative : use the relative trigger (module docstring) instead of the fixed ``threshold``.
    margin : standard deviations of the smoothed E above its recent mean that heat (relative).
    min_rise : the least rise of E above that mean that heats, however calm the track (relative).
    memory_s : the recent past the relative trigger learns the field's level from (s).
    novelty : the smoothed music drive, as a multiple of its recent mean, that heats (relative; 0: off).
    consolidation_rate : how fast the cooling anneals out the natural frequencies' disorder (1/s,
        at mid-schedule; 0: never). consolidation_memory_s : how long the consolidated order lasts
        once cold (s, the time constant of the disorder's return).
    """

    enabled: bool = True
    threshold: float = 0.6
    heating: float = 0.7
    hysteresis: float = 0.75
    max_hot_s: float = 6.0
    hot_temperature: float = 0.6
    coupling_drop: float = 0.5
    cooling_time_s: float = 8.0
    schedule: str = "linear"
    consolidation_rate: float = 1.0
    consolidation_memory_s: float = 60.0
    relative: bool = False
    margin: float = 1.5
    min_rise: float = 0.02
    memory_s: float = 40.0
    novelty: float = 1.6


@dataclass(frozen=True)
class AnnealingState:
    """A snapshot of the annealer: field energy E, temperature T (rad²/s), phase, threshold, coupling
    scale, and the frequency disorder left (share of the drawn spread, 1 until a cooling consolidates)."""

    energy: float
    temperature: float
    phase: str
    threshold: float
    coupling_scale: float
    disorder: float


class Annealer:
    """State: ``energy`` E (the last measured), ``temperature`` T, ``phase`` and the coupling scale."""

    def __init__(self, config: AnnealingConfig = AnnealingConfig()):
        self.config = config
        self.energy = 0.0
        self.temperature = 0.0
        self.coupling_scale = 1.0
        self.phase = "cold"
        self._drive = 0.0  # smoothed music drive (rad/s)
        self._slow_energy: float | None = None  # E followed slowly: E above it means energy is being pumped in
        self._drive_when_hot = 0.0
        self._hot_s = 0.0
        self._cooling_s = 0.0
        self.disorder = 1.0  # the natural frequencies' spread as a share of the drawn one
        self._fast_energy: float | None = None  # E smoothed over FAST_SMOOTHING_S (relative trigger)
        self._mean = 0.0  # its recent mean and mean square while cold (relative trigger)
        self._square = 0.0
        self._learned_s = 0.0
        self._drive_mean = 0.0  # the smoothed drive's recent mean while cold (relative trigger)
        self.threshold = config.threshold  # the threshold in force (the relative one moves)

    @property
    def state(self) -> AnnealingState:
        return AnnealingState(self.energy, self.temperature, self.phase, self.threshold, self.coupling_scale,
                              self.disorder)

    def cooling_fraction(self, t_s: float) -> float:
        """Share of the hot temperature left ``t_s`` into cooling (1 → 0 over cooling_time_s)."""
        c = self.config
        x = min(max(t_s / c.cooling_time_s, 0.0), 1.0) if c.cooling_time_s > 0 else 1.0
        if c.schedule == "exponential":
            return 0.0 if x >= 1.0 else math.exp(-5.0 * x) * (1.0 - x)
        return 1.0 - x

    def update(self, *, dt_s: float, energy: float, drive: float, strength: float) -> None:
        """Advance by ``dt_s`` seconds.

        energy : the field's energy E now (dimensionless). drive : the music's injection gain
        (rad/s, ≥ 0). strength : the kernel's strength S (rad/s), which sets the hot temperature.
        """
        c = self.config
        self.energy = energy
        self._drive += (max(drive, 0.0) - self._drive) * (1.0 - math.exp(-dt_s / DRIVE_SMOOTHING_S))
        slow = energy if self._slow_energy is None else self._slow_energy
        self._slow_energy = slow + (energy - slow) * (1.0 - math.exp(-dt_s / RISE_SMOOTHING_S))
        pumped = energy > slow  # rising: the music is putting energy in faster than the field relaxes
        if not c.enabled:
            self.temperature, self.coupling_scale, self.phase = 0.0, 1.0, "cold"
            return
        if c.relative:
            # music fallen to a sliver of its recent drive (a calm after a climax) drives nothing: what
            # energy the field still holds is the last heat's, not the music's
            driven = drive > 0.0 and self._drive >= CALM_DRIVE_SHARE * self._drive_mean
            driven_past_threshold = self._past_recent_level(energy, dt_s, driven=driven)
        else:
            driven_past_threshold = energy > c.threshold and drive > 0.0 and pumped
        if self.phase in ("cold", "heating"):
            if driven_past_threshold:
                self._turn_hot()
            else:
                self.phase = "heating" if energy > c.heating * self.threshold else "cold"
        elif self.phase == "hot":
            self._hot_s += dt_s
            if self._drive < c.hysteresis * self._drive_when_hot or self._hot_s > c.max_hot_s:
                self.phase, self._cooling_s = "cooling", 0.0
        elif self.phase == "cooling":
            self._cooling_s += dt_s
            # a new, bigger climax: the relative trigger asks for clearly more drive, as the cooling
            # field's own energy is still above the bar it learned while cold
            bigger = self._drive > (RELATIVE_REHEAT if c.relative else 1.0) * self._drive_when_hot
            if driven_past_threshold and bigger:
                self._turn_hot()
            elif self._cooling_s >= c.cooling_time_s:
                self.phase = "cold"
        left = {"hot": 1.0, "cooling": self.cooling_fraction(self._cooling_s)}.get(self.phase, 0.0)
        self.temperature = c.hot_temperature * strength * left
        self.coupling_scale = 1.0 - c.coupling_drop * left
        self._consolidate(dt_s, left)

    def _past_recent_level(self, energy: float, dt_s: float, *, driven: bool) -> bool:
        """Relative trigger: is the smoothed E above its recent mean + max(margin·σ, min_rise)?
        The mean and σ learn (over memory_s) only while cold and driven by music."""
        c = self.config
        fast = energy if self._fast_energy is None else self._fast_energy
        self._fast_energy = fast = fast + (energy - fast) * (1.0 - math.exp(-dt_s / FAST_SMOOTHING_S))
        if not driven:
            return False
        if self.phase in ("cold", "heating"):
            self._learned_s += dt_s
            if self._learned_s <= WARM_UP_S:
                return False
            learning = self._learned_s - WARM_UP_S
            rate = max(1.0 - math.exp(-dt_s / c.memory_s), min(dt_s / learning, 1.0))  # a plain mean at first
            self._mean += rate * (fast - self._mean)
            self._square += rate * (fast * fast - self._square)
            self._drive_mean += rate * (self._drive - self._drive_mean)
        sigma = math.sqrt(max(self._square - self._mean ** 2, 0.0))
        self.threshold = self._mean + max(c.margin * sigma, c.min_rise)
        novel = c.novelty > 0.0 and self._drive > c.novelty * self._drive_mean
        return self._learned_s >= WARM_UP_S + LEARN_S and (fast > self.threshold or novel)

    def _consolidate(self, dt_s: float, left: float) -> None:
        """Shrink the frequency disorder while the field cools through the middle temperatures
        (mobility × forming order ∝ left·(1 − left): nothing while hot or cold, so a quench gets
        none), and let it return over ``consolidation_memory_s`` (s)."""
        c = self.config
        mobility = 4.0 * left * (1.0 - left)  # left is 1 while hot, 0 when cold or heating
        self.disorder *= math.exp(-c.consolidation_rate * mobility * dt_s)
        self.disorder += (1.0 - self.disorder) * (1.0 - math.exp(-dt_s / c.consolidation_memory_s))

    def heat(self) -> None:
        """Turn hot now, as a climax driving the field past the threshold would: hot for
        ``max_hot_s`` (or until a drive present now falls away), then the cooling schedule."""
        if self.config.enabled:
            self._turn_hot()

    def _turn_hot(self) -> None:
        self.phase, self._hot_s = "hot", 0.0
        self._drive_when_hot = self._drive
