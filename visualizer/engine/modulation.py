"""Modulation routes: music features (and LFOs) → simulation and colour parameters.

A slider (or the preset) sets each target's *base*; every route adds its own value on top, as
VJ software does:

    live.target = clamp(base.target + Σ_routes lo + (hi − lo)·smooth(curve(invert(source))))

Targets are the parameters of ``visualizer.engine.params.REGISTRY``; clamping uses their ranges.

Sources are 0..1: ``energy``, ``bass``, ``mid``, ``high`` (auto-gained levels), ``loudness`` (the
level against the track's own last ~40 s, ``engine.link.Loudness``: keeps the song's dynamics), ``onset`` and
``beat`` (1 on the frame an event arrives, else 0: give them a release to make a pulse),
``beat_phase``, ``pulse`` (1 while the analyser hears a steady beat, else 0: lets a preset move
differently with and without a pulse), ``tempo`` (60..180 BPM → 0..1), ``lfo`` (0.5 + 0.5·sin 2πt/period: starts
mid-range and rises first).
Smoothing is one-pole with separate attack (rising) and release (falling) time constants.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from visualizer.engine.audio.features import FeatureSnapshot
from visualizer.engine.params import REGISTRY, Params

SOURCES = ("energy", "loudness", "bass", "mid", "high", "onset", "beat", "beat_phase", "pulse", "tempo",
           "lfo")
CURVES = ("linear", "square", "sqrt", "smoothstep")
TEMPO_RANGE_BPM = (60.0, 180.0)

TARGETS = tuple(REGISTRY)


@dataclass(frozen=True)
class Route:
    """One modulation route: ``source`` → ``target`` over [lo, hi].

    attack_ms, release_ms : smoothing time constants for rising and falling values (ms, 0 = none).
    period_s : period of the ``lfo`` source (s).
    """

    source: str
    target: str
    lo: float
    hi: float
    curve: str = "linear"
    attack_ms: float = 0.0
    release_ms: float = 0.0
    invert: bool = False
    period_s: float = 60.0


@dataclass(frozen=True)
class SweepConfig:
    """A preset's [sweep] section: what a slow LFO sweeps when no music plays.

    ranges : ((parameter, (low, high)), ...). period_s : the LFO's period (s).
    """

    ranges: tuple[tuple[str, tuple[float, float]], ...] = ()
    period_s: float = 60.0

    def routes(self) -> tuple[Route, ...]:
        return tuple(Route(source="lfo", target=name, lo=lo, hi=hi, period_s=self.period_s)
                     for name, (lo, hi) in self.ranges)


def apply_curve(curve: str, x: float) -> float:
    """Shape a 0..1 value."""
    if curve == "square":
        return x * x
    if curve == "sqrt":
        return math.sqrt(x)
    if curve == "smoothstep":
        return x * x * (3.0 - 2.0 * x)
    return x


def smoothing_step(current: float, target: float, *, dt_s: float, attack_ms: float, release_ms: float) -> float:
    """One-pole follower: move ``current`` toward ``target`` with the attack or release constant."""
    tau_s = (attack_ms if target > current else release_ms) / 1000.0
    if tau_s <= 0.0:
        return target
    return current + (target - current) * (1.0 - math.exp(-dt_s / tau_s))


class Modulator:
    """Turns feature snapshots into live parameter values, frame by frame."""

    def __init__(self, routes: Sequence[Route]):
        self.routes = tuple(routes)
        self._smoothed = [0.0] * len(self.routes)
        self._seen_onsets = 0
        self._seen_beats = 0

    def source_values(self, features: FeatureSnapshot, loudness: float = 0.0) -> dict[str, float]:
        """Every source's raw 0..1 value this frame (``lfo`` at a 1 s period; routes rescale);
        ``loudness`` comes from the session's ``engine.link.Loudness``."""
        onset = 1.0 if features.onset_count > self._seen_onsets else 0.0
        beat = 1.0 if features.beat_count > self._seen_beats else 0.0
        self._seen_onsets, self._seen_beats = features.onset_count, features.beat_count
        lo, hi = TEMPO_RANGE_BPM
        return {
            "energy": features.energy, "loudness": loudness,
            "bass": features.bass, "mid": features.mid, "high": features.high,
            "onset": onset, "beat": beat, "beat_phase": features.beat_phase,
            "pulse": 1.0 if features.beat_present and features.music_heard else 0.0,
            "tempo": min(max((features.tempo_bpm - lo) / (hi - lo), 0.0), 1.0) if features.tempo_bpm else 0.0,
            "lfo": 0.0,  # per route, below
        }

    def update(self, base: Params, features: FeatureSnapshot, *, time_s: float, dt_s: float,
               loudness: float = 0.0) -> Params:
        """The live value of every parameter: ``base`` plus the routes, clamped to the registry's ranges.

        time_s : time since start (s), drives the LFOs; dt_s : time since the last update (s).
        """
        sources = self.source_values(features, loudness)
        offsets: dict[str, float] = {}
        for i, route in enumerate(self.routes):
            if route.source == "lfo":
                x = 0.5 + 0.5 * math.sin(2.0 * math.pi * time_s / route.period_s)
            else:
                x = sources[route.source]
                x = min(max(x, 0.0), 1.0) if math.isfinite(x) else 0.0  # a broken feature never reaches the field
            if route.invert:
                x = 1.0 - x
            x = apply_curve(route.curve, x)
            self._smoothed[i] = smoothing_step(self._smoothed[i], x, dt_s=dt_s,
                                               attack_ms=route.attack_ms, release_ms=route.release_ms)
            value = route.lo + (route.hi - route.lo) * self._smoothed[i]
            offsets[route.target] = offsets.get(route.target, 0.0) + value
        if not offsets:
            return base
        return base.replace(**{name: base.get(name) + offset for name, offset in offsets.items()})
