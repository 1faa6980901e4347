"""Spectral building blocks shared by the analyser's onset detector and the beat onset envelope:
triangular filterbanks (log-frequency or mel spacing) and the SuperFlux rise against the previous
spectrum's neighbourhood maximum.
"""

from __future__ import annotations

import numpy as np


def log_edges_hz(*, n_bands: int, fmin: float, fmax: float) -> np.ndarray:
    """The n_bands + 2 band edges (Hz) equally spaced on a log-frequency axis."""
    return np.geomspace(fmin, fmax, n_bands + 2)


def mel_edges_hz(*, n_bands: int, fmin: float, fmax: float) -> np.ndarray:
    """The n_bands + 2 band edges (Hz) equally spaced on the HTK mel scale."""
    mel = np.linspace(2595.0 * np.log10(1.0 + fmin / 700.0), 2595.0 * np.log10(1.0 + fmax / 700.0), n_bands + 2)
    return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)


def triangular_filterbank(edges_hz: np.ndarray, *, sr: int, n_fft: int, unit_area: bool) -> np.ndarray:
    """Triangular filters, shape (edges_hz.size − 2, n_fft // 2 + 1): band b spans
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
