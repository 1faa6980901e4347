"""Metric sharing: exact forcing maps, the measures on real coupled runs, the [lattice] config."""

import math
import tomllib
from pathlib import Path

import numba
import numpy as np
import pytest

from visualizer.engine import presets
from visualizer.engine.audio.features import FeatureSnapshot
from visualizer.engine.session import Session
from visualizer.engine.sim import Field, FieldConfig
from visualizer.engine.sim.lattice3d import CORNER_ROTATION, SQUARE_ROTATION
from visualizer.engine.sim.metric_sharing import (
    SomaticConfig,
    SomaticField,
    order,
    projected_cells,
)

PRESETS = Path(__file__).resolve().parents[1] / "presets"
LATTICE_PRESETS = ("standing-waves", "lattice-waves", "square-lines", "somatic-visual", "qri-standing-waves")


@pytest.fixture
def one_thread():
    """The 32×32 field is too small for numba's threads to pay off on a shared 2-core machine."""
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    yield
    numba.set_num_threads(threads)


@pytest.mark.parametrize("cells", [1, 255, 1728, 65536 + 77])
def test_the_order_of_float32_phases_matches_float64_whatever_the_length(cells):
    # the float32 pass sums runs of 256 phases: a run cut short at the end must still count
    rng = np.random.default_rng(cells)
    for theta in (rng.uniform(0, 2 * np.pi, cells), 1.0 + 0.05 * rng.standard_normal(cells)):
        exact = abs(np.exp(1j * theta).mean())
        assert order(theta.astype(np.float32)) == pytest.approx(exact, abs=1e-6)


def coupled_run(k_2d, couplings, *, k_x=2.0, frames=400, size=32):
    field = Field(FieldConfig(height=size, width=size, small_world_links=2, omega_spread=0.1, seed=1,
                              boundary="open"))
    config = SomaticConfig(n=7, metric="projected", projection="corner", couplings=couplings, normalised=True,
                           k_x=k_x, omega_spread=0.1)
    somatic = SomaticField(config, (size, size), seed=2)
    for _ in range(frames):
        forcing, measures = somatic.advance(field.theta, config.dt, couplings=config.couplings, k_x=k_x,
                                            rotation=config.rotation)
        field.step(dt=0.02, k=k_2d, k_sw=k_2d[0], forcing=forcing)
    return measures


def test_cessation_high_when_both_fields_are_driven_to_coherence(one_thread):
    m = coupled_run((20.0, 20.0, 10.0, 0.0), (1.0, 1.0, 1.0, 1.0))  # 5-MeO-like 2D, attractive rings
    assert m.order_lattice > 0.9 and m.order_visual > 0.9 and m.agreement > 0.9
    assert m.cessation > 0.8 and m.cessation_active


def test_cessation_low_with_frustrated_kernels(one_thread):
    m = coupled_run((-10.0, 10.0, -10.0, 10.0), (1.0, -1.0, 1.0, -1.0))
    assert m.cessation < 0.3 and not m.cessation_active
    assert m.indistinguishability < 0.9  # the frustrated rings do feel the dropped depth


def test_projected_cells_square_view_stacks_z_columns():
    somatic = SomaticField(SomaticConfig(n=5, projection="square"), (40, 60))
    cells = projected_cells(somatic.lattice, SQUARE_ROTATION, (40, 60))
    p = somatic.lattice.positions
    r = math.sqrt(3) * 4 / 2
    expected = np.floor((p[:, 1] + r) / (2 * r) * 40) * 60 + np.floor((p[:, 0] + r) / (2 * r) * 60)
    np.testing.assert_array_equal(cells, expected.astype(int))
    # nodes that differ only in depth (z) share a cell; 25 distinct cells for 125 nodes
    assert len(np.unique(cells)) == 25
    assert all(len(set(cells[(p[:, 0] == x) & (p[:, 1] == y)])) == 1 for x in range(-2, 3) for y in range(-2, 3))


def test_forcing_maps_exactly_both_ways():
    shape, k_x, dt = (48, 48), 1.5, 0.01
    config = SomaticConfig(n=5, projection="corner", couplings=(0.0, 0.0, 0.0, 0.0), k_x=k_x)
    somatic = SomaticField(config, shape, seed=4)
    lattice = somatic.lattice
    lattice.omega[:] = 0.0
    rng = np.random.default_rng(0)
    theta2d = rng.uniform(0, 2 * np.pi, shape).astype(np.float32)
    before = lattice.theta.astype(np.float64)
    forcing, _ = somatic.advance(theta2d, dt, couplings=(0.0, 0.0, 0.0, 0.0), k_x=k_x, rotation=CORNER_ROTATION)
    cells = projected_cells(lattice, CORNER_ROTATION, shape)
    flat = theta2d.reshape(-1).astype(np.float64)
    # the lattice got exactly its cell's pull (no ring coupling, ω = 0: one Euler step)
    expected_nodes = np.mod(before + dt * k_x * np.sin(flat[cells] - before), 2 * np.pi)
    assert np.abs(np.angle(np.exp(1j * (lattice.theta - expected_nodes)))).max() < 1e-5
    # each cell got the mean pull of the nodes that project onto it, the others nothing
    expected = np.zeros(flat.size)
    for cell in set(cells.tolist()):
        nodes = lattice.theta[cells == cell].astype(np.float64)
        expected[cell] = k_x * np.mean(np.sin(nodes - flat[cell]))
    assert forcing.shape == shape and forcing.dtype == np.float32
    np.testing.assert_allclose(forcing.reshape(-1), expected, atol=1e-6)
    assert np.count_nonzero(forcing) == len(set(cells.tolist())) < forcing.size


def test_the_look_ahead_spread_over_frames_gives_the_value_of_both_probes_at_once():
    """M's two probes run a few steps a frame from a saved state (every = 3: 3, 3 and 2 of their
    8 steps): the value is the one both probes give on the first frame (every = 1), two frames
    later, unchanged."""
    config = SomaticConfig(n=6, couplings=(-0.1, 0.05, 0.0, 0.0), k_x=2.0)
    theta = np.random.default_rng(2).uniform(0, 2 * np.pi, (32, 32)).astype(np.float32)
    spread, at_once = (SomaticField(config, (32, 32), seed=1, indistinguishability_every=every) for every in (3, 1))
    spread_m, at_once_m = [], []
    for frame in range(9):
        rotation = (0.3, 0.4 + 0.01 * frame)
        for field, values in ((spread, spread_m), (at_once, at_once_m)):
            _, measures = field.advance(theta, 0.02, couplings=config.couplings, k_x=2.0, rotation=rotation)
            values.append(measures.indistinguishability)
    assert len(set(at_once_m)) > 3  # M changes as the lattice moves
    assert spread_m[2::3] == at_once_m[0::3]


def test_indistinguishability_is_one_without_ring_coupling():
    somatic = SomaticField(SomaticConfig(n=6), (32, 32), seed=1)
    assert somatic.indistinguishability(0.02, couplings=(0, 0, 0, 0), rotation=(0.3, 0.4)) == pytest.approx(1.0)
    assert somatic.indistinguishability(0.02, couplings=(-0.1, 0, 0, 0), rotation=(0.3, 0.4)) < 0.95


def test_cessation_threshold_has_hysteresis():
    shape = (64, 64)
    config = SomaticConfig(n=4, projection="square", couplings=(0.0, 0.0, 0.0, 0.0), k_x=0.0,
                           cessation_threshold=0.8, cessation_hysteresis=0.1)
    somatic = SomaticField(config, shape)
    somatic.lattice.theta[:] = 1.0
    theta2d = np.full(shape, 1.0, np.float32)
    free = np.setdiff1d(np.arange(theta2d.size), somatic.cells)  # cells no node projects onto

    def index_with(order):  # R_visual = order exactly (flip a fraction of node-free cells by π)
        theta = theta2d.copy().reshape(-1)
        theta[free[: round((1 - order) / 2 * theta.size)]] += np.pi
        _, m = somatic.advance(theta.reshape(shape), 0.02, couplings=(0, 0, 0, 0), k_x=0.0, rotation=SQUARE_ROTATION)
        return m

    assert [index_with(r).cessation_active for r in (1.0, 0.75, 0.65, 0.75, 0.85)] == [True, True, False, False, True]
    assert index_with(0.75).cessation == pytest.approx(0.75, abs=0.01)


# -- the [lattice] section ------------------------------------------------------------------
def test_from_table_accepts_every_key_and_derives_rotation():
    config = SomaticConfig.from_table({
        "enabled": True, "n": 16, "metric": "lattice", "alpha": 0.5, "projection": "free",
        "rotation_deg": [10, -20], "auto_rotate_deg_s": 6.0, "couplings": [-0.3, 0, 0.1, 0],
        "normalised": True, "k_x": 1.0, "omega_mean": 1.0, "omega_spread": 0.2, "dt": 0.02, "substeps": 2,
        "cessation_threshold": 0.7, "cessation_hysteresis": 0.05, "sweep_c1": [-0.3, 0.5], "sweep_period_s": 20,
    }, "x.toml: [lattice]")
    assert config.rotation == pytest.approx((math.radians(10), math.radians(-20)))
    assert config.couplings_at(0.0)[0] == pytest.approx(0.1) and config.couplings_at(5.0)[0] == pytest.approx(0.5)
    assert config.couplings_at(15.0) == pytest.approx((-0.3, 0.0, 0.1, 0.0))
    assert SomaticConfig.from_table({"projection": "corner"}, "w").rotation == CORNER_ROTATION


@pytest.mark.parametrize("table,named", [
    ({"n": 1}, "n = 1: expected an integer in 2..64"),
    ({"metric": "flat"}, "metric = 'flat': expected one of 'lattice', 'projected'"),
    ({"couplings": [1, 2, 3]}, "couplings = [1, 2, 3]: expected a list of 4 numbers"),
    ({"sweep_c1": [0.5, -0.3]}, "sweep_c1 = [0.5, -0.3]: expected [low, high] with low ≤ high, both in -20..20"),
    ({"alpha": 1.5}, "alpha = 1.5: expected a number in 0..1"),
    ({"normalised": 1}, "normalised = 1: expected true or false"),
    ({"colour": "red"}, "unknown key 'colour'; allowed: enabled, convention, screen, n,"),
    ({"convention": "qri"}, "convention = 'qri': expected one of 'pinned', 'demo'"),
    ({"convention": "demo", "omega_spread": 0.1}, "omega_spread = 0.1: not with convention = 'demo'"),
    ({"convention": "demo", "n": 32}, "n = 32: convention = 'demo' updates in place, O(N²) a step: n ≤ 16"),
    ({"screen": [800, 600]}, "screen = [800, 600]: allowed only with convention = 'demo'"),
    ({"convention": "demo", "screen": [800]}, "screen = [800]: expected [width, height], integers in 16..16384"),
    ({"projection": "corner", "rotation_deg": [1, 2]}, "rotation_deg = [1, 2]: allowed only with projection = 'free'"),
])
def test_from_table_rejects_with_one_line(table, named):
    with pytest.raises(ValueError) as error:
        SomaticConfig.from_table(table, "p.toml: [lattice]")
    message = str(error.value)
    assert message.startswith("p.toml: [lattice]: ") and named in message and "\n" not in message


@pytest.mark.parametrize("name", LATTICE_PRESETS)
def test_shipped_lattice_presets_parse(name):
    with open(PRESETS / f"{name}.toml", "rb") as f:
        table = tomllib.load(f)["lattice"]
    config = SomaticConfig.from_table(table, f"{name}.toml: [lattice]")
    assert config.enabled


def test_demo_convention_from_the_lattice_table():
    config = SomaticConfig.from_table({"convention": "demo", "screen": [1280, 720]}, "q.toml: [lattice]")
    assert config.convention == "demo" and config.screen == (1280, 720) and config.dt == 0.05
    somatic = SomaticField(config, (32, 32), seed=5)
    lattice = somatic.lattice
    assert lattice.convention == "demo" and lattice.d_max_projected == pytest.approx(math.hypot(1280, 720) / 40)
    assert 0.5 <= lattice.omega.min() and lattice.omega.max() < 1.0  # the demo's ω, not the config's normal(1, 0)
    theta = np.zeros((32, 32), np.float32)
    _, m = somatic.advance(theta, config.dt, couplings=config.couplings, k_x=0.0, rotation=config.rotation)
    assert 0.0 <= m.indistinguishability <= 1.0
    assert SomaticConfig.from_table({"convention": "demo", "dt": 0.02}, "q").dt == 0.02


def neighbour_correlation(theta, n):
    """mean cos(θᵢ − θⱼ) over the nearest-neighbour pairs of an n³ lattice (index (a·n + b)·n + c)."""
    t = theta.astype(np.float64).reshape(n, n, n)
    pairs = [np.cos(np.diff(t, axis=axis)).ravel() for axis in range(3)]
    return float(np.concatenate(pairs).mean())


def test_demo_convention_puts_3d_neighbours_in_anti_phase_at_c1_minus_0_3():
    """Issue 33: with the 3D metric and C1 = −0.3 the demo's nearest neighbours end in anti-phase
    (its d_max = √48 puts the innermost repulsive ring on them); the pinned model's do not."""
    correlations = {}
    for convention in ("demo", "pinned"):
        config = SomaticConfig(convention=convention, metric="lattice", couplings=(-0.3, 0.0, 0.0, 0.0),
                               dt=0.05, omega_spread=0.25, omega_mean=0.75)
        somatic = SomaticField(config, (16, 16), seed=0)
        for _ in range(400):
            somatic.lattice.step(0.05, config.couplings, metric="lattice", rotation=config.rotation)
        correlations[convention] = neighbour_correlation(somatic.lattice.theta, 7)
    assert correlations["demo"] < -0.2 < 0.0 < correlations["pinned"]


def line_measure(theta, n):
    """Per screen axis of the square view (x, then y): (|mean phase step| rad per unit, its
    coherence |mean e^{iΔ}|, the mean coherence |mean e^{iθ}| of the planes across that axis)."""
    t = np.exp(1j * theta.astype(np.float64).reshape(n, n, n))
    out = []
    for axis in (0, 1):
        step = np.exp(1j * np.diff(np.angle(t), axis=axis)).mean()
        planes = np.abs(t.mean(axis=tuple(a for a in range(3) if a != axis))).mean()
        out.append((abs(float(np.angle(step))), abs(step), planes))
    return out


@pytest.mark.parametrize("seed", [0, 11])
def test_square_lines_travel_in_lines(seed):
    """square-lines: the phase steps steadily along one axis and not along the other; the lines move."""
    with open(PRESETS / "square-lines.toml", "rb") as f:
        config = SomaticConfig.from_table(tomllib.load(f)["lattice"], "square-lines")
    lattice = SomaticField(config, (16, 16), seed=seed).lattice
    measures, phases = [], []
    for step in range(1, 1001):  # 20 s
        lattice.step(config.dt, config.couplings, metric=config.metric, rotation=config.rotation)
        if step in (500, 1000):
            measures.append(line_measure(lattice.theta, config.n))
            phases.append(lattice.theta.astype(np.float64).copy())
    (early, late) = measures
    wave = max((0, 1), key=lambda axis: late[axis][0])
    across = 1 - wave
    assert late[wave][0] > 0.2 and late[wave][1] > 0.95 and late[wave][2] > 0.95  # measured 0.30, 0.99, 0.99
    assert late[across][0] < 0.05 and late[across][1] > 0.95  # in phase along the lines: 0.00, 0.98
    assert abs(late[wave][0] - early[wave][0]) < 0.02  # steady
    moved = np.abs(np.angle(np.exp(1j * (phases[1] - phases[0])))).mean()
    assert moved > 0.5  # the lines move on (a common rotation carries the fronts across)


def test_mean_phase_is_the_common_phase_of_coherent_fields():
    somatic = SomaticField(SomaticConfig(n=4, couplings=(0.0, 0.0, 0.0, 0.0)), (16, 16))
    somatic.lattice.omega[:] = 0.0
    somatic.lattice.theta[:] = 2.5
    _, m = somatic.advance(np.full((16, 16), 2.5, np.float32), 0.02, couplings=(0, 0, 0, 0), k_x=1.0,
                           rotation=(0.1, 0.2))
    assert m.mean_phase == pytest.approx(2.5, abs=1e-6) and m.cessation == pytest.approx(1.0, abs=1e-6)


def test_dots_are_drawn_on_the_cells_their_nodes_pull():
    import os

    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    import pygame

    from visualizer.render.colour import build_lut
    from visualizer.window.lattice_view import draw_lattice, pack_lut, screen_layout

    shape, rotation = (90, 120), (0.3, -0.5)
    somatic = SomaticField(SomaticConfig(n=5), shape, seed=0)
    lattice = somatic.lattice
    cells = projected_cells(lattice, rotation, shape)
    rect = pygame.Rect(0, 0, shape[1], shape[0])  # one pixel per cell
    xs, ys, _, order = screen_layout(lattice.positions, lattice.theta, rotation, rect)
    np.testing.assert_array_equal(np.floor(ys).astype(int) * shape[1] + np.floor(xs).astype(int), cells)
    # the nearest node's dot is on top, in its phase's colour
    surface = pygame.Surface((600, 450), 0, 32)
    lut_rgb = build_lut("lab")
    big = pygame.Rect(0, 0, 600, 450)
    draw_lattice(surface, big, lattice.positions, lattice.theta, rotation, pack_lut(surface, lut_rgb), background=0)
    xs, ys, _, order = screen_layout(lattice.positions, lattice.theta, rotation, big)
    nearest = order[-1]
    colour = tuple(surface.get_at((int(xs[nearest]), int(ys[nearest])))[:3])
    expected = tuple(lut_rgb[int(lattice.theta[nearest] / (2 * np.pi) * len(lut_rgb)) % len(lut_rgb)])
    assert colour == expected
    assert surface.get_at((2, 2))[:3] == (0, 0, 0)  # the corner is outside every dot


def test_dot_splat_equals_a_per_pixel_reference_and_stays_in_its_rect():
    """The run-based splat paints exactly the pixels a per-pixel disc test paints (far dots
    first, rims, clipping at every edge of the rect), and nothing outside the rect."""
    from visualizer.window.lattice_view import _splat_dots

    rng = np.random.default_rng(3)
    width, height, n = 160, 90, 120
    xs, ys = rng.uniform(-15, width + 15, n), rng.uniform(-15, height + 15, n)
    radii = rng.uniform(0.5, 14, n)
    colours = rng.integers(1, 2**31, n).astype(np.uint32)
    order = rng.permutation(n)
    x0, y0, x1, y1, rim, rim_colour = 10, 5, 150, 80, 1.5, 7
    rows = np.zeros((height, width), np.uint32)
    _splat_dots(rows, xs, ys, radii, colours, order, x0, y0, x1, y1, rim, rim_colour)

    expected = np.zeros((height, width), np.uint32)
    py, px = np.mgrid[0:height, 0:width] + 0.5
    inside_rect = (px > x0) & (px < x1) & (py > y0) & (py < y1)
    for i in order:
        d2 = (px - xs[i]) ** 2 + (py - ys[i]) ** 2
        inner = max(radii[i] - rim, 0.0)
        expected[(d2 <= radii[i] ** 2) & inside_rect] = rim_colour
        expected[(d2 <= inner**2) & inside_rect] = colours[i]
    assert np.count_nonzero(expected) > 0.3 * expected.size
    assert np.count_nonzero(rows != expected) <= 0.001 * expected.size  # float ties on disc edges only
    assert not rows[~inside_rect].any()



@pytest.mark.parametrize("n,view", [(12, "corner"), (7, "square"), (7, "turned")])
def test_dots_hidden_under_nearer_ones_are_skipped_without_changing_a_pixel(n, view):
    """The corner and square views stack nodes on one point: only the dots no nearer dot hides whole
    are drawn, and the picture is the one every dot drawn far first gives, pixel for pixel."""
    import os

    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    import pygame

    from visualizer.engine.sim.lattice3d import CORNER_ROTATION, SQUARE_ROTATION
    from visualizer.render.colour import build_lut
    from visualizer.window.lattice_view import _splat_dots, draw_lattice, pack_lut, screen_layout

    rotation = {"corner": CORNER_ROTATION, "square": SQUARE_ROTATION, "turned": (0.3, -0.5)}[view]
    lattice = SomaticField(SomaticConfig(n=n), (32, 32), seed=4).lattice
    surface = pygame.Surface((480, 270), 0, 32)
    lut = pack_lut(surface, build_lut("vivid"))
    rect = surface.get_rect()
    draw_lattice(surface, rect, lattice.positions, lattice.theta, rotation, lut, background=0)
    culled = pygame.surfarray.array2d(surface).T.copy()
    every = np.zeros_like(culled)
    xs, ys, radii, order = screen_layout(lattice.positions, lattice.theta, rotation, rect)
    index = (np.mod(lattice.theta, 2 * np.pi) * (lut.size / (2 * np.pi))).astype(np.int64) % lut.size
    _splat_dots(every, xs, ys, radii, lut[index], order, 0, 0, rect.w, rect.h, 1.0, int(surface.map_rgb((0, 0, 0))))
    np.testing.assert_array_equal(culled, every)

# -- issue 33: the lattice's controls are registry parameters --------------------------------------
def _write_preset(tmp_path, extra: str) -> Path:
    path = tmp_path / "sv.toml"
    path.write_text((PRESETS / "somatic-visual.toml").read_text() + extra)
    return path


def test_the_lattice_controls_are_registry_parameters_with_the_preset_as_base():
    from visualizer.engine.params import LATTICE, REGISTRY

    assert set(LATTICE) <= set(REGISTRY)
    preset = presets.load_preset("somatic-visual")
    lattice = preset.lattice
    assert preset.base.rings == lattice.couplings and preset.base.k_x == lattice.k_x
    assert preset.base.metric_blend == 1.0 and preset.base.spin == lattice.auto_rotate_deg_s  # "projected"
    assert presets.load_preset("5meo").base.rings == (0.0, 0.0, 0.0, 0.0)


def test_sliders_midi_and_osc_reach_the_lattice_through_set_base():
    session = Session(presets.load_preset("lattice-waves"), size=(32, 32), seed=0, deterministic=True)
    try:
        session.set_base("c2", -0.5)
        session.set_base("metric_blend", 0.25)
        session.set_base("spin", 90.0)
        start = session.rotation[1]
        for _ in range(60):
            state = session.advance(FeatureSnapshot(), 1 / 60)
        rings, alpha = session.somatic.lattice.kernel_in_force
        assert rings[1] == -0.5 and alpha == 0.25 and state.params.c2 == -0.5
        assert abs(session.rotation[1] - start - math.pi / 2) < 1e-6  # 90 °/s for 1 s
    finally:
        session.close()


def test_a_route_from_the_music_moves_the_rings_the_lattice_uses(tmp_path):
    route = '\n[[modulation]]\nsource = "bass"\ntarget = "c3"\nrange = [0.0, 2.0]\n'
    session = Session(presets.load_preset(str(_write_preset(tmp_path, route))), size=(32, 32), seed=0,
                      deterministic=True)
    try:
        for bass in (0.0, 1.0):
            features = FeatureSnapshot(bass=bass, level_dbfs=-20.0, silent=False, status="listening")
            for _ in range(60):
                state = session.advance(features, 1 / 60)
            rings, _ = session.somatic.lattice.kernel_in_force
            assert rings[2] == state.params.c3
            assert abs(state.params.c3 - (0.25 + 2.0 * bass)) < 0.05, state.params.c3
    finally:
        session.close()


def test_with_music_somatic_visual_reaches_cessation_and_leaves_it_again():
    # the demo track for a minute, analysed in step with the frames, at the preset's own settings
    from devtools.cessation import cessation_index
    from visualizer.engine.audio.demo import demo_paths

    index = cessation_index("somatic-visual", demo_paths()[0], 60.0)
    reached = np.flatnonzero(index >= 0.8)
    assert reached.size, f"the cessation index peaked at {index.max():.2f}"
    assert (index[reached[0]:] < 0.7).any(), "cessation never ended while the music went on"
    entries = int(np.sum((index[1:] >= 0.8) & (index[:-1] < 0.8)))
    assert entries >= 2  # it comes back, too (12 times in this minute when measured)
