"""The beat tracker's onset envelope: log-mel SuperFlux on a symmetric window, one value per hop.

Separate from the analyser's low-latency onset detector: that one uses a short asymmetric window
so an onset shows in the first hop that holds it; this one uses a 2048-sample Hann window, whose
narrow main lobe keeps steady low notes (pads, bass) from modulating the flux from hop to hop.
"""

from __future__ import annotations

import numpy as np

from visualizer.engine.audio.spectral import chroma_filterbank, mel_filterbank, superflux_rise


class BeatOnsetEnvelope:
    """SuperFlux (Böck & Widmer 2013) on a log-mel spectrogram, computed causally per hop.

    value(t) = mean_b max(0, S[b, t] − max(S[b−1..b+1, t − lag])), S in dB with a floor
    ``floor_db`` below a full-scale sine's band level, so sounds far below full scale (room noise,
    dither) add nothing. sr : Hz. hop : samples per step. n_fft : window (samples).

    ``accent`` is the same flux on a loudness-weighted scale, 10·log10(1 + γ·mel / reference) with
    the reference the mel power's 10 s mean: a quiet hi-hat scores far below a kick there, which
    the dB flux cannot tell. The tracker uses it to decide which beats stay beats when it halves the tempo.

    ``low`` is the flux of the bands centred below ``low_hz`` alone (bass and kick), which the
    tracker uses to tell the beats from the off-beats.
    """

    def __init__(self, *, sr: int, hop: int, n_fft: int = 2048, n_mels: int = 64, fmin: float = 30.0,
                 fmax: float = 11000.0, lag: int = 2, floor_db: float = 80.0, gamma: float = 10.0,
                 reference_s: float = 10.0, low_hz: float = 150.0):
        self.hop = hop
        self._frame = np.zeros(n_fft, np.float32)
        self._window = np.hanning(n_fft).astype(np.float32)
        fb, self.band_hz = mel_filterbank(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=min(fmax, sr / 2))
        self._fb = fb.astype(np.float32)  # band_hz: the band centres
        self._low_bands = max(1, int(np.sum(self.band_hz < low_hz)))
        self._chroma_fb = chroma_filterbank(sr=sr, n_fft=n_fft).astype(np.float32)
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
        self.chroma = np.zeros(12, np.float32)  # pitch-class energy of the latest hop, summing to 1
        self.rise = np.zeros(n_mels, np.float32)  # per-band SuperFlux rise of the latest hop (dB)
        self.accent = 0.0  # loudness-weighted flux of the latest hop (dB)
        self.low = 0.0  # flux of the bands below low_hz in the latest hop (dB)

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
        chroma = self._chroma_fb @ power
        self.chroma = chroma / (float(chroma.sum()) + 1e-12)
        self.rise = superflux_rise(self.bands, self._history[0])
        value = float(self.rise.mean())
        self.low = float(self.rise[:self._low_bands].mean())
        self.accent = float(superflux_rise(loud, self._loud_history[0]).mean())
        for history, latest in ((self._history, self.bands), (self._loud_history, loud)):
            history[:-1] = history[1:]
            history[-1] = latest
        self._filled += 1
        if self._filled <= self._warm_up:
            self.accent = self.low = 0.0
            self.rise[:] = 0.0
            return 0.0
        return value
