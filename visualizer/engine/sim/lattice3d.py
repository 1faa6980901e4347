"""The 3D somatic lattice: n×n×n phase oscillators with all-to-all ring kernels (QRI's standing waves).

The model (pinned; ``tests/test_lattice3d.py`` checks it against a float64 brute force):

    θᵢ ← θᵢ + dt·(ωᵢ + sᵢ·Σ_{j≠i} I(d_ij)·sin(θⱼ − θᵢ))          (Jacobi update, wrapped to [0, 2π))
    I(d) = Σ_{c=1..4} −C_c·R(d, r_c, w_c),  r_c = D_c·d_max,  w_c = W_c·d_max,  d_max = √3·(n−1)
    R(d, r, w) = exp(−(d−r)²/(2(0.5w)²)) − exp(−(d−r)²/(2w²))
    d_ij = (1−α)·|pⱼ − pᵢ| + α·|P(pⱼ − pᵢ)|

P is the screen projection, QRI's demo's rotation (issue 33; before it ry had the other sign):
x' = x·cos ry − z·sin ry, z' = x·sin ry + z·cos ry, y' = y·cos rx − z'·sin rx; P keeps (x', y').
sᵢ = 1 is the demo's; the normalised mode uses sᵢ = 1/Σ_{j≠i}|I(d_ij)|.

``convention="demo"`` is the demo as it runs (issue 33), so its pictures can be reproduced exactly:

- d_max = √48 for the 3D metric at n = 7 (scaled as (2/√3)·(n−1) for other n);
- the projected metric in screen pixels: 40 px per lattice unit against d_max = the diagonal of
  the window ``screen`` (1920×1080 → 2202.9 px), i.e. d/d_max = 40·|PΔ|/diagonal; a blend mixes
  the two normalised distances, u = (1−α)·|Δ|/d_max3 + α·40·|PΔ|/diagonal;
- the update in place (Gauss–Seidel), node by node in the demo's depth order: an array sorted every
  step, stable, by projected depth z' (above) descending, starting from the creation order
  (x, then y, then z, each from −3 to 3: our index order); a node's update sees the new phases of
  the nodes before it;
- ω uniform in [0.5, 1) rad/s (the demo's natural frequencies), drawn after the phases; dt = 0.05
  is the demo's step (``DEMO_DT``, the caller's to pass).

The demo's update is O(N²) a step (no FFT: each node needs its predecessors' new phases), a
fraction of a millisecond at the demo's 7³.

Why it is fast: positions are integers, so p_j − p_i is an integer offset Δ and, for every α and
rotation, the coupling I(d_ij) depends on Δ alone: K(Δ) = I((1−α)|Δ| + α|PΔ|). The coupling sum is
then a linear convolution of sin θ and cos θ with K over the lattice, done exactly by a zero-padded
3D FFT (padded side L ≥ 2n−1, so nothing wraps), float32, O(N log N) instead of O(N²).
"""

from __future__ import annotations

import math
from typing import Sequence

import numba
import numpy as np
import scipy.fft

CONVENTIONS = ("pinned", "demo")
DEMO_DT = 0.05  # the demo's step (s)
DEMO_PX_PER_UNIT = 40.0  # the demo draws one lattice unit as 40 px and measures projected distances in px
DEMO_SCREEN = (1920, 1080)  # the window whose diagonal is the demo's d_max for the projected metric
DEMO_OMEGA = (0.5, 1.0)  # the demo's natural frequencies: uniform in [0.5, 1) rad/s
RING_RADII = (0.1, 0.3, 0.6, 0.9)  # D: ring radius / d_max
RING_WIDTHS = (0.05, 0.08, 0.12, 0.15)  # W: ring width / d_max
METRICS = ("lattice", "projected")
CORNER_ROTATION = (math.atan(1.0 / math.sqrt(2.0)), math.pi / 4)  # looks down the (1, 1, 1) diagonal
SQUARE_ROTATION = (0.0, 0.0)  # looks down z: the projection is the square lattice
FFT_WORKERS = 2  # threads for transforms of side > 32; smaller ones run faster on one
# padded sides up to which the convolution multiplies by DFT matrices instead of calling scipy's FFT
# (six calls whose overhead outweighs the transform): one convolution of 7³ (side 15) 0.195 -> 0.119 ms,
# 12³ (side 24) 0.363 -> 0.300; 16³ (side 32) is slower, 0.546 -> 0.643 (docs/lab/performance.md)
DFT_MATRICES_UP_TO_SIDE = 24


def rotation_matrix(rotation: tuple[float, float]) -> np.ndarray:
    """The demo's view rotation, float64 (3, 3): about y by ry, then about x by rx (rad).

    x' = x·cos ry − z·sin ry, z' = x·sin ry + z·cos ry, y' = y·cos rx − z'·sin rx (the demo's
    formulas), depth z'' = y·sin rx + z'·cos rx. Row 0 and 1 give the projected (x', y') (screen
    y down), row 2 the depth z'' (larger = farther: x right, y down, z into the screen).
    """
    rx, ry = rotation
    about_y = np.array([[math.cos(ry), 0.0, -math.sin(ry)], [0.0, 1.0, 0.0], [math.sin(ry), 0.0, math.cos(ry)]])
    about_x = np.array([[1.0, 0.0, 0.0], [0.0, math.cos(rx), -math.sin(rx)], [0.0, math.sin(rx), math.cos(rx)]])
    return about_x @ about_y


def demo_depth(positions: np.ndarray, rotation: tuple[float, float]) -> np.ndarray:
    """The demo's sort key, float64 (N,): z' = x·sin ry + z·cos ry (after the turn about y only),
    written out element by element as the demo computes it, so exact ties stay ties."""
    s, c = math.sin(rotation[1]), math.cos(rotation[1])
    return positions[:, 0] * s + positions[:, 2] * c


def demo_order(order: np.ndarray, positions: np.ndarray, rotation: tuple[float, float]) -> np.ndarray:
    """The demo's array order after this step's sort: ``order`` (node indices) stably sorted by
    ``demo_depth`` descending (ties keep their previous order), int64 (N,)."""
    depth = demo_depth(positions, rotation)[order]
    return order[np.argsort(-depth, kind="stable")]


def lattice_positions(n: int) -> np.ndarray:
    """Integer positions centred on 0, float64 (n³, 3), index i = (a·n + b)·n + c ↔ (a, b, c) − (n−1)/2."""
    axis = np.arange(n) - (n - 1) / 2.0
    a, b, c = np.meshgrid(axis, axis, axis, indexing="ij")
    return np.stack([a.ravel(), b.ravel(), c.ravel()], axis=1)


def ring_kernel(distance: np.ndarray, couplings: Sequence[float], d_max: float) -> np.ndarray:
    """I(d) of the four rings, float64, same shape as ``distance`` (lattice units)."""
    distance = np.asarray(distance, np.float64)
    total = np.zeros_like(distance)
    for c, r, w in zip(couplings, RING_RADII, RING_WIDTHS):
        x2 = (distance - r * d_max) ** 2
        w = w * d_max
        total -= c * (np.exp(-x2 / (2 * (0.5 * w) ** 2)) - np.exp(-x2 / (2 * w * w)))
    return total


@numba.njit(inline="always")
def _circular(offset, side):
    return offset + side if offset < 0 else offset


@numba.njit(fastmath=True, cache=True, nogil=True)  # serial: faster than prange on a loaded 2-core box
def _fill_offset_kernel(out, n, projection, alpha, scale3, scale2, couplings, radii, widths):
    """K(Δ) for every offset Δ ∈ (−n, n)³ into the circular array ``out`` (L, L, L), K(0) = 0.

    The ring kernel of u = (1−α)·scale3·|Δ| + α·scale2·|PΔ|, the distance in units of d_max
    (pinned: scale3 = scale2 = 1/d_max; demo: 1/√48-like and px-per-unit/diagonal).

    One exp per ring (exp(−x²/(2(w/2)²)) = g⁴ with g = exp(−x²/(2w²))), rings with C = 0 skipped,
    half the offsets computed (K(−Δ) = K(Δ)); offset Δ sits at index Δ mod L.
    """
    side = out.shape[0]
    active = np.nonzero(couplings)[0]
    centre = radii
    inv_two_w2 = 1.0 / (2.0 * widths**2)
    out[...] = 0.0
    for a in range(0, n):
        for b in range(-n + 1, n):
            for c in range(-n + 1, n):
                if a == 0 and (b < 0 or (b == 0 and c <= 0)):
                    continue  # the mirror of an offset done elsewhere, or Δ = 0
                d3 = math.sqrt(a * a + b * b + c * c)
                px = projection[0, 0] * a + projection[0, 1] * b + projection[0, 2] * c
                py = projection[1, 0] * a + projection[1, 1] * b + projection[1, 2] * c
                d = (1.0 - alpha) * scale3 * d3 + alpha * scale2 * math.sqrt(px * px + py * py)
                k = 0.0
                for ring in active:
                    g = math.exp(-((d - centre[ring]) ** 2) * inv_two_w2[ring])
                    g2 = g * g
                    k -= couplings[ring] * (g2 * g2 - g)
                out[a, _circular(b, side), _circular(c, side)] = k
                out[_circular(-a, side), _circular(-b, side), _circular(-c, side)] = k


@numba.njit(cache=True, nogil=True)
def _absolute_row_sums(kernel, n, table, out):
    """out[i] = Σ_{j≠i} |K(pⱼ − pᵢ)| for every node i, float32 (n³,), from the circular offset table
    ``kernel`` (L, L, L): a summed-volume table of |K| over the offsets (−n, n)³ (``table``, float64
    (2n, 2n, 2n) scratch) and one box of it per node, the offsets that stay inside the lattice."""
    side = kernel.shape[0]
    m = 2 * n - 1
    table[...] = 0.0
    for a in range(m):
        for b in range(m):
            for c in range(m):
                v = abs(kernel[_circular(a - n + 1, side), _circular(b - n + 1, side), _circular(c - n + 1, side)])
                table[a + 1, b + 1, c + 1] = (v + table[a, b + 1, c + 1] + table[a + 1, b, c + 1]
                                              + table[a + 1, b + 1, c] - table[a, b, c + 1] - table[a, b + 1, c]
                                              - table[a + 1, b, c] + table[a, b, c])
    for a in range(n):
        for b in range(n):
            for c in range(n):
                a0, b0, c0 = n - 1 - a, n - 1 - b, n - 1 - c  # the box of offsets −a..n−1−a, ...
                a1, b1, c1 = a0 + n, b0 + n, c0 + n
                out[(a * n + b) * n + c] = (table[a1, b1, c1] - table[a0, b1, c1] - table[a1, b0, c1]
                                            - table[a1, b1, c0] + table[a0, b0, c1] + table[a0, b1, c0]
                                            + table[a1, b0, c0] - table[a0, b0, c0])


@numba.njit(fastmath=True, cache=True, nogil=True)  # serial: O(N), waking threads costs more
def _jacobi_update(theta, omega, sin_theta, cos_theta, conv_sin, conv_cos, scale, dt, extra, has_extra):
    """θ ← wrap(θ + dt·(ω + s·(cos θ·(K∗sin θ) − sin θ·(K∗cos θ)) + extra)), all float32 (N,)."""
    two_pi = np.float32(2.0 * np.pi)
    for i in range(theta.size):
        v = omega[i] + scale[i] * (cos_theta[i] * conv_sin[i] - sin_theta[i] * conv_cos[i])
        if has_extra:
            v += extra[i]
        t = theta[i] + dt * v
        t -= two_pi * math.floor(t / two_pi)
        theta[i] = t if t < two_pi else np.float32(0.0)


@numba.njit(fastmath=False, cache=True, nogil=True)  # serial by nature: each node sees its predecessors
def _demo_update(theta, omega, kernel, n, order, scale, dt, extra, has_extra):
    """The demo's in-place step, float64 inside: for i in ``order``, θᵢ += dt·(ωᵢ + sᵢ·Σⱼ K(pⱼ − pᵢ)·
    sin(θⱼ − θᵢ) + extraᵢ), the sum over the current phases (already-updated predecessors included),
    θ wrapped to [0, 2π). theta float64 (N,), kernel the circular offset table (L, L, L) float64."""
    side = kernel.shape[0]
    two_pi = 2.0 * np.pi
    sin_t = np.sin(theta)
    cos_t = np.cos(theta)
    nn = n * n
    for k in range(order.size):
        i = order[k]
        ai, bi, ci = i // nn, (i // n) % n, i % n
        acc_s = 0.0
        acc_c = 0.0
        for a in range(n):
            da = a - ai
            if da < 0:
                da += side
            for b in range(n):
                db = b - bi
                if db < 0:
                    db += side
                row = kernel[da, db]
                j0 = (a * n + b) * n
                for c in range(n):
                    dc = c - ci
                    if dc < 0:
                        dc += side
                    kv = row[dc]
                    acc_s += kv * sin_t[j0 + c]
                    acc_c += kv * cos_t[j0 + c]
        v = omega[i] + scale[i] * (cos_t[i] * acc_s - sin_t[i] * acc_c)
        if has_extra:
            v += extra[i]
        t = theta[i] + dt * v
        t -= two_pi * math.floor(t / two_pi)
        if t >= two_pi:
            t = 0.0
        theta[i] = t
        sin_t[i] = math.sin(t)
        cos_t[i] = math.cos(t)


class Lattice3D:
    """n×n×n ring-kernel phase oscillators, stepped exactly by FFT convolution.

    ``positions`` float64 (n³, 3), ``theta`` float32 (n³,) rad in [0, 2π), ``omega`` float32 (n³,)
    rad/s are plain arrays (read them, write them). Node i sits at ``positions[i]``.

    n : lattice side (n = 7 is the demo's 343 nodes), 2..64.
    seed : seeds the random phases (and, in the demo convention, ω).
    convention : "pinned" (the model above: Jacobi FFT step, d_max = √3·(n−1), ω = 0 to start) or
        "demo" (QRI's demo as it runs: its d_max, the pixel metric, the in-place depth-ordered
        update and ω uniform in [0.5, 1); see the module docstring). ``order`` holds the demo's
        array order (node indices), re-sorted every step.
    screen : (width, height) px of the demo's window, whose diagonal is the projected metric's
        d_max in the demo convention.
    """

    def __init__(self, n: int = 7, seed: int = 0, *, convention: str = "pinned",
                 screen: tuple[int, int] = DEMO_SCREEN):
        if not 2 <= n <= 64:
            raise ValueError(f"lattice side n must be in 2..64, not {n}")
        if convention not in CONVENTIONS:
            raise ValueError(f"convention must be one of {CONVENTIONS}, not {convention!r}")
        if len(screen) != 2 or min(screen) <= 0:
            raise ValueError(f"screen must be (width, height) in px, not {screen!r}")
        self.n = n
        self.convention = convention
        self.screen = (int(screen[0]), int(screen[1]))
        self.extent = 0.5 * math.sqrt(3.0) * (n - 1)  # radius of the sphere holding every rotation
        self.positions = lattice_positions(n)
        rng = np.random.default_rng(seed)
        self.theta = rng.uniform(0.0, 2 * np.pi, n**3).astype(np.float32)
        if convention == "demo":
            self.d_max = 2.0 / math.sqrt(3.0) * (n - 1)  # √48 at n = 7
            self.d_max_projected = math.hypot(*self.screen) / DEMO_PX_PER_UNIT  # lattice units
            self.omega = rng.uniform(*DEMO_OMEGA, n**3).astype(np.float32)
        else:
            self.d_max = math.sqrt(3.0) * (n - 1)
            self.d_max_projected = self.d_max
            self.omega = np.zeros(n**3, np.float32)
        self.order = np.arange(n**3, dtype=np.int64)
        self._theta64 = self.theta.astype(np.float64)
        self._side = scipy.fft.next_fast_len(2 * n - 1, real=True)
        self._workers = FFT_WORKERS if self._side > 32 else 1
        self._kernel = np.zeros((self._side,) * 3, np.float64 if convention == "demo" else np.float32)
        self._spectrum = np.zeros((self._side, self._side, self._side // 2 + 1), np.float32)
        self._trig = np.zeros((2, n, n, n), np.float32)
        self._dft = dft_matrices(n, self._side) if self._side <= DFT_MATRICES_UP_TO_SIDE else None
        self._scale = np.ones(n**3, np.float32)
        self._kernel_key: tuple | None = None
        self._view: tuple | None = None  # (α, rotation or None) of the kernel in force
        self._rings: tuple[np.ndarray, np.ndarray] | None = None  # each ring's kernel and spectrum at C = 1
        self._box_table = np.zeros((2 * n,) * 3, np.float64)
        self._no_extra = np.zeros(1, np.float64 if convention == "demo" else np.float32)

    # -- the coupling ----------------------------------------------------------------------
    @property
    def kernel_in_force(self) -> tuple[tuple[float, float, float, float], float] | None:
        """(C1..C4, α) of the kernel the last step used; None before the first."""
        return None if self._kernel_key is None else (self._kernel_key[0], self._kernel_key[1])

    def set_kernel(self, couplings: Sequence[float], *, metric: str = "lattice", alpha: float | None = None,
                   rotation: tuple[float, float] = (0.0, 0.0), normalised: bool = False) -> None:
        """Prepare K(Δ), its spectrum and sᵢ; does nothing when nothing changed since the last call."""
        if metric not in METRICS:
            raise ValueError(f"metric must be one of {METRICS}, not {metric!r}")
        alpha = blend_weight(metric, alpha)
        couplings = tuple(float(c) for c in couplings)
        if len(couplings) != 4:
            raise ValueError(f"couplings must be 4 numbers (C1..C4), got {len(couplings)}")
        view = (alpha, tuple(rotation) if alpha > 0 else None)
        key = (couplings, *view, normalised)
        if key == self._kernel_key:
            return
        if view != self._view:  # a new view (the turning projection): the kernel directly, one transform
            self._view, self._rings = view, None
            self._fill(self._kernel, couplings, alpha, rotation)
            self._spectrum[...] = scipy.fft.rfftn(self._kernel, workers=self._workers).real
        else:  # the same view, other couplings: K and its spectrum are linear in C1..C4
            if self._rings is None:
                self._rings = self._ring_kernels(alpha, rotation)
            weights = np.array(couplings, self._kernel.dtype)
            self._kernel[...] = np.tensordot(weights, self._rings[0], axes=1)
            self._spectrum[...] = np.tensordot(weights.astype(np.float32), self._rings[1], axes=1)
        if normalised:
            total = np.empty(self.n**3, np.float32)
            _absolute_row_sums(self._kernel, self.n, self._box_table, total)
            self._scale[...] = np.where(total > 1e-12 * max(1.0, float(total.max())),
                                        1.0 / np.maximum(total, 1e-30), 0.0)
        else:
            self._scale[...] = 1.0
        self._kernel_key = key

    def _fill(self, out: np.ndarray, couplings: Sequence[float], alpha: float, rotation: tuple[float, float]) -> None:
        """K(Δ) of ``couplings`` into the circular offset table ``out`` (L, L, L)."""
        _fill_offset_kernel(out, self.n, rotation_matrix(rotation)[:2], alpha, 1.0 / self.d_max,
                            1.0 / self.d_max_projected, np.array(couplings, np.float64), np.array(RING_RADII),
                            np.array(RING_WIDTHS))

    def _ring_kernels(self, alpha: float, rotation: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
        """Each ring's kernel (4, L, L, L) and real spectrum (4, L, L, L//2+1) at C = 1, the others 0."""
        kernels = np.zeros((4,) + self._kernel.shape, self._kernel.dtype)
        for ring in range(4):
            self._fill(kernels[ring], tuple(float(ring == r) for r in range(4)), alpha, rotation)
        spectra = scipy.fft.rfftn(kernels, axes=(1, 2, 3), workers=self._workers).real.astype(np.float32)
        return kernels, spectra

    def _convolve_spectrum(self, signals: np.ndarray, spectrum: np.ndarray) -> np.ndarray:
        """Linear convolution of each (n, n, n) signal in ``signals`` (m, n, n, n) with a kernel given by
        its real spectrum (L, L, L//2+1); the transform is pruned: zero planes are never transformed.
        Small lattices multiply by DFT matrices (``dft_matrices``), larger ones call the FFT."""
        n, side = self.n, self._side
        if self._dft is not None:
            m, h = signals.shape[0], side // 2 + 1
            to_half, forward, back, from_half = self._dft
            a = signals.astype(np.complex128) @ to_half  # (m, n, n, h): along the last axis
            a = np.matmul(forward, a)  # (m, n, L, h): along the middle axis
            a = (forward @ a.reshape(m, n, side * h)).reshape(m, side, side, h)  # along the first
            a *= spectrum
            a = (back @ a.reshape(m, side, side * h)).reshape(m, n, side, h)  # back, the first n only
            a = np.matmul(back, a)  # (m, n, n, h)
            return (a @ from_half).real.astype(np.float32)  # (m, n, n, n)
        a = scipy.fft.rfft(signals, n=side, axis=3, workers=self._workers)
        a = scipy.fft.fft(a, n=side, axis=2, workers=self._workers, overwrite_x=True)
        a = scipy.fft.fft(a, n=side, axis=1, workers=self._workers, overwrite_x=True)
        a *= spectrum
        a = scipy.fft.ifft(a, axis=1, workers=self._workers, overwrite_x=True)[:, :n]
        a = scipy.fft.ifft(a, axis=2, workers=self._workers)[:, :, :n]
        return scipy.fft.irfft(a, n=side, axis=3, workers=self._workers)[..., :n]

    def coupling_sums(self) -> tuple[np.ndarray, np.ndarray]:
        """(Σⱼ K(pⱼ−pᵢ) sin θⱼ, Σⱼ K(pⱼ−pᵢ) cos θⱼ), float32 (n³,) each, for the current kernel."""
        n = self.n
        theta = self.theta.reshape(n, n, n)
        np.sin(theta, out=self._trig[0])
        np.cos(theta, out=self._trig[1])
        conv = self._convolve_spectrum(self._trig, self._spectrum)
        return np.ascontiguousarray(conv[0]).ravel(), np.ascontiguousarray(conv[1]).ravel()

    # -- dynamics --------------------------------------------------------------------------
    def step(self, dt: float, couplings: Sequence[float] = (0.0, 0.0, 0.0, 0.0), *, metric: str = "lattice",
             alpha: float | None = None, rotation: tuple[float, float] = (0.0, 0.0), normalised: bool = False,
             forcing: np.ndarray | None = None) -> None:
        """One Euler step in place: Jacobi (pinned) or the demo's depth-ordered in-place update (demo).

        Parameters
        ----------
        dt : step (s).
        couplings : C1..C4, the rings' couplings (the demo's sliders, −1..1).
        metric : "lattice" (3D distance) or "projected" (distance on screen after ``rotation``).
        alpha : blend weight of the projected distance, d = (1−α)·d_lattice + α·d_projected, in
            [0, 1]; None takes 0 for "lattice" and 1 for "projected".
        rotation : (rx, ry) view rotation (rad), the demo's: about y by ry, then about x by rx. In
            the demo convention it also orders the update (``demo_order``), whatever the metric.
        normalised : sᵢ = 1/Σⱼ|I(d_ij)| instead of 1.
        forcing : optional float32 (n³,) extra phase velocity (rad/s), e.g. the visual field's pull.
        """
        self.set_kernel(couplings, metric=metric, alpha=alpha, rotation=rotation, normalised=normalised)
        if self.convention == "demo":
            self._demo_step(dt, rotation, forcing)
            return
        conv_sin, conv_cos = self.coupling_sums()
        _jacobi_update(self.theta, self.omega, self._trig[0].ravel(), self._trig[1].ravel(), conv_sin, conv_cos,
                       self._scale, np.float32(dt), self._no_extra if forcing is None else forcing,
                       forcing is not None)

    def _demo_step(self, dt: float, rotation: tuple[float, float], forcing: np.ndarray | None) -> None:
        """The demo's step. The phases run in float64 between steps (``theta`` shows them in float32);
        a write to ``theta`` from outside is taken up on the next step."""
        if not np.array_equal(self._theta64.astype(np.float32), self.theta):
            self._theta64 = self.theta.astype(np.float64)
        self.order = demo_order(self.order, self.positions, rotation)
        extra = self._no_extra if forcing is None else np.asarray(forcing, np.float64)
        _demo_update(self._theta64, self.omega.astype(np.float64), self._kernel, self.n, self.order,
                     self._scale.astype(np.float64), float(dt), extra, forcing is not None)
        self.theta[:] = self._theta64

    def order_parameter(self) -> float:
        """Global Kuramoto order R = |mean e^{iθ}| in [0, 1]."""
        theta = self.theta.astype(np.float64)
        return float(np.hypot(np.cos(theta).mean(), np.sin(theta).mean()))

    def project(self, rotation: tuple[float, float]) -> np.ndarray:
        """Screen (x', y') and depth z'' of every node, float64 (n³, 3), lattice units (y down,
        larger depth = farther)."""
        return self.positions @ rotation_matrix(rotation).T


def dft_matrices(n: int, side: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The pruned transforms of a convolution padded to ``side`` of signals with ``n`` nonzero
    samples a line, as complex128 matrices (in single precision the sums of n terms a line lose
    more than the FFT's, and rounding grows over a run): (n → side//2+1 real-input forward, n → side forward,
    side → first n inverse, side//2+1 Hermitian half → first n real inverse); the last one weighs
    the bins the half leaves out (all but 0 and side/2) twice, so its real part is the inverse."""
    half = side // 2 + 1
    j, k, q = np.arange(n)[:, None], np.arange(side)[None, :], np.arange(half)[None, :]
    to_half = np.exp(-2j * np.pi * j * q / side)
    forward = np.exp(-2j * np.pi * k.T * j.T / side)
    back = np.exp(2j * np.pi * j * k / side) / side
    weights = np.full(half, 2.0)
    weights[0] = 1.0
    if side % 2 == 0:
        weights[-1] = 1.0
    from_half = weights[:, None] * np.exp(2j * np.pi * q.T * j.T / side) / side
    return to_half, forward, back, from_half


def blend_weight(metric: str, alpha: float | None) -> float:
    """α of d = (1−α)·d_lattice + α·d_projected: ``alpha`` if given, else 0 ("lattice") or 1 ("projected")."""
    if alpha is None:
        return 0.0 if metric == "lattice" else 1.0
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], not {alpha}")
    return float(alpha)
