"""The field's natural harmonics — the eigenmodes of its own coupling operator — and energy
injection into them.

Linearised around a common phase, the field relaxes as dδ/dt = −L·δ with the signed, kernel-
weighted operator L = D − A, A_ij = K_ij / N_i (K1..K4 on the lattice shells, K_SW on the
small-world links, symmetrised). Its eigenmodes with the *smallest* eigenvalues are the field's
natural resonances: the least damped (or, with negative eigenvalues, the growing) patterns. For
5-MeO-like kernels they are the smooth, long waves; for N,N-DMT-like kernels (K1 < 0) they are
checkerboard-like. On a torus the lattice part is diagonal in 2-D Fourier modes (exact); with open
edges the DCT modes stand in; with small-world links the modes of the real graph are found by
LOBPCG off the render thread. Mode 0 is always the constant mode (its power is R²).

*Semantically-neutral* injection spreads music energy over these modes, favouring the most natural
ones; *semantic* injection puts the same energy into localised blobs at places, where sinks drain
it (``Injector.sink_pull``): neutral energy escapes the sinks, semantic energy does not.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse
import scipy.sparse.linalg
from numba import njit, prange

from visualizer.background.worker_process import WorkerProcess
from visualizer.engine.sim.kernels import trig_maps
from visualizer.engine.sim.neighbourhood import lattice_taps
from visualizer.system.paths import user_cache_dir
from visualizer.system.trig import sin_cos

log = logging.getLogger(__name__)

INJECTION_MODES = ("neutral", "semantic")


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
# LOBPCG costs ~10 s at 256² (20 iterations, 48 modes) and grows faster than the cell count; above
# this the lattice modes (exact for the lattice part of the graph) are used instead
GRAPH_MODES_MAX_CELLS = 256 * 256
# LOBPCG reports the guard vectors' accuracy, which we drop (a filter per call is not thread-safe)
warnings.filterwarnings("ignore", message="Exited (at iteration|postprocessing)", category=UserWarning)
SINK_LEVEL = 0.1  # a cell is inside a sink where a semantic blob is above this share of its peak


def cache_dir() -> Path:
    """Where computed graph eigenmodes are kept between runs."""
    return user_cache_dir() / "eigenmodes"


@dataclass(frozen=True)
class Harmonics:
    """An orthonormal set of low eigenmodes: M modes on an (H, W) grid, each of unit L2 norm,
    mutually orthogonal, the first constant.

    eigenvalues : float64 (M,), ascending Laplacian eigenvalues.
    kind : "fourier", "dct" or "graph".
    stored : float32 (M, H, W), the modes themselves (graph modes), or None for separable ones.
    row_factors, col_factors : float32 (M, 2, H) and (M, 2, W), or None: lattice modes are
        separable, mode m = Re(a ⊗ b) with a = row_factors[m, 0] + i·row_factors[m, 1] and b the
        same of col_factors. They are kept as these small tables only: the injection pattern
        and the spectrum are computed from them in cache (``accumulate_separable``,
        ``project_separable``) instead of streaming every (H, W) mode from memory, and a set is
        0.8 MB at 1024² instead of 200.
    """

    eigenvalues: np.ndarray
    kind: str
    stored: np.ndarray | None = None
    row_factors: np.ndarray | None = None
    col_factors: np.ndarray | None = None

    @property
    def separable(self) -> bool:
        return self.stored is None

    @property
    def shape(self) -> tuple[int, int, int]:
        """(M, H, W)."""
        if self.stored is not None:
            return self.stored.shape
        return self.row_factors.shape[0], self.row_factors.shape[2], self.col_factors.shape[2]

    @property
    def nbytes(self) -> int:
        """Bytes held by the modes or their factors."""
        return sum(a.nbytes for a in (self.stored, self.row_factors, self.col_factors) if a is not None)

    @property
    def modes(self) -> np.ndarray:
        """The modes, float32 (M, H, W): the stored ones, or built from the factors (a new array
        on every call, for tools and tests; the frame's work uses the factors)."""
        if self.stored is not None:
            return self.stored
        a, b = self.row_factors, self.col_factors
        return (a[:, 0, :, None] * b[:, 0, None, :] - a[:, 1, :, None] * b[:, 1, None, :]).astype(np.float32)

    @property
    def flat(self) -> np.ndarray:
        """The modes as (M, H·W)."""
        return self.modes.reshape(self.shape[0], -1)

    def project(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(Re, Im) of Σᵢ ψₘ(i)·e^{iθᵢ} for every mode, float64 (M,) each; θ : (H, W) rad."""
        theta = np.ascontiguousarray(theta, np.float32)
        if self.separable:
            return project_separable(self.row_factors, self.col_factors, theta)
        re, im = np.zeros(self.shape[0]), np.zeros(self.shape[0])
        project(self.flat, theta.ravel(), re, im)
        return re, im


def kernel_weights(k: tuple[float, ...] | None, k_sw: float, *, neighborhood: str, links: int
                   ) -> tuple[tuple[float, float, float, float], float]:
    """Per-shell and small-world weights K/N of the operator (N = taps + links); all 1 for None."""
    if k is None:
        return (1.0, 1.0, 1.0, 1.0), 1.0
    n = len(lattice_taps(neighborhood)) + links
    return tuple(float(v) / n for v in k), float(k_sw) / n


def lattice_harmonics(height: int, width: int, *, neighborhood: str, boundary: str, count: int,
                      weights: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)) -> Harmonics:
    """The constant mode and the ``count − 1`` lattice modes with the smallest eigenvalues
    λ(q) = Σ_taps w_shell·(1 − cos q·d) of the operator with per-shell ``weights`` (all 1: the plain
    graph Laplacian): Fourier on a torus (exact), DCT with open edges. Each mode is Re(a ⊗ b) of
    a row and a column factor (cos(ry + cx) = Re(e^{i·ry}·e^{i·cx})): the (H, W) tables are outer
    products, and only the factors are kept (see ``Harmonics``)."""
    taps = lattice_taps(neighborhood)
    scale = 2 * np.pi if boundary == "wrap" else np.pi
    row_angle = scale * np.arange(height)[:, None] / height  # (H, 1): angle per unit dy at row wavenumber p
    col_angle = scale * np.arange(width)[:, None] / width  # (W, 1)
    dy = np.array([t[0] for t in taps], float)
    dx = np.array([t[1] for t in taps], float)
    w = np.array([weights[t[2] - 1] for t in taps], float)
    a, b = row_angle * dy, col_angle * dx  # (H, T), (W, T)
    eig = w.sum() - (np.cos(a) * w) @ np.cos(b).T + (np.sin(a) * w) @ np.sin(b).T  # (H, W)
    rank = np.round(eig.ravel(), 9)
    rank[0] = -np.inf  # the constant mode (q = 0) first, whatever the kernel's signs
    wanted = min(rank.size, 4 * count)  # every entry up to the wanted-th smallest, ties included
    threshold = np.partition(rank, wanted - 1)[wanted - 1]
    candidates = np.flatnonzero(rank <= threshold)
    p_of, q_of = np.divmod(candidates, width)
    order = candidates[np.lexsort((q_of, p_of, rank[candidates]))]
    y, x = np.arange(height), np.arange(width)
    rows, cols, values, seen = [], [], [], set()  # mode m = Re(rows[m] ⊗ cols[m]) before normalising
    for flat in order:
        if len(rows) >= count:
            break
        pi, qi = divmod(int(flat), width)
        if boundary == "wrap":
            conjugate = ((-pi) % height, (-qi) % width)  # the same real pair of modes
            key = min((pi, qi), conjugate)
            if key in seen:
                continue
            seen.add(key)
            # cos(ry + cx) = Re(e^{i·ry}·e^{i·cx}); sin(ry + cx) = Re(−i·e^{i·ry}·e^{i·cx})
            row, col = np.exp(2j * np.pi * pi * y / height), np.exp(2j * np.pi * qi * x / width)
            found = [(row, col)] if conjugate == (pi, qi) else [(row, col), (-1j * row, col)]
        else:
            found = [(np.cos(np.pi * pi * (y + 0.5) / height) + 0j, np.cos(np.pi * qi * (x + 0.5) / width) + 0j)]
        for row, col in found:
            if len(rows) < count:
                # ‖a_re ⊗ b_re − a_im ⊗ b_im‖² from the factors alone
                norm2 = ((row.real @ row.real) * (col.real @ col.real) + (row.imag @ row.imag) * (col.imag @ col.imag)
                         - 2 * (row.real @ row.imag) * (col.real @ col.imag))
                rows.append(row / np.sqrt(norm2))
                cols.append(col)
                values.append(eig[pi, qi])
    rows, cols = np.array(rows), np.array(cols)
    return Harmonics(np.array(values), "fourier" if boundary == "wrap" else "dct",
                     row_factors=np.stack([rows.real, rows.imag], axis=1).astype(np.float32),
                     col_factors=np.stack([cols.real, cols.imag], axis=1).astype(np.float32))


def graph_laplacian(height: int, width: int, *, neighborhood: str, boundary: str, small_world: np.ndarray,
                    weights: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0),
                    small_world_weight: float = 1.0) -> scipy.sparse.csr_matrix:
    """L = D − A of the coupling graph: lattice links weighted per shell, small-world links with
    ``small_world_weight``, symmetrised ((A + Aᵀ)/2 for the one-way links); all weights 1 by default."""
    n = height * width
    ys, xs = np.divmod(np.arange(n), width)
    rows, cols, values = [], [], []
    for dy, dx, shell in lattice_taps(neighborhood):
        ty, tx = ys + dy, xs + dx
        if boundary == "wrap":
            keep = np.ones(n, bool)
            ty, tx = ty % height, tx % width
        else:
            keep = (ty >= 0) & (ty < height) & (tx >= 0) & (tx < width)
        rows.append(np.arange(n)[keep])
        cols.append((ty * width + tx)[keep])
        values.append(np.full(int(keep.sum()), weights[shell - 1]))
    for link in range(small_world.shape[1]):
        rows += [np.arange(n), small_world[:, link]]
        cols += [small_world[:, link], np.arange(n)]
        values += [np.full(n, 0.5 * small_world_weight)] * 2
    r, c = np.concatenate(rows), np.concatenate(cols)
    adjacency = scipy.sparse.csr_matrix((np.concatenate(values), (r, c)), shape=(n, n))
    adjacency.setdiag(0)
    adjacency.eliminate_zeros()
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    return (scipy.sparse.diags(degree) - adjacency).tocsr()


def graph_harmonics(laplacian: scipy.sparse.csr_matrix, start: Harmonics, *, maxiter: int = 20,
                    guard: int = 8) -> Harmonics:
    """The constant mode and the modes of ``laplacian`` with the smallest eigenvalues, orthogonal
    to it, by LOBPCG started from ``start`` (the lattice modes) plus ``guard`` extra random vectors
    so the highest wanted modes converge too. Twenty iterations leave residuals ‖Lψ − λψ‖∞ around
    1e-2 at 256²: ample for injection and display; raise ``maxiter`` for more."""
    count, height, width = start.shape
    n = height * width
    rng = np.random.default_rng(0)
    constant = np.full((n, 1), 1.0 / np.sqrt(n))
    x0 = np.hstack([start.flat[1:].T.astype(np.float64), rng.standard_normal((n, guard))])
    if n < 5 * x0.shape[1]:  # too small for LOBPCG (it would go dense, without constraints): solve densely
        projector = np.eye(n) - constant @ constant.T
        values, vectors = np.linalg.eigh(projector @ laplacian.toarray() @ projector)
        keep = np.abs(vectors.T @ constant[:, 0]) < 0.5  # drop the constant direction (eigenvalue 0 there)
        values, vectors = values[keep], vectors[:, keep]
    else:
        values, vectors = scipy.sparse.linalg.lobpcg(laplacian, x0, Y=constant, largest=False, maxiter=maxiter,
                                                     tol=1e-5)
    order = np.argsort(values)[:count - 1]
    vectors = np.hstack([constant, vectors[:, order] / np.linalg.norm(vectors[:, order], axis=0)])
    return Harmonics(np.concatenate([[0.0], values[order]]), "graph",
                     stored=vectors.T.reshape(count, height, width).astype(np.float32))


KERNEL_QUANTUM = 2.5  # couplings are rounded to this (rad/s) before the eigenmodes are recomputed
CACHED_MODES_BYTES = 128 << 20  # computed sets kept in memory per cache (graph modes: 12.6 MB at 256²)


@dataclass(frozen=True)
class ModesRequest:
    """What fixes a set of eigenmodes: the grid, the neighbourhood, the kernel (rounded to
    KERNEL_QUANTUM) and the small-world targets (by digest)."""

    height: int
    width: int
    neighborhood: str
    boundary: str
    count: int
    k: tuple[float, float, float, float]
    k_sw: float
    links_digest: str


def lattice_modes_for(r: ModesRequest, links: np.ndarray) -> Harmonics:
    """The lattice part's modes for request ``r`` (exact on a torus; the graph's start vectors)."""
    weights, _ = kernel_weights(r.k, r.k_sw, neighborhood=r.neighborhood, links=links.shape[1])
    return lattice_harmonics(r.height, r.width, neighborhood=r.neighborhood, boundary=r.boundary,
                             count=r.count, weights=weights)


def compute_modes(r: ModesRequest, links: np.ndarray, *, folder: Path | None = None) -> Harmonics:
    """The eigenmodes for request ``r`` with small-world targets ``links`` (H·W, L): the lattice
    modes when there are no links (or no small-world coupling, or the grid is too large), else the
    graph's, from the disk cache in ``folder`` (default ``cache_dir()``) or by LOBPCG (then
    written to it)."""
    lattice = lattice_modes_for(r, links)
    if links.shape[1] == 0 or r.height * r.width > GRAPH_MODES_MAX_CELLS or r.k_sw == 0.0 and r.k is not None:
        return lattice
    path = (folder or cache_dir()) / f"{hashlib.sha1(repr(r).encode()).hexdigest()[:20]}.npz"
    try:
        with np.load(path) as f:
            return Harmonics(f["eigenvalues"], "graph", stored=f["modes"])
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as e:
        if path.exists():
            log.warning("eigenmode cache %s unreadable (%s): recomputing", path, e)
    weights, sw_weight = kernel_weights(r.k, r.k_sw, neighborhood=r.neighborhood, links=links.shape[1])
    laplacian = graph_laplacian(r.height, r.width, neighborhood=r.neighborhood, boundary=r.boundary,
                                small_world=links, weights=weights, small_world_weight=sw_weight)
    result = graph_harmonics(laplacian, lattice)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.stem}.{os.getpid()}.partial.npz")  # a run cut short leaves no torn file
        np.savez(partial, modes=result.modes, eigenvalues=result.eigenvalues)
        os.replace(partial, path)
    except OSError as e:
        log.warning("could not cache eigenmodes in %s: %s", path.parent, e)
    return result


MODES_PROCESS = WorkerProcess(f"{__name__}:compute_modes")  # the one eigenmode child of this process


class HarmonicsCache:
    """The eigenmodes of the field's current coupling operator, recomputed when the kernel changes
    enough: in the background by default (a thread hands requests to the child process of
    ``MODES_PROCESS`` and waits; the last modes stand in meanwhile; only the lattice modes of the
    very first set for a grid are computed on the caller's thread), or all on the caller's thread
    when ``synchronous`` (headless runs that must repeat exactly: trace, render, tests). Graph
    modes (with small-world links) are cached on disk. A failure is logged once, shown in
    ``status``, and not retried for the same request; the modes in use stay."""

    def __init__(self, *, synchronous: bool = False) -> None:
        self.synchronous = synchronous  # compute on the caller's thread: slower, but deterministic
        self._compute = compute_modes if synchronous else self._compute_in_child
        self._done: dict[ModesRequest, Harmonics] = {}
        self._lock = threading.Lock()
        self._wanted: ModesRequest | None = None
        self._failed: set[ModesRequest] = set()  # requests whose computation failed: not retried
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._busy = False
        self._thread: threading.Thread | None = None
        self._links: dict[int, tuple[np.ndarray, np.ndarray, str]] = {}  # id → (array, copy, digest)
        self._current: dict[tuple, Harmonics] = {}  # grid key → the modes handed out last
        self.status = ""

    @property
    def busy(self) -> bool:
        """Eigenmodes are being computed (``get`` hands out the previous ones meanwhile)."""
        with self._lock:
            return self._busy or self._wanted is not None

    def _digest(self, small_world: np.ndarray) -> tuple[np.ndarray, str]:
        known = self._links.get(id(small_world))
        if known is None or known[0] is not small_world:  # the field replaces the array on change
            copy = small_world.copy()
            known = (small_world, copy, hashlib.sha1(copy.tobytes()).hexdigest()[:20])
            self._links = {id(small_world): known}
        return known[1], known[2]

    def get(self, *, height: int, width: int, neighborhood: str, boundary: str, count: int,
            small_world: np.ndarray, k: tuple[float, float, float, float] | None = None,
            k_sw: float = 0.0) -> Harmonics:
        """The eigenmodes for this grid and kernel (``k`` None: the plain graph Laplacian's)."""
        if k is not None:
            k = tuple(KERNEL_QUANTUM * round(v / KERNEL_QUANTUM) for v in k)
            k_sw = KERNEL_QUANTUM * round(k_sw / KERNEL_QUANTUM)
        links, digest = self._digest(small_world)
        request = ModesRequest(height, width, neighborhood, boundary, count, k, k_sw, digest)
        grid = (height, width, neighborhood, boundary, count)
        if self.synchronous:
            if request not in self._done:
                self._done[request] = self._compute(request, links)
                self._forget_oldest()
            return self._done[request]
        with self._lock:
            ready = self._done.get(request)
            if ready is None and grid in self._current:
                if self._wanted != request and request not in self._failed:
                    self._wanted, self._wanted_links = request, links
                    self._wake.set()
                self._start()
                return self._current[grid]
        if ready is None:  # the first modes for this grid: the lattice part now, the rest behind
            ready = lattice_modes_for(request, links)
            with self._lock:
                self._wanted, self._wanted_links = request, links
                self._wake.set()
                self._start()
        with self._lock:
            self._current[grid] = ready
        return ready

    def _forget_oldest(self) -> None:
        """Drop the oldest sets while the kept ones exceed CACHED_MODES_BYTES (the newest stays)."""
        while len(self._done) > 1 and sum(h.nbytes for h in self._done.values()) > CACHED_MODES_BYTES:
            self._done.pop(next(iter(self._done)))

    @staticmethod
    def _compute_in_child(r: ModesRequest, links: np.ndarray) -> Harmonics:
        return MODES_PROCESS.call(r, links, folder=cache_dir())  # the cache dir as of now

    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._work, name="eigenmodes", daemon=True)
            self._thread.start()

    def _work(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(0.5)
            with self._lock:
                request, links = self._wanted, getattr(self, "_wanted_links", None)
                self._wanted = None
                self._wake.clear()
                self._busy = request is not None
            if request is None:
                continue
            try:
                result = self._compute(request, links)
            except Exception as e:  # noqa: BLE001 — shown, logged once, the old modes stay in use
                if not self.status:
                    log.exception("eigenmodes failed; keeping the previous ones")
                self.status = f"eigenmodes failed: {e}"
                result = None
            with self._lock:
                if result is None:
                    self._failed.add(request)
                else:
                    self._done[request] = result
                    self._forget_oldest()
                    self._current[request.height, request.width, request.neighborhood, request.boundary,
                                  request.count] = result
                self._busy = False

    def close(self, timeout_s: float = 0.5) -> None:
        """Stop the worker thread; waits up to ``timeout_s``. A computation in flight is not
        waited for: it runs to its end in the child process and is dropped (the thread waiting for
        it is a daemon), so quitting never waits seconds for it."""
        with self._lock:
            self._wanted = None  # nothing more is asked for: busy only while a computation runs
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.info("eigenmodes still computing at close: left to end with the process")


def harmonic_kernel_share(theta: np.ndarray, harmonics: Harmonics) -> float:
    """Share of the field's non-uniform power |e^{iθ} − ⟨e^{iθ}⟩|² that lies in ``harmonics``'s
    non-constant modes (0..1): how much of what the field does the driven modes can express."""
    re, im = harmonics.project(theta)
    power = re**2 + im**2
    non_uniform = theta.size - power[0]
    return float(power[1:].sum() / max(non_uniform, 1e-12))


@njit(parallel=True, fastmath=True, cache=True, nogil=True)
def accumulate(coefficients, patterns, out):
    """out[i] += Σₘ coefficients[m]·patterns[m, i]; float32, (M,), (M, N), (N,). Patterns
    whose coefficient is 0 are not read.

    A numba loop rather than BLAS: OpenBLAS's spinning threads and numba's would fight over
    the two cores every frame. Blocks of cells in parallel; within a block, mode by mode over
    contiguous cells so the inner loop vectorises."""
    n = out.shape[0]
    block = 4096
    for b in prange((n + block - 1) // block):
        start = b * block
        stop = min(start + block, n)
        for m in range(coefficients.shape[0]):
            c = coefficients[m]
            if c == 0.0:
                continue
            row = patterns[m]
            for i in range(start, stop):
                out[i] += c * row[i]


@njit(parallel=True, fastmath=True, cache=True, nogil=True)
def accumulate_separable(coefficients, row_factors, col_factors, out):
    """out[y, x] += Σₘ coefficients[m]·Re(aₘ[y]·bₘ[x]) for separable modes (see ``Harmonics``):
    float32 (M,), (M, 2, H), (M, 2, W), (H, W); modes whose coefficient is 0 are skipped. The
    column tables stay in cache, so this is compute-bound: 48 modes at 512² take 0.6 ms instead
    of ``accumulate``'s 7 ms of memory traffic."""
    height, width = out.shape
    for y in prange(height):
        row = out[y]
        for m in range(coefficients.shape[0]):
            if coefficients[m] == 0.0:
                continue
            re = coefficients[m] * row_factors[m, 0, y]
            im = coefficients[m] * row_factors[m, 1, y]
            col_re = col_factors[m, 0]
            col_im = col_factors[m, 1]
            for x in range(width):
                row[x] += re * col_re[x] - im * col_im[x]


@njit(parallel=True, fastmath=True, cache=True, nogil=True)
def _column_sums(col_factors, cos_t, sin_t, out):
    """out[y, m] = Σₓ (Re bₘ·cos θ, Re bₘ·sin θ, Im bₘ·cos θ, Im bₘ·sin θ) along row y:
    float32 (M, 2, W), (H, W), (H, W) → (H, M, 4). The column tables stay in cache."""
    count = col_factors.shape[0]
    height, width = cos_t.shape
    for y in prange(height):
        cos_row = cos_t[y]
        sin_row = sin_t[y]
        for m in range(count):
            col_re = col_factors[m, 0]
            col_im = col_factors[m, 1]
            re_cos = np.float32(0.0)
            re_sin = np.float32(0.0)
            im_cos = np.float32(0.0)
            im_sin = np.float32(0.0)
            for x in range(width):
                re_cos += col_re[x] * cos_row[x]
                re_sin += col_re[x] * sin_row[x]
                im_cos += col_im[x] * cos_row[x]
                im_sin += col_im[x] * sin_row[x]
            out[y, m, 0] = re_cos
            out[y, m, 1] = re_sin
            out[y, m, 2] = im_cos
            out[y, m, 3] = im_sin


def project_separable(row_factors: np.ndarray, col_factors: np.ndarray,
                      theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(Re, Im) of Σ_{y,x} Re(aₘ[y]·bₘ[x])·e^{iθ[y,x]} for separable modes (see ``Harmonics``):
    float32 (M, 2, H), (M, 2, W), (H, W) → float64 (M,), (M,). Each row's sums against the
    column factors, then weighted by the row factors."""
    sin_t, cos_t = trig_maps(theta)
    sums = np.empty((theta.shape[0], col_factors.shape[0], 4), np.float32)
    _column_sums(col_factors, cos_t, sin_t, sums)
    a_re = row_factors[:, 0].T.astype(np.float64)  # (H, M)
    a_im = row_factors[:, 1].T.astype(np.float64)
    re = (a_re * sums[:, :, 0]).sum(axis=0) - (a_im * sums[:, :, 2]).sum(axis=0)
    im = (a_re * sums[:, :, 1]).sum(axis=0) - (a_im * sums[:, :, 3]).sum(axis=0)
    return re, im


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
