"""Save what is on stage — the current sliders and the preset's routes — as a user preset."""

from __future__ import annotations

import re
from dataclasses import asdict
from pathlib import Path

import platformdirs
import tomli_w

from visualizer import presets
from visualizer.params import Params


def user_preset_dir() -> Path:
    return Path(platformdirs.user_config_dir("visualizer")) / "presets"


def preset_table(preset: presets.Preset, base: Params, *, name: str) -> dict:
    """The TOML tables of ``preset`` with the base values of ``base`` (k1..k4, k_sw, links, L*)."""
    b = base.as_dict()
    a = preset.annealing
    table = {
        "name": name,
        "description": f"Saved on stage from {preset.name}: {preset.description}",
        "field": {"size": list(preset.size), "neighborhood": preset.neighborhood, "boundary": preset.boundary,
                  "small_world_links": int(round(b["small_world_links"]))},
        "frequencies": {"mean": preset.omega_mean, "spread": preset.omega_spread,
                        "correlation": preset.omega_correlation},
        "coupling": {"k": [b["k1"], b["k2"], b["k3"], b["k4"]], "k_sw": b["k_sw"]},
        "simulation": {"dt": preset.dt, "substeps": preset.substeps},
        "display": {"palette": preset.palette, "lightness": b["lightness"]},
        "injection": {"mode": preset.injection_mode, "modes": preset.injection_modes,
                      "tilt": preset.injection_tilt, "rate_hz": preset.injection_rate_hz,
                      "blobs": preset.injection_blobs, "blob_radius": preset.injection_blob_radius},
        "annealing": asdict(a),
    }
    if preset.sweeps:
        table["sweep"] = {**{k: list(v) for k, v in preset.sweeps.items()}, "period_s": preset.sweep_period_s}
    if preset.routes:
        table["modulation"] = [{"source": r.source, "target": r.target, "range": [r.lo, r.hi], "curve": r.curve,
                                "attack_ms": r.attack_ms, "release_ms": r.release_ms, "invert": r.invert,
                                "period_s": r.period_s} for r in preset.routes]
    return table


def save_user_preset(preset: presets.Preset, base: Params, *, name: str | None = None,
                     folder: Path | None = None) -> Path:
    """Write the current look as ``<folder>/<slug>.toml`` (default: the user preset folder, which
    ``presets.discover`` lists) and check it loads; returns its path. Never overwrites: a number
    is appended to the file name instead."""
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
