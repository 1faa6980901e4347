"""What the field's state looks like, measured: order, local order, patches, harmonic spectrum."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import scipy.fft
from numba import njit, prange
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from visualizer.background.worker_process import WorkerProcess
from visualizer.engine.sim.harmonics import Harmonics
from visualizer.engine.sim.kernels import trig_maps

PATCH_ORDER = 0.9  # local (axial) order above which a cell belongs to a synchronised patch
MIN_PATCH_CELLS = 12
LOW_MODES = 8  # the "lowest modes" of the coherence index


@dataclass(frozen=True)
class Measures:
    """order : global R = |⟨e^{iθ}⟩|. local_order : mean over cells of |⟨e^{iθ}⟩| in a 3×3 window.
    patches : number of competing synchronised patches. antiphase : share of nearest-neighbour
    pairs more than 2π/3 apart (complementary colours side by side). spectrum : (M,) power of
    e^{iθ} in each harmonic, |⟨e^{iθ}, ψₘ⟩|²/N (all N modes together sum to 1). coherence : the
    share of that power in the lowest ``LOW_MODES`` harmonics. corr_length : the correlation
    length of the axial order e^{2iθ} (cells; in-phase and anti-phase domains alike), capped at
    half the grid's shorter side."""

    order: float
    local_order: float
    patches: int
    antiphase: float
    spectrum: np.ndarray
    coherence: float
    corr_length: float


@njit(parallel=True, fastmath=True, cache=True, nogil=True)
def _local_maps(theta, wrap, order1, order2):
    """order1/order2 (H, W): |mean of e^{iθ}| and |mean of e^{2iθ}| over each 3×3 window (cells
    off an open edge are left out); returns the number of right/down neighbour pairs more than
    2π/3 apart (cos Δθ < −½), edges not wrapped. Each row sums its three rows' columns first,
    then slides the 3-wide window along them."""
    height, width = theta.shape
    sin_t, cos_t = trig_maps(theta)
    antiphase = np.zeros(height, np.int64)
    for y in prange(height):
        # column sums over rows y−1..y+1 of (cos θ, sin θ, cos 2θ, sin 2θ) and the rows counted
        columns = np.zeros((4, width), np.float32)
        rows = 0
        for dy in range(-1, 2):
            yy = y + dy
            if wrap:
                yy %= height
            elif yy < 0 or yy >= height:
                continue
            rows += 1
            for x in range(width):
                c, s = cos_t[yy, x], sin_t[yy, x]
                columns[0, x] += c
                columns[1, x] += s
                columns[2, x] += c * c - s * s
                columns[3, x] += 2 * s * c
        for x in range(width):
            c1 = s1 = c2 = s2 = np.float32(0.0)
            count = 0
            for dx in range(-1, 2):
                xx = x + dx
                if wrap:
                    xx = xx % width if xx < 0 or xx >= width else xx
                elif xx < 0 or xx >= width:
                    continue
                c1 += columns[0, xx]
                s1 += columns[1, xx]
                c2 += columns[2, xx]
                s2 += columns[3, xx]
                count += rows
            order1[y, x] = np.sqrt(c1 * c1 + s1 * s1) / count
            order2[y, x] = np.sqrt(c2 * c2 + s2 * s2) / count
            if x + 1 < width and cos_t[y, x] * cos_t[y, x + 1] + sin_t[y, x] * sin_t[y, x + 1] < -0.5:
                antiphase[y] += 1
            if y + 1 < height and cos_t[y, x] * cos_t[y + 1, x] + sin_t[y, x] * sin_t[y + 1, x] < -0.5:
                antiphase[y] += 1
    return antiphase.sum()


def _maps(theta: np.ndarray, wrap: bool) -> tuple[np.ndarray, np.ndarray, float]:
    order1 = np.empty(theta.shape, np.float32)
    order2 = np.empty(theta.shape, np.float32)
    count = _local_maps(np.ascontiguousarray(theta, np.float32), wrap, order1, order2)
    h, w = theta.shape
    return order1, order2, count / (h * (w - 1) + (h - 1) * w)


def local_order(theta: np.ndarray, *, wrap: bool = True, harmonic: int = 1) -> np.ndarray:
    """|mean of e^{i·harmonic·θ}| over each cell's 3×3 window, float32 (H, W). ``harmonic=2``
    sees anti-phase order too (a checkerboard is ordered in 2θ)."""
    order1, order2, _ = _maps(theta, wrap)
    return order1 if harmonic == 1 else order2


def _patches(axial_order: np.ndarray, wrap: bool) -> int:
    labels, n = ndimage.label(axial_order > PATCH_ORDER)
    if n == 0:
        return 0
    if wrap:  # a patch crossing the edge of a torus is one patch: join labels that touch across it
        a = np.concatenate([labels[0, :], labels[:, 0]])
        b = np.concatenate([labels[-1, :], labels[:, -1]])
        touch = (a > 0) & (b > 0)
        joined = coo_matrix((np.ones(touch.sum()), (a[touch], b[touch])), shape=(n + 1, n + 1))
        _, component = connected_components(joined, directed=False)
        labels = np.where(labels > 0, component[labels] + 1, 0)
    sizes = np.bincount(labels.ravel())[1:]
    return int(np.count_nonzero(sizes >= MIN_PATCH_CELLS))


def count_patches(theta: np.ndarray, *, wrap: bool = True) -> int:
    """Connected regions (≥ MIN_PATCH_CELLS cells) of high local order, in-phase or anti-phase,
    separated by disordered seams and defects."""
    return _patches(local_order(theta, wrap=wrap, harmonic=2), wrap)


def antiphase_fraction(theta: np.ndarray) -> float:
    """Share of horizontal and vertical neighbour pairs whose phases differ by more than 2π/3."""
    return _maps(theta, False)[2]


def harmonic_spectrum(theta: np.ndarray, harmonics: Harmonics) -> np.ndarray:
    """|⟨e^{iθ}, ψₘ⟩|² / N for each harmonic, float64 (M,)."""
    re, im = harmonics.project(theta)
    return (re**2 + im**2) / theta.size


@functools.lru_cache(maxsize=4)
def _radius_bins(height: int, width: int) -> tuple[np.ndarray, np.ndarray, int]:
    """For an (H, W) periodic grid: each offset's rounded radius (flat intp), the offsets per
    radius up to the limit, and the limit (half the shorter side). Cached: built once per shape."""
    dy = np.minimum(np.arange(height), height - np.arange(height))[:, None]
    dx = np.minimum(np.arange(width), width - np.arange(width))[None, :]
    radius = np.rint(np.hypot(dy, dx)).astype(np.intp).ravel()
    limit = min(height, width) // 2
    return radius, np.bincount(radius)[:limit + 1], limit


def correlation_length(theta: np.ndarray) -> float:
    """Distance r (cells) at which the radially averaged autocorrelation Re⟨z̄_i·z_{i+r}⟩ of
    z = e^{2iθ} first falls below 1/e (periodic FFT autocorrelation, single precision; linear
    interpolation between integer radii); half the shorter side if it never does. θ : (H, W) rad."""
    h, w = theta.shape
    angle = 2 * np.asarray(theta, np.float32)
    z = np.empty((h, w), np.complex64)
    z.real, z.imag = np.cos(angle), np.sin(angle)
    spectrum = scipy.fft.fft2(z, workers=1, overwrite_x=True)
    power = spectrum.real * spectrum.real + spectrum.imag * spectrum.imag
    acf = scipy.fft.ifft2(power, workers=1, overwrite_x=True).real / z.size
    radius, counts, limit = _radius_bins(h, w)
    profile = np.bincount(radius, acf.ravel())[:limit + 1] / counts
    below = np.flatnonzero(profile < 1 / np.e)
    if below.size == 0:
        return float(limit)
    r = int(below[0])
    a, b = profile[r - 1], profile[r]
    return float(r - 1 + (a - 1 / np.e) / (a - b))


def vortex_count(theta: np.ndarray, *, antiphase: bool = False) -> int:
    """Topological defects: plaquettes of 2×2 neighbouring cells (periodic) around which the phase
    winds by ±2π. ``antiphase``: count them in θ + π·((x + y) mod 2), where a checkerboard is one
    ordered domain (kernels whose nearest ring repels). θ : (H, W) rad."""
    phase = theta.astype(np.float64)
    if antiphase:
        y, x = np.indices(theta.shape)
        phase = phase + np.pi * ((x + y) % 2)

    def step(axis: int) -> np.ndarray:  # wrapped difference to the next cell along axis, in (−π, π]
        return np.remainder(np.roll(phase, -1, axis) - phase + np.pi, 2 * np.pi) - np.pi

    along_x, along_y = step(1), step(0)
    circulation = along_x + np.roll(along_y, -1, 1) - np.roll(along_x, -1, 0) - along_y
    return int(np.count_nonzero(np.abs(circulation) > np.pi))


def local_measures(theta: np.ndarray, *, wrap: bool = True, corr_length: float | None = None) -> dict[str, float]:
    """The measures that need no eigenmodes: ``local_order``, ``patches``, ``antiphase`` and
    ``corr_length`` (given: used as is, e.g. measured on another frame to spread the cost), as
    keyword arguments of ``Measures``. Mostly NumPy and SciPy under the GIL: the live app takes
    them in the measures' child process (``MEASURES_PROCESS``)."""
    order1, order2, antiphase = _maps(theta, wrap)
    return {"local_order": float(order1.mean(dtype=np.float64)), "patches": _patches(order2, wrap),
            "antiphase": float(antiphase),
            "corr_length": correlation_length(theta) if corr_length is None else corr_length}


MEASURES_PROCESS = WorkerProcess(f"{__name__}:local_measures")  # the one measures child of this process


def with_spectrum(spectrum: np.ndarray, local: dict[str, float]) -> Measures:
    """``Measures`` from the harmonic ``spectrum`` ((M,), see ``harmonic_spectrum``) and ``local_measures``."""
    return Measures(order=float(np.sqrt(spectrum[0])),  # mode 0 is constant: its power is R²
                    spectrum=spectrum, coherence=float(spectrum[:LOW_MODES].sum()), **local)


def measure(theta: np.ndarray, harmonics: Harmonics, *, wrap: bool = True,
            corr_length: float | None = None) -> Measures:
    """All measures of one field state (``corr_length`` given: used as is, e.g. measured on
    another frame to spread the cost)."""
    return with_spectrum(harmonic_spectrum(theta, harmonics), local_measures(theta, wrap=wrap, corr_length=corr_length))
