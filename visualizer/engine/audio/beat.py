"""Causal beat tracking: a bar-pointer state-space model filtered forward, one hop at a time.

The model of Krebs, Böck & Widmer (2015, "An efficient state-space model for joint tempo and
meter tracking"), at the beat level:

- **State**: a tempo (beat period P in hops, every integer between the tempo limits) and a
  position 0..P−1 within the beat. Positions advance by one each hop; at the end of a beat the
  tempo may change, with probability ∝ exp(−λ·|log(P′/P)|) · prior(P′)^β · w(P′) — small
  changes are cheap, the log-normal prior around ``prior_bpm`` sets the start, and w is the
  metrical level's window (1 until an octave decision, see below).
- **Observation**: the onset activation a ∈ (0, 1) (the beat onset envelope divided by its own
  recent level, see :func:`activation`) is explained by the first 1/``beat_fraction`` of a beat
  with likelihood a and elsewhere with (1 − a)/(beat_fraction − 1) (Krebs 2015, eq. 8).
- **Forward filtering** (numba): α_t = L_t ⊙ (A α_{t−1}), normalised. Nothing is ever revised.
- **Beats**: the posterior's circular-mean beat phase is followed; a beat is reported on the
  hop where that phase wraps past zero — a prediction, so it is on time, not late.
- **Metrical level** (the octave): the filter alone prefers the fastest level whose beats all
  carry onsets (eighth-note hats, running semiquavers), because every onset then falls on a beat.
  So on each beat the tracked period P, 2P and P/2 are scored by the recent envelope's
  autocorrelation there times a log-normal tempo prior (120 BPM, one octave: librosa's
  defaults); when half or double the tempo wins on four beats in a row, the posterior is moved
  there — halving only once one parity of the beats is clearly accented (1.5× the other's
  loudness-weighted onsets), since halving onto the wrong parity scores worse than staying.
  After a move, a Gaussian window (±0.25 octave) around the chosen level, following the tracked
  tempo at a quarter per beat, weighs each new beat's tempo: tempo changes are followed, but
  the filter can no longer climb back to the rejected level.
- **Presence**: the tempo and phase are only trusted while the onset envelope is periodic at
  the tracked period: the normalised autocorrelation of the last ``periodicity_s`` seconds at
  that lag (best of ±2 hops, and at twice it), smoothed, with hysteresis. Speech reaches the
  periodicity of weakly pulsed music (counting aloud more), so how periodic the envelope must be
  to turn a beat on depends on the input: less for a continuous texture of onsets (pedalled
  piano, an ensemble), more for input that pauses as speech does between words (Scheirer &
  Slaney 1997: the share of hops quieter than half the recent mean power) or whose envelope
  stays under its flutter floor (a pad's swells). A second way on, when the learned beat
  activation (``activation.py``) runs: its own periodicity at the tracked period above
  ``pulse_on`` while its recent mean says it hears beats (``music_on``; the network stays near 0
  on speech, noise and pads). That opens the gate on music whose onset envelope is crowded with
  ornaments, soft string attacks or a quiet start (the onset envelope alone left a 2/4 dance and
  an orchestral crescendo without a beat). The same mean falling under ``music_off`` lets a beat
  go when music gives way to speech. So no beats are invented on speech, noise or pads; silence
  lets it decay to "no beat".
- **The off-beat trap**: where chord stabs, ghost notes or a shaker on the off-beats carry more
  onset strength than the beats (funk, bossa, folk dances with bass on the beat and stabs
  between), the filter locks at the right tempo half a beat late. Bass and kick mark the beat, so
  when the low band's onsets (below 150 Hz) halfway between the tracked beats clearly outweigh
  those on them, the posterior moves by half a beat, and the low band then shares the
  observation so the filter stays there. Where kick and bass are syncopated too (funk, hip-hop),
  a second network, fine-tuned on backbeat grooves (``backbeat_model.npz``), gives the same move
  when it peaks halfway between the tracked beats.
- **Learned observation** (optional, ``learned_weight``): the filter's activation can mix the
  network's beat probability with the onset envelope's; see docs/lab/ears.md for why the shipped
  setting is what it is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

LEARNED_FLOOR = 0.05  # learned-activation fluctuation taken as "nothing" when judging its periodicity
BEATS_KEPT = 16  # hops of the latest beats kept: the tempo uses the last 9, the parity those in the accent memory


@numba.njit(cache=True, nogil=True, fastmath=True)
def forward_step(alpha, scratch, periods, first, transition, tempo_weight, beat_width, a_beat, a_other, tempo_mass,
                 state_cos, state_sin):
    """One hop of forward filtering over the (tempo, position) states, in place.

    alpha, scratch : (n_states,) float64 posterior and work buffer. periods, first, beat_width :
    (n_tempi,) int64 period (hops), index of each tempo's position 0, and the beat region's width.
    transition : (n_tempi, n_tempi) tempo change at a beat boundary (rows sum to 1).
    tempo_weight : (n_tempi,) weight of each tempo on entering a new beat (the metrical level's window).
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
        scratch[first[j2]] = s * tempo_weight[j2]
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


@dataclass(frozen=True)
class BeatConfig:
    """The beat tracker's settings, checked on construction (one ValueError naming the setting).

    min_bpm, max_bpm : tempo range.
    prior_bpm, prior_octaves : the metrical-level prior (log-normal centre and width).
    prior_weight : β, how strongly the prior acts at each tempo decision (0 = only at start).
    transition_lambda : λ, cost of a tempo change at a beat boundary.
    beat_fraction : the beat region is the first 1/beat_fraction of a beat.
    activation_scale : the onset envelope's recent mean maps to activation 1/(1 + scale).
    level_s : time constant of that recent mean (s).
    periodicity_s : seconds of onset envelope judged for periodicity; periodicity_every : hops
        between two judgements.
    present_on, present_off : smoothed periodicity above which a beat becomes present, below
        which it is lost (hysteresis). presence_s : that smoothing's time constant (s).
    present_on_continuous : the on-threshold instead for a continuous texture of onsets: at most
        ``pause_share`` of the last ``pause_s`` seconds' hops below half their mean power, and an
        onset envelope whose mean exceeds ``envelope_floor``.
    envelope_floor : onset-envelope fluctuation (dB) taken as "nothing" when judging periodicity.
    octave_prior_bpm, octave_prior_octaves : the log-normal tempo prior of the octave decision.
    octave_margin, octave_beats : half or double the tempo must outscore the tracked one by
        ``octave_margin`` on ``octave_beats`` beats in a row (see :meth:`BeatTracker._decide_octave`).
    parity_ratio : halving waits until one parity's accents exceed the other's this much.
    level_width, level_rate : the metrical level's window (octaves, Gaussian σ) and how fast it
        follows the tracked tempo (fraction per beat), see :meth:`BeatTracker._follow_level`.
    learned_weight, learned_margin : the learned beat activation's share of the filter's
        observation is ``learned_weight`` × clip((pulse − periodicity) / ``learned_margin``, 0, 1):
        it grows as the activation is more periodic at the tracked period than the onset envelope
        (drum grooves, where the network hears which drum sounds) and is 0 where it is not
        (expressive piano, where the envelope knows as much); used only when an activation is
        passed to ``step``. learned_delay : hops the activation is delayed by before it is mixed
        (the network fires on the onset's hop; the SuperFlux envelope peaks about two hops later).
    lead_ms : beats are reported this much ahead of the filter's phase (the envelope lags the
        onsets: without it the reported beats fell a median 24–35 ms after the annotations).
    pulse_on, music_on, music_s : a beat also turns on (and stays on) while the learned
        activation's periodicity (the same measure) exceeds ``pulse_on`` and its mean over the
        last ``music_s`` seconds exceeds ``music_on`` (the network hears beats there: it stays
        near 0 on speech, noise and pads).
    music_off : a present beat is also lost when that mean falls below ``music_off`` while the
        onset envelope's periodicity is under the on-threshold in force (music gave way to speech).
    phase_ratio, phase_beats, phase_pairs, phase_floor : the half-beat move: the low band's onsets
        halfway between the beats outweigh those on them ``phase_ratio``-fold, over at least
        ``phase_pairs`` beat intervals, on ``phase_beats`` beats in a row, the low band averaging
        at least ``phase_floor`` dB (see :meth:`BeatTracker._check_half_beat`).
    low_weight : the low band's share of the observation after a half-beat move.
    learned_phase_ratio : the same half-beat move when the backbeat network's activation (rather
        than the low band) peaks ``learned_phase_ratio``-fold higher halfway between the beats
        than on them (it hears the snare on 2 and 4 under off-beat stabs and bass).
    learned_hold : the backbeat activation's share of the observation after such a move.
    """

    min_bpm: float = 55.0
    max_bpm: float = 215.0
    prior_bpm: float = 115.0
    prior_octaves: float = 0.6
    prior_weight: float = 0.05
    transition_lambda: float = 30.0
    beat_fraction: float = 16.0
    activation_scale: float = 1.0
    level_s: float = 4.0
    periodicity_s: float = 6.0
    periodicity_every: int = 8
    present_on: float = 0.25
    present_off: float = 0.08
    presence_s: float = 1.5
    present_on_continuous: float = 0.16
    pause_s: float = 2.0
    pause_share: float = 0.2
    envelope_floor: float = 0.2
    octave_prior_bpm: float = 120.0
    octave_prior_octaves: float = 1.0
    octave_margin: float = 1.1
    octave_beats: int = 4
    level_width: float = 0.25
    level_rate: float = 0.25
    parity_ratio: float = 1.5
    learned_weight: float = 0.5
    learned_margin: float = 0.3
    learned_delay: int = 2
    lead_ms: float = 12.0
    pulse_on: float = 0.15
    music_on: float = 0.025
    music_s: float = 3.0
    music_off: float = 0.005
    phase_ratio: float = 2.0
    phase_beats: int = 3
    phase_pairs: int = 6
    phase_floor: float = 0.5
    low_weight: float = 0.35
    learned_phase_ratio: float = 2.5
    learned_hold: float = 0.35

    def __post_init__(self) -> None:
        ranges = {"min_bpm": (10.0, 400.0), "max_bpm": (10.0, 400.0), "prior_bpm": (10.0, 400.0),
                  "prior_octaves": (0.01, 10.0), "prior_weight": (0.0, 10.0), "transition_lambda": (0.0, 1000.0),
                  "beat_fraction": (2.0, 100.0), "activation_scale": (1e-3, 100.0), "level_s": (0.1, 60.0),
                  "periodicity_s": (1.0, 30.0), "periodicity_every": (1, 1000), "present_on": (0.0, 1.0),
                  "present_off": (0.0, 1.0), "presence_s": (0.01, 60.0), "present_on_continuous": (0.0, 1.0),
                  "pause_s": (0.1, 30.0), "pause_share": (0.0, 1.0), "envelope_floor": (0.0, 100.0),
                  "octave_prior_bpm": (10.0, 400.0), "octave_prior_octaves": (0.01, 10.0),
                  "octave_margin": (1.0, 10.0), "octave_beats": (1, 100), "level_width": (0.01, 5.0),
                  "level_rate": (0.0, 1.0), "parity_ratio": (1.0, 100.0), "learned_weight": (0.0, 1.0),
                  "learned_margin": (0.01, 1.0), "learned_delay": (0, 8), "lead_ms": (0.0, 100.0),
                  "pulse_on": (0.0, 1.0), "music_on": (0.0, 1.0), "music_s": (0.1, 6.0), "music_off": (0.0, 1.0),
                  "phase_ratio": (1.0, 100.0), "phase_beats": (1, 100), "phase_pairs": (1, BEATS_KEPT - 1),
                  "phase_floor": (0.0, 100.0), "low_weight": (0.0, 1.0),
                  "learned_phase_ratio": (1.0, 100.0), "learned_hold": (0.0, 1.0)}
        for name, (lo, hi) in ranges.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
                raise ValueError(f"BeatConfig.{name} must be a number in [{lo}, {hi}], got {value!r}")
        if any(isinstance(v, float) for v in (self.periodicity_every, self.octave_beats, self.phase_beats,
                                              self.phase_pairs, self.learned_delay)):
            raise ValueError("BeatConfig.periodicity_every, octave_beats, phase_beats, phase_pairs and learned_delay "
                             "must be integers")
        if self.min_bpm >= self.max_bpm:
            raise ValueError(f"BeatConfig.min_bpm ({self.min_bpm}) must be below max_bpm ({self.max_bpm})")
        if self.present_off > min(self.present_on, self.present_on_continuous):
            raise ValueError(f"BeatConfig.present_off ({self.present_off}) must not exceed the on-thresholds")


class BeatTracker:
    """Feed ``step(odf_value)`` once per hop; it returns True on the hop a beat is reported.

    hop_rate_hz : hops per second. config : a :class:`BeatConfig` (its defaults when omitted).
    """

    def __init__(self, *, hop_rate_hz: float, config: BeatConfig | None = None):
        c = self.config = config if config is not None else BeatConfig()
        min_bpm, max_bpm, prior_bpm, prior_octaves = c.min_bpm, c.max_bpm, c.prior_bpm, c.prior_octaves
        prior_weight, transition_lambda, beat_fraction = c.prior_weight, c.transition_lambda, c.beat_fraction
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
        state_period = np.repeat(self.periods, self.periods)
        state_phase = 2.0 * np.pi * (np.arange(n_states) - np.repeat(self.first, self.periods)) / state_period
        self._state_cos, self._state_sin = np.cos(state_phase), np.sin(state_phase)
        self.tempo_mass = np.zeros(self.periods.size)
        self._beat_fraction = beat_fraction
        self._activation_scale = c.activation_scale
        self._level_alpha = 1.0 - math.exp(-1.0 / (c.level_s * hop_rate_hz))
        self._level = 0.0
        self._low_level = 0.0
        self.low_weight = 0.0  # the low band's share of the observation in force (see :meth:`_check_half_beat`)
        self.learned_hold = 0.0  # the backbeat activation's share in force after a move it decided
        self._odf = np.zeros(int(c.periodicity_s * hop_rate_hz))
        self._learned = np.zeros(self._odf.size)  # the learned activation, same span
        self._backbeat = np.zeros(self._odf.size)  # the backbeat network's activation, same span
        self._smoother = np.ones(int(0.2 * hop_rate_hz)) / int(0.2 * hop_rate_hz)
        self._periodicity_every = c.periodicity_every
        self._present_on, self._present_off = c.present_on, c.present_off
        self._present_on_continuous, self._pause_share = c.present_on_continuous, c.pause_share
        self._hop_powers = np.zeros(int(c.pause_s * hop_rate_hz))  # mean-square level of the latest hops
        self.on_threshold = c.present_on  # the on-threshold in force (see :meth:`_update_presence`)
        self._floor = c.envelope_floor
        self._presence_alpha = 1.0 - math.exp(-c.periodicity_every / (c.presence_s * hop_rate_hz))
        self._hop = 0
        self._phase_prev = 0.0
        self._lead_hops = c.lead_ms * 1e-3 * hop_rate_hz  # beats are reported this much ahead of the filter's phase
        self._last_beat = -10**9
        self.phase = 0.0  # position within the current beat, 0..1
        self.period_hops = float(self.periods[np.argmax(self.prior)])
        self.periodicity = 0.0  # smoothed normalised autocorrelation at the tracked period
        self.pulse = 0.0  # the same measure on the learned activation (0 without one)
        self.music = 0.0  # the learned activation's mean over the last ``music_s`` seconds
        self._music_hops = int(c.music_s * hop_rate_hz)
        self.present = False
        self.beat_now = False  # the model's beat fell on the latest hop (reported or not)
        self._accents = np.zeros(self._odf.size)  # accent envelope, same span
        self._lows = np.zeros(self._odf.size)  # low-band onset envelope, same span
        self._phase_votes = 0  # beats in a row whose half-beat positions outweighed them in the low band
        self._backbeat_votes = 0  # the same in the backbeat network's activation
        self._beats_since_shift = BEATS_KEPT  # beats since the last half-beat move
        self.half_beat_shifts = 0  # how often the beat was moved by half a beat
        self._beat_hops: list[int] = []
        self._octave_prior_bpm, self._octave_prior_octaves = c.octave_prior_bpm, c.octave_prior_octaves
        self._octave_margin, self._octave_beats = c.octave_margin, int(c.octave_beats)
        self._octave_votes = 0  # beats in a row voting for half (> 0) or double (< 0) the tempo
        self._level_width, self._level_rate = c.level_width, c.level_rate
        self._metrical_level: float | None = None  # log2 of the metrical level's beat period (hops)
        self.tempo_weight = np.ones(self.periods.size)
        self._parity_ratio = c.parity_ratio
        self._double = {j: int(np.searchsorted(self.periods, 2 * p)) for j, p in enumerate(self.periods)
                        if 2 * p <= self.periods[-1]}

    @property
    def tempo_bpm(self) -> float:
        """Tempo of the interquartile mean of the last eight beat intervals (the longest and the
        shortest quarter left out: a missed or doubled beat, or a break and the beat after it, do
        not move it); of the posterior's strongest tempo until five beats have fallen; 0 while no
        beat is present."""
        if not self.present:
            return 0.0
        if len(self._beat_hops) >= 5:
            intervals = np.sort(np.diff(self._beat_hops[-9:]))
            quarter = intervals.size // 4
            return 60.0 * self.hop_rate_hz / float(intervals[quarter:intervals.size - quarter].mean())
        return 60.0 * self.hop_rate_hz / self.period_hops

    @property
    def confidence(self) -> float:
        """0..1: the smoothed periodicity scaled so the on-threshold in force maps to 0.5, or the
        learned activation's (``pulse_on`` maps to 0.5) while it hears beats, whichever is higher."""
        learned = 0.5 * self.pulse / self.config.pulse_on if self.music > self.config.music_on else 0.0
        return float(min(1.0, max(0.5 * self.periodicity / self.on_threshold, learned)))

    def activation(self, odf_value: float, low: float = 0.0) -> float:
        """The onset envelope as an activation in [0.001, 0.999]: with r = odf / its recent mean,
        a = r² / (r² + scale · (beat_fraction − 1)), so a typical hop (r = 1, scale = 1) is
        neutral between beat and non-beat states and only clear peaks argue for a beat. After a
        half-beat move r mixes in the low band's ``low`` / its recent mean at ``low_weight``."""
        self._level += self._level_alpha * (odf_value - self._level)
        self._low_level += self._level_alpha * (low - self._low_level)
        w = self.low_weight
        r = (1.0 - w) * odf_value / (self._level + 1e-12) + w * low / (self._low_level + 1e-12)
        r2 = r * r
        a = r2 / (r2 + self._activation_scale * (self._beat_fraction - 1.0))
        return min(max(a, 1e-3), 1.0 - 1e-3)

    def _filter(self, a: float) -> float:
        """Advance the posterior by one hop; return the circular-mean beat phase (0..1)."""
        a_other = (1.0 - a) / (self._beat_fraction - 1.0)
        _, c, s = forward_step(self._alpha, self._scratch, self.periods, self.first, self.transition,
                               self.tempo_weight, self.beat_width, a, a_other, self.tempo_mass,
                               self._state_cos, self._state_sin)
        best = int(np.argmax(self.tempo_mass))
        lo, hi = max(best - 1, 0), min(best + 2, self.periods.size)
        w = self.tempo_mass[lo:hi]
        self.period_hops = float(np.dot(w, self.periods[lo:hi]) / w.sum())
        return (math.atan2(s, c) / (2.0 * math.pi)) % 1.0

    def _centred_envelope(self) -> tuple[np.ndarray, float]:
        """The recent onset envelope minus its 0.2 s moving mean (only sharp rises count), and its
        energy with the faint-flutter floor added."""
        env = self._odf - np.convolve(self._odf, self._smoother, mode="same")
        return env, float(np.dot(env, env)) + env.size * self._floor ** 2

    @staticmethod
    def _autocorrelation(env: np.ndarray, energy: float, lag: int) -> float:
        """Best normalised autocorrelation of ``env`` within ±2 hops of ``lag`` (0 if none)."""
        value = 0.0
        if energy > 1e-12:
            for lag_m in range(lag - 2, lag + 3):
                if 0 < lag_m < env.size:
                    r = float(np.dot(env[lag_m:], env[:-lag_m])) / energy * env.size / (env.size - lag_m)
                    value = max(value, r)
        return value

    def _continuous_onsets(self) -> bool:
        """True for a continuous texture of onsets: at most ``pause_share`` of the recent hops
        quieter than half their mean power (speech pauses between words far more often), and the
        onset envelope's recent mean above the flutter floor (a pad's slow swells stay below it)."""
        powers = self._hop_powers
        pauses = float(np.mean(powers < 0.5 * powers.mean())) > self._pause_share
        return not pauses and float(self._odf.mean()) > self._floor

    def _update_presence(self, with_learned: bool = False) -> None:
        """Normalised autocorrelation of the recent onset envelope at the tracked period (or twice
        it), smoothed; a beat turns on above ``present_on``, or ``present_on_continuous`` for a
        continuous texture of onsets (:meth:`_continuous_onsets`), and off below ``present_off``.
        ``with_learned``: the same measure on the learned activation (``pulse``) with its recent
        mean (``music``) also turns a beat on and holds it (``pulse_on``, ``music_on``), and that
        mean under ``music_off`` lets it go while the envelope is not periodic enough to turn it on."""
        env, energy = self._centred_envelope()
        lag = int(round(self.period_hops))
        value = max(self._autocorrelation(env, energy, lag), self._autocorrelation(env, energy, 2 * lag))
        self.periodicity += self._presence_alpha * (value - self.periodicity)
        self.on_threshold = self._present_on_continuous if self._continuous_onsets() else self._present_on
        pulsed = False
        if with_learned:
            act = self._learned - self._learned.mean()
            act_energy = float(np.dot(act, act)) + act.size * LEARNED_FLOOR ** 2
            pulse = max(self._autocorrelation(act, act_energy, lag), self._autocorrelation(act, act_energy, 2 * lag))
            self.pulse += self._presence_alpha * (pulse - self.pulse)
            self.music = float(self._learned[-self._music_hops:].mean())
            pulsed = self.music > self.config.music_on and self.pulse > self.config.pulse_on
        unheard = with_learned and self.music < self.config.music_off and self.periodicity < self.on_threshold
        if self.present and (self.periodicity < self._present_off or unheard) and not pulsed:
            self.present = False
            self.low_weight = self.learned_hold = 0.0
        elif not self.present and (self.periodicity > self.on_threshold or pulsed):
            self.present = True

    def _level_score(self, env: np.ndarray, energy: float, period: float) -> float:
        """Metrical-level score of a beat period (hops): the recent envelope's autocorrelation
        there times the octave prior; −1 outside the tempo range."""
        if not self.periods[0] - 0.5 <= period <= self.periods[-1] + 0.5:
            return -1.0
        bpm = 60.0 * self.hop_rate_hz / period
        prior = math.exp(-0.5 * (math.log2(bpm / self._octave_prior_bpm) / self._octave_prior_octaves) ** 2)
        return self._autocorrelation(env, energy, int(round(period))) * prior

    def _parity_contrast(self) -> float:
        """log(accent of the current beat's parity / accent of the other) over the beats still in
        the accent memory (:meth:`_peak` of each; the beat just reported is not yet heard, so it
        is left out); 0 when fewer than four beats are there."""
        sums = [1e-9, 1e-9]
        counted = 0
        for k, beat in enumerate(reversed(self._beat_hops[:-1]), start=1):
            peak = self._peak(self._accents, beat)
            if peak is None:
                break
            sums[k % 2] += peak
            counted += 1
        return math.log(sums[0] / sums[1]) if counted >= 4 else 0.0

    def _decide_octave(self) -> None:
        """Explicit metrical-level decision, on each beat while a beat is present: the tracked
        period P, 2P and P/2 are scored by :meth:`_level_score`; when half or double the tempo
        outscores the others by ``octave_margin`` on ``octave_beats`` beats in a row, the posterior
        moves there. Halving keeps the beats of the more accented parity and waits until that
        parity is clear (:meth:`_parity_contrast` beyond ``parity_ratio``); doubling adds a beat
        halfway. The metrical level is then set to the new period."""
        env, energy = self._centred_envelope()
        p = self.period_hops
        current = self._level_score(env, energy, p)
        slower, faster = self._level_score(env, energy, 2 * p), self._level_score(env, energy, p / 2)
        vote = 1 if slower > self._octave_margin * max(current, faster, 0.0) else \
            -1 if faster > self._octave_margin * max(current, slower, 0.0) else 0
        self._octave_votes = self._octave_votes + vote if vote and vote * self._octave_votes >= 0 else vote
        if abs(self._octave_votes) < self._octave_beats or not self.present:
            return
        moved_slower = self._octave_votes > 0
        contrast = self._parity_contrast() if moved_slower else 0.0
        if moved_slower and abs(contrast) < math.log(self._parity_ratio):
            return  # which half of the beats would stay beats is not yet clear: keep voting
        self._octave_votes = 0
        moved = np.zeros_like(self._alpha)
        if moved_slower:
            strong_now = contrast > 0
            for j1, j2 in self._double.items():
                p1, start = self.periods[j1], self.first[j2] + (0 if strong_now else self.periods[j1])
                moved[start:start + p1] += self._alpha[self.first[j1]:self.first[j1] + p1]
        else:
            for j2, j1 in self._double.items():  # period p2 = 2·p1: position k → k mod p1
                p1, p2 = self.periods[j1], self.periods[j2]
                np.add.at(moved, self.first[j1] + np.arange(p2) % p1, self._alpha[self.first[j2]:self.first[j2] + p2])
        if moved.sum() > 0:
            self._alpha = moved / moved.sum()
            self.period_hops *= 2.0 if moved_slower else 0.5
            self._metrical_level = math.log2(self.period_hops)

    def _peak(self, env: np.ndarray, hop: float) -> float | None:
        """Peak of ``env`` (a span of the latest hops) within −2..+3 hops of stream hop ``hop``;
        None when that is no longer in memory or not yet heard."""
        centre = env.size - 1 - (self._hop - int(round(hop)))
        if centre - 2 < 0 or centre + 3 > env.size - 1:
            return None
        return float(env[centre - 2:centre + 4].max())

    def _half_beat_contrast(self, env: np.ndarray, floor: float) -> float:
        """log(peaks of ``env`` halfway between the recent beats / those on them), over the beat
        intervals still in memory, heard, and within 20 % of the tracked period (an octave move or
        a tempo change leaves intervals of another beat); 0 while fewer than ``phase_pairs`` of
        each are there or ``env`` averages under ``floor`` there."""
        on, off = [], []
        beats = self._beat_hops
        for k in range(len(beats) - 1):
            if abs(beats[k + 1] - beats[k] - self.period_hops) > 0.2 * self.period_hops:
                continue  # not a beat of the current period (an octave move or a tempo change)
            mid = self._peak(env, 0.5 * (beats[k] + beats[k + 1]))
            if mid is not None:
                off.append(mid)
            beat = self._peak(env, beats[k])
            if beat is not None:
                on.append(beat)
        if min(len(on), len(off)) < self.config.phase_pairs or np.mean(on + off) < floor:
            return 0.0
        return math.log((np.mean(off) + 1e-9) / (np.mean(on) + 1e-9))

    def _check_half_beat(self, with_backbeat: bool) -> None:
        """The off-beat trap: where hi-hats, shakers or chord stabs on the off-beats carry more
        full-band onset strength than the beats, the filter can lock half a beat late. Two cues
        say so: the low band (bass and kick mark the beat in most music) and, with a model, the
        backbeat network's activation (trained on backbeat grooves too, it hears the snare on 2
        and 4 where kick and bass are syncopated). When either's peaks halfway between the beats
        outweigh those on them (``phase_ratio``, ``learned_phase_ratio``-fold) on ``phase_beats``
        beats in a row, the posterior moves by half a beat (each tempo's positions rotated by
        P/2), at most once per ``BEATS_KEPT`` beats, and from then on that cue shares the
        observation (``low_weight``, ``learned_hold``) so the filter does not slide back to the
        off-beats; that ends when the beat is lost."""
        self._beats_since_shift += 1
        c = self.config
        low = self._half_beat_contrast(self._lows, c.phase_floor) > math.log(c.phase_ratio)
        self._phase_votes = self._phase_votes + 1 if low else 0
        backbeat = with_backbeat and self._half_beat_contrast(self._backbeat, LEARNED_FLOOR) > math.log(
            c.learned_phase_ratio)
        self._backbeat_votes = self._backbeat_votes + 1 if backbeat else 0
        if max(self._phase_votes, self._backbeat_votes) < c.phase_beats or self._beats_since_shift < BEATS_KEPT:
            return
        if self._phase_votes >= c.phase_beats:
            self.low_weight = c.low_weight
        else:
            self.learned_hold = c.learned_hold
        self._phase_votes = self._backbeat_votes = self._beats_since_shift = 0
        self.half_beat_shifts += 1
        for j, p in enumerate(self.periods):
            f = self.first[j]
            self._alpha[f:f + p] = np.roll(self._alpha[f:f + p], p // 2)
        half = 0.5 * self.period_hops
        self._beat_hops = [int(round(b - half)) for b in self._beat_hops]
        self._last_beat = self._beat_hops[-1]
        self._phase_prev = (self._phase_prev + 0.5) % 1.0
        self.phase = (self.phase + 0.5) % 1.0

    def _follow_level(self) -> None:
        """On each beat: the metrical level (log2 of its beat period) follows the posterior's
        period at ``level_rate`` per beat while a beat is present, and new beats are weighted by a
        Gaussian window of ``level_width`` octaves around it, so the tempo drifts only as fast as
        the level follows and never slides to another metrical level; no window while no beat is
        present."""
        if not self.present or self._metrical_level is None:
            self._metrical_level = None
            self.tempo_weight[:] = 1.0
            return
        self._metrical_level += self._level_rate * (math.log2(self.period_hops) - self._metrical_level)
        self.tempo_weight = np.exp(-0.5 * ((np.log2(self.periods) - self._metrical_level) / self._level_width) ** 2)

    def step(self, odf_value: float, *, power: float, accent: float = 0.0, active: bool = True,
             learned: float | None = None, low: float = 0.0, backbeat: float | None = None) -> bool:
        """Advance one hop with the beat onset envelope ``odf_value`` (≥ 0); True when a beat is
        reported (the model's beat falls now and a beat is present). ``power`` : the hop's
        mean-square level (whether the input pauses). ``accent`` : the loudness-weighted envelope
        (which parity stays the beat when the tempo is halved). ``learned`` : the learned beat
        activation of this hop (0..1), mixed into the observation at ``learned_weight`` and judged
        for periodicity as a second way to turn a beat on; None without a model. ``low`` : the
        low band's onset envelope (dB; bass and kick), which decides a half-beat move.
        ``backbeat`` : the backbeat network's activation of this hop (0..1), the second cue for
        a half-beat move; None without one.
        ``active`` False (silence) keeps time on an empty envelope and reports no beats."""
        self._hop += 1
        if not active:
            odf_value = 0.0
            learned = 0.0 if learned is not None else None
            backbeat = 0.0 if backbeat is not None else None
        self._odf[:-1] = self._odf[1:]
        self._odf[-1] = odf_value
        self._accents[:-1] = self._accents[1:]
        self._accents[-1] = accent if active else 0.0
        self._lows[:-1] = self._lows[1:]
        self._lows[-1] = low if active else 0.0
        self._hop_powers[:-1] = self._hop_powers[1:]
        self._hop_powers[-1] = power
        a = self.activation(odf_value, low if active else 0.0)
        if learned is not None:
            self._learned[:-1] = self._learned[1:]
            self._learned[-1] = learned
            c = self.config
            w = c.learned_weight * min(1.0, max(0.0, (self.pulse - self.periodicity) / c.learned_margin))
            a = min(max((1.0 - w) * a + w * self._learned[-1 - c.learned_delay], 1e-3), 1.0 - 1e-3)
        if backbeat is not None:
            self._backbeat[:-1] = self._backbeat[1:]
            self._backbeat[-1] = backbeat
            a = min(max((1.0 - self.learned_hold) * a + self.learned_hold * backbeat, 1e-3), 1.0 - 1e-3)
        phase = (self._filter(a) + self._lead_hops / self.period_hops) % 1.0
        if self._hop % self._periodicity_every == 0:
            self._update_presence(learned is not None)
        wrapped = self._phase_prev > 0.5 and phase < 0.5
        self._phase_prev = phase
        self.phase = phase
        self.beat_now = wrapped and self._hop - self._last_beat >= 0.5 * self.period_hops
        if self.beat_now:
            self._last_beat = self._hop
            self._beat_hops = (self._beat_hops + [self._hop])[-BEATS_KEPT:]
            self._check_half_beat(backbeat is not None)
            self._decide_octave()
            self._follow_level()
        return self.beat_now and active and self.present
