"""Scenes, sets and beat-quantised transitions.

A *scene* is a preset plus parameter overrides (and optionally another palette); a *set* is a TOML
file listing scenes (see ``presets/sets/example.toml``)::

    name = "Example set"
    transition_beats = 8            # default for every scene

    [[scene]]
    name = "Crystal"
    preset = "5meo"
    transition_beats = 4            # beats the morph into this scene lasts (0 = a cut)
    palette = "lab"                 # optional: another palette than the preset's
    [scene.overrides]
    k_sw = -4.0                     # any registry parameter, inside its range

Asking for a scene arms it; the transition begins on the next bar (``BarClock``) and morphs every
base parameter from where it is to the scene's values with a smoothstep over ``transition_beats``
beats, cross-fading the palette alongside; it lands exactly on the scene's values on the first
bar line at or after those beats.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from visualizer.engine import params, presets
from visualizer.engine.audio.features import FeatureSnapshot
from visualizer.engine.params import Params
from visualizer.engine.schema import check_table, choice, integer, parameter, read_toml, text
from visualizer.render.colour import PALETTES, linear_to_srgb_bytes
from visualizer.stage.clock import BarClock

log = logging.getLogger(__name__)

MAX_TRANSITION_BEATS = 64
DEFAULT_TRANSITION_BEATS = 8


class SetError(ValueError):
    """A set file is missing, unreadable or invalid; the message is one line for the user."""


@dataclass(frozen=True)
class Scene:
    """A preset plus overrides. overrides : ((parameter, value), …), each inside its range."""

    name: str
    preset: presets.Preset
    overrides: tuple[tuple[str, float], ...] = ()
    palette: str | None = None
    transition_beats: int = DEFAULT_TRANSITION_BEATS

    @property
    def palette_name(self) -> str:
        return self.palette or self.preset.display.palette

    def params(self) -> Params:
        """The scene's base values: the preset's, then the overrides."""
        return self.preset.base.replace(**dict(self.overrides))


@dataclass(frozen=True)
class SceneSet:
    name: str
    path: Path
    scenes: tuple[Scene, ...]


def _checked(table: object, checks: dict, where: str, **options) -> dict:
    """``schema.check_table`` with its one-line ValueError as a SetError."""
    try:
        return check_table(table, checks, where, **options)
    except ValueError as e:
        raise SetError(str(e)) from None


_OVERRIDES = {name: parameter(name) for name in params.REGISTRY}
_TRANSITION_BEATS = integer(0, MAX_TRANSITION_BEATS)
_SCENE = {"name": text, "preset": text, "palette": choice(tuple(PALETTES)), "transition_beats": _TRANSITION_BEATS}


def _scene(table: object, where: str, default_beats: int) -> Scene:
    if not isinstance(table, dict):
        raise SetError(f"{where}: must be a table, written [[scene]]")
    scene = _checked(table, _SCENE, where, required=("preset",), skip=("overrides",))
    overrides = _checked(table.get("overrides", {}), _OVERRIDES, f"{where}: overrides")
    try:
        preset = presets.load_preset(scene["preset"])
    except presets.PresetError as e:
        raise SetError(f"{where}: {e}") from None
    return Scene(name=scene.get("name", preset.name), preset=preset, overrides=tuple(overrides.items()),
                 palette=scene.get("palette"), transition_beats=scene.get("transition_beats", default_beats))


def load_set(path: str | os.PathLike) -> SceneSet:
    """Read and validate a set file; raises SetError with a one-line message."""
    path = Path(path)
    data = read_toml(path, kind="set", error=SetError)
    top = _checked(data, {"name": text, "transition_beats": _TRANSITION_BEATS}, str(path), skip=("scene",))
    tables = data.get("scene")
    if not isinstance(tables, list) or not tables:
        raise SetError(f"{path}: no scenes: add at least one [[scene]] with a preset")
    default_beats = top.get("transition_beats", DEFAULT_TRANSITION_BEATS)
    scenes = tuple(_scene(t, f"{path}: [[scene]] #{i}", default_beats) for i, t in enumerate(tables, 1))
    return SceneSet(name=top.get("name", path.stem), path=path, scenes=scenes)


@dataclass(frozen=True)
class SceneFrame:
    """What the render loop applies this frame.

    bases : base values to set (``session.set_bases``), or None to leave them alone.
    preset : a preset to switch to now (the transition's first frame), or None.
    palette_from, palette_to, palette_mix : draw with the palettes cross-faded, 0 = all ``from``.
    """

    bases: Params | None
    preset: presets.Preset | None
    palette_from: str
    palette_to: str
    palette_mix: float


def smoothstep(t: float) -> float:
    return t * t * (3.0 - 2.0 * t)


def lerp_params(a: Params, b: Params, t: float) -> Params:
    """Every parameter ``a + (b − a)·t``; exactly ``b`` at t ≥ 1."""
    if t >= 1.0:
        return b
    va, vb = a.as_dict(), b.as_dict()
    return a.replace(**{n: va[n] + (vb[n] - va[n]) * t for n in va})


class SceneDirector:
    """Runs a set: arms scene requests, starts each transition on the next bar, morphs over beats.

    Call ``request(index)`` from a control change; call ``update(features, base)`` once per frame
    before ``session.advance`` and apply the returned ``SceneFrame``.
    """

    def __init__(self, scene_set: SceneSet, *, beats_per_bar: int = 4):
        self.set = scene_set
        self.bars = BarClock(beats_per_bar)
        self.current: int | None = None  # the scene we are in (or morphing into)
        self.pending: int | None = None  # armed, waiting for the bar
        self._from: Params | None = None
        self._from_palette = ""
        self._beats = 0  # beats since the transition began
        self.morphing = False

    def request(self, index: int) -> str:
        """Arm scene ``index`` (wraps around the set); returns a message for the HUD."""
        self.pending = index % len(self.set.scenes)
        return f"scene {self.pending}: {self.set.scenes[self.pending].name} (on the next bar)"

    def step(self, direction: int) -> str:
        here = self.pending if self.pending is not None else (self.current if self.current is not None else -1)
        return self.request(here + direction)

    def update(self, features: FeatureSnapshot, base: Params, palette: str) -> SceneFrame | None:
        """Advance by one frame; None when there is nothing to apply.

        base, palette : the base values and the palette on screen now (where a transition starts).
        """
        bar, new_beats = self.bars.update(features)
        switch = None
        if self.pending is not None and bar:
            self._from_palette = self.set.scenes[self.current].palette_name if self.current is not None else palette
            self.current, self.pending = self.pending, None
            self._from, self._beats, self.morphing = base, 0, True
            switch = self.set.scenes[self.current].preset
            log.info("scene %d: %s", self.current, self.set.scenes[self.current].name)
        elif self.morphing:
            self._beats += new_beats
        if not self.morphing:
            return None
        scene = self.set.scenes[self.current]
        beats = scene.transition_beats
        done = beats == 0 or (self._beats >= beats and bar)
        t = 1.0 if done else min((self._beats + features.beat_phase) / beats, 1.0 - 1e-6)
        eased = 1.0 if done else smoothstep(t)
        if done:
            self.morphing = False
            self._from_palette = scene.palette_name
        return SceneFrame(bases=lerp_params(self._from, scene.params(), eased), preset=switch,
                          palette_from=self._from_palette, palette_to=scene.palette_name, palette_mix=eased)


def crossfade_lut(lut_from: np.ndarray, lut_to: np.ndarray, mix: float) -> np.ndarray:
    """Two sRGB LUTs (n, 3) uint8 mixed in linear light (an optical dissolve), uint8 (n, 3)."""
    def linear(lut: np.ndarray) -> np.ndarray:
        c = lut.astype(np.float64) / 255.0
        return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return linear_to_srgb_bytes((1.0 - mix) * linear(lut_from) + mix * linear(lut_to))
