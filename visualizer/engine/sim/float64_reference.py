"""Plain NumPy float64 implementation of the seed's phase equation.

Written straight from the equation (one shifted copy and one ``np.sin`` per neighbour), sharing
no code with the numba kernels: the tests hold the kernels to it and the benchmark races it.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from visualizer.engine.sim.neighbourhood import lattice_taps


def _shifted(a: np.ndarray, dy: int, dx: int, wrap: bool) -> tuple[np.ndarray, np.ndarray]:
    """Value of the neighbour at (y + dy, x + dx) for every cell, and whether it exists."""
    if wrap:
        return np.roll(a, (-dy, -dx), axis=(0, 1)), np.ones(a.shape, bool)
    h, w = a.shape
    out = np.zeros_like(a)
    valid = np.zeros(a.shape, bool)
    ys, yd = slice(max(dy, 0), h + min(dy, 0)), slice(max(-dy, 0), h + min(-dy, 0))
    xs, xd = slice(max(dx, 0), w + min(dx, 0)), slice(max(-dx, 0), w + min(-dx, 0))
    out[yd, xd] = a[ys, xs]
    valid[yd, xd] = True
    return out, valid


def reference_step(
    theta: np.ndarray,
    omega: np.ndarray,
    small_world: np.ndarray,
    *,
    dt: float,
    k: Sequence[float],
    k_sw: float,
    neighborhood: str,
    boundary: str,
    forcing: np.ndarray | None = None,
) -> np.ndarray:
    """θ + (ω + C + F)·Δt wrapped into [0, 2π), in float64; returns a new (H, W) array."""
    theta = theta.astype(np.float64)
    wrap = boundary == "wrap"
    total = np.zeros_like(theta)
    count = np.zeros_like(theta)
    for dy, dx, shell in lattice_taps(neighborhood):
        neighbour, valid = _shifted(theta, int(dy), int(dx), wrap)
        total += np.where(valid, k[shell - 1] * np.sin(neighbour - theta), 0.0)
        count += valid
    flat = theta.ravel()
    for link in range(small_world.shape[1]):
        total += k_sw * np.sin(flat[small_world[:, link]].reshape(theta.shape) - theta)
    count += small_world.shape[1]
    velocity = omega.astype(np.float64) + total / count
    if forcing is not None:
        velocity += forcing
    return np.mod(theta + velocity * dt, 2 * np.pi)
