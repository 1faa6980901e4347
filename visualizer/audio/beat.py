"""Causal beat tracking: a bar-pointer state-space model filtered forward, one hop at a time.

The model of Krebs, Böck & Widmer (2015, "An efficient state-space model for joint tempo and
meter tracking"), at the beat level:

- **State**: a tempo (beat period P in hops, every integer between the tempo limits) and a
  position 0..P−1 within the beat. Positions advance by one each hop; at the end of a beat the
  tempo may change, with probability ∝ exp(−λ·|log(P′/P)|) · prior(P′)^β — small changes are
  cheap, the metrical-level prior (log-normal around ``prior_bpm``) gently decides the octave.
- **Observation**: the onset activation a ∈ (0, 1) (the beat onset envelope divided by its own
  recent level, see :func:`activation`) is explained by the first 1/``beat_fraction`` of a beat
  with likelihood a and elsewhere with (1 − a)/(beat_fraction − 1) (Krebs 2015, eq. 8).
- **Forward filtering** (numba): α_t = L_t ⊙ (A α_{t−1}), normalised. Nothing is ever revised.
- **Beats**: the posterior's circular-mean beat phase is followed; a beat is reported on the
  hop where that phase wraps past zero — a prediction, so it is on time, not late.
- **Presence**: the tempo and phase are only trusted while the onset envelope is periodic at
  the tracked period: the normalised autocorrelation of the last ``periodicity_s`` seconds at
  that lag (best of ±2 hops, and at twice it), smoothed, with hysteresis. Speech, noise and pads
  stay below it, so no beats are invented there; silence lets it decay to "no beat".
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True, nogil=True, fastmath=True)
def forward_step(alpha, scratch, periods, first, transition, beat_width, a_beat, a_other, tempo_mass,
                 state_cos, state_sin):
    """One hop of forward filtering over the (tempo, position) states, in place.

    alpha, scratch : (n_states,) float64 posterior and work buffer. periods, first, beat_width :
    (n_tempi,) int64 period (hops), index of each tempo's position 0, and the beat region's width.
    transition : (n_tempi, n_tempi) tempo change at a beat boundary (rows sum to 1).
    a_beat, a_other : observation likelihoods inside / outside the beat region.
    tempo_mass : (n_tempi,) out, posterior mass of each tempo.
    state_cos, state_sin : (n_states,) cos and sin of each state's beat phase 2π·k/P.
    Returns (predictive likelihood, cos and sin sums of the beat phase under the posterior).
    """
    n_tempi = periods.size
    for j in range(n_tempi):
        f = first[j]
        for k in range(periods[j] - 1, 0, -1):
            scratch[f + k] = alpha[f + k - 1]
    for j2 in range(n_tempi):
        s = 0.0
        for j in range(n_tempi):
            s += alpha[first[j] + periods[j] - 1] * transition[j, j2]
        scratch[first[j2]] = s
    total = 0.0
    c = 0.0
    sn = 0.0
    for j in range(n_tempi):
        f = first[j]
        p = periods[j]
        mass = 0.0
        for k in range(p):
            v = scratch[f + k] * (a_beat if k < beat_width[j] else a_other)
            alpha[f + k] = v
            mass += v
            c += v * state_cos[f + k]
            sn += v * state_sin[f + k]
        tempo_mass[j] = mass
        total += mass
    if total <= 0.0:
        return 0.0, 0.0, 0.0
    for i in range(alpha.size):
        alpha[i] /= total
    for j in range(n_tempi):
        tempo_mass[j] /= total
    return total, c / total, sn / total


class BeatTracker:
    """Feed ``step(odf_value)`` once per hop; it returns True on the hop a beat is reported.

    hop_rate_hz : hops per second. min_bpm, max_bpm : tempo range.
    prior_bpm, prior_octaves : the metrical-level prior (log-normal centre and width).
    prior_weight : β, how strongly the prior acts at each tempo decision (0 = only at start).
    transition_lambda : λ, cost of a tempo change at a beat boundary.
    beat_fraction : the beat region is the first 1/beat_fraction of a beat.
    activation_scale : the onset envelope's recent mean maps to activation 1/(1 + scale).
    level_s : time constant of that recent mean (s).
    periodicity_s : seconds of onset envelope judged for periodicity.
    present_on, present_off : smoothed periodicity above which a beat becomes present, below
        which it is lost (hysteresis). presence_s : that smoothing's time constant (s).
    envelope_floor : onset-envelope fluctuation (dB) taken as "nothing" when judging periodicity.
    octave_ratio, octave_beats : the explicit octave decision — over the last ``octave_beats``
        beats, when the accents of one parity exceed the other's by ``octave_ratio`` and the prior
        prefers half the tempo, the beat moves to the slower level (see :meth:`_decide_octave`).
    """

    def __init__(self, *, hop_rate_hz: float, min_bpm: float = 55.0, max_bpm: float = 215.0,
                 prior_bpm: float = 115.0, prior_octaves: float = 0.6, prior_weight: float = 0.05,
                 transition_lambda: float = 30.0, beat_fraction: float = 16.0, activation_scale: float = 1.0,
                 level_s: float = 4.0, periodicity_s: float = 6.0, periodicity_every: int = 8,
                 present_on: float = 0.2, present_off: float = 0.08, presence_s: float = 1.5,
                 envelope_floor: float = 0.2, octave_ratio: float = 3.0, octave_beats: int = 8):
        self.hop_rate_hz = hop_rate_hz
        lo = max(2, int(math.floor(60.0 * hop_rate_hz / max_bpm)))
        hi = int(math.ceil(60.0 * hop_rate_hz / min_bpm))
        self.periods = np.arange(lo, hi + 1, dtype=np.int64)
        self.first = np.concatenate([[0], np.cumsum(self.periods)[:-1]]).astype(np.int64)
        self.beat_width = np.maximum(1, np.round(self.periods / beat_fraction)).astype(np.int64)
        bpm = 60.0 * hop_rate_hz / self.periods
        self.prior = np.exp(-0.5 * (np.log2(bpm / prior_bpm) / prior_octaves) ** 2)
        log_ratio = np.abs(np.log(self.periods[None, :] / self.periods[:, None]))
        transition = np.exp(-transition_lambda * log_ratio) * self.prior[None, :] ** prior_weight
        self.transition = transition / transition.sum(axis=1, keepdims=True)
        n_states = int(self.periods.sum())
        self._state_prior = np.repeat(self.prior / self.periods, self.periods)
        self._state_prior /= self._state_prior.sum()
        self._alpha = self._state_prior.copy()
        self._scratch = np.zeros(n_states)
        state_phase = 2.0 * np.pi * (np.arange(n_states) - np.repeat(self.first, self.periods)) / np.repeat(self.periods, self.periods)
        self._state_cos, self._state_sin = np.cos(state_phase), np.sin(state_phase)
        self.tempo_mass = np.zeros(self.periods.size)
        self._beat_fraction = beat_fraction
        self._activation_scale = activation_scale
        self._level_alpha = 1.0 - math.exp(-1.0 / (level_s * hop_rate_hz))
        self._level = 0.0
        self._odf = np.zeros(int(periodicity_s * hop_rate_hz))
        self._smoother = np.ones(int(0.2 * hop_rate_hz)) / int(0.2 * hop_rate_hz)
        self._periodicity_every = periodicity_every
        self._present_on, self._present_off = present_on, present_off
        self._floor = envelope_floor
        self._presence_alpha = 1.0 - math.exp(-periodicity_every / (presence_s * hop_rate_hz))
        self._hop = 0
        self._phase_prev = 0.0
        self._last_beat = -10**9
        self.phase = 0.0  # position within the current beat, 0..1
        self.period_hops = float(self.periods[np.argmax(self.prior)])
        self.periodicity = 0.0  # smoothed normalised autocorrelation at the tracked period
        self.present = False
        self.beat_now = False  # the model's beat fell on the latest hop (reported or not)
        self._accents = np.zeros(int(3.0 * hop_rate_hz))  # accent envelope, last 3 s
        self._beat_accents: list[float] = []  # accent at each of the latest beats, oldest first
        self._beat_hops: list[int] = []
        self._octave_ratio, self._octave_beats = octave_ratio, octave_beats
        self._double = {j: int(np.searchsorted(self.periods, 2 * p)) for j, p in enumerate(self.periods)
                        if 2 * p <= self.periods[-1]}

    @property
    def tempo_bpm(self) -> float:
        """Tempo of the last six beat intervals, the longest and shortest left out (a missed or
        doubled beat does not move it); of the posterior's strongest tempo until five beats
        have fallen; 0 while no beat is present."""
        if not self.present:
            return 0.0
        if len(self._beat_hops) >= 5:
            intervals = np.sort(np.diff(self._beat_hops))[1:-1]
            return 60.0 * self.hop_rate_hz / float(intervals.mean())
        return 60.0 * self.hop_rate_hz / self.period_hops

    @property
    def confidence(self) -> float:
        """0..1: the smoothed periodicity scaled so ``present_on`` maps to 0.5."""
        return float(min(1.0, 0.5 * self.periodicity / self._present_on))

    def activation(self, odf_value: float) -> float:
        """The onset envelope as an activation in [0.001, 0.999]: with r = odf / its recent mean,
        a = r² / (r² + scale · (beat_fraction − 1)), so a typical hop (r = 1, scale = 1) is
        neutral between beat and non-beat states and only clear peaks argue for a beat."""
        self._level += self._level_alpha * (odf_value - self._level)
        r2 = (odf_value / (self._level + 1e-12)) ** 2
        a = r2 / (r2 + self._activation_scale * (self._beat_fraction - 1.0))
        return min(max(a, 1e-3), 1.0 - 1e-3)

    def _filter(self, a: float) -> float:
        """Advance the posterior by one hop; return the circular-mean beat phase (0..1)."""
        a_other = (1.0 - a) / (self._beat_fraction - 1.0)
        _, c, s = forward_step(self._alpha, self._scratch, self.periods, self.first, self.transition,
                               self.beat_width, a, a_other, self.tempo_mass, self._state_cos, self._state_sin)
        best = int(np.argmax(self.tempo_mass))
        lo, hi = max(best - 1, 0), min(best + 2, self.periods.size)
        w = self.tempo_mass[lo:hi]
        self.period_hops = float(np.dot(w, self.periods[lo:hi]) / w.sum())
        return (math.atan2(s, c) / (2.0 * math.pi)) % 1.0

    def _update_presence(self) -> None:
        """Normalised autocorrelation of the recent onset envelope at the tracked period."""
        env = self._odf - np.convolve(self._odf, self._smoother, mode="same")  # only sharp rises count
        energy = float(np.dot(env, env)) + env.size * self._floor ** 2  # faint flutter is not a beat
        if energy <= 1e-12:
            value = 0.0
        else:
            lag = int(round(self.period_hops))
            value = 0.0
            for multiple in (1, 2):
                for lag_m in range(multiple * lag - 2, multiple * lag + 3):
                    if 0 < lag_m < env.size:
                        r = float(np.dot(env[lag_m:], env[:-lag_m])) / energy * env.size / (env.size - lag_m)
                        value = max(value, r)
        self.periodicity += self._presence_alpha * (value - self.periodicity)
        if self.present and self.periodicity < self._present_off:
            self.present = False
        elif not self.present and self.periodicity > self._present_on:
            self.present = True

    def _beat_accent(self, beat_hop: int) -> float:
        """Peak accent within −2..+3 hops of ``beat_hop`` (needs 3 hops heard after it)."""
        age = self._hop - beat_hop
        n = self._accents.size
        return float(self._accents[max(n - age - 3, 0):max(n - age + 3, 1)].max())

    def _decide_octave(self) -> None:
        """Explicit metrical-level decision, on each beat: if the beats alternate strong/weak
        (accent medians by parity over the last ``octave_beats`` differ by ``octave_ratio``) and
        the prior prefers half the tempo, move the posterior onto the half-tempo states, the
        strong beats becoming the beats."""
        if len(self._beat_accents) < self._octave_beats:
            return
        recent = np.array(self._beat_accents[-self._octave_beats:])
        same, other = np.median(recent[-2::-2]), np.median(recent[::-2])  # parity of the current beat / not
        strong_now = same > self._octave_ratio * other  # beat now is strong; previous beat weak
        weak_now = other > self._octave_ratio * same
        j = int(np.argmax(self.tempo_mass))
        if not (strong_now or weak_now) or j not in self._double or self.prior[self._double[j]] <= self.prior[j]:
            return
        halved = np.zeros_like(self._alpha)
        for j1, j2 in self._double.items():
            p1, shift = self.periods[j1], 0 if strong_now else self.periods[j1]
            halved[self.first[j2] + shift:self.first[j2] + shift + p1] += self._alpha[self.first[j1]:self.first[j1] + p1]
        if halved.sum() > 0:
            self._alpha = halved / halved.sum()
            self._beat_accents.clear()

    def step(self, odf_value: float, *, accent: float = 0.0, active: bool = True) -> bool:
        """Advance one hop with the beat onset envelope ``odf_value`` (≥ 0); True when a beat is
        reported (the model's beat falls now and a beat is present). ``accent`` : the
        loudness-weighted envelope (for the octave decision). ``active`` False (silence) keeps
        time on an empty envelope and reports no beats."""
        self._hop += 1
        if not active:
            odf_value = 0.0
        self._odf[:-1] = self._odf[1:]
        self._odf[-1] = odf_value
        self._accents[:-1] = self._accents[1:]
        self._accents[-1] = accent if active else 0.0
        phase = self._filter(self.activation(odf_value))
        if self._hop % self._periodicity_every == 0:
            self._update_presence()
        wrapped = self._phase_prev > 0.5 and phase < 0.5
        self._phase_prev = phase
        self.phase = phase
        self.beat_now = wrapped and self._hop - self._last_beat >= 0.5 * self.period_hops
        if self.beat_now:
            self._last_beat = self._hop
            if self._beat_hops:
                self._beat_accents = (self._beat_accents + [self._beat_accent(self._beat_hops[-1])])[-self._octave_beats:]
            self._beat_hops = (self._beat_hops + [self._hop])[-7:]
            self._decide_octave()
        return self.beat_now and active and self.present
