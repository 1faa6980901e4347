"""Numba kernels for the Kuramoto lattice step.

Uses sin(θⱼ−θᵢ) = sin θⱼ·cos θᵢ − cos θⱼ·sin θᵢ: one pass writes sin θ and cos θ into padded
buffers (halo of ``HALO`` cells: copies of the far edge for a torus, zeros for open edges), then
the lattice sum is two fixed-weight stencils over those buffers and no transcendental runs per link.
All arrays are float32 except indices; nothing is allocated per step.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from visualizer.sim.neighbourhood import HALO

TWO_PI = np.float32(2.0 * np.pi)
INV_TWO_PI = np.float32(1.0 / (2.0 * np.pi))

_JIT = dict(parallel=True, fastmath=True, cache=True, nogil=True)


@njit(**_JIT)
def fill_trig(theta, sin_pad, cos_pad, wrap):
    """Write sin θ, cos θ of ``theta`` (H, W) into the interiors of ``sin_pad``, ``cos_pad``
    (H + 2·HALO, W + 2·HALO); on a torus also copy the far edges into the halo."""
    height, width = theta.shape
    h = HALO
    for y in prange(height):
        for x in range(width):
            t = theta[y, x]
            sin_pad[y + h, x + h] = np.sin(t)
            cos_pad[y + h, x + h] = np.cos(t)
    if wrap:
        for y in prange(height):
            for i in range(h):
                sin_pad[y + h, i] = sin_pad[y + h, width + i]
                cos_pad[y + h, i] = cos_pad[y + h, width + i]
                sin_pad[y + h, width + h + i] = sin_pad[y + h, h + i]
                cos_pad[y + h, width + h + i] = cos_pad[y + h, h + i]
        for i in prange(h):
            sin_pad[i, :] = sin_pad[height + i, :]
            cos_pad[i, :] = cos_pad[height + i, :]
            sin_pad[height + h + i, :] = sin_pad[h + i, :]
            cos_pad[height + h + i, :] = cos_pad[h + i, :]


@njit(**_JIT)
def coupled_step(theta, omega, forcing, sin_pad, cos_pad, weights, small_world_padded, k_sw, inv_n, noise_std, dt, acc_sin, acc_cos):
    """One Euler step of θ ← θ + (ω + C + F + noise)·Δt, in place, wrapped into [0, 2π).

    Parameters
    ----------
    theta, omega, forcing : float32 (H, W); ω and F in rad/s.
    sin_pad, cos_pad : float32 (H + 2·HALO, W + 2·HALO), filled by ``fill_trig`` from ``theta``.
    weights : float32 (2·HALO + 1, 2·HALO + 1), the coupling kernel: weights[HALO + dy, HALO + dx]
        is the K of the neighbour at offset (dy, dx), 0 where there is none.
    small_world_padded : int32 (H·W, links), each cell's long-range targets as flat indices
        into the padded buffers.
    k_sw : coupling of the small-world links.
    inv_n : float32 (H, W), 1 / (number of neighbours the cell really has).
    noise_std : standard deviation of the Langevin phase kick per step, √(2T·Δt) (rad).
    dt : step (s).
    acc_sin, acc_cos : float32 (H, W) scratch.
    """
    height, width = theta.shape
    h = HALO
    links = small_world_padded.shape[1]
    sin_flat = sin_pad.reshape(-1)
    cos_flat = cos_pad.reshape(-1)
    for y in prange(height):
        row_acc_sin = acc_sin[y]
        row_acc_cos = acc_cos[y]
        for x in range(width):
            row_acc_sin[x] = 0.0
            row_acc_cos[x] = 0.0
        for dy in range(2 * h + 1):
            for dx in range(2 * h + 1):
                weight = weights[dy, dx]
                if weight == 0.0:
                    continue
                src_sin = sin_pad[y + dy]
                src_cos = cos_pad[y + dy]
                for x in range(width):
                    row_acc_sin[x] += weight * src_sin[x + dx]
                    row_acc_cos[x] += weight * src_cos[x + dx]
        for x in range(width):
            cell = y * width + x
            sw_sin = np.float32(0.0)
            sw_cos = np.float32(0.0)
            for link in range(links):
                j = small_world_padded[cell, link]
                sw_sin += sin_flat[j]
                sw_cos += cos_flat[j]
            row_acc_sin[x] += k_sw * sw_sin
            row_acc_cos[x] += k_sw * sw_cos
        row_theta = theta[y]
        row_sin = sin_pad[y + h]
        row_cos = cos_pad[y + h]
        row_omega = omega[y]
        row_forcing = forcing[y]
        row_inv_n = inv_n[y]
        for x in range(width):
            coupling = (row_cos[x + h] * row_acc_sin[x] - row_sin[x + h] * row_acc_cos[x]) * row_inv_n[x]
            row_theta[x] += (row_omega[x] + coupling + row_forcing[x]) * dt
        if noise_std > 0.0:
            for x in range(width):
                row_theta[x] += noise_std * np.float32(np.random.standard_normal())
        for x in range(width):
            phase = row_theta[x] - TWO_PI * np.floor(row_theta[x] * INV_TWO_PI)
            # float32 rounding can leave a hair below 0 or land on 2π: fold both into range
            phase = phase + TWO_PI if phase < 0.0 else phase
            row_theta[x] = phase if phase < TWO_PI else np.float32(0.0)
