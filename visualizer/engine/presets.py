"""Presets: TOML files describing a field, its couplings, its sweeps and its look.

A preset is validated against a declarative schema; anything wrong raises ``PresetError`` with
one line naming the file, the key and what is allowed. ``discover()`` lists the shipped presets
plus any in the user's preset folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from visualizer.engine.link import LinkConfig
from visualizer.engine.modulation import CURVES, SOURCES, TARGETS, Route, SweepConfig
from visualizer.engine.params import COUPLINGS, REGISTRY, Params
from visualizer.engine.schema import (
    check_table,
    choice,
    flag,
    integer,
    number,
    numbers,
    ordered_pair,
    parameter,
    read_toml,
    text,
)
from visualizer.engine.sim.annealing import SCHEDULES, AnnealingConfig
from visualizer.engine.sim.field import (
    MAX_SIDE,
    MAX_SMALL_WORLD_LINKS,
    MIN_SIDE,
    FieldConfig,
    SimulationConfig,
)
from visualizer.engine.sim.injection import INJECTION_MODES, InjectionConfig
from visualizer.engine.sim.lattice3d import blend_weight
from visualizer.engine.sim.metric_sharing import SomaticConfig
from visualizer.engine.sim.neighbourhood import BOUNDARIES, NEIGHBOURHOODS
from visualizer.render.colour import PALETTES
from visualizer.render.config import REFERENCES, VIEWS, DisplayConfig
from visualizer.system.paths import TomlCatalogue, shipped_dir, user_config_dir


class PresetError(ValueError):
    """A preset file is missing, unreadable or invalid; the message is one line for the user."""


# -- schema ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Key:
    """One allowed key: a checker returning the cleaned value or raising ValueError(allowed)."""

    check: Callable[[Any], Any]
    default: Any = None


def _size(v: Any) -> tuple[int, int]:
    side = integer(MIN_SIDE, MAX_SIDE)
    try:
        if isinstance(v, list) and len(v) == 2:
            return side(v[0]), side(v[1])
        return side(v), side(v)
    except ValueError:
        raise ValueError(f"an integer or [height, width], each in {MIN_SIDE}..{MAX_SIDE}") from None


SCHEMA: dict[str, dict[str, Key]] = {
    "": {
        "name": Key(text),
        "description": Key(text),
    },
    "field": {
        "size": Key(_size, (256, 256)),
        "neighborhood": Key(choice(NEIGHBOURHOODS), "diamond"),
        "boundary": Key(choice(BOUNDARIES), "wrap"),
        "small_world_links": Key(integer(0, MAX_SMALL_WORLD_LINKS), 2),
    },
    "frequencies": {
        "mean": Key(number(-50.0, 50.0), 1.0),
        "spread": Key(number(0.0, 50.0), 0.5),
        "correlation": Key(number(0.0, 256.0), 4.0),
    },
    "coupling": {
        "k": Key(numbers(4, REGISTRY["k1"].lo, REGISTRY["k1"].hi)),
        "k_sw": Key(parameter("k_sw"), 0.0),
    },
    "sweep": {
        **{name: Key(ordered_pair(REGISTRY[name].lo, REGISTRY[name].hi)) for name in COUPLINGS},
        "period_s": Key(number(1.0, 3600.0), 60.0),
    },
    "simulation": {
        "dt": Key(number(1e-4, 0.2), 0.02),
        "substeps": Key(integer(1, 16), 2),
    },
    "display": {
        "palette": Key(choice(PALETTES), DisplayConfig.palette),
        "lightness": Key(parameter("lightness"), REGISTRY["lightness"].default),
        "saturation": Key(parameter("saturation"), REGISTRY["saturation"].default),
        "view": Key(choice(VIEWS), DisplayConfig.view),
        "reference": Key(choice(REFERENCES), DisplayConfig.reference),
    },
    "injection": {
        "mode": Key(choice(INJECTION_MODES), InjectionConfig.mode),
        "modes": Key(integer(4, 64), InjectionConfig.modes),
        "tilt": Key(number(0.0, 4.0), InjectionConfig.tilt),
        "rate_hz": Key(number(0.0, 5.0), InjectionConfig.rate_hz),
        "blobs": Key(integer(1, 16), InjectionConfig.blobs),
        "blob_radius": Key(number(1.0, 64.0), InjectionConfig.blob_radius),
        "sink_rate": Key(number(0.0, 100.0), InjectionConfig.sink_rate),
    },
    "link": {
        "kick": Key(number(0.0, 3.0), LinkConfig.kick),
        "hue_kick": Key(number(0.0, 3.14), LinkConfig.hue_kick),
        "downbeat_gain": Key(number(0.0, 4.0), LinkConfig.downbeat_gain),
        "onset_kick": Key(number(0.0, 2.0), LinkConfig.onset_kick),
        "loudness_power": Key(number(0.0, 4.0), LinkConfig.loudness_power),
        "max_kick": Key(number(0.0, 3.14), LinkConfig.max_kick),
        "burst": Key(number(0.0, 3.0), LinkConfig.burst),
        "burst_ms": Key(number(0.0, 500.0), LinkConfig.burst_ms),
        "max_step": Key(number(0.01, 3.14), LinkConfig.max_step),
        "rise_ms": Key(number(0.0, 1000.0), LinkConfig.rise_ms),
        "low_mode": Key(number(1.0, 63.0), LinkConfig.low_mode),
        "high_mode": Key(number(1.0, 63.0), LinkConfig.high_mode),
        "mode_width": Key(number(0.1, 4.0), LinkConfig.mode_width),
        "loudness_memory_s": Key(number(2.0, 600.0), LinkConfig.loudness_memory_s),
        "loudness_range_db": Key(number(1.0, 60.0), LinkConfig.loudness_range_db),
    },
    "annealing": {
        "enabled": Key(flag, True),
        "threshold": Key(number(0.01, 2.0), AnnealingConfig.threshold),
        "heating": Key(number(0.0, 1.0), AnnealingConfig.heating),
        "hysteresis": Key(number(0.0, 1.0), AnnealingConfig.hysteresis),
        "max_hot_s": Key(number(0.1, 600.0), AnnealingConfig.max_hot_s),
        "hot_temperature": Key(number(0.0, 10.0), AnnealingConfig.hot_temperature),
        "coupling_drop": Key(number(0.0, 1.0), AnnealingConfig.coupling_drop),
        "cooling_time_s": Key(number(0.0, 600.0), AnnealingConfig.cooling_time_s),
        "schedule": Key(choice(SCHEDULES), AnnealingConfig.schedule),
        "consolidation_rate": Key(number(0.0, 100.0), AnnealingConfig.consolidation_rate),
        "consolidation_memory_s": Key(number(1.0, 3600.0), AnnealingConfig.consolidation_memory_s),
        "relative": Key(flag, AnnealingConfig.relative),
        "margin": Key(number(0.0, 10.0), AnnealingConfig.margin),
        "min_rise": Key(number(0.0, 1.0), AnnealingConfig.min_rise),
        "memory_s": Key(number(5.0, 600.0), AnnealingConfig.memory_s),
        "novelty": Key(number(0.0, 10.0), AnnealingConfig.novelty),
    },
}
REQUIRED = {("", "name"), ("", "description"), ("coupling", "k")}

# one [[modulation]] route
ROUTE_SCHEMA: dict[str, Key] = {
    "source": Key(choice(SOURCES)),
    "target": Key(choice(TARGETS)),
    "range": Key(numbers(2, -100.0, 100.0)),
    "curve": Key(choice(CURVES), "linear"),
    "attack_ms": Key(number(0.0, 60000.0), 0.0),
    "release_ms": Key(number(0.0, 60000.0), 0.0),
    "invert": Key(flag, False),
    "period_s": Key(number(0.1, 3600.0), 60.0),
}


@dataclass(frozen=True)
class Preset:
    """A validated preset: one config per section, each owned by the module that uses it.

    field : structure and natural frequencies ([field], [frequencies]); seed 0, the preset's size.
    base : the starting value of every parameter ([coupling], small-world links, [display] look).
    sweep : what the LFO sweeps when no music plays. routes : the [[modulation]] routes.
    """

    name: str
    description: str
    path: Path
    field: FieldConfig
    base: Params
    sweep: SweepConfig = SweepConfig()
    simulation: SimulationConfig = SimulationConfig()
    display: DisplayConfig = DisplayConfig()
    routes: tuple[Route, ...] = ()
    injection: InjectionConfig = InjectionConfig()
    annealing: AnnealingConfig = AnnealingConfig()
    link: LinkConfig = LinkConfig()
    lattice: SomaticConfig | None = None  # the 3D somatic lattice sharing the field's metric


def _validate(data: dict[str, Any], path: Path) -> dict[tuple[str, str], Any]:
    """Check ``data`` against SCHEMA; return {(section, key): cleaned value} with defaults."""
    sub_tables = tuple(s for s in SCHEMA if s) + ("lattice", "modulation")
    values: dict[tuple[str, str], Any] = {}
    try:
        for section, keys in SCHEMA.items():
            where = f"{path}: [{section}]" if section else str(path)
            table = data if section == "" else data.get(section, {})
            required = tuple(k for s, k in REQUIRED if s == section)
            clean = check_table(table, {k: key.check for k, key in keys.items()}, where, required=required,
                                skip=sub_tables if section == "" else ())
            for name, key in keys.items():
                values[(section, name)] = clean.get(name, key.default)
        values[("", "modulation")] = _routes(data.get("modulation", []), path)
        lattice = data.get("lattice")
        values[("", "lattice")] = None if lattice is None else SomaticConfig.from_table(lattice, f"{path}: [lattice]")
    except ValueError as e:
        raise PresetError(str(e)) from None
    return values


def _routes(tables: Any, path: Path) -> tuple[Route, ...]:
    """Validate the [[modulation]] array of tables (ValueError naming the route)."""
    if not isinstance(tables, list):
        raise ValueError(f"{path}: modulation: must be an array of tables, written [[modulation]]")
    checks = {k: key.check for k, key in ROUTE_SCHEMA.items()}
    defaults = {k: key.default for k, key in ROUTE_SCHEMA.items() if k not in ("source", "target", "range")}
    routes = []
    for i, table in enumerate(tables, 1):
        clean = check_table(table, checks, f"{path}: [[modulation]] #{i}", required=("source", "target", "range"))
        lo, hi = clean.pop("range")
        routes.append(Route(**{**defaults, **clean}, lo=lo, hi=hi))
    return tuple(routes)



def lattice_bases(lattice: SomaticConfig | None) -> dict[str, float]:
    """The lattice's controllable values as base parameters (none without a lattice): its rings,
    cross coupling, metric blend and turning speed, which routes, sliders, MIDI and OSC then move."""
    if lattice is None:
        return {}
    c1, c2, c3, c4 = lattice.couplings
    return dict(c1=c1, c2=c2, c3=c3, c4=c4, k_x=lattice.k_x, metric_blend=blend_weight(lattice.metric, lattice.alpha),
                spin=lattice.auto_rotate_deg_s)


def load(path: str | os.PathLike) -> Preset:
    """Read and validate one preset file; raises PresetError with a one-line message."""
    path = Path(path)
    data = read_toml(path, kind="preset", error=PresetError, hint="check the path or run --list-presets")
    v = _validate(data, path)

    def section(name: str) -> dict[str, Any]:
        return {key: v[(name, key)] for key in SCHEMA[name]}
    field, freq, display = section("field"), section("frequencies"), section("display")
    k = v[("coupling", "k")]
    lattice = v[("", "lattice")]
    return Preset(
        name=v[("", "name")], description=v[("", "description")], path=path,
        field=FieldConfig(height=field["size"][0], width=field["size"][1], neighborhood=field["neighborhood"],
                          boundary=field["boundary"], small_world_links=field["small_world_links"],
                          omega_mean=freq["mean"], omega_spread=freq["spread"], omega_correlation=freq["correlation"]),
        base=Params(k1=k[0], k2=k[1], k3=k[2], k4=k[3], k_sw=v[("coupling", "k_sw")],
                    small_world_links=float(field["small_world_links"]), lightness=display["lightness"],
                    saturation=display["saturation"], **lattice_bases(lattice)),
        sweep=SweepConfig(ranges=tuple((n, v[("sweep", n)]) for n in COUPLINGS if v[("sweep", n)] is not None),
                          period_s=v[("sweep", "period_s")]),
        simulation=SimulationConfig(**section("simulation")),
        display=DisplayConfig(palette=display["palette"], view=display["view"], reference=display["reference"]),
        routes=v[("", "modulation")],
        injection=InjectionConfig(**section("injection")),
        annealing=AnnealingConfig(**section("annealing")),
        link=LinkConfig(**section("link")),
        lattice=lattice,
    )


def load_preset(name_or_path: str) -> Preset:
    """The preset named ``name_or_path`` (a shipped or user preset's file stem) or at that path;
    raises PresetError in one line naming what is wrong."""
    return load(resolve(name_or_path))


def preset_dirs() -> list[Path]:
    """Where presets are looked for: the user's folder, then the shipped ones."""
    user = user_config_dir() / "presets"
    return [user, shipped_dir("presets")]


CATALOGUE = TomlCatalogue("preset", preset_dirs, PresetError)


def discover() -> list[Path]:
    """All preset files sorted by file name; a user preset overrides a shipped one of that name."""
    return CATALOGUE.discover()


def resolve(name_or_path: str) -> Path:
    """A preset given by name (file stem) or by path; raises PresetError naming the available ones."""
    return CATALOGUE.resolve(name_or_path)
