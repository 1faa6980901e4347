"""The field's energy, a property of its state: the kernel-weighted frustration of its links.

For cell i with neighbours j (lattice taps and small-world links), coupling K_ij and N_i links:

    e_i = (1/N_i) · Σ_j ( |K_ij| − K_ij·cos(θ_j − θ_i) )          (rad/s, ≥ 0)

A link is *satisfied* (contributes 0) when an attractive pair (K > 0) is in phase or a repulsive
pair (K < 0) is in anti-phase; every link satisfied is the kernel's ground state, e = 0. The
field's energy is the mean of e_i divided by the kernel's strength S = mean_i (1/N_i)·Σ_j |K_ij|:
a dimensionless number, 0 in the ground state, 1 for random phases, at most 2.

The step kernel measures the mean satisfaction (1/N_i)·Σ_j K_ij·cos(θ_j − θ_i) in the same pass
as the coupling (:meth:`visualizer.engine.sim.Field.step` with ``measure_energy``, or
:meth:`visualizer.engine.sim.Field.energy`), so the energy costs nothing extra per frame.
"""

from __future__ import annotations

import math


def field_energy(mean_satisfaction: float, strength: float) -> float:
    """E = (S − mean_i (1/N_i)·Σ_j K_ij·cos(θ_j − θ_i)) / S (dimensionless; 0 for a kernel of
    no strength). ``mean_satisfaction`` and ``strength`` (rad/s) under the same kernel."""
    if strength <= 0.0:
        return 0.0 if math.isfinite(mean_satisfaction) else math.nan
    return (strength - mean_satisfaction) / strength
