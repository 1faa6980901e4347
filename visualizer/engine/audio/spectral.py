"""Spectral building blocks shared by the analyser's onset detector and the beat onset envelope:
a log-frequency triangular filterbank, the mel and chroma filterbanks (built once at start-up by
librosa, imported lazily so importing the package stays fast) and the SuperFlux rise against the
previous spectrum's neighbourhood maximum.
"""

from __future__ import annotations

import functools

import numpy as np


def log_edges_hz(*, n_bands: int, fmin: float, fmax: float) -> np.ndarray:
    """The n_bands + 2 band edges (Hz) equally spaced on a log-frequency axis."""
    return np.geomspace(fmin, fmax, n_bands + 2)


@functools.lru_cache(maxsize=8)
def _mel(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> tuple[np.ndarray, np.ndarray]:
    import librosa  # lazily: only when the first analyser is built

    fb = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=True, norm=None)
    centres = librosa.mel_frequencies(n_mels=n_mels + 2, fmin=fmin, fmax=fmax, htk=True)[1:-1]
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    for b in range(n_mels):
        if fb[b].sum() <= 0:
            fb[b, np.argmin(np.abs(freqs - centres[b]))] = 1.0
        fb[b] /= fb[b].sum()
    return fb.astype(np.float64), centres


def mel_filterbank(*, sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> tuple[np.ndarray, np.ndarray]:
    """``librosa.filters.mel`` (HTK mel scale), each filter scaled to sum 1 so every band weighs
    its bins' power evenly, shape (n_mels, n_fft // 2 + 1); and the band centres (Hz). A band
    narrower than a bin takes the nearest bin (librosa leaves it empty)."""
    fb, centres = _mel(int(sr), int(n_fft), int(n_mels), float(fmin), float(fmax))
    return fb.copy(), centres.copy()


def chroma_filterbank(*, sr: int, n_fft: int) -> np.ndarray:
    """``librosa.filters.chroma``: 12 pitch-class filters over the power spectrum's bins, shape
    (12, n_fft // 2 + 1), each bin's weights summing to 1 over the classes (librosa's default)."""
    return _chroma(int(sr), int(n_fft)).copy()


@functools.lru_cache(maxsize=8)
def _chroma(sr: int, n_fft: int) -> np.ndarray:
    import librosa  # lazily: only when the first analyser is built

    return librosa.filters.chroma(sr=sr, n_fft=n_fft, n_chroma=12)


def triangular_filterbank(edges_hz: np.ndarray, *, sr: int, n_fft: int, unit_area: bool) -> np.ndarray:
    """Triangular filters (the analyser's log-frequency bands), shape (edges_hz.size − 2, n_fft // 2 + 1): band b spans
    edges_hz[b]..edges_hz[b + 2] and peaks (1.0) at edges_hz[b + 1]; a band narrower than a bin
    takes the nearest bin. ``unit_area`` scales each filter to sum 1 (Slaney-style), so every band
    weighs its bins' power evenly."""
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    fb = np.zeros((edges_hz.size - 2, freqs.size))
    for b in range(fb.shape[0]):
        lo, mid, hi = edges_hz[b], edges_hz[b + 1], edges_hz[b + 2]
        fb[b] = np.clip(np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)), 0.0, None)
        if fb[b].sum() == 0:
            fb[b, np.argmin(np.abs(freqs - mid))] = 1.0
        if unit_area:
            fb[b] /= fb[b].sum()
    return fb


def superflux_rise(bands: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """max(0, bands[b] − max(reference[b−1..b+1])) per band, shape (n_bands,): the SuperFlux rise
    (Böck & Widmer 2013), the neighbourhood maximum suppressing vibrato (no wrap at the ends)."""
    widened = reference.copy()
    np.maximum(widened[1:], reference[:-1], out=widened[1:])
    np.maximum(widened[:-1], reference[1:], out=widened[:-1])
    return np.maximum(bands - widened, 0.0)
