"""Lattice neighbourhoods: which cells couple to which, at which Manhattan distance.

A neighbourhood is a list of *taps* ``(dy, dx, shell)``: the offset of a neighbour and its
Manhattan distance ``shell`` in 1..4, which selects the coupling constant K_shell.
"""

from __future__ import annotations

import numpy as np

MAX_SMALL_WORLD_LINKS = 8  # random far links per cell, at most (the registry's range, the [field] key)

MAX_DISTANCE = 4
HALO = MAX_DISTANCE  # padding (cells) each side of the grid, wide enough for every tap

NEIGHBOURHOODS = ("diamond", "cross")
BOUNDARIES = ("wrap", "open")


def lattice_taps(neighborhood: str) -> np.ndarray:
    """Offsets of the lattice neighbours.

    Parameters
    ----------
    neighborhood : "diamond" (all cells at Manhattan distance 1..4: 4, 8, 12, 16 of them) or
        "cross" (only the 4 axis cells at each distance, as the public demo's code does).

    Returns
    -------
    taps : int32 array, shape (n_taps, 3): columns dy, dx, shell (1..4).
    """
    if neighborhood not in NEIGHBOURHOODS:
        raise ValueError(f"neighborhood must be one of {NEIGHBOURHOODS}, not {neighborhood!r}")
    taps = []
    for dy in range(-MAX_DISTANCE, MAX_DISTANCE + 1):
        for dx in range(-MAX_DISTANCE, MAX_DISTANCE + 1):
            shell = abs(dy) + abs(dx)
            if not 1 <= shell <= MAX_DISTANCE:
                continue
            if neighborhood == "cross" and dy != 0 and dx != 0:
                continue
            taps.append((dy, dx, shell))
    return np.array(taps, dtype=np.int32)


def neighbour_counts(height: int, width: int, taps: np.ndarray, boundary: str) -> np.ndarray:
    """Number of lattice neighbours each cell really has, shape (height, width), float64.

    With ``boundary="wrap"`` every cell has all taps; with ``"open"`` taps falling off the
    grid are missing.
    """
    if boundary not in BOUNDARIES:
        raise ValueError(f"boundary must be one of {BOUNDARIES}, not {boundary!r}")
    if boundary == "wrap":
        return np.full((height, width), float(len(taps)))
    ys = np.arange(height)[:, None]
    xs = np.arange(width)[None, :]
    counts = np.zeros((height, width))
    for dy, dx, _ in taps:
        counts += ((ys + dy >= 0) & (ys + dy < height) & (xs + dx >= 0) & (xs + dx < width))
    return counts


def draw_small_world(n_cells: int, links: int, rng: np.random.Generator) -> np.ndarray:
    """Random long-range targets: int32 array (n_cells, links) of flat cell indices, never self."""
    targets = rng.integers(0, n_cells - 1, size=(n_cells, links), dtype=np.int64)
    targets += targets >= np.arange(n_cells)[:, None]  # skip the cell itself
    return targets.astype(np.int32)
