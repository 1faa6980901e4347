"""Streaming, causal analysis: samples in, one FeatureSnapshot per hop out.

The same object serves the live thread and the offline ``visualizer analyze`` command, so what is
evaluated offline is exactly what runs live. Nothing looks ahead: each hop sees only the past.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, replace

import numpy as np

from visualizer.engine.audio.activation import BACKBEAT_MODEL_PATH, BeatActivation, model_available, model_input
from visualizer.engine.audio.beat import BeatConfig, BeatTracker
from visualizer.engine.audio.features import FeatureSnapshot
from visualizer.engine.audio.meter import MeterTracker
from visualizer.engine.audio.onset_envelope import BeatOnsetEnvelope
from visualizer.engine.audio.spectral import (
    log_edges_hz,
    superflux_rise,
    triangular_filterbank,
)


@dataclass(frozen=True)
class AnalysisConfig:
    """Analysis settings.

    hop : samples per analysis step (≤ 512). n_fft : analysis frame (samples).
    level_average_s : time constant of the long-term averages that normalise levels (s).
    onset_delta : how far (in units of the flux's long-term mean, at least ``onset_floor``) the
        onset strength must rise above its recent mean to count as an onset.
    onset_window_s : that recent mean's span (s).
    refractory_s : shortest gap between two onsets (s).
    silence_dbfs, silence_hold_s : below this level for this long the gate closes.
    min_bpm, max_bpm : the beat tracker's tempo range (override ``beat``'s).
    learned : use the learned beat activation (``activation.py``) when its weights are installed
        (trained at 44.1 kHz with 512-sample hops; used at 40–50 kHz with 512-sample hops, where
        its hop rate is within 10 % of training's: 48 kHz measured alike; other settings use the
        onset envelope alone).
    beat : the beat tracker's settings (:class:`BeatConfig`; its defaults when None).
    """

    sr: int = 44100
    hop: int = 512
    n_fft: int = 1024
    bass_hz: float = 250.0
    high_hz: float = 4000.0
    level_average_s: float = 10.0
    n_bands: int = 64
    onset_delta: float = 2.2
    onset_window_s: float = 0.5
    refractory_s: float = 0.06
    onset_floor: float = 0.0
    compression: float = 100.0
    silence_dbfs: float = -55.0
    silence_hold_s: float = 1.5
    min_bpm: float = 55.0
    max_bpm: float = 215.0
    learned: bool = True
    beat: BeatConfig | None = None


def low_latency_window(n_fft: int, tail: int) -> np.ndarray:
    """A Hann rise over the first n_fft − tail samples and a short Hann fall over the last ``tail``:
    the newest samples weigh fully, so an onset shows in the first hop that contains it."""
    rise = np.hanning(2 * (n_fft - tail))[: n_fft - tail]
    fall = np.hanning(2 * tail)[tail:]
    return np.concatenate([rise, fall])


class TapTempo:
    """Tempo and phase from key taps; overrides the tracker until cleared."""

    def __init__(self) -> None:
        self.taps: deque[float] = deque(maxlen=8)

    def tap(self, time_s: float) -> None:
        if self.taps and time_s - self.taps[-1] > 2.0:  # a pause starts a new tempo
            self.taps.clear()
        self.taps.append(time_s)

    def clear(self) -> None:
        self.taps.clear()

    @property
    def period_s(self) -> float | None:
        if len(self.taps) < 2:
            return None
        return float(np.median(np.diff(np.array(self.taps))))


class StreamingAnalyser:
    """Push mono float32 samples in any block size; read ``snapshot`` and the returned events.

    ``push(block)`` returns the events completed by this block as (kind, time_s) with kind
    "onset", "beat" or "downbeat" (a downbeat also comes as a "beat" at the same time);
    ``snapshot`` is the FeatureSnapshot of the latest hop.
    """

    def __init__(self, config: AnalysisConfig = AnalysisConfig()):
        c = self.config = config
        self.hop_rate_hz = c.sr / c.hop
        self._frame = np.zeros(c.n_fft, np.float32)
        self._pending = np.zeros(c.hop, np.float32)
        self._pending_len = 0
        self._samples = 0  # samples consumed (stream time = samples / sr)
        self._window = low_latency_window(c.n_fft, tail=min(64, c.hop // 4)).astype(np.float32)
        edges = log_edges_hz(n_bands=c.n_bands, fmin=30.0, fmax=min(16000.0, c.sr / 2))
        self._fb = triangular_filterbank(edges, sr=c.sr, n_fft=c.n_fft, unit_area=False).astype(np.float32)
        freqs = np.fft.rfftfreq(c.n_fft, 1.0 / c.sr)
        self._bands = (freqs < c.bass_hz, (freqs >= c.bass_hz) & (freqs < c.high_hz), freqs >= c.high_hz)
        self._prev_bands = np.zeros(c.n_bands, np.float32)
        self.beat_envelope = BeatOnsetEnvelope(sr=c.sr, hop=c.hop)
        self.meter = MeterTracker(band_hz=self.beat_envelope.band_hz, hop_rate_hz=self.hop_rate_hz)
        self._averages = np.zeros(4)  # energy, bass, mid, high
        self._learned = np.zeros(4)  # hops each average has learned from
        self._level_alpha = 1.0 - math.exp(-1.0 / (c.level_average_s * self.hop_rate_hz))
        self._flux_mean = 0.0
        self._recent_flux: deque[float] = deque(maxlen=max(2, int(c.onset_window_s * self.hop_rate_hz)))
        self._last_onset_s = -1.0
        self._quiet_hops = 0
        self._silent = True
        beat_config = c.beat if c.beat is not None else BeatConfig()
        self.beats = BeatTracker(hop_rate_hz=self.hop_rate_hz,
                                 config=replace(beat_config, min_bpm=c.min_bpm, max_bpm=c.max_bpm))
        use_model = c.learned and model_available() and 40000 <= c.sr <= 50000 and c.hop == 512
        self._beat_model = BeatActivation() if use_model else None
        self._backbeat_model = BeatActivation(BACKBEAT_MODEL_PATH) if use_model and model_available(
            BACKBEAT_MODEL_PATH) else None
        self.tap_tempo = TapTempo()
        self._tap_last_beat_s: float | None = None
        self.snapshot = FeatureSnapshot(status="silence")

    @property
    def time_s(self) -> float:
        """Stream time of the last sample consumed (s)."""
        return self._samples / self.config.sr

    def push(self, block: np.ndarray) -> list[tuple[str, float]]:
        events: list[tuple[str, float]] = []
        hop = self.config.hop
        i = 0
        while i < block.size:
            take = min(hop - self._pending_len, block.size - i)
            self._pending[self._pending_len:self._pending_len + take] = block[i:i + take]
            self._pending_len += take
            i += take
            if self._pending_len == hop:
                self._pending_len = 0
                self._analyse_hop(self._pending, events)
        return events

    def _normalise(self, index: int, value: float) -> float:
        """value / (value + long-term average): 0.5 is typical for this input; learns when not
        silent, as a plain running mean until it has heard one time constant's worth."""
        if not self._silent:
            self._learned[index] += 1
            alpha = max(self._level_alpha, 1.0 / self._learned[index])
            self._averages[index] += alpha * (value - self._averages[index])
        return value / (value + self._averages[index] + 1e-12)

    def _analyse_hop(self, hop_samples: np.ndarray, events: list[tuple[str, float]]) -> None:
        c = self.config
        self._samples += c.hop
        now = self.time_s
        self._frame[:-c.hop] = self._frame[c.hop:]
        self._frame[-c.hop:] = hop_samples
        mean_square = float(np.dot(hop_samples, hop_samples)) / c.hop
        level_dbfs = 10.0 * math.log10(mean_square + 1e-12)
        self._quiet_hops = self._quiet_hops + 1 if level_dbfs < c.silence_dbfs else 0
        self._silent = self._quiet_hops * c.hop / c.sr >= c.silence_hold_s
        power = np.abs(np.fft.rfft(self._frame * self._window)) ** 2
        magnitude = np.sqrt(power)
        bands = np.log1p(c.compression * (self._fb @ magnitude))
        flux = float(superflux_rise(bands, self._prev_bands).sum())  # against one hop ago
        self._prev_bands = bands
        if self._samples <= c.n_fft:  # the first frames compare against the zeros before the stream
            flux = 0.0
        beat_flux = self.beat_envelope.step(hop_samples)
        # onsets: rise above the recent mean by a margin scaled to the flux's own long-term level
        recent = float(np.mean(self._recent_flux)) if self._recent_flux else 0.0
        self._recent_flux.append(flux)
        if not self._silent:
            self._flux_mean += self._level_alpha * 4 * (flux - self._flux_mean)
        onset = (not self._silent and flux > recent + c.onset_delta * max(self._flux_mean, c.onset_floor)
                 and now - self._last_onset_s >= c.refractory_s)
        if onset:
            self._last_onset_s = now
            events.append(("onset", now - c.hop / (2 * c.sr)))
        s = self.snapshot
        learned = backbeat = None
        if self._beat_model is not None:
            x = model_input(self.beat_envelope.rise, self.beat_envelope.bands)
            learned = self._beat_model.step(x)
            if self._backbeat_model is not None:
                backbeat = self._backbeat_model.step(x)
        beat = self.beats.step(beat_flux, accent=self.beat_envelope.accent, power=mean_square,
                               active=not self._silent, learned=learned, low=self.beat_envelope.low,
                               backbeat=backbeat)
        self.meter.add_hop(self.beat_envelope.bands, self.beat_envelope.chroma)
        beat_in_bar = self.meter.on_beat() if self.beats.beat_now else s.beat_in_bar
        tempo, phase, confidence = self.beats.tempo_bpm, self.beats.phase, self.beats.confidence
        present = self.beats.present and not self._silent
        period = self.tap_tempo.period_s
        if period is not None:
            beat, tempo, phase = self._tap_beat(now, period)
            confidence, present = 1.0, True
        downbeat = bool(beat) and beat_in_bar == 1
        if beat:
            events.append(("beat", now))
        if downbeat:
            events.append(("downbeat", now))
        meter = self.meter.meter
        self.snapshot = FeatureSnapshot(
            time_s=now, level_dbfs=level_dbfs,
            energy=0.0 if self._silent else self._normalise(0, mean_square),
            bass=0.0 if self._silent else self._normalise(1, float(power[self._bands[0]].sum())),
            mid=0.0 if self._silent else self._normalise(2, float(power[self._bands[1]].sum())),
            high=0.0 if self._silent else self._normalise(3, float(power[self._bands[2]].sum())),
            onset_strength=flux, onset_count=s.onset_count + onset, beat_count=s.beat_count + bool(beat),
            tempo_bpm=tempo, beat_phase=phase, beat_confidence=confidence, tap_tempo=period is not None,
            beat_present=present, beat_in_bar=beat_in_bar, meter=meter, downbeat_count=s.downbeat_count + downbeat,
            bar_phase=((max(beat_in_bar, 1) - 1 + phase) / meter) % 1.0 if present else 0.0,
            silent=self._silent, overflows=s.overflows, underruns=s.underruns,
            status="silence" if self._silent else "listening")

    def _tap_beat(self, now: float, period: float) -> tuple[bool, float, float]:
        """Beat, tempo and phase on the tapped grid (anchored at the last tap)."""
        anchor = self.tap_tempo.taps[-1]
        beats_since = math.floor((now - anchor) / period)
        beat_time = anchor + beats_since * period
        beat = self._tap_last_beat_s is None or beat_time > self._tap_last_beat_s + 1e-6
        if beat:
            self._tap_last_beat_s = beat_time
        return beat and now - beat_time < self.config.hop / self.config.sr, 60.0 / period, (now - beat_time) / period

    def tap(self) -> None:
        """Record a tap at the current stream time (key T)."""
        self.tap_tempo.tap(self.time_s)
        self._tap_last_beat_s = None

    def clear_tap(self) -> None:
        self.tap_tempo.clear()

    def with_device_counts(self, *, overflows: int, underruns: int, status: str) -> FeatureSnapshot:
        """The latest snapshot with the device's counters and status filled in."""
        return replace(self.snapshot, overflows=overflows, underruns=underruns,
                       status=status if not self.snapshot.silent else f"{status} (silence)")
