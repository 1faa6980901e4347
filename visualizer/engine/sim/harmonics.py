"""The field's natural harmonics: the eigenmodes of its own coupling operator, and the sums and
projections that use them.

Linearised around a common phase, the field relaxes as dδ/dt = −L·δ with the signed, kernel-
weighted operator L = D − A, A_ij = K_ij / N_i (K1..K4 on the lattice shells, K_SW on the
small-world links, symmetrised). Its eigenmodes with the *smallest* eigenvalues are the field's
natural resonances: the least damped (or, with negative eigenvalues, the growing) patterns. For
5-MeO-like kernels they are the smooth, long waves; for N,N-DMT-like kernels (K1 < 0) they are
checkerboard-like. On a torus the lattice part is diagonal in 2-D Fourier modes (exact); with open
edges the DCT modes stand in; with small-world links the modes of the real graph are found by
LOBPCG. Mode 0 is always the constant mode (its power is R²).

Energy injection into these modes is ``sim.injection``; computing them off the render thread, in a
child process, with a disk cache, is ``sim.modes_cache``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse
import scipy.sparse.linalg
from numba import njit, prange

from visualizer.engine.sim.kernels import trig_maps
from visualizer.engine.sim.neighbourhood import lattice_taps
from visualizer.system.trig import sin_cos

# LOBPCG reports the guard vectors' accuracy, which we drop (a filter per call is not thread-safe)
warnings.filterwarnings("ignore", message="Exited (at iteration|postprocessing)", category=UserWarning)


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
