"""Numba kernels for the Kuramoto lattice step.

Uses sin(θⱼ−θᵢ) = sin θⱼ·cos θᵢ − cos θⱼ·sin θᵢ: one pass writes (sin θ, cos θ) interleaved into
one padded buffer (halo of ``HALO`` cells: copies of the far edge for a torus, zeros for open
edges), then the lattice sum is one fixed-weight stencil over that buffer, both channels at once,
and no transcendental runs per link. All arrays are float32 except indices; nothing is allocated
per step. Two parallel loops per step (``fill_trig``, ``coupled_step``).

Measured choices (python -m devtools.bench_kernel and docs/lab/kernel.md, this 2-core
machine; single-thread CPU time because the machine is shared):
- branch-free polynomial sin/cos instead of libm's: the trig pass went 1.49 → 0.10 ms at 512²;
- sin and cos interleaved: the stencil loop runs over both (a cell is 2 lanes, a step along x
  is 2 lanes), and a small-world link reads one cache line, not two;
- rows ±dy folded first (the kernel is symmetric), then each Manhattan shell summed and
  multiplied once by its K, all in one loop with the accumulator in registers;
- the default 2 links gathered by a fixed-count loop that LLVM vectorises;
- on fields above 768² the links gather a packed int16 (sin, cos) copy, half the bytes
  (1024²: ×1.04–1.40 one-thread CPU time; smaller fields lose a few % to the packing);
- one parallel loop in ``fill_trig`` (rows write their own halo copies): fork/joins are what
  hurts most when threads must sleep between loops (OMP_WAIT_POLICY=passive, see the notes).
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange, types
from numba.extending import overload

from visualizer.engine.sim.neighbourhood import HALO
from visualizer.system.trig import sin_cos

TWO_PI = np.float32(2.0 * np.pi)
INV_TWO_PI = np.float32(1.0 / (2.0 * np.pi))
NOISE_TABLE_BITS = 18  # 2^18 standard normals, 1 MiB
PACKED_SCALE = 32767  # packed sin θ and cos θ are int16 multiples of 1/PACKED_SCALE
_INV_PACKED_SCALE = np.float32(1 / PACKED_SCALE)

_JIT = dict(parallel=True, fastmath=True, cache=True, nogil=True)


@njit(**_JIT)
def trig_maps(theta):
    """(sin θ, cos θ) of ``theta`` (H, W) as two new float32 (H, W) arrays (for the measures)."""
    height, width = theta.shape
    sin_t = np.empty((height, width), np.float32)
    cos_t = np.empty((height, width), np.float32)
    for y in prange(height):
        for x in range(width):
            sin_t[y, x], cos_t[y, x] = sin_cos(theta[y, x])
    return sin_t, cos_t


@njit(inline="always", cache=True)
def _pack(s, c):
    """(sin, cos) in [−1, 1] as one int32: round(sin·PACKED_SCALE) in the low 16 bits, cos's in
    the high 16 (error ≤ 1.5e-5 each)."""
    s_q = np.int32(np.floor(s * np.float32(PACKED_SCALE) + np.float32(0.5)))
    c_q = np.int32(np.floor(c * np.float32(PACKED_SCALE) + np.float32(0.5)))
    return np.int32((c_q << 16) | (s_q & 0xFFFF))


def link_sin_cos(source, lane):
    """(sin θⱼ, cos θⱼ) of a small-world target, read from ``source`` at ``lane``: a flat float32
    view of the padded buffer (lane = index of sin θⱼ, cos θⱼ follows) or the packed int32 copy
    (lane = the cell's flat index, unpacked by two shifts). Jitted code only: the overload
    below picks the reader by the source's dtype at compile time."""


@overload(link_sin_cos, inline="always")
def _link_sin_cos(source, lane):
    if source.dtype == types.int32:
        def unpack(source, lane):
            v = source[lane]
            return (np.float32(np.int32(v << 16) >> 16) * _INV_PACKED_SCALE,
                    np.float32(v >> 16) * _INV_PACKED_SCALE)
        return unpack
    return lambda source, lane: (source[lane], source[lane + 1])


@njit(**_JIT)
def fill_trig(theta, trig_pad, packed_trig, wrap):
    """Write (sin θ, cos θ) of ``theta`` (H, W) interleaved into the interior of ``trig_pad``
    (H + 2·HALO, 2·(W + 2·HALO)): cell (y, x) at [y + HALO, 2·(x + HALO) + {0: sin, 1: cos}];
    on a torus also fill the halo with copies of the far edges (open edges keep the zeros they
    hold). If ``packed_trig`` (int32 (H·W,) or empty) is not empty, also write each cell there
    packed by ``_pack``. One parallel loop: every row writes its own halo and, near an edge,
    its copy."""
    height, width = theta.shape
    h = HALO
    pack = packed_trig.shape[0] > 0
    for y in prange(height):
        row = theta[y]
        out = trig_pad[y + h]
        for x in range(width):
            s, c = sin_cos(row[x])
            out[2 * x + 2 * h] = s
            out[2 * x + 2 * h + 1] = c
        if pack:
            packed_row = packed_trig[y * width:(y + 1) * width]
            for x in range(width):
                packed_row[x] = _pack(out[2 * x + 2 * h], out[2 * x + 2 * h + 1])
        if wrap:
            for i in range(2 * h):
                out[i] = out[2 * width + i]
                out[2 * (width + h) + i] = out[2 * h + i]
            if y < h:
                trig_pad[y + height + h, :] = out
            if y >= height - h:
                trig_pad[y - height + h, :] = out


@njit(inline="always", cache=True)
def _row_offset(seed, y, mask):
    """A pseudo-random start in the noise table for row ``y`` of the step seeded ``seed``."""
    v = np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(y) * np.uint64(0xBF58476D1CE4E5B9)
    v ^= v >> np.uint64(31)
    v *= np.uint64(0x94D049BB133111EB)
    v ^= v >> np.uint64(29)
    return np.int64(v & np.uint64(mask))


@njit(inline="always", cache=True)
def _fold(trig_pad, y, dy, out):
    """out[q] = row y − dy + row y + dy of the padded (sin, cos) rows, every column q."""
    above = trig_pad[y - dy]
    below = trig_pad[y + dy]
    for q in range(out.shape[0]):
        out[q] = above[q] + below[q]


@njit(**_JIT)
def coupled_step(theta, omega, forcing, has_forcing, trig_pad, k_shell, diamond, link_source, small_world_lanes, k_sw,
                 inv_n, uniform_inv_n, noise_table, noise_std, noise_seed, dt, scratch, satisfaction_rows, measure):
    """One Euler step of θ ← θ + (ω + C + F + noise)·Δt, in place, wrapped into [0, 2π).

    Parameters
    ----------
    theta, omega : float32 (H, W); ω in rad/s.
    forcing : float32 (H, W), F in rad/s, read only if ``has_forcing``.
    trig_pad : float32 (H + 2·HALO, 2·(W + 2·HALO)), interleaved (sin θ, cos θ) filled by
        ``fill_trig`` from ``theta``.
    k_shell : float32 (4,), K1..K4, the coupling at Manhattan distance 1..4.
    diamond : every cell at distance s couples (4s of them) if True, else only the 4 axis cells.
    link_source : where the small-world links read (sin θⱼ, cos θⱼ): ``trig_pad`` flattened, or
        the packed int32 (H·W,) copy ``fill_trig`` wrote (half the bytes; see ``link_sin_cos``).
    small_world_lanes : int32 (H·W, links), each cell's long-range targets as lanes of
        ``link_source``: the flat index of their sin θ in ``trig_pad``, or their cell index.
    k_sw : coupling of the small-world links.
    inv_n : float32 (H, W), 1 / (number of neighbours the cell really has); if ``uniform_inv_n``
        is > 0 every cell has that value and the array is not read.
    noise_table : float32 (2^k,), standard normals; noise_std : √(2T·Δt) (rad); noise_seed : int,
        picks each row's window into the table for this step.
    dt : step (s).
    scratch : float32 (threads, 5, 2·(W + 2·HALO)) per-thread rows: four vertical folds and the
        interleaved (Σ K sin θⱼ, Σ K cos θⱼ) accumulator.
    satisfaction_rows, measure : float64 (H,); if ``measure``, row y receives
        Σₓ (1/Nᵢ)·Σⱼ Kᵢⱼ·cos(θⱼ − θᵢ) of the state before the step, from the same sums as the
        coupling (cos θᵢ·Σ K cos θⱼ + sin θᵢ·Σ K sin θⱼ): the field's energy at no extra cost.
    """
    height, width = theta.shape
    h = HALO
    links = small_world_lanes.shape[1]
    mask = noise_table.shape[0] - 1
    k1, k2, k3, k4 = k_shell[0], k_shell[1], k_shell[2], k_shell[3]
    for y in prange(height):
        rows = scratch[numba.get_thread_id()]
        f1, f2, f3, f4, acc = rows[0], rows[1], rows[2], rows[3], rows[4]
        yp = y + h
        r0 = trig_pad[yp]
        _fold(trig_pad, yp, 1, f1)
        _fold(trig_pad, yp, 2, f2)
        _fold(trig_pad, yp, 3, f3)
        _fold(trig_pad, yp, 4, f4)
        # lane i = 2·x + channel; the same column in the padded rows is p = i + 2·HALO; a step
        # of one cell along x is 2 lanes
        if diamond:
            for i in range(2 * width):
                p = i + 2 * h
                s1 = r0[p - 2] + r0[p + 2] + f1[p]
                s2 = r0[p - 4] + r0[p + 4] + f1[p - 2] + f1[p + 2] + f2[p]
                s3 = r0[p - 6] + r0[p + 6] + f1[p - 4] + f1[p + 4] + f2[p - 2] + f2[p + 2] + f3[p]
                s4 = (r0[p - 8] + r0[p + 8] + f1[p - 6] + f1[p + 6] + f2[p - 4] + f2[p + 4]
                      + f3[p - 2] + f3[p + 2] + f4[p])
                acc[i] = k1 * s1 + k2 * s2 + k3 * s3 + k4 * s4
        else:
            for i in range(2 * width):
                p = i + 2 * h
                acc[i] = (k1 * (r0[p - 2] + r0[p + 2] + f1[p]) + k2 * (r0[p - 4] + r0[p + 4] + f2[p])
                          + k3 * (r0[p - 6] + r0[p + 6] + f3[p]) + k4 * (r0[p - 8] + r0[p + 8] + f4[p]))
        targets = small_world_lanes[y * width:(y + 1) * width]
        if links == 2:
            # the default; a fixed count lets LLVM vectorise the gather (0.62 → 0.47 ms at 512²)
            for x in range(width):
                s0, c0 = link_sin_cos(link_source, targets[x, 0])
                s1, c1 = link_sin_cos(link_source, targets[x, 1])
                acc[2 * x] += k_sw * (s0 + s1)
                acc[2 * x + 1] += k_sw * (c0 + c1)
        elif links > 0:
            for x in range(width):
                sw_sin = np.float32(0.0)
                sw_cos = np.float32(0.0)
                for link in range(links):
                    s, c = link_sin_cos(link_source, targets[x, link])
                    sw_sin += s
                    sw_cos += c
                acc[2 * x] += k_sw * sw_sin
                acc[2 * x + 1] += k_sw * sw_cos
        if measure:
            satisfied = np.float32(0.0)
            if uniform_inv_n > 0.0:
                for x in range(width):
                    p = 2 * (x + h)
                    satisfied += r0[p + 1] * acc[2 * x + 1] + r0[p] * acc[2 * x]
                satisfaction_rows[y] = satisfied * uniform_inv_n
            else:
                row_inv_n = inv_n[y]
                for x in range(width):
                    p = 2 * (x + h)
                    satisfied += (r0[p + 1] * acc[2 * x + 1] + r0[p] * acc[2 * x]) * row_inv_n[x]
                satisfaction_rows[y] = satisfied
        row_theta = theta[y]
        row_omega = omega[y]
        if uniform_inv_n > 0.0:
            for x in range(width):
                p = 2 * (x + h)
                coupling = (r0[p + 1] * acc[2 * x] - r0[p] * acc[2 * x + 1]) * uniform_inv_n
                row_theta[x] += (row_omega[x] + coupling) * dt
        else:
            row_inv_n = inv_n[y]
            for x in range(width):
                p = 2 * (x + h)
                coupling = (r0[p + 1] * acc[2 * x] - r0[p] * acc[2 * x + 1]) * row_inv_n[x]
                row_theta[x] += (row_omega[x] + coupling) * dt
        if has_forcing:
            row_forcing = forcing[y]
            for x in range(width):
                row_theta[x] += row_forcing[x] * dt
        if noise_std > 0.0:
            start = _row_offset(noise_seed, y, mask)
            for x in range(width):
                row_theta[x] += noise_std * noise_table[(start + x) & mask]
        for x in range(width):
            phase = row_theta[x] - TWO_PI * np.floor(row_theta[x] * INV_TWO_PI)
            # float32 rounding can leave a hair below 0 or land on 2π: fold both into range
            phase = phase + TWO_PI if phase < 0.0 else phase
            row_theta[x] = phase if phase < TWO_PI else np.float32(0.0)
