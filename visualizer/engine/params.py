"""The parameter registry: every controllable parameter declared once, and the typed ``Params``.

Sliders, keys, preset validation, modulation targets, MIDI, OSC, scenes and session timelines all
read ``REGISTRY``; values travel as a frozen ``Params``, never as string-keyed dicts.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from visualizer.engine.sim.neighbourhood import MAX_SMALL_WORLD_LINKS


@dataclass(frozen=True)
class ParamSpec:
    """One controllable parameter: ``name`` (code and files), ``label`` (HUD), range
    [``lo``, ``hi``], ``default``, ``unit``, a one-line ``description`` and the key/slider ``step``."""

    name: str
    label: str
    lo: float
    hi: float
    default: float
    unit: str
    description: str
    step: float = 1.0


K_LIMIT = 20.0  # couplings live in −20..20, the sliders' range


def _coupling(name: str, label: str, what: str) -> ParamSpec:
    return ParamSpec(name, label, -K_LIMIT, K_LIMIT, 0.0, "rad/s", what)


SPECS = (
    _coupling("k1", "K1", "coupling to the cells at Manhattan distance 1 (> 0 pulls into phase, < 0 pushes apart)"),
    _coupling("k2", "K2", "coupling to the cells at Manhattan distance 2"),
    _coupling("k3", "K3", "coupling to the cells at Manhattan distance 3"),
    _coupling("k4", "K4", "coupling to the cells at Manhattan distance 4"),
    _coupling("k_sw", "K_SW", "coupling to each cell's random far (small-world) targets"),
    ParamSpec("speed", "speed", 0.0, 4.0, 1.0, "×", "multiplier of the simulation time step", 0.1),
    ParamSpec("small_world_links", "links", 0.0, float(MAX_SMALL_WORLD_LINKS), 2.0, "per cell",
              "random long-range targets per cell (redrawn when the rounded value changes)"),
    ParamSpec("lightness", "L*", 20.0, 90.0, 70.0, "L*", "palette lightness (CIELAB L*)", 2.0),
    ParamSpec("saturation", "sat", 0.0, 1.0, 1.0, "share",
              "palette chroma as a share of the largest that stays inside sRGB", 0.05),
    ParamSpec("injection", "inject", 0.0, 20.0, 0.0, "rad/s",
              "gain of the music's energy injection into the field's eigenmodes", 0.5),
    ParamSpec("temperature", "temp", 0.0, 20.0, 0.0, "rad²/s", "extra Langevin phase noise (temperature)", 0.1),
    # the somatic lattice's (presets with a [lattice]; ignored by the others)
    *(ParamSpec(f"c{i}", f"C{i}", -K_LIMIT, K_LIMIT, 0.0, "rad/s", f"lattice: coupling of ring {i} around each node",
                0.05) for i in range(1, 5)),
    ParamSpec("k_x", "K_x", 0.0, K_LIMIT, 0.0, "rad/s", "lattice: cross coupling between the lattice and the field",
              0.1),
    ParamSpec("metric_blend", "α", 0.0, 1.0, 0.0, "share",
              "lattice: distance on screen (1) or in the lattice (0), blended", 0.05),
    ParamSpec("spin", "spin", -360.0, 360.0, 0.0, "°/s", "lattice: turning speed of the view about y", 2.0),
)
REGISTRY: dict[str, ParamSpec] = {s.name: s for s in SPECS}
COUPLINGS = ("k1", "k2", "k3", "k4", "k_sw")  # the kernel's couplings, in order: the HUD's sliders, the sweepable ones
LATTICE = ("c1", "c2", "c3", "c4", "k_x", "metric_blend", "spin")  # the lattice's: its presets' extra sliders


class UnknownParameter(KeyError):
    """A parameter name that is not in the registry; ``str()`` is one line for the user."""

    def __str__(self) -> str:
        return f"unknown parameter {self.args[0]!r}; known: {', '.join(REGISTRY)}"


def spec(name: str) -> ParamSpec:
    """The registry entry for ``name``; raises UnknownParameter."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownParameter(name) from None


def clamp(name: str, value: float) -> float:
    """``value`` clamped into ``name``'s range (NaN → the default)."""
    s = spec(name)
    value = float(value)
    return min(max(value, s.lo), s.hi) if not math.isnan(value) else s.default


@dataclass(frozen=True)
class Params:
    """A value of every registry parameter (units as in ``REGISTRY``)."""

    k1: float = REGISTRY["k1"].default
    k2: float = REGISTRY["k2"].default
    k3: float = REGISTRY["k3"].default
    k4: float = REGISTRY["k4"].default
    k_sw: float = REGISTRY["k_sw"].default
    speed: float = REGISTRY["speed"].default
    small_world_links: float = REGISTRY["small_world_links"].default
    lightness: float = REGISTRY["lightness"].default
    saturation: float = REGISTRY["saturation"].default
    injection: float = REGISTRY["injection"].default
    temperature: float = REGISTRY["temperature"].default
    c1: float = REGISTRY["c1"].default
    c2: float = REGISTRY["c2"].default
    c3: float = REGISTRY["c3"].default
    c4: float = REGISTRY["c4"].default
    k_x: float = REGISTRY["k_x"].default
    metric_blend: float = REGISTRY["metric_blend"].default
    spin: float = REGISTRY["spin"].default

    @classmethod
    def defaults(cls) -> Params:
        return cls()

    def get(self, name: str) -> float:
        spec(name)
        return getattr(self, name)

    def with_value(self, name: str, value: float) -> Params:
        """A copy with ``name`` set to ``value`` clamped into its range."""
        return dataclasses.replace(self, **{name: clamp(name, value)})

    def replace(self, **values: float) -> Params:
        """A copy with several values set, each clamped into its range."""
        return dataclasses.replace(self, **{n: clamp(n, v) for n, v in values.items()})

    def as_dict(self) -> dict[str, float]:
        return dataclasses.asdict(self)

    @property
    def k(self) -> tuple[float, float, float, float]:
        """(K1, K2, K3, K4)."""
        return self.k1, self.k2, self.k3, self.k4

    @property
    def rings(self) -> tuple[float, float, float, float]:
        """The lattice's (C1, C2, C3, C4)."""
        return self.c1, self.c2, self.c3, self.c4


assert tuple(f.name for f in dataclasses.fields(Params)) == tuple(REGISTRY), "Params and REGISTRY must agree"
