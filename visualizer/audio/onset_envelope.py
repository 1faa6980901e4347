"""The beat tracker's onset envelope: log-mel SuperFlux on a symmetric window, one value per hop.

Separate from the analyser's low-latency onset detector: that one uses a short asymmetric window
so an onset shows in the first hop that holds it; this one uses a 2048-sample Hann window, whose
narrow main lobe keeps steady low notes (pads, bass) from modulating the flux from hop to hop.
"""

from __future__ import annotations

import numpy as np


def mel_edges_hz(*, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    """The n_mels + 2 band edges (Hz) equally spaced on the HTK mel scale; band b spans
    edges[b]..edges[b + 2] and peaks at edges[b + 1]."""
    mel = np.linspace(2595.0 * np.log10(1.0 + fmin / 700.0), 2595.0 * np.log10(1.0 + fmax / 700.0), n_mels + 2)
    return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)


def mel_filterbank(*, sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    """Triangular filters equally spaced on the HTK mel scale, shape (n_mels, n_fft // 2 + 1),
    each normalised to unit area (Slaney-style), so every band weighs its bins' power evenly."""
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    edges = mel_edges_hz(n_mels=n_mels, fmin=fmin, fmax=min(fmax, sr / 2))
    fb = np.zeros((n_mels, freqs.size))
    for b in range(n_mels):
        lo, mid, hi = edges[b], edges[b + 1], edges[b + 2]
        fb[b] = np.clip(np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)), 0.0, None)
        if fb[b].sum() == 0:  # narrower than a bin: take the nearest bin
            fb[b, np.argmin(np.abs(freqs - mid))] = 1.0
        fb[b] /= fb[b].sum()
    return fb


def _superflux(bands: np.ndarray, history: np.ndarray) -> float:
    """mean_b max(0, bands[b] − max(history[0, b−1..b+1])); then pushes ``bands`` into ``history``
    (lag rows, oldest first)."""
    reference = history[0]
    widened = reference.copy()  # maximum over each band and its neighbours (no wrap at the ends)
    np.maximum(widened[1:], reference[:-1], out=widened[1:])
    np.maximum(widened[:-1], reference[1:], out=widened[:-1])
    value = float(np.maximum(bands - widened, 0.0).mean())
    history[:-1] = history[1:]
    history[-1] = bands
    return value


class BeatOnsetEnvelope:
    """SuperFlux (Böck & Widmer 2013) on a log-mel spectrogram, computed causally per hop.

    value(t) = mean_b max(0, S[b, t] − max(S[b−1..b+1, t − lag])), S in dB with a floor
    ``floor_db`` below a full-scale sine's band level, so sounds far below full scale (room noise,
    dither) add nothing. sr : Hz. hop : samples per step. n_fft : window (samples).

    ``accent`` is the same flux on a loudness-weighted scale, 10·log10(1 + γ·mel / reference) with
    the reference the mel power's 10 s mean: a quiet hi-hat scores far below a kick there, which
    the dB flux cannot tell. The tracker uses it to decide the metrical level.
    """

    def __init__(self, *, sr: int, hop: int, n_fft: int = 2048, n_mels: int = 64, fmin: float = 30.0,
                 fmax: float = 11000.0, lag: int = 2, floor_db: float = 80.0, gamma: float = 10.0,
                 reference_s: float = 10.0):
        self.hop = hop
        self._frame = np.zeros(n_fft, np.float32)
        self._window = np.hanning(n_fft).astype(np.float32)
        self._fb = mel_filterbank(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax).astype(np.float32)
        self.band_hz = mel_edges_hz(n_mels=n_mels, fmin=fmin, fmax=min(fmax, sr / 2))[1:-1]  # band centres
        full_scale = (self._window.sum() / 2) ** 2  # a full-scale sine's peak bin power
        self._floor = float(full_scale * 10.0 ** (-floor_db / 10.0))
        self._gamma = gamma
        self._reference = self._floor
        self._reference_alpha = 1.0 - np.exp(-hop / (reference_s * sr))
        self._history = np.zeros((lag, n_mels), np.float32)  # S of the last ``lag`` hops, oldest first
        self._loud_history = np.zeros((lag, n_mels), np.float32)  # the same on the loudness scale
        self._warm_up = lag + n_fft // hop  # hops before the frame is all stream
        self._filled = 0
        self.bands = np.zeros(n_mels, np.float32)  # S of the latest hop (dB)
        self.accent = 0.0  # loudness-weighted flux of the latest hop (dB)

    def step(self, hop_samples: np.ndarray) -> float:
        """Consume one hop of mono float32 samples; return the envelope value (dB, ≥ 0)."""
        h = self.hop
        self._frame[:-h] = self._frame[h:]
        self._frame[-h:] = hop_samples
        power = np.abs(np.fft.rfft(self._frame * self._window)) ** 2
        mel = self._fb @ power
        self.bands = 10.0 * np.log10(np.maximum(mel, self._floor))
        self._reference = max(self._reference + self._reference_alpha * (float(mel.mean()) - self._reference),
                              self._floor)
        loud = 10.0 * np.log10(1.0 + (self._gamma / self._reference) * mel)
        value = _superflux(self.bands, self._history)
        self.accent = _superflux(loud, self._loud_history)
        self._filled += 1
        if self._filled <= self._warm_up:
            self.accent = 0.0
            return 0.0
        return value
