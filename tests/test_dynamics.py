"""Harmonics, energy injection, annealing and measures: the physics claims made measurable."""

import dataclasses

import numpy as np
import pytest
from scipy.integrate import trapezoid

from visualizer.engine import presets
from visualizer.engine.sim import Field, FieldConfig
from visualizer.engine.sim.annealing import Annealer, AnnealingConfig
from visualizer.engine.sim.harmonics import graph_harmonics, graph_laplacian, lattice_harmonics
from visualizer.engine.sim.injection import InjectionConfig, Injector
from visualizer.engine.sim.measures import (
    antiphase_fraction,
    count_patches,
    harmonic_spectrum,
    local_order,
    measure,
    vortex_count,
)
from visualizer.engine.sim.neighbourhood import draw_small_world

NO_LINKS = np.zeros((24 * 20, 0), np.int32)


@pytest.mark.parametrize("neighborhood", ["diamond", "cross"])
def test_fourier_modes_are_exact_eigenvectors_of_the_torus_laplacian(neighborhood):
    h = lattice_harmonics(24, 20, neighborhood=neighborhood, boundary="wrap", count=32)
    laplacian = graph_laplacian(24, 20, neighborhood=neighborhood, boundary="wrap", small_world=NO_LINKS).toarray()
    modes = h.flat.astype(np.float64).T
    assert np.allclose(modes.T @ modes, np.eye(32), atol=1e-5)
    assert np.allclose(laplacian @ modes, modes * h.eigenvalues, atol=1e-4)
    assert np.allclose(h.eigenvalues, np.linalg.eigvalsh(laplacian)[:32], atol=1e-6)  # the lowest ones


def test_graph_modes_with_small_world_links_match_a_dense_solver():
    links = draw_small_world(24 * 20, 2, np.random.default_rng(1))
    laplacian = graph_laplacian(24, 20, neighborhood="diamond", boundary="wrap", small_world=links)
    h = graph_harmonics(laplacian, lattice_harmonics(24, 20, neighborhood="diamond", boundary="wrap", count=24))
    dense = np.linalg.eigvalsh(laplacian.toarray())[:24]
    assert np.allclose(h.eigenvalues, dense, atol=1e-6)
    modes = h.flat.astype(np.float64).T
    assert np.allclose(laplacian @ modes, modes * h.eigenvalues, atol=1e-3)


def test_dct_modes_are_orthonormal_and_smooth_first():
    h = lattice_harmonics(24, 20, neighborhood="diamond", boundary="open", count=16)
    modes = h.flat.astype(np.float64)
    assert np.allclose(modes @ modes.T, np.eye(16), atol=1e-5)
    assert np.all(np.diff(h.eigenvalues) >= -1e-9) and np.ptp(h.modes[0]) < 1e-6


def inject(mode, seconds=1.0, size=64):
    """Phase change of an uncoupled, non-rotating field under 1 s of injection, and the shares of
    the perturbation's power in all driven harmonics and in the 8 lowest (global) ones."""
    field = Field(FieldConfig(height=size, width=size, small_world_links=0, omega_spread=0.0, omega_mean=0.0))
    field.theta = np.zeros(field.shape)
    harmonics = lattice_harmonics(size, size, neighborhood="diamond", boundary="wrap", count=48)
    injector = Injector(harmonics, InjectionConfig(tilt=1.0, rate_hz=0.2, blobs=3, blob_radius=2.0), seed=3)
    for i in range(int(seconds / 0.01)):
        field.step(dt=0.01, k=(0, 0, 0, 0), k_sw=0.0, forcing=injector.forcing(gain=0.6, time_s=i * 0.01, mode=mode))
    theta = np.angle(np.exp(1j * field.theta.astype(np.float64)))
    spectrum = harmonic_spectrum(field.theta, harmonics)
    perturbation = 1.0 - spectrum[0]  # power that left the uniform state
    return theta, spectrum[1:].sum() / perturbation, spectrum[1:9].sum() / perturbation


def test_neutral_injection_lands_in_the_low_harmonics():
    theta, in_driven, in_lowest = inject("neutral")
    assert np.abs(theta).max() > 0.05  # it did move the field
    assert in_driven > 0.9  # almost all of the perturbation sits in the 47 driven modes
    assert in_lowest > 0.5  # and most of it in the lowest, most natural ones


def test_semantic_injection_is_local_not_global():
    theta, in_driven, in_lowest = inject("semantic")
    _, neutral_driven, neutral_lowest = inject("neutral")
    assert in_driven < 0.6 * neutral_driven and in_lowest < 0.3 * neutral_lowest
    moved = np.abs(theta) > 0.1 * np.abs(theta).max()
    assert moved.mean() < 0.1  # only a few places moved


def test_injection_carries_the_same_energy_either_way():
    harmonics = lattice_harmonics(64, 64, neighborhood="diamond", boundary="wrap", count=48)
    injector = Injector(harmonics, InjectionConfig(blobs=3, blob_radius=5.0), seed=1)
    for mode in ("neutral", "semantic"):
        rms = [np.sqrt(np.mean(injector.forcing(gain=2.0, time_s=t, mode=mode) ** 2)) for t in np.linspace(0, 20, 400)]
        assert np.sqrt(np.mean(np.square(rms))) == pytest.approx(2.0 / np.sqrt(2), rel=0.2)


def synced_field(seed=0):
    field = Field(FieldConfig(height=32, width=32, seed=seed, small_world_links=2, omega_spread=0.0))
    field.theta = np.zeros(field.shape)
    return field


def test_raising_temperature_lowers_order():
    orders = []
    for temperature in (0.0, 1.0, 4.0):
        field = synced_field()
        for _ in range(400):
            field.step(dt=0.02, k=(10, 10, 5, 0), k_sw=5.0, temperature=temperature)
        orders.append(field.order_parameter())
    assert orders[0] > 0.99 and orders[0] > orders[1] + 0.02 and orders[1] > orders[2] + 0.1


def test_annealer_follows_the_field_energy_and_the_drive():
    config = AnnealingConfig(threshold=0.5, heating=0.6, hysteresis=0.75, max_hot_s=60.0, hot_temperature=0.5,
                             coupling_drop=0.4, cooling_time_s=2.0, schedule="linear")
    a = Annealer(config)
    for e in np.linspace(0.9, 0.55, 50):  # a field relaxing from random phases, music playing: not hot
        a.update(dt_s=0.02, energy=float(e), drive=2.0, strength=8.0)
    assert a.phase == "heating" and a.temperature == 0.0
    for e in np.linspace(0.55, 0.8, 50):  # the music pumps energy in past the threshold
        a.update(dt_s=0.02, energy=float(e), drive=2.0, strength=8.0)
    assert a.phase == "hot" and a.temperature == pytest.approx(0.5 * 8.0) and a.coupling_scale == pytest.approx(0.6)
    for _ in range(50):  # the drive falls: the smoothed drive drops below 75 % of its level → cooling
        a.update(dt_s=0.02, energy=0.8, drive=0.0, strength=8.0)
        if a.phase == "cooling":
            break
    assert a.phase == "cooling"
    for _ in range(50):  # 1 s into the 2 s linear schedule
        a.update(dt_s=0.02, energy=0.8, drive=0.0, strength=8.0)
    assert a.temperature == pytest.approx(0.5 * 8.0 * 0.5, rel=0.03)
    assert a.coupling_scale == pytest.approx(0.8, rel=0.03)
    for _ in range(60):
        a.update(dt_s=0.02, energy=0.1, drive=0.0, strength=8.0)
    assert a.phase == "cold" and a.temperature == 0.0 and a.coupling_scale == 1.0


def test_exponential_schedule_cools_faster_early_on():
    linear = Annealer(AnnealingConfig(schedule="linear", cooling_time_s=10.0))
    exponential = Annealer(AnnealingConfig(schedule="exponential", cooling_time_s=10.0))
    assert exponential.cooling_fraction(2.0) < linear.cooling_fraction(2.0)
    assert exponential.cooling_fraction(10.0) == linear.cooling_fraction(10.0) == 0.0


@pytest.mark.parametrize("schedule", ["linear", "exponential"])
def test_cooling_consolidates_the_frequency_disorder_and_a_quench_does_not(schedule):
    """The disorder shrinks by exp(−rate·∫4·left·(1 − left) dt) over the cooling (left the heat
    share of the schedule), nothing while hot or cold, and returns over the memory time once cold:
    checked against the integral in float64 (trapezoid on a fine grid)."""
    rate, cooling_s, memory_s, dt = 0.8, 6.0, 1e9, 0.01
    a = Annealer(AnnealingConfig(schedule=schedule, cooling_time_s=cooling_s, max_hot_s=2.0,
                                 consolidation_rate=rate, consolidation_memory_s=memory_s))
    a.heat()
    while a.phase == "hot":
        a.update(dt_s=dt, energy=0.9, drive=0.0, strength=8.0)
    assert a.disorder == pytest.approx(1.0)  # no consolidation while hot
    while a.phase == "cooling":
        a.update(dt_s=dt, energy=0.3, drive=0.0, strength=8.0)
    t = np.linspace(0.0, cooling_s, 60_001)
    left = np.array([a.cooling_fraction(x) for x in t], np.float64)
    expected = np.exp(-rate * trapezoid(4 * left * (1 - left), t))
    assert expected < 0.5 and a.disorder == pytest.approx(expected, rel=0.02)
    quench = Annealer(AnnealingConfig(consolidation_rate=rate))
    for _ in range(1000):  # cold from the start: a quench to T = 0 cools through no middle temperature
        quench.update(dt_s=dt, energy=0.3, drive=0.0, strength=8.0)
    assert quench.disorder == 1.0 and quench.state.disorder == 1.0
    returning = Annealer(AnnealingConfig(consolidation_rate=rate, consolidation_memory_s=5.0))
    returning.disorder = 0.2
    for _ in range(500):  # 5 s cold: 1 − e⁻¹ of the way back
        returning.update(dt_s=dt, energy=0.3, drive=0.0, strength=8.0)
    assert returning.disorder == pytest.approx(1 - 0.8 * np.exp(-1.0), rel=1e-3)


def test_measures_of_known_states():
    uniform = np.zeros((32, 32), np.float32)
    y, x = np.indices((32, 32))
    checker = (np.pi * ((y + x) % 2)).astype(np.float32)
    harmonics = lattice_harmonics(32, 32, neighborhood="diamond", boundary="wrap", count=32)
    m = measure(uniform, harmonics)
    assert (m.order, m.local_order, m.patches, m.antiphase) == (pytest.approx(1.0), pytest.approx(1.0), 1, 0.0)
    assert m.spectrum[0] == pytest.approx(1.0) and m.coherence == pytest.approx(1.0)
    c = measure(checker, harmonics)
    assert c.order == pytest.approx(0.0, abs=1e-6) and c.antiphase == 1.0 and c.patches == 1
    assert local_order(checker).mean() < 0.4  # in-phase order is gone, axial order is not
    halves = np.where(x < 16, 0.0, np.pi / 2).astype(np.float32)
    # disordered seams
    halves[:, [0, 1, 8, 9, 16, 17, 24, 25]] = np.random.default_rng(0).uniform(0, 2 * np.pi, (32, 8))
    assert count_patches(halves) == 4
    assert antiphase_fraction(halves) < 0.2


def test_vortex_count_sees_defects_not_twists():
    y, x = np.indices((32, 32)).astype(np.float64)
    pair = np.arctan2(y - 10.5, x - 10.5) - np.arctan2(y - 20.5, x - 20.5)  # a vortex and an antivortex
    checker = np.pi * ((x + y) % 2)
    assert vortex_count(pair) == 2
    assert vortex_count(2 * np.pi * x / 32) == 0  # a twisted state winds around the torus without a defect
    assert vortex_count(checker, antiphase=True) == 0
    assert vortex_count(pair + checker, antiphase=True) == 2
    assert vortex_count(np.random.default_rng(0).uniform(0, 2 * np.pi, (32, 32))) > 200  # random: ~1/3 of 1024


def test_5meo_is_more_coherent_than_nn_dmt_which_shows_antiphase_neighbours():
    harmonics = lattice_harmonics(128, 128, neighborhood="diamond", boundary="wrap", count=32)

    def run(name, seed, k_sw):
        preset = presets.load_preset(name)
        field = Field(dataclasses.replace(preset.field, seed=seed, height=128, width=128))
        for _ in range(1000):  # 20 s at the source table's constants (swept ones at mid-range)
            field.step(dt=0.02, k=preset.base.k, k_sw=k_sw)
        return measure(field.theta, harmonics)
    meo = [run("5meo", seed, 10.0) for seed in range(3)]  # K_SW at its music routes' floor
    nn = [run("nn-dmt", seed, 0.0) for seed in range(3)]
    for m, n in zip(meo, nn):  # the same seed and grid for both
        assert m.order > 0.8 > 0.05 > n.order
        assert n.antiphase > 0.9 > 0.05 > m.antiphase
    assert np.mean([m.patches for m in meo]) < np.mean([n.patches for n in nn]) - 2


def test_correlation_length_matches_a_real_space_float64_reference():
    """The FFT (single precision) correlation length equals one computed directly in float64:
    Re⟨z̄ᵢ·z_{i+d}⟩ of z = e^{2iθ} for every periodic offset d by shifting, averaged over offsets
    at the same rounded radius, and the 1/e crossing interpolated between radii."""
    from scipy.ndimage import gaussian_filter

    from visualizer.engine.sim.measures import correlation_length

    rng = np.random.default_rng(5)
    for height, width, smooth in ((24, 30, 1.0), (32, 32, 2.5), (20, 36, 0.6)):
        z = (gaussian_filter(rng.normal(size=(height, width)), smooth, mode="wrap")
             + 1j * gaussian_filter(rng.normal(size=(height, width)), smooth, mode="wrap"))
        theta = (np.angle(z) % (2 * np.pi)).astype(np.float32)
        z2 = np.exp(2j * theta.astype(np.float64))
        limit = min(height, width) // 2
        sums, counts = np.zeros(limit + 1), np.zeros(limit + 1)
        for dy in range(height):
            for dx in range(width):
                r = int(np.rint(np.hypot(min(dy, height - dy), min(dx, width - dx))))
                if r <= limit:
                    sums[r] += np.mean(np.conj(z2) * np.roll(z2, (-dy, -dx), axis=(0, 1))).real
                    counts[r] += 1
        profile = sums / counts
        r = int(np.flatnonzero(profile < 1 / np.e)[0])
        want = r - 1 + (profile[r - 1] - 1 / np.e) / (profile[r - 1] - profile[r])
        assert correlation_length(theta) == pytest.approx(want, abs=1e-4)
    assert correlation_length(np.zeros((16, 20), np.float32)) == 8.0  # one domain: half the shorter side


def test_a_preset_switch_on_the_same_grid_restarts_the_turbulence_it_keeps_as_a_fresh_one_would_run():
    from visualizer.engine.session import Session
    from visualizer.engine.sim.turbulence import Turbulence

    session = Session.from_preset("mosaic", size=(40, 48), seed=2, deterministic=True)
    try:
        kept = session._turbulence
        for _ in range(5):
            kept.forcing(1.0, 1 / 60)
        session.use_preset(presets.load_preset("nn-dmt"))
        assert session._turbulence is kept  # the noise bank is not drawn again on the switch's frame
        fresh = Turbulence((40, 48), correlation_cells=kept.correlation_cells, seed=2)
        for _ in range(5):
            assert np.array_equal(kept.forcing(1.0, 1 / 60), fresh.forcing(1.0, 1 / 60))
    finally:
        session.close()
