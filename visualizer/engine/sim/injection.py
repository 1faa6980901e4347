"""Music energy injected into the field's own eigenmodes (``sim.harmonics``).

*Semantically-neutral* injection spreads music energy over these modes, favouring the most natural
ones; *semantic* injection puts the same energy into localised blobs at places, where sinks drain
it (``Injector.sink_pull``): neutral energy escapes the sinks, semantic energy does not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from visualizer.engine.sim.harmonics import Harmonics, accumulate, accumulate_separable
from visualizer.system.trig import sin_cos

INJECTION_MODES = ("neutral", "semantic")
SINK_LEVEL = 0.1  # a cell is inside a sink where a semantic blob is above this share of its peak


@dataclass(frozen=True)
class InjectionConfig:
    """A preset's [injection] section.

    mode : "neutral" (into the eigenmodes) or "semantic" (localised blobs). modes : eigenmodes kept.
    tilt : weight of mode m ∝ (m + 1)^−tilt. rate_hz : how fast the lowest driven mode oscillates.
    blobs, blob_radius : the semantic contrast: that many Gaussian spots of that radius (cells).
    sink_rate : how hard the energy sinks (the blobs' places) pull their cells into local order (rad/s).
    """

    mode: str = "neutral"
    modes: int = 48
    tilt: float = 1.0
    rate_hz: float = 0.2
    blobs: int = 3
    blob_radius: float = 6.0
    sink_rate: float = 12.0


@njit(parallel=True, fastmath=True, cache=True, nogil=True)
def _sink_pull(theta, cells, rate, out):
    """out[y, x] = rate·Im(e^{−iθ}·⟨e^{iθ}⟩₃ₓ₃) at each flat cell index in ``cells`` (int32),
    the 3×3 mean on a torus; other cells of ``out`` (float32 (H, W)) untouched."""
    height, width = theta.shape
    for n in prange(cells.shape[0]):
        y, x = cells[n] // width, cells[n] % width
        mean_c = np.float32(0.0)
        mean_s = np.float32(0.0)
        for dy in range(-1, 2):
            for dx in range(-1, 2):
                s, c = sin_cos(theta[(y + dy) % height, (x + dx) % width])
                mean_c += c
                mean_s += s
        s, c = sin_cos(theta[y, x])
        out[y, x] = rate * (c * mean_s - s * mean_c) / np.float32(9.0)


class Injector:
    """Music energy as phase-velocity forcing F(t) = g(t)·Σₘ aₘ(t)·ψₘ, or as localised blobs.

    modes : harmonics to drive (the constant mode is skipped: it only shifts every frequency).
    tilt : weight of mode m ∝ (m + 1)^−tilt, so energy collects in the low, natural harmonics.
    rate_hz : how fast the lowest driven mode's amplitude oscillates; higher modes go faster,
        as √(eigenvalue ratio), like waves.
    blobs, blob_radius : the semantic contrast: that many Gaussian spots of that radius (cells).
    pattern_hz : how often the spatial pattern Σₘ aₘ(t)·ψₘ is renewed (it moves at rate_hz).
        A whole sum costs 1.5 ms at 256² for stored graph modes (memory-bound) and 0.6 ms at 512²
        or 3 ms at 1024² for separable lattice modes (from their factors), so the next
        tick's pattern is summed a share of the modes per call, spread over the current tick's
        frames, and swapped in when its tick comes: no frame pays for the whole sum. A call sums
        at most a third of the terms, or more when calls are far apart (1.5× the ticks since the
        last call), which is always enough on schedule; after new eigenmodes (``use``) or a mode
        switch the pattern in use plays on until the new one is complete. The gain g(t) that
        follows the music is applied on every call.
    The forcing's RMS over the field is g/√2 in either mode, so both carry the same energy.
    """

    def __init__(self, harmonics: Harmonics, config: InjectionConfig = InjectionConfig(), *, seed: int = 0,
                 pattern_hz: float = 10.0):
        blobs, blob_radius = config.blobs, config.blob_radius
        self.config = config
        self.pattern_hz = pattern_hz
        rng = np.random.default_rng(seed)
        count = harmonics.shape[0] - 1
        weights = (np.arange(1, count + 1, dtype=np.float64)) ** -config.tilt
        self.weights = weights / np.linalg.norm(weights)
        self.phases = rng.uniform(0, 2 * np.pi, count)
        self.use(harmonics)
        h, w = harmonics.shape[1:]
        self._sqrt_n = np.sqrt(h * w)
        yy, xx = np.indices((h, w))
        spots = []
        for _ in range(blobs):
            cy, cx = rng.uniform(0, h), rng.uniform(0, w)
            dy = np.minimum(np.abs(yy - cy), h - np.abs(yy - cy))
            dx = np.minimum(np.abs(xx - cx), w - np.abs(xx - cx))
            spot = np.exp(-(dy**2 + dx**2) / (2 * blob_radius**2))
            spots.append(spot / np.linalg.norm(spot))
        self.spots = np.array(spots, np.float32).reshape(blobs, -1)
        peak = self.spots.max(axis=1, keepdims=True)
        self.sinks = (np.max(self.spots / peak, axis=0) > SINK_LEVEL).reshape(h, w)
        self._sink_cells = np.flatnonzero(self.sinks).astype(np.int32)
        self.spot_weights = np.full(blobs, 1.0 / np.sqrt(blobs))
        self.spot_freqs_hz = config.rate_hz * rng.uniform(0.8, 1.6, blobs)
        self.spot_phases = np.zeros(blobs)
        self._front = np.zeros(h * w, np.float32)  # the pattern in use, for _front_key
        self._back = np.zeros(h * w, np.float32)  # the next one, its first _back_done terms summed
        self._front_key: tuple[str, int] | None = None  # (mode, tick index)
        self._back_key: tuple[str, int] | None = None
        self._back_done = 0
        self._position = -np.inf  # time of the last call, in ticks
        self._out = np.zeros((h, w), np.float32)

    def use(self, harmonics: Harmonics) -> None:
        """Drive ``harmonics`` from now on (the kernel changed); the blobs and sinks stay.

        Mode m's amplitude oscillates at rate_hz·√(s_m / s_1) with s_m = λ_m − λ_1 + Δ (Δ the mean
        spacing of the driven eigenvalues): higher modes go faster, like waves, whatever the
        kernel's signs (λ may be negative for repulsive kernels)."""
        self.harmonics = harmonics
        values = harmonics.eigenvalues[1:]
        spacing = max((values[-1] - values[0]) / max(len(values) - 1, 1), 1e-9)
        shifted = values - values[0] + spacing
        self.freqs_hz = self.config.rate_hz * np.sqrt(shifted / shifted[0])
        self._back_key = None  # the next pattern is summed anew; the one in use plays on meanwhile

    def sink_pull(self, theta: np.ndarray, *, rate: float, out: np.ndarray | None = None) -> np.ndarray:
        """The energy sinks' drain: inside the sinks (where semantic energy is aimed) each cell is
        pulled toward its 3×3 neighbourhood's mean phase at ``rate`` (rad/s), F_i = rate·Im(e^{−iθ_i}·z̄_i);
        elsewhere 0. float32 (H, W), written into ``out`` if given (no allocation)."""
        out = np.empty(theta.shape, np.float32) if out is None else out
        out.fill(0.0)
        _sink_pull(np.ascontiguousarray(theta, np.float32), self._sink_cells, np.float32(rate), out)
        return out

    def pattern(self, *, time_s: float, mode: str = "neutral") -> np.ndarray:
        """The unit-gain spatial pattern at ``time_s`` (float32 (H·W,)), renewed at pattern_hz."""
        position = time_s * self.pattern_hz
        tick = int(np.floor(position))
        share = min(1.0, max(1.0 / 3.0, 1.5 * (position - self._position)))  # of the terms, this call at most
        self._position = position
        if self._front_key != (mode, tick):
            share -= self._sum_back((mode, tick), until=1.0, share=share)
            if self._back_done == len(self._terms(mode)[0]):
                self._front, self._back = self._back, self._front
                self._front_key, self._back_key = self._back_key, None
        if self._front_key == (mode, tick):  # the next tick's, in step with this one (done by 2/3 of it)
            self._sum_back((mode, tick + 1), until=1.5 * (position - tick), share=share)
        return self._front

    def _terms(self, mode: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The pattern's terms in ``mode``: weights, frequencies (Hz), phases (rad), each (M,)."""
        if mode == "neutral":
            return self.weights, self.freqs_hz, self.phases
        return self.spot_weights, self.spot_freqs_hz, self.spot_phases

    def _add_terms(self, mode: str, coefficients: np.ndarray, terms: slice) -> None:
        """back += Σ coefficients·pattern over the ``terms`` of ``mode``'s patterns (the driven
        modes from their factors or as stored, or the blobs)."""
        h = self.harmonics
        if mode != "neutral":
            accumulate(coefficients, self.spots[terms], self._back)
        elif h.separable:
            accumulate_separable(coefficients, h.row_factors[1:][terms], h.col_factors[1:][terms],
                                 self._back.reshape(self._out.shape))
        else:
            accumulate(coefficients, h.flat[1:][terms], self._back)

    def _sum_back(self, key: tuple[str, int], *, until: float, share: float) -> float:
        """Sum the pattern for ``key`` into the back buffer up to the share ``until`` (0..1) of its
        terms, at most ``share`` of them now; returns the share summed."""
        mode, tick = key
        if self._back_key != key:
            self._back_key, self._back_done = key, 0
            self._back.fill(0.0)
        t = tick / self.pattern_hz
        weights, freqs, phases = self._terms(mode)
        count = len(weights)
        stop = min(count, int(np.ceil(min(until, 1.0) * count)), self._back_done + int(np.ceil(share * count)))
        if stop <= self._back_done:
            return 0.0
        terms = slice(self._back_done, stop)
        a = weights[terms] * np.cos(2 * np.pi * freqs[terms] * t + phases[terms])
        self._add_terms(mode, (self._sqrt_n * a).astype(np.float32), terms)
        summed, self._back_done = (stop - self._back_done) / count, stop
        return summed

    def forcing(self, *, gain: float, time_s: float, mode: str = "neutral") -> np.ndarray:
        """F (float32 (H, W), rad/s) at ``time_s`` for injection gain ``gain`` (rad/s)."""
        np.multiply(self.pattern(time_s=time_s, mode=mode), np.float32(gain), out=self._out.reshape(-1))
        return self._out
