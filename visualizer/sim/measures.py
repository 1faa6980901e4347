"""What the field's state looks like, measured: order, local order, patches, harmonic spectrum."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from visualizer.sim.harmonics import Harmonics, project

PATCH_ORDER = 0.9  # local (axial) order above which a cell belongs to a synchronised patch
MIN_PATCH_CELLS = 12
LOW_MODES = 8  # the "lowest modes" of the coherence index


@dataclass(frozen=True)
class Measures:
    """order : global R = |⟨e^{iθ}⟩|. local_order : mean over cells of |⟨e^{iθ}⟩| in a 3×3 window.
    patches : number of competing synchronised patches. antiphase : share of nearest-neighbour
    pairs more than 2π/3 apart (complementary colours side by side). spectrum : (M,) power of
    e^{iθ} in each harmonic, |⟨e^{iθ}, ψₘ⟩|²/N (all N modes together sum to 1). coherence : the
    share of that power in the lowest ``LOW_MODES`` harmonics."""

    order: float
    local_order: float
    patches: int
    antiphase: float
    spectrum: np.ndarray
    coherence: float


def _box3(a: np.ndarray, wrap: bool) -> np.ndarray:
    return ndimage.uniform_filter(a, size=3, mode="wrap" if wrap else "nearest")


def local_order(theta: np.ndarray, *, wrap: bool = True, harmonic: int = 1) -> np.ndarray:
    """|mean of e^{i·harmonic·θ}| over each cell's 3×3 window, float64 (H, W). ``harmonic=2``
    sees anti-phase order too (a checkerboard is ordered in 2θ)."""
    t = harmonic * theta.astype(np.float64)
    return np.hypot(_box3(np.cos(t), wrap), _box3(np.sin(t), wrap))


def count_patches(theta: np.ndarray, *, wrap: bool = True) -> int:
    """Connected regions (≥ MIN_PATCH_CELLS cells) of high local order, in-phase or anti-phase,
    separated by disordered seams and defects."""
    ordered = local_order(theta, wrap=wrap, harmonic=2) > PATCH_ORDER
    labels, n = ndimage.label(ordered)
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


def antiphase_fraction(theta: np.ndarray) -> float:
    """Share of horizontal and vertical neighbour pairs whose phases differ by more than 2π/3."""
    t = theta.astype(np.float64)
    pairs = np.concatenate([np.cos(t[:, 1:] - t[:, :-1]).ravel(), np.cos(t[1:, :] - t[:-1, :]).ravel()])
    return float(np.mean(pairs < -0.5))


def harmonic_spectrum(theta: np.ndarray, harmonics: Harmonics) -> np.ndarray:
    """|⟨e^{iθ}, ψₘ⟩|² / N for each harmonic, float64 (M,)."""
    count = harmonics.modes.shape[0]
    re, im = np.zeros(count), np.zeros(count)
    project(harmonics.flat, theta.ravel(), re, im)
    return (re**2 + im**2) / theta.size


def measure(theta: np.ndarray, harmonics: Harmonics, *, wrap: bool = True) -> Measures:
    """All measures of one field state."""
    t = theta.astype(np.float64)
    spectrum = harmonic_spectrum(theta, harmonics)
    return Measures(
        order=float(np.hypot(np.cos(t).mean(), np.sin(t).mean())),
        local_order=float(local_order(theta, wrap=wrap).mean()),
        patches=count_patches(theta, wrap=wrap),
        antiphase=antiphase_fraction(theta),
        spectrum=spectrum,
        coherence=float(spectrum[:LOW_MODES].sum()),
    )
