"""The link from music to what a viewer sees (DESIGN.md, "Music → picture"), beside the routes.

Two things the routes cannot do, because they only move parameters:

- **Loudness** (``Loudness``): the track's level relative to its own recent past, 0.5 = typical
  for the last ``memory_s`` seconds, ±``range_db`` dB → 1 / 0. Unlike the analyser's auto-gained
  ``energy`` (normalised over 10 s, per hop), it keeps a song's dynamics — a quiet verse reads
  low, the chorus high — so louder music moves the field more. The past starts as a typical music
  level (``PRIOR_DBFS``, worth ``PRIOR_S`` of listening), so a fade-in or a quiet intro reads quiet
  instead of setting the bar, and near-silence (a lead-in's noise floor) teaches nothing. It is a
  modulation source (``loudness``) and it sizes the kicks.
- **Kicks** (``Kicker``): on every beat (a downbeat ``downbeat_gain`` times stronger) and on an
  onset that is not a beat, the phases are displaced at once by a pattern drawn from the field's
  own eigenmodes — semantically-neutral energy, a hit the eye reads in the frame of the beat,
  which the coupling then heals. The spectral balance picks the modes: bass-heavy music drives
  the large modes (broad swells), bright music the fine ones (ripples), so a piano piece and a
  rock track look different. Each kick's mode weights and signs are new draws, so the pattern
  differs from beat to beat and from song to song.
- **Motion bursts** (``Kicker.speed_burst``): the same events quicken the field's own motion for a
  moment (an extra simulation speed sized like the kick, held for ``burst_ms`` and then gone), so
  the waves, spirals and clusters move on the beat and rest between beats — the hit is the field
  itself moving, not a flash. A held burst fills the 150 ms after the beat the eye (and the beat
  response figure) reads; a decaying one spent most of its motion in 3 frames, and a tracker beat
  one or two frames early put that before the beat.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from visualizer.engine.audio.features import FeatureSnapshot
from visualizer.engine.sim.harmonics import Harmonics, accumulate, accumulate_separable


@dataclass(frozen=True)
class LinkConfig:
    """A preset's [link] section.

    kick : RMS phase displacement (rad) of a beat's kick at typical loudness (0: no kicks).
    hue_kick : a uniform turn of every phase (rad, at typical loudness) added to each kick: the
        whole palette steps on the beat (drawn in absolute colour; the "mean" reference follows it).
    downbeat_gain : a downbeat's kick relative to a beat's. onset_kick : an onset's that is not
        a beat, relative to a beat's (0: beats only).
    loudness_power : a kick scales as (2·loudness)^power, so it follows the song's dynamics.
    max_kick : cap on one kick's RMS displacement (rad).
    burst : the simulation's extra speed (× its time step) on a beat at typical loudness (0: none),
        scaled with loudness like the kick; burst_ms : how long it is held (ms), from the beat's frame.
    max_step : cap on a kick's difference between neighbouring cells (rad): a steeper one would
        tear the field (phase slips leave vortices), which on a small grid no RMS cap prevents.
    rise_ms : a kick's displacement is spread evenly over this long (ms), from the beat's frame on:
        the eye reads a swell in the frames after the beat rather than a one-frame jump.
    low_mode, high_mode : the eigenmode (1 = the largest non-constant one) at the centre of a
        bass-only and of a highs-only kick; the balance between them slides from one to the other.
    mode_width : width of the band of modes around that centre (octaves of mode index, Gaussian σ).
    loudness_memory_s : the recent past the loudness is measured against (s).
    loudness_range_db : dB above (below) that level that read as loudness 1 (0).
    """

    kick: float = 0.0
    hue_kick: float = 0.0
    downbeat_gain: float = 1.5
    onset_kick: float = 0.0
    loudness_power: float = 1.5
    max_kick: float = 2.0
    burst: float = 0.0
    burst_ms: float = 50.0
    max_step: float = 0.5
    rise_ms: float = 80.0
    low_mode: float = 2.0
    high_mode: float = 24.0
    mode_width: float = 0.7
    loudness_memory_s: float = 40.0
    loudness_range_db: float = 12.0


class Loudness:
    """The music's level relative to its own recent past, 0..1 (0.5 = typical), per frame."""

    SHORT_S = 0.25  # the level's own smoothing (s): syllables and drum hits, not single samples
    PRIOR_DBFS, PRIOR_S = -20.0, 2.0  # the past a track starts against: a typical music level, worth 2 s
    FLOOR_DBFS = -60.0  # a level at or below this (a noise floor, a silent lead-in) does not teach the past

    def __init__(self, config: LinkConfig = LinkConfig()):
        self.config = config
        self._short_db: float | None = None
        self._reference_db = self.PRIOR_DBFS  # the recent past a track starts against
        self._heard_s = self.PRIOR_S
        self.value = 0.0

    def update(self, features: FeatureSnapshot, dt_s: float) -> float:
        """Follow ``features.level_dbfs`` over ``dt_s`` s; silence reads 0 and teaches nothing."""
        c = self.config
        if not features.music_heard:
            self.value = 0.0
            return self.value
        level = max(features.level_dbfs, -90.0)
        self._short_db = level if self._short_db is None else \
            self._short_db + (level - self._short_db) * (1.0 - math.exp(-dt_s / self.SHORT_S))
        if self._short_db > self.FLOOR_DBFS:
            self._heard_s += dt_s
            memory = min(c.loudness_memory_s, self._heard_s)  # about a plain mean until it has heard enough
            self._reference_db += (self._short_db - self._reference_db) * (1.0 - math.exp(-dt_s / memory))
        x = 0.5 + 0.5 * (self._short_db - self._reference_db) / c.loudness_range_db
        self.value = min(max(x, 0.0), 1.0)
        return self.value


class Kicker:
    """Beat and onset kicks: ``step(features, harmonics, loudness, dt_s)`` returns the displacement
    (float32 (H, W), rad) to add to the phases this frame, or None."""

    def __init__(self, config: LinkConfig, shape: tuple[int, int], *, seed: int = 0):
        self.config = config
        self._rng = np.random.default_rng(seed + 7919)
        self._pattern = np.zeros(shape, np.float32)  # the kick being given, whole
        self._out = np.zeros(shape, np.float32)  # this frame's share of it
        self._left = 0.0  # share of the pattern still to give
        self._checkerboard: np.ndarray | None = None
        self._seen_beats = 0
        self._seen_onsets = 0
        self._seen_downbeats = 0
        self.kicks = 0  # kicks given so far
        self.speed_burst = 0.0  # the extra simulation speed now (× the time step)
        self._burst_size = 0.0  # the last event's burst
        self._burst_left_s = 0.0  # how long it is still held (s)

    def strength(self, features: FeatureSnapshot, loudness: float) -> float:
        """The RMS displacement (rad) this frame's events ask for (0: none); consumes the events."""
        c = self.config
        beat = features.beat_count > self._seen_beats
        downbeat = features.downbeat_count > self._seen_downbeats
        onset = features.onset_count > self._seen_onsets
        self._seen_beats, self._seen_onsets = features.beat_count, features.onset_count
        self._seen_downbeats = features.downbeat_count
        if c.kick <= 0.0 or not (beat or (onset and features.beat_present)):
            return 0.0  # onsets kick only in music with a pulse: noise and speech have onsets too
        share = (c.downbeat_gain if downbeat else 1.0) if beat else c.onset_kick
        return min(c.kick * share * (2.0 * loudness) ** c.loudness_power, c.max_kick)

    def mode_weights(self, features: FeatureSnapshot, count: int) -> np.ndarray:
        """Weights (count,) of the non-constant modes 1..count: a Gaussian band in log mode index
        centred between ``low_mode`` and ``high_mode`` by the music's spectral balance."""
        c = self.config
        bands = np.array([features.bass, features.mid, features.high], np.float64)
        total = bands.sum()
        brightness = 0.5 if total <= 1e-9 else float((0.5 * bands[1] + bands[2]) / total)  # 0 bass … 1 highs
        centre = math.log2(c.low_mode) + brightness * (math.log2(c.high_mode) - math.log2(c.low_mode))
        index = np.log2(np.arange(1, count + 1, dtype=np.float64))
        weights = np.exp(-0.5 * ((index - centre) / c.mode_width) ** 2)
        return weights / np.linalg.norm(weights)

    def step(self, features: FeatureSnapshot, harmonics: Callable[[], Harmonics], loudness: float,
             dt_s: float) -> np.ndarray | None:
        """This frame's share of the kicks, float32 (H, W) rad (a reused buffer), or None. A new
        kick first gives what is left of the one before, then its own first share.
        harmonics : returns the field's eigenmodes now; asked only when a kick is drawn."""
        rms = self.strength(features, loudness)
        self._burst(rms, dt_s)
        carry = 0.0
        if rms > 0.0:
            carry, self._left = self._left, 0.0
            if carry > 0.0:
                np.multiply(self._pattern, np.float32(carry), out=self._out)
            if self._draw(features, harmonics(), rms):
                self._left = 1.0
                self.kicks += 1
        if self._left <= 0.0:
            return self._out if carry > 0.0 else None
        rise_s = self.config.rise_ms / 1000.0
        share = self._left if rise_s <= dt_s else min(self._left, dt_s / rise_s)
        self._left -= share
        if carry > 0.0:
            self._out += np.float32(share) * self._pattern
        else:
            np.multiply(self._pattern, np.float32(share), out=self._out)
        return self._out

    def _burst(self, rms: float, dt_s: float) -> None:
        """This frame's motion burst: an event of ``rms`` (rad, > 0) sets it anew, sized as the kick is
        (``burst`` at a beat's kick at typical loudness), and it is held for ``burst_ms`` from that
        frame on (at 60 fps, 150 ms = the beat's frame and the 8 after it), then is 0."""
        c = self.config
        if rms > 0.0 and c.burst > 0.0:
            self._burst_size = c.burst * rms / c.kick
            self._burst_left_s = c.burst_ms / 1000.0
        self.speed_burst = self._burst_size if self._burst_left_s > 1e-6 else 0.0
        self._burst_left_s -= dt_s

    def _alternating(self) -> bool:
        """Does the pattern flip sign from cell to cell (more step between neighbours than value)?"""
        sample = self._pattern[::4, :-1:4]
        steps = self._pattern[::4, 1::4][:, :sample.shape[1]] - sample
        return float(np.mean(steps * steps)) > float(np.mean(sample * sample))

    def _checker(self) -> np.ndarray:
        """+1/−1 on the cells with even/odd x + y, float32 (H, W), made once."""
        if self._checkerboard is None:
            y, x = np.indices(self._pattern.shape)
            self._checkerboard = np.where((x + y) % 2 == 0, 1.0, -1.0).astype(np.float32)
        return self._checkerboard

    def _draw(self, features: FeatureSnapshot, harmonics: Harmonics, rms: float) -> bool:
        """Draw a new kick pattern of RMS ``rms`` (rad) into the pattern buffer; False if none."""
        count = harmonics.shape[0] - 1
        coefficients = self.mode_weights(features, count) * self._rng.standard_normal(count)
        norm = float(np.linalg.norm(coefficients))
        if norm <= 1e-12:
            return False
        # unit-norm modes: Σ cₘψₘ has RMS |c|/√N over the N cells
        coefficients = (coefficients * (rms * math.sqrt(self._pattern.size) / norm)).astype(np.float32)
        # the band's modes only: the kernels skip zero coefficients, so the modes are read in place
        # (copying the band's graph modes out allocated up to 12 MB on the frame at 256²)
        coefficients[np.abs(coefficients) <= 1e-3 * np.abs(coefficients).max()] = 0.0
        self._pattern.fill(0.0)
        if harmonics.separable:
            accumulate_separable(coefficients, harmonics.row_factors[1:], harmonics.col_factors[1:], self._pattern)
        else:
            accumulate(coefficients, harmonics.flat[1:], self._pattern.reshape(-1))
        # a repulsive kernel's (K1 < 0) modes are long waves times the checkerboard: kicked as they are,
        # they split the two sublattices, which reads on screen as cell-sized grey static in either
        # view; turned back by the checkerboard they are the same waves as a smooth displacement
        if self._alternating():
            self._pattern *= self._checker()
        # the steepest step between neighbours, along every 4th row and column (a quarter of the work
        # at 512²; a smooth pattern's steepest step is within a few % of the sampled one)
        steepest = max(float(np.abs(np.diff(self._pattern[:, ::4], axis=0)).max(initial=0.0)),
                       float(np.abs(np.diff(self._pattern[::4], axis=1)).max(initial=0.0)))
        if steepest > self.config.max_step:
            self._pattern *= np.float32(self.config.max_step / steepest)
        if self.config.hue_kick > 0.0 and self.config.kick > 0.0:
            self._pattern += np.float32(self.config.hue_kick * rms / self.config.kick)  # the same loudness scaling
        return True
