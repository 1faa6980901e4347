"""The field's natural harmonics and energy injection into them.

The harmonics are the low eigenmodes of the Laplacian L = D − A of the coupling graph (every
lattice link and small-world link has weight 1): on a torus the 2-D Fourier modes, with open
edges the DCT modes, and with small-world links the modes of the real graph (LOBPCG, started
from the lattice modes, run off the render thread and cached per configuration).

*Semantically-neutral* injection spreads music energy over these modes, favouring the low,
natural ones; *semantic* injection puts the same energy into localised blobs at places.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse
import scipy.sparse.linalg
from numba import njit, prange

from visualizer.sim.kernels import sin_cos
from visualizer.sim.neighbourhood import lattice_taps

log = logging.getLogger(__name__)

INJECTION_MODES = ("neutral", "semantic")


@dataclass(frozen=True)
class InjectionConfig:
    """A preset's [injection] section.

    mode : "neutral" (into the eigenmodes) or "semantic" (localised blobs). modes : eigenmodes kept.
    tilt : weight of mode m ∝ (m + 1)^−tilt. rate_hz : how fast the lowest driven mode oscillates.
    blobs, blob_radius : the semantic contrast: that many Gaussian spots of that radius (cells).
    """

    mode: str = "neutral"
    modes: int = 48
    tilt: float = 1.0
    rate_hz: float = 0.2
    blobs: int = 3
    blob_radius: float = 6.0
# LOBPCG costs ~10 s at 256² (20 iterations, 48 modes) and grows faster than the cell count; above
# this the lattice modes (exact for the lattice part of the graph) are used instead
GRAPH_MODES_MAX_CELLS = 256 * 256


def cache_dir() -> Path:
    """Where computed graph harmonics are kept between runs."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "visualizer" / "harmonics"


@dataclass(frozen=True)
class Harmonics:
    """An orthonormal set of low eigenmodes.

    modes : float32 (M, H, W), unit L2 norm each, mutually orthogonal; modes[0] is constant.
    eigenvalues : float64 (M,), ascending Laplacian eigenvalues.
    kind : "fourier", "dct" or "graph".
    """

    modes: np.ndarray
    eigenvalues: np.ndarray
    kind: str

    @property
    def flat(self) -> np.ndarray:
        """The modes as (M, H·W)."""
        return self.modes.reshape(self.modes.shape[0], -1)


def lattice_harmonics(height: int, width: int, *, neighborhood: str, boundary: str, count: int) -> Harmonics:
    """The ``count`` lowest lattice modes: Fourier on a torus, DCT with open edges."""
    taps = lattice_taps(neighborhood)
    p = np.arange(height)[:, None]
    q = np.arange(width)[None, :]
    y = np.arange(height)[:, None]
    x = np.arange(width)[None, :]
    if boundary == "wrap":
        angle = lambda dy, dx: 2 * np.pi * (p * dy / height + q * dx / width)  # noqa: E731
    else:
        angle = lambda dy, dx: np.pi * (p * dy / height + q * dx / width)  # noqa: E731
    eig = sum(1.0 - np.cos(angle(int(dy), int(dx))) for dy, dx, _ in taps)
    order = np.lexsort((q.repeat(height, 0).ravel(), p.repeat(width, 1).ravel(), np.round(eig.ravel(), 9)))
    modes, values, seen = [], [], set()
    for flat in order:
        if len(modes) >= count:
            break
        pi, qi = divmod(int(flat), width)
        if boundary == "wrap":
            conjugate = ((-pi) % height, (-qi) % width)  # the same real pair of modes
            key = min((pi, qi), conjugate)
            if key in seen:
                continue
            seen.add(key)
            phase = 2 * np.pi * (pi * y / height + qi * x / width)
            candidates = [np.cos(phase)] if conjugate == (pi, qi) else [np.cos(phase), np.sin(phase)]
        else:
            candidates = [np.cos(np.pi * pi * (y + 0.5) / height) * np.cos(np.pi * qi * (x + 0.5) / width)]
        for m in candidates:
            if len(modes) < count:
                modes.append(m / np.linalg.norm(m))
                values.append(eig[pi, qi])
    return Harmonics(np.array(modes, np.float32), np.array(values), "fourier" if boundary == "wrap" else "dct")


def graph_laplacian(height: int, width: int, *, neighborhood: str, boundary: str,
                    small_world: np.ndarray) -> scipy.sparse.csr_matrix:
    """L = D − A of the coupling graph (lattice + small-world links, symmetrised, weight 1)."""
    n = height * width
    ys, xs = np.divmod(np.arange(n), width)
    rows, cols = [], []
    for dy, dx, _ in lattice_taps(neighborhood):
        ty, tx = ys + dy, xs + dx
        if boundary == "wrap":
            keep = np.ones(n, bool)
            ty, tx = ty % height, tx % width
        else:
            keep = (ty >= 0) & (ty < height) & (tx >= 0) & (tx < width)
        rows.append(np.arange(n)[keep])
        cols.append((ty * width + tx)[keep])
    for link in range(small_world.shape[1]):
        rows += [np.arange(n), small_world[:, link]]
        cols += [small_world[:, link], np.arange(n)]
    r, c = np.concatenate(rows), np.concatenate(cols)
    adjacency = scipy.sparse.csr_matrix((np.ones(r.size), (r, c)), shape=(n, n))
    adjacency.data[:] = 1.0  # duplicates summed by construction: a link is a link
    adjacency.setdiag(0)
    adjacency.eliminate_zeros()
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    return (scipy.sparse.diags(degree) - adjacency).tocsr()


def graph_harmonics(laplacian: scipy.sparse.csr_matrix, start: Harmonics, *, maxiter: int = 20,
                    guard: int = 8) -> Harmonics:
    """Low eigenmodes of ``laplacian`` by LOBPCG, started from ``start`` (the lattice modes) plus
    ``guard`` extra random vectors so the highest wanted modes converge too. Twenty iterations
    leave residuals ‖Lψ − λψ‖∞ around 1e-2 at 256² (eigenvalues ≈ 4): ample for injection and
    display; raise ``maxiter`` for more."""
    count, height, width = start.modes.shape
    rng = np.random.default_rng(0)
    x0 = np.hstack([start.flat.T.astype(np.float64), rng.standard_normal((height * width, guard))])
    with warnings.catch_warnings():  # it reports the guard vectors' accuracy, which we drop
        warnings.simplefilter("ignore", UserWarning)
        values, vectors = scipy.sparse.linalg.lobpcg(laplacian, x0, largest=False, maxiter=maxiter, tol=1e-5)
    order = np.argsort(values)[:count]
    vectors = vectors[:, order] / np.linalg.norm(vectors[:, order], axis=0)
    return Harmonics(vectors.T.reshape(count, height, width).astype(np.float32), values[order], "graph")


class HarmonicsCache:
    """Harmonics per field configuration; graph modes are computed on a background thread and
    the lattice modes stand in until they are ready."""

    def __init__(self) -> None:
        self._done: dict[tuple | str, Harmonics] = {}
        self._lock = threading.Lock()
        self._pending: set[str] = set()
        self._last_links: tuple[np.ndarray, str] | None = None  # (array, digest): hashed once per array
        self._threads: list[threading.Thread] = []

    @property
    def busy(self) -> bool:
        """Graph modes are being computed (``get`` hands out lattice modes meanwhile)."""
        with self._lock:
            return bool(self._pending)

    def get(self, *, height: int, width: int, neighborhood: str, boundary: str, count: int,
            small_world: np.ndarray) -> Harmonics:
        lattice_key = (height, width, neighborhood, boundary, count)
        with self._lock:
            lattice = self._done.get(lattice_key)
        if lattice is None:
            lattice = lattice_harmonics(height, width, neighborhood=neighborhood, boundary=boundary, count=count)
            with self._lock:
                self._done[lattice_key] = lattice
        if small_world.shape[1] == 0 or height * width > GRAPH_MODES_MAX_CELLS:
            return lattice
        if self._last_links is not None and self._last_links[0] is small_world:
            digest = self._last_links[1]
        else:  # the field replaces its small_world array whenever the links change
            digest = hashlib.sha1(repr(lattice_key).encode() + small_world.tobytes()).hexdigest()[:20]
            self._last_links = (small_world, digest)
        with self._lock:
            if digest in self._done:
                return self._done[digest]
            if digest in self._pending:
                return lattice
            self._pending.add(digest)
        links = small_world.copy()

        def compute() -> None:
            try:  # below the render threads: a slower result, never a dropped frame
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
            except (AttributeError, OSError):
                pass
            path = cache_dir() / f"{digest}.npz"
            try:
                with np.load(path) as f:
                    result = Harmonics(f["modes"], f["eigenvalues"], "graph")
            except (OSError, KeyError, ValueError):
                laplacian = graph_laplacian(height, width, neighborhood=neighborhood, boundary=boundary,
                                            small_world=links)
                result = graph_harmonics(laplacian, lattice)
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    np.savez(path, modes=result.modes, eigenvalues=result.eigenvalues)
                except OSError as e:
                    log.warning("could not cache harmonics in %s: %s", path.parent, e)
            with self._lock:
                self._done[digest] = result
                self._pending.discard(digest)
            log.info("graph harmonics ready (%d modes, %d×%d)", count, height, width)

        thread = threading.Thread(target=compute, name="harmonics", daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        return lattice

    def close(self, timeout_s: float = 5.0) -> None:
        """Wait up to ``timeout_s`` for background computations (they cannot be interrupted)."""
        for thread in self._threads:
            thread.join(timeout_s)


@njit(parallel=True, fastmath=True, cache=True, nogil=True)
def combine(coefficients, patterns, out):
    """out[i] = Σₘ coefficients[m]·patterns[m, i]; float32, (M,), (M, N), (N,).

    A numba loop rather than BLAS: OpenBLAS's spinning threads and numba's would fight over
    the two cores every frame. Blocks of cells in parallel; within a block, mode by mode over
    contiguous cells so the inner loop vectorises."""
    n = out.shape[0]
    block = 4096
    for b in prange((n + block - 1) // block):
        start = b * block
        stop = min(start + block, n)
        for i in range(start, stop):
            out[i] = 0.0
        for m in range(coefficients.shape[0]):
            c = coefficients[m]
            row = patterns[m]
            for i in range(start, stop):
                out[i] += c * row[i]


@njit(parallel=True, fastmath=True, cache=True, nogil=True)
def project(patterns, theta, re, im):
    """re[m] + i·im[m] = Σᵢ patterns[m, i]·e^{iθᵢ}; float32 (M, N), (N,) → float64 (M,), (M,)."""
    n = theta.shape[0]
    cos_t = np.empty(n, np.float32)
    sin_t = np.empty(n, np.float32)
    for i in prange(n):
        sin_t[i], cos_t[i] = sin_cos(theta[i])
    for m in prange(patterns.shape[0]):
        acc_re = np.float32(0.0)
        acc_im = np.float32(0.0)
        row = patterns[m]
        for i in range(n):
            acc_re += row[i] * cos_t[i]
            acc_im += row[i] * sin_t[i]
        re[m] = acc_re
        im[m] = acc_im


class Injector:
    """Music energy as phase-velocity forcing F(t) = g(t)·Σₘ aₘ(t)·ψₘ, or as localised blobs.

    modes : harmonics to drive (the constant mode is skipped: it only shifts every frequency).
    tilt : weight of mode m ∝ (m + 1)^−tilt, so energy collects in the low, natural harmonics.
    rate_hz : how fast the lowest driven mode's amplitude oscillates; higher modes go faster,
        as √(eigenvalue ratio), like waves.
    blobs, blob_radius : the semantic contrast: that many Gaussian spots of that radius (cells).
    pattern_hz : how often the spatial pattern Σₘ aₘ(t)·ψₘ is recomputed (it moves at rate_hz;
        summing 48 full-field modes is memory-bound, ~1.7 ms at 256²); the gain g(t) that
        follows the music is applied on every call.
    The forcing's RMS over the field is g/√2 in either mode, so both carry the same energy.
    """

    def __init__(self, harmonics: Harmonics, config: InjectionConfig = InjectionConfig(), *, seed: int = 0,
                 pattern_hz: float = 10.0):
        tilt, rate_hz, blobs, blob_radius = config.tilt, config.rate_hz, config.blobs, config.blob_radius
        self.harmonics = harmonics
        self.pattern_hz = pattern_hz
        rng = np.random.default_rng(seed)
        count = harmonics.modes.shape[0] - 1
        weights = (np.arange(1, count + 1, dtype=np.float64)) ** -tilt
        self.weights = weights / np.linalg.norm(weights)
        ratio = np.sqrt(np.maximum(harmonics.eigenvalues[1:], 1e-12) / max(harmonics.eigenvalues[1], 1e-12))
        self.freqs_hz = rate_hz * ratio
        self.phases = rng.uniform(0, 2 * np.pi, count)
        h, w = harmonics.modes.shape[1:]
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
        self.spot_weights = np.full(blobs, 1.0 / np.sqrt(blobs))
        self.spot_freqs_hz = rate_hz * rng.uniform(0.8, 1.6, blobs)
        self._pattern = np.zeros(h * w, np.float32)
        self._pattern_key: tuple[str, float] | None = None
        self._out = np.zeros((h, w), np.float32)

    def pattern(self, *, time_s: float, mode: str = "neutral") -> np.ndarray:
        """The unit-gain spatial pattern at ``time_s`` (float32 (H·W,)), recomputed at pattern_hz."""
        tick = np.floor(time_s * self.pattern_hz) / self.pattern_hz
        if self._pattern_key != (mode, tick):
            self._pattern_key = (mode, tick)
            if mode == "neutral":
                a = self.weights * np.cos(2 * np.pi * self.freqs_hz * tick + self.phases)
                combine((self._sqrt_n * a).astype(np.float32), self.harmonics.flat[1:], self._pattern)
            else:
                a = self.spot_weights * np.cos(2 * np.pi * self.spot_freqs_hz * tick)
                combine((self._sqrt_n * a).astype(np.float32), self.spots, self._pattern)
        return self._pattern

    def forcing(self, *, gain: float, time_s: float, mode: str = "neutral") -> np.ndarray:
        """F (float32 (H, W), rad/s) at ``time_s`` for injection gain ``gain`` (rad/s)."""
        np.multiply(self.pattern(time_s=time_s, mode=mode), np.float32(gain), out=self._out.reshape(-1))
        return self._out
