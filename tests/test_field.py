"""The step kernel against an independent float64 reference, and physical facts of the model."""

import numba
import numpy as np
import pytest

from visualizer.engine.sim import Field, FieldConfig, kernels
from visualizer.engine.sim.float64_reference import reference_step


def circular_error(a, b):
    d = np.angle(np.exp(1j * (a.astype(np.float64) - b.astype(np.float64))))
    return np.abs(d).max()


@pytest.mark.parametrize("neighborhood", ["diamond", "cross"])
@pytest.mark.parametrize("boundary", ["wrap", "open"])
@pytest.mark.parametrize("links", [0, 3])
def test_step_matches_float64_reference(neighborhood, boundary, links):
    field = Field(FieldConfig(height=23, width=31, neighborhood=neighborhood, boundary=boundary,
                              small_world_links=links, seed=7, omega_spread=2.0))
    rng = np.random.default_rng(1)
    for trial in range(3):
        field.theta = rng.uniform(0, 2 * np.pi, field.shape)
        k = tuple(rng.uniform(-20, 20, 4))
        k_sw = float(rng.uniform(-20, 20))
        forcing = rng.normal(0, 3, field.shape).astype(np.float32)
        expected = reference_step(field.theta, field.omega, field.small_world, dt=0.03, k=k, k_sw=k_sw,
                                  neighborhood=neighborhood, boundary=boundary, forcing=forcing)
        field.step(dt=0.03, k=k, k_sw=k_sw, forcing=forcing)
        assert circular_error(field.theta, expected) <= 1e-4
        assert field.theta.min() >= 0 and field.theta.max() < 2 * np.pi


@pytest.mark.parametrize("neighborhood", ["diamond", "cross"])
@pytest.mark.parametrize("boundary", ["wrap", "open"])
@pytest.mark.parametrize("shape", [(9, 9), (9, 14), (40, 17)])
def test_halo_rows_and_columns_match_the_reference_on_small_and_odd_grids(neighborhood, boundary, shape):
    # at 9 cells a side every halo row and column is a copy of a cell 4..8 away: the edge cases
    field = Field(FieldConfig(height=shape[0], width=shape[1], neighborhood=neighborhood, boundary=boundary,
                              small_world_links=2, seed=11, omega_spread=1.0))
    k, k_sw = (7.0, -5.0, 3.0, -11.0), 6.0
    for _ in range(3):
        expected = reference_step(field.theta, field.omega, field.small_world, dt=0.05, k=k, k_sw=k_sw,
                                  neighborhood=neighborhood, boundary=boundary)
        field.step(dt=0.05, k=k, k_sw=k_sw)
        assert circular_error(field.theta, expected) <= 1e-4


def test_every_shell_and_the_links_each_match_the_reference_alone():
    # one coupling constant at a time, strong, so a wrong weight or offset in any shell shows
    field = Field(FieldConfig(height=20, width=24, small_world_links=2, seed=5, omega_spread=0.0, omega_mean=0.0))
    rng = np.random.default_rng(4)
    for shell in range(5):
        k = tuple(30.0 if s == shell else 0.0 for s in range(4))
        k_sw = 30.0 if shell == 4 else 0.0
        field.theta = rng.uniform(0, 2 * np.pi, field.shape)
        expected = reference_step(field.theta, field.omega, field.small_world, dt=0.1, k=k, k_sw=k_sw,
                                  neighborhood="diamond", boundary="wrap")
        moved = circular_error(expected, field.theta)
        field.step(dt=0.1, k=k, k_sw=k_sw)
        assert moved > 0.05 and circular_error(field.theta, expected) <= 1e-4


def test_steps_follow_the_reference_over_many_steps_at_a_preset_like_setting():
    field = Field(FieldConfig(height=32, width=48, small_world_links=2, seed=9))
    expected = field.theta.astype(np.float64)
    for _ in range(50):
        expected = reference_step(expected, field.omega, field.small_world, dt=0.01, k=(20, 20, 10, 0), k_sw=-10.0,
                                  neighborhood="diamond", boundary="wrap")
        field.step(dt=0.01, k=(20, 20, 10, 0), k_sw=-10.0)
    assert circular_error(field.theta, expected) <= 1e-3  # 50 float32 steps of a coupled, non-chaotic run


def test_every_write_to_theta_between_steps_is_seen_by_the_next_step():
    # a guard for any cache of sin θ and cos θ kept across steps: assignment, an in-place write
    # of one edge row (whose halo copies sit at the far edge) and a reseed must each reach it
    field = Field(FieldConfig(height=17, width=19, small_world_links=2, seed=3))
    k, k_sw = (9.0, -4.0, 6.0, 2.0), 8.0

    def step_matches_the_reference():
        expected = reference_step(field.theta, field.omega, field.small_world, dt=0.05, k=k, k_sw=k_sw,
                                  neighborhood="diamond", boundary="wrap")
        field.step(dt=0.05, k=k, k_sw=k_sw)
        return circular_error(field.theta, expected) <= 1e-4

    assert step_matches_the_reference() and step_matches_the_reference()
    field.theta = np.mod(field.theta + 1.0, 2 * np.pi)
    assert step_matches_the_reference()
    field.theta[0, :] = np.mod(field.theta[0, :] + 2.0, 2 * np.pi)
    assert step_matches_the_reference()
    field.reseed(5)
    assert step_matches_the_reference()


@pytest.mark.parametrize("neighborhood", ["diamond", "cross"])
@pytest.mark.parametrize("height", [129, 135])
def test_rows_at_every_block_edge_match_the_reference(neighborhood, height):
    # the step runs down blocks of ROWS_PER_BLOCK rows, each priming its ring of partial rows
    # from the 3 rows above it: a wrong ring slot shows first on a block's first or last rows
    assert height > 2 * kernels.ROWS_PER_BLOCK
    field = Field(FieldConfig(height=height, width=20, neighborhood=neighborhood, small_world_links=2, seed=13))
    k, k_sw = (11.0, -7.0, 5.0, -9.0), 4.0
    expected = reference_step(field.theta, field.omega, field.small_world, dt=0.1, k=k, k_sw=k_sw,
                              neighborhood=neighborhood, boundary="wrap")
    field.step(dt=0.1, k=k, k_sw=k_sw)
    error = np.abs(np.angle(np.exp(1j * (field.theta.astype(np.float64) - expected)))).max(axis=1)
    assert error.max() <= 1e-4, np.flatnonzero(error > 1e-4)


def test_result_does_not_depend_on_the_thread_count():
    threads = numba.get_num_threads()
    results = []
    try:
        for n in sorted({1, threads}):
            numba.set_num_threads(n)
            field = Field(FieldConfig(height=37, width=29, small_world_links=3, seed=1))
            for _ in range(5):
                field.step(dt=0.02, k=(5, -3, 2, 1), k_sw=4.0, temperature=0.5)
            results.append(field.theta.copy())
    finally:
        numba.set_num_threads(threads)
    assert all(np.array_equal(results[0], r) for r in results)


def test_temperature_noise_is_seeded_and_has_the_langevin_spread():
    def run(seed):
        field = Field(FieldConfig(height=64, width=64, seed=seed, omega_spread=0.0, omega_mean=0.0))
        before = field.theta.astype(np.float64)
        field.step(dt=0.01, k=(0, 0, 0, 0), k_sw=0.0, temperature=2.0)
        return np.angle(np.exp(1j * (field.theta - before)))

    a, b, c = run(3), run(3), run(4)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert a.std() == pytest.approx(np.sqrt(2 * 2.0 * 0.01), rel=0.05) and abs(a.mean()) < 0.01
    assert abs(np.corrcoef(a[:, :-1].ravel(), a[:, 1:].ravel())[0, 1]) < 0.05  # neighbours draw apart


def test_frequency_spread_share_narrows_omega_around_its_mean_and_restores_it_exactly():
    field = Field(FieldConfig(height=24, width=20, omega_mean=1.0, omega_spread=0.5, seed=3))
    drawn = field.omega.astype(np.float64)
    field.set_frequency_spread_share(0.25)
    assert field.frequency_spread_share == 0.25
    assert np.allclose(field.omega, drawn.mean() + 0.25 * (drawn - drawn.mean()), atol=1e-6)
    field.set_frequency_spread_share(0.2504)  # below the rewrite step: ω is left as it is
    assert field.frequency_spread_share == 0.25
    field.omega = np.full((24, 20), 2.0)  # a new set of frequencies is narrowed by the share in force
    assert np.allclose(field.omega, 2.0)
    field.omega = drawn
    field.set_frequency_spread_share(1.0)
    assert np.array_equal(field.omega, drawn.astype(np.float32))


def test_open_edges_count_only_real_neighbours():
    field = Field(FieldConfig(height=12, width=12, neighborhood="diamond", boundary="open", small_world_links=2))
    # corner cell: distance-s cells inside the grid are s+1 of them (s = 1..4) → 14, plus 2 links
    assert field._inv_n[0, 0] == pytest.approx(1 / 16)
    assert field._inv_n[6, 6] == pytest.approx(1 / 42)


def test_zero_coupling_advances_by_omega_dt():
    field = Field(FieldConfig(height=16, width=16, seed=3, omega_spread=1.0))
    before = field.theta.astype(np.float64)
    field.step(dt=0.01, k=(0, 0, 0, 0), k_sw=0.0)
    expected = np.mod(before + field.omega.astype(np.float64) * 0.01, 2 * np.pi)
    assert circular_error(field.theta, expected) < 1e-5


def test_identical_frequencies_and_strong_positive_coupling_synchronise():
    field = Field(FieldConfig(height=32, width=32, seed=2, small_world_links=2, omega_spread=0.0))
    assert field.order_parameter() < 0.2
    for _ in range(1500):
        field.step(dt=0.05, k=(20, 20, 10, 5), k_sw=20)
    assert field.order_parameter() > 0.95


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_negative_nearest_coupling_gives_a_checkerboard(seed):
    # from a near-uniform start (no winding to trap it) the uniform state is unstable for K1 < 0
    field = Field(FieldConfig(height=16, width=16, seed=seed, small_world_links=0, omega_spread=0.0))
    field.theta = np.random.default_rng(seed).normal(0.0, 0.5, field.shape)
    y, x = np.indices(field.shape)
    stagger = lambda: np.abs(np.mean((-1.0) ** (y + x) * np.exp(1j * field.theta)))  # noqa: E731
    assert stagger() < 0.3
    for _ in range(1000):
        field.step(dt=0.1, k=(-20, 0, 0, 0), k_sw=0)
    assert stagger() > 0.9


def test_more_small_world_links_raise_order():
    def mean_order(links):
        rs = []
        for seed in range(3):
            field = Field(FieldConfig(height=48, width=48, seed=seed, small_world_links=links, omega_spread=0.3))
            for _ in range(300):
                field.step(dt=0.05, k=(5, 5, 0, 0), k_sw=15)
            rs.append(field.order_parameter())
        return np.mean(rs)

    assert mean_order(6) > mean_order(1) + 0.1


def test_live_link_count_redraws_targets_and_rejects_bad_values():
    field = Field(FieldConfig(height=16, width=16, small_world_links=2))
    field.set_small_world_links(5)
    assert field.small_world.shape == (256, 5)
    assert not np.any(field.small_world == np.arange(256)[:, None])
    with pytest.raises(ValueError, match="small_world_links"):
        field.set_small_world_links(9)


def test_config_rejects_tiny_grids():
    with pytest.raises(ValueError, match="grid sides must be in 9.."):
        FieldConfig(height=4, width=20)
