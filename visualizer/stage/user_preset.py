"""Save what is on stage — the current sliders and the preset's routes — as a user preset."""

from __future__ import annotations

import re
from dataclasses import asdict
from pathlib import Path

import tomli_w

from visualizer.engine import presets
from visualizer.engine.link import LinkConfig
from visualizer.engine.params import Params
from visualizer.engine.sim.metric_sharing import SomaticConfig
from visualizer.system.paths import user_config_dir


def user_preset_dir() -> Path:
    """The folder ``presets.discover`` reads user presets from."""
    return user_config_dir() / "presets"


def preset_table(preset: presets.Preset, base: Params, *, name: str) -> dict:
    """The TOML tables of ``preset`` with ``base`` as its starting values (what the sliders show)."""
    f = preset.field
    table = {
        "name": name,
        "description": f"Saved on stage from {preset.name}: {preset.description}",
        "field": {"size": [f.height, f.width], "neighborhood": f.neighborhood, "boundary": f.boundary,
                  "small_world_links": int(round(base.small_world_links))},
        "frequencies": {"mean": f.omega_mean, "spread": f.omega_spread, "correlation": f.omega_correlation},
        "coupling": {"k": list(base.k), "k_sw": base.k_sw},
        "simulation": asdict(preset.simulation),
        "display": {**asdict(preset.display), "lightness": base.lightness, "saturation": base.saturation},
        "injection": asdict(preset.injection),
        "annealing": asdict(preset.annealing),
    }
    if preset.link != LinkConfig():
        table["link"] = asdict(preset.link)
    if preset.lattice is not None:
        table["lattice"] = lattice_table(preset.lattice, base)
    if preset.sweep.ranges:
        table["sweep"] = {**{n: list(r) for n, r in preset.sweep.ranges}, "period_s": preset.sweep.period_s}
    if preset.routes:
        table["modulation"] = [{"source": r.source, "target": r.target, "range": [r.lo, r.hi], "curve": r.curve,
                                "attack_ms": r.attack_ms, "release_ms": r.release_ms, "invert": r.invert,
                                "period_s": r.period_s} for r in preset.routes]
    return table


def lattice_table(lattice: SomaticConfig, base: Params) -> dict:
    """A ``[lattice]`` table of ``lattice`` with the sliders' rings, cross coupling, blend and spin;
    keys the lattice leaves unset, or that its convention or projection rule out, are not written."""
    table = {**asdict(lattice), "couplings": list(base.rings), "k_x": base.k_x, "alpha": base.metric_blend,
             "auto_rotate_deg_s": base.spin}
    if lattice.convention != "demo":
        table.pop("screen")
    else:
        table.pop("omega_mean"), table.pop("omega_spread")
    if lattice.projection != "free":
        table.pop("rotation_deg")
    return {key: value for key, value in table.items() if value is not None}


def save_user_preset(preset: presets.Preset, base: Params, *, name: str | None = None,
                     folder: Path | None = None) -> Path:
    """Write the current look as ``<folder>/<slug>.toml`` (default: the user preset folder, which
    ``presets.discover`` lists) and check that it loads; returns its path. Never overwrites: a
    number is appended to the file name instead. The base values ``speed``, ``injection`` and
    ``temperature`` have no preset key and are not saved."""
    name = name or f"{preset.name} (saved)"
    folder = folder or user_preset_dir()
    folder.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "preset"
    path, n = folder / f"{slug}.toml", 1
    while path.exists():
        n += 1
        path = folder / f"{slug}-{n}.toml"
    path.write_text(tomli_w.dumps(preset_table(preset, base, name=name)))
    presets.load(path)  # what we write must load: a PresetError here is a bug worth seeing
    return path
