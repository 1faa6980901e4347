"""Numba kernels for the Kuramoto lattice step.

Uses sin(θⱼ−θᵢ) = sin θⱼ·cos θᵢ − cos θⱼ·sin θᵢ: ``fill_sin_cos`` writes sin θ and cos θ into one
padded buffer, each row a sin half then a cos half (halo of ``HALO`` cells around each: copies of
the far edge for a torus, zeros for open edges), and each cell's (sin, cos) packed as int16 into one
int32 for the small-world links; ``kuramoto_step`` then sums the lattice over the padded rows, both
halves at once, and no transcendental runs per lattice link. All arrays are float32 except indices;
nothing is allocated per step. Two parallel loops per step.

How ``kuramoto_step`` sums the lattice (issue 29, round four; docs/lab/performance.md): a cell at
|dy| = m, |dx| = d couples with K_{m+d}, so with H_d(row) = row[x−d] + row[x+d] (H_0 = row[x]) each
padded row r gives four partial rows G_m(r) = Σ_d c[m, d]·H_d(r) (c = ``coefficients``), and a
cell's sum is G_0(y) + Σ_{m=1..4} G_m(y−m) + G_m(y+m) with G_4 = c[4, 0]·row. Each padded row's
G rows are made once and kept in a per-thread ring of 7 rows while the thread runs down its block
of ``ROWS_PER_BLOCK`` rows: 18 loads a lane instead of 32. Every loop reads and writes contiguous
rows from index 0 (an index that numba cannot prove non-negative turns a load into a gather and
stops the vectoriser), and the links are gathered by a scalar loop into a scratch row before
a vectorised loop unpacks them (an indexed load beside a store does not vectorise).

Measured choices kept from earlier rounds (docs/lab/kernel.md):
- branch-free polynomial sin/cos instead of libm's: the trig pass went 1.49 → 0.10 ms at 512²;
- the links read a packed int16 (sin, cos) copy, 4 bytes a cell: the gather is the largest part
  of the step and its bytes are what it pays for;
- passive OpenMP waits and few parallel regions a step: fork/joins are what hurts most when
  threads must sleep between loops (``visualizer.system.threads``).
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from visualizer.engine.sim.neighbourhood import HALO, MAX_DISTANCE, MAX_SMALL_WORLD_LINKS
from visualizer.system.trig import sin_cos

TWO_PI = np.float32(2.0 * np.pi)
INV_TWO_PI = np.float32(1.0 / (2.0 * np.pi))
NOISE_TABLE_BITS = 18  # 2^18 standard normals, 1 MiB
PACKED_SCALE = 32767  # packed sin θ and cos θ are int16 multiples of 1/PACKED_SCALE
_INV_PACKED_SCALE = np.float32(1 / PACKED_SCALE)

_JIT = dict(parallel=True, fastmath=True, cache=True, nogil=True)
ROWS_PER_BLOCK = 64  # rows a thread steps in one go; a block first primes the G rows of rows first − 3 .. first + 2
_RING = 2 * MAX_DISTANCE - 1  # rows whose G rows are in use at once (y − 3 .. y + 3)
_ACC_ROW = 4 * _RING  # scratch row of the accumulator, after the ring's 4 G rows per ring slot
_SCRATCH_ROWS = _ACC_ROW + 1 + (MAX_SMALL_WORLD_LINKS + 1) // 2  # then the gathered links (int32, ≤ 8 a cell)


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


@njit(inline="always", cache=True)
def _row_offset(seed, y, mask):
    """A pseudo-random start in the noise table for row ``y`` of the step seeded ``seed``."""
    v = np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(y) * np.uint64(0xBF58476D1CE4E5B9)
    v ^= v >> np.uint64(31)
    v *= np.uint64(0x94D049BB133111EB)
    v ^= v >> np.uint64(29)
    return np.int64(v & np.uint64(mask))


def coefficients_of_shells(diamond: bool) -> np.ndarray:
    """int (5, 5): entry [m, d] is the shell s = m + d (1..4) of the cells at |dy| = m, |dx| = d that
    couple (all of them in a diamond, only the axes m = 0 or d = 0 in a cross), 0 where none do.
    ``coefficients`` of the kernel are [0, K1..K4] taken at these entries."""
    m, d = np.indices((MAX_DISTANCE + 1, MAX_DISTANCE + 1))
    couples = (m + d >= 1) & (m + d <= MAX_DISTANCE) & (diamond | (m == 0) | (d == 0))
    return np.where(couples, m + d, 0)


def step_scratch(width: int) -> np.ndarray:
    """Per-thread scratch rows of ``kuramoto_step`` for fields ``width`` cells wide: float32
    (numba's threads, rows, 2·(width + 2·HALO))."""
    return np.zeros((numba.config.NUMBA_NUM_THREADS, _SCRATCH_ROWS, 2 * (width + 2 * HALO)), np.float32)


@njit(**_JIT)
def fill_sin_cos(theta, trig_pad, packed, wrap):
    """Write sin θ and cos θ of ``theta`` (H, W) into the interior of ``trig_pad``
    (H + 2·HALO, 2·(W + 2·HALO)): sin of cell (y, x) at [y + HALO, x + HALO], cos at
    [y + HALO, W + 3·HALO + x]; on a torus also fill the halo with copies of the far edges (open
    edges keep the zeros they hold); and each cell packed by ``_pack`` into ``packed``
    (int32 (H·W,)). One parallel loop: every row writes its own halo and, near an edge, its copy."""
    height, width = theta.shape
    h = HALO
    half = width + 2 * h
    for y in prange(height):
        row = theta[y]
        out = trig_pad[y + h]
        out_sin = out[h:h + width]
        out_cos = out[half + h:half + h + width]
        packed_row = packed[y * width:(y + 1) * width]
        for x in range(width):
            s, c = sin_cos(row[x])
            out_sin[x] = s
            out_cos[x] = c
            packed_row[x] = _pack(s, c)
        if wrap:
            for i in range(h):
                out[i] = out[width + i]
                out[width + h + i] = out[h + i]
                out[half + i] = out[half + width + i]
                out[half + width + h + i] = out[half + h + i]
            if y < h:
                trig_pad[y + height + h, :] = out
            if y >= height - h:
                trig_pad[y - height + h, :] = out


@njit(inline="always", cache=True)
def _partial_rows(row, c, ring, slot):
    """ring[slot + m] = G_m(row) = Σ_d c[m, d]·(row[i − d] + row[i + d]) for m = 0..3 at every
    padded column i ≥ HALO that has all its taps (the halves' halos are left as they were)."""
    c01, c02, c03, c04 = c[0, 1], c[0, 2], c[0, 3], c[0, 4]
    c10, c11, c12, c13 = c[1, 0], c[1, 1], c[1, 2], c[1, 3]
    c20, c21, c22 = c[2, 0], c[2, 1], c[2, 2]
    c30, c31 = c[3, 0], c[3, 1]
    for j in range(row.shape[0] - 2 * HALO):
        i = j + HALO
        r = row[i]
        h1 = row[i - 1] + row[i + 1]
        h2 = row[i - 2] + row[i + 2]
        h3 = row[i - 3] + row[i + 3]
        h4 = row[i - 4] + row[i + 4]
        ring[slot, i] = c01 * h1 + c02 * h2 + c03 * h3 + c04 * h4
        ring[slot + 1, i] = c10 * r + c11 * h1 + c12 * h2 + c13 * h3
        ring[slot + 2, i] = c20 * r + c21 * h1 + c22 * h2
        ring[slot + 3, i] = c30 * r + c31 * h1


@njit(**_JIT)
def kuramoto_step(theta, omega, forcing, has_forcing, trig_pad, coefficients, packed, small_world, k_sw,
                  inv_n, uniform_inv_n, noise_table, noise_std, noise_seed, dt, scratch, satisfaction_rows, measure):
    """One Euler step of θ ← θ + (ω + C + F + noise)·Δt, in place, wrapped into [0, 2π).

    Parameters
    ----------
    theta, omega : float32 (H, W); ω in rad/s.
    forcing : float32 (H, W), F in rad/s, read only if ``has_forcing``.
    trig_pad, packed : sin θ and cos θ as ``fill_sin_cos`` wrote them from ``theta``.
    coefficients : float32 (5, 5), [m, d] the coupling of the cells at |dy| = m, |dx| = d:
        [0, K1..K4] at ``coefficients_of_shells``' entries.
    small_world : uint32 (H·W, links), each cell's long-range targets (flat cell indices).
    k_sw : coupling of the small-world links.
    inv_n : float32 (H, W), 1 / (number of neighbours the cell really has); if ``uniform_inv_n``
        is > 0 every cell has that value and the array is not read.
    noise_table : float32 (2^k,), standard normals; noise_std : √(2T·Δt) (rad); noise_seed : int,
        picks each row's window into the table for this step.
    dt : step (s).
    scratch : ``step_scratch(W)``.
    satisfaction_rows, measure : float64 (H,); if ``measure``, row y receives
        Σₓ (1/Nᵢ)·Σⱼ Kᵢⱼ·cos(θⱼ − θᵢ) of the state before the step, from the same sums as the
        coupling (cos θᵢ·Σ K cos θⱼ + sin θᵢ·Σ K sin θⱼ): the field's energy at no extra cost.
    """
    height, width = theta.shape
    h = HALO
    half = width + 2 * h
    lanes = 2 * half - 2 * h  # padded columns with all their taps: both halves' interiors and inner halos
    links = small_world.shape[1]
    mask = noise_table.shape[0] - 1
    c40 = coefficients[4, 0]
    blocks = (height + ROWS_PER_BLOCK - 1) // ROWS_PER_BLOCK
    for block in prange(blocks):
        ring = scratch[numba.get_thread_id()]
        acc = ring[_ACC_ROW]
        link_rows = ring[_ACC_ROW + 1:].reshape(-1)[:links * width].view(np.int32).reshape(links, width)
        first, end = block * ROWS_PER_BLOCK, min((block + 1) * ROWS_PER_BLOCK, height)
        for y in range(first - 3, first + 3):  # ring slot of row y: (y mod 7)·4; padded row y + HALO
            _partial_rows(trig_pad[y + h], coefficients, ring, ((y + _RING) % _RING) * 4)
        for y in range(first, end):
            _partial_rows(trig_pad[y + 3 + h], coefficients, ring, ((y + 3) % _RING) * 4)
            g0 = (y % _RING) * 4
            g1a, g1b = ((y + 6) % _RING) * 4 + 1, ((y + 1) % _RING) * 4 + 1
            g2a, g2b = ((y + 5) % _RING) * 4 + 2, ((y + 2) % _RING) * 4 + 2
            g3a, g3b = ((y + 4) % _RING) * 4 + 3, ((y + 3) % _RING) * 4 + 3
            above, below = trig_pad[y], trig_pad[y + 2 * h]
            for j in range(lanes):
                i = j + h
                acc[i] = (ring[g0, i] + (ring[g1a, i] + ring[g1b, i]) + (ring[g2a, i] + ring[g2b, i])
                          + (ring[g3a, i] + ring[g3b, i]) + c40 * (above[i] + below[i]))
            own = trig_pad[y + h]
            own_sin, own_cos = own[h:h + width], own[half + h:half + h + width]
            acc_sin, acc_cos = acc[h:h + width], acc[half + h:half + h + width]
            if links > 0:
                targets = small_world[y * width:(y + 1) * width]
                for link in range(links):
                    gathered = link_rows[link]
                    for x in range(width):
                        gathered[x] = packed[targets[x, link]]
                for link in range(links):
                    gathered = link_rows[link]
                    for x in range(width):
                        v = gathered[x]
                        acc_sin[x] += k_sw * (np.float32(np.int32(v << 16) >> 16) * _INV_PACKED_SCALE)
                        acc_cos[x] += k_sw * (np.float32(v >> 16) * _INV_PACKED_SCALE)
            if measure:
                satisfied = np.float32(0.0)
                if uniform_inv_n > 0.0:
                    for x in range(width):
                        satisfied += own_cos[x] * acc_cos[x] + own_sin[x] * acc_sin[x]
                    satisfaction_rows[y] = satisfied * uniform_inv_n
                else:
                    row_inv_n = inv_n[y]
                    for x in range(width):
                        satisfied += (own_cos[x] * acc_cos[x] + own_sin[x] * acc_sin[x]) * row_inv_n[x]
                    satisfaction_rows[y] = satisfied
            row_theta = theta[y]
            row_omega = omega[y]
            if uniform_inv_n > 0.0:
                for x in range(width):
                    coupling = (own_cos[x] * acc_sin[x] - own_sin[x] * acc_cos[x]) * uniform_inv_n
                    row_theta[x] += (row_omega[x] + coupling) * dt
            else:
                row_inv_n = inv_n[y]
                for x in range(width):
                    coupling = (own_cos[x] * acc_sin[x] - own_sin[x] * acc_cos[x]) * row_inv_n[x]
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
