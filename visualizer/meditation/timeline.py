"""Meditation session files: the TOML schema, loading, validation and the phase timeline.

A session is a list of phases run on one field (a preset). Each phase sets targets — the
kernel K1..K4 and K_SW (from a preset or written out), the palette, the energy input, the
injection, the field's temperature and the breath — and the timeline eases every value from the
previous phase's target to this one's over ``transition_s``: a morph, never a cut. A phase with
a ``cooling`` schedule instead carries its temperature down over its whole duration (the seed's
long, gentle cooling) while its injection eases off like any other value: the energy drains
below the threshold early and the field then cools slowly, as the annealer's own model does.
The energy input's drive into the field (``Targets.drive``) falls along the same schedule, so a
drone that keeps sounding through the cooling stops stirring the field as it cools.

Every error is a ``SessionError`` with one line naming the file, the key and what is allowed.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from visualizer.engine import presets
from visualizer.engine.params import K_LIMIT
from visualizer.engine.schema import check_table, choice, number, parameter, read_toml
from visualizer.engine.sim.annealing import SCHEDULES, Annealer, AnnealingConfig
from visualizer.render.colour import PALETTES
from visualizer.system.paths import TomlCatalogue, user_config_dir

ENERGY_INPUTS = ("music", "drone", "none")
SESSION_PALETTES = PALETTES + ("warm",)  # "warm": the sessions' own rose-to-gold palette (look.py)
MAX_PHASE_S = 4 * 3600.0


class SessionError(ValueError):
    """A session file is missing, unreadable or invalid; the message is one line for the user."""


@dataclass(frozen=True)
class Cue:
    """A text shown (and optionally spoken) ``at_s`` seconds into its phase."""

    at_s: float
    text: str


@dataclass(frozen=True)
class Phase:
    """One validated phase.

    duration_s : length (s). transition_s : how long the morph from the previous phase's
    targets takes (s). kernel : (K1, K2, K3, K4, K_SW). palette, lightness (L*), warmth (0..1
    pull toward warm hues) : the look. energy : "music", "drone" or "none". injection : base
    energy injection (rad/s). temperature : the field's total temperature (rad²/s: the annealer's
    turbulence plus the base Langevin noise) at
    the end of the transition, or at the end of the phase when ``cooling`` names a schedule
    ("linear" or "exponential", as the annealer's) along which the temperature falls over the
    whole phase. breath_rate : breaths per minute (0 = no pacer). inhale, exhale :
    the breath's proportions. peak : the intention is shown again as this phase begins.
    """

    name: str
    duration_s: float
    transition_s: float
    kernel: tuple[float, float, float, float, float]
    palette: str
    lightness: float
    warmth: float
    energy: str
    injection: float
    temperature: float
    cooling: str | None
    breath_rate: float
    inhale: float
    exhale: float
    cues: tuple[Cue, ...]
    peak: bool


@dataclass(frozen=True)
class SessionPlan:
    """A validated session file: the field preset it runs on and its phases, in order."""

    name: str
    description: str
    path: Path
    preset: str
    fade_in_s: float
    fade_out_s: float
    phases: tuple[Phase, ...]

    @property
    def duration_s(self) -> float:
        return sum(p.duration_s for p in self.phases)

    @property
    def starts_s(self) -> tuple[float, ...]:
        """Start time of each phase (s)."""
        return tuple(itertools.accumulate((p.duration_s for p in self.phases[:-1]), initial=0.0))


# -- schema -----------------------------------------------------------------------------------
def _text(v: Any) -> str:
    if not isinstance(v, str) or not v.strip():
        raise ValueError("a non-empty string")
    return v.strip()


def _flag(v: Any) -> bool:
    if not isinstance(v, bool):
        raise ValueError("true or false")
    return v


def _kernel4(v: Any) -> tuple[float, ...]:
    one = number(-K_LIMIT, K_LIMIT)
    try:
        if not isinstance(v, list) or len(v) != 4:
            raise ValueError
        return tuple(one(x) for x in v)
    except ValueError:
        raise ValueError(f"a list of 4 numbers in {-K_LIMIT:g}..{K_LIMIT:g}") from None


def _ratio(v: Any) -> tuple[float, float]:
    one = number(0.1, 10.0)
    try:
        if not isinstance(v, list) or len(v) != 2:
            raise ValueError
        return one(v[0]), one(v[1])
    except ValueError:
        raise ValueError("[inhale, exhale], two numbers in 0.1..10 (e.g. [1, 1.5])") from None


def _cues(v: Any) -> tuple[Cue, ...]:
    allowed = "a list of {at_s = seconds into the phase, text = \"...\"} tables"
    if not isinstance(v, list):
        raise ValueError(allowed)
    cues = []
    for item in v:
        if not isinstance(item, dict) or set(item) != {"at_s", "text"}:
            raise ValueError(allowed)
        try:
            cues.append(Cue(number(0.0, MAX_PHASE_S)(item["at_s"]), _text(item["text"])))
        except ValueError:
            raise ValueError(allowed) from None
    return tuple(sorted(cues, key=lambda c: c.at_s))


TOP: dict[str, tuple[Callable[[Any], Any], Any]] = {
    "name": (_text, None),
    "description": (_text, None),
    "preset": (_text, "metta"),
    "fade_in_s": (number(0.0, 120.0), 10.0),
    "fade_out_s": (number(0.0, 120.0), 10.0),
    "transition_s": (number(0.0, 600.0), 8.0),
}
PHASE: dict[str, tuple[Callable[[Any], Any], Any]] = {
    "name": (_text, None),
    "duration_s": (number(1.0, MAX_PHASE_S), None),
    "transition_s": (number(0.0, 600.0), None),  # default: the session's
    "preset": (_text, None),
    "k": (_kernel4, None),
    "k_sw": (parameter("k_sw"), None),
    "palette": (choice(SESSION_PALETTES), None),
    "lightness": (parameter("lightness"), None),
    "warmth": (number(0.0, 1.0), 0.0),
    "energy": (choice(ENERGY_INPUTS), "drone"),
    "injection": (parameter("injection"), 0.0),
    "temperature": (parameter("temperature"), 0.0),
    "cooling": (choice(SCHEDULES), None),
    "breath_rate": (number(0.0, 30.0), 6.0),
    "breath": (_ratio, (1.0, 1.0)),
    "cues": (_cues, ()),
    "peak": (_flag, False),
}
REQUIRED_TOP = ("name", "description")
REQUIRED_PHASE = ("name", "duration_s")


def _checked(table: Any, schema: dict, where: str, path: Path, *, required: tuple[str, ...],
             skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """``schema.check_table`` over ``table`` with this module's schema; a mistake becomes a
    SessionError naming the file."""
    try:
        return check_table(table, {key: check for key, (check, _) in schema.items()}, where, required=required,
                           skip=skip)
    except ValueError as e:
        raise SessionError(f"{path}: {e}") from None


def _phase(table: Any, index: int, previous: Phase | None, base: presets.Preset, default_transition: float,
           path: Path, fail) -> Phase:
    named = isinstance(table, dict) and isinstance(table.get("name"), str)
    v = _checked(table, PHASE, f"[[phase]] #{index}" + (f" ({table['name']})" if named else ""), path,
                 required=REQUIRED_PHASE)
    where = f"[[phase]] #{index} ({v['name']}) "
    source = base if previous is None else None
    if "preset" in v:
        try:
            source = presets.load_preset(v["preset"])
        except presets.PresetError as e:
            raise fail(f"{where}preset = {v['preset']!r}", f"expected a preset that loads ({e})") from None
    if source is not None:
        kernel = (*source.base.k, source.base.k_sw)
        palette, lightness = source.display.palette, source.base.lightness
    else:  # carry the previous phase's look and kernel
        kernel, palette, lightness = previous.kernel, previous.palette, previous.lightness
    if "k" in v:
        kernel = (*v["k"], kernel[4])
    if "k_sw" in v:
        kernel = (*kernel[:4], v["k_sw"])
    transition = v.get("transition_s", min(default_transition, v["duration_s"]))
    if transition > v["duration_s"]:
        raise fail(f"{where}transition_s = {transition:g}",
                   f"expected at most the phase's duration_s ({v['duration_s']:g})")
    for cue in v.get("cues", ()):
        if cue.at_s >= v["duration_s"]:
            raise fail(f"{where}cues: at_s = {cue.at_s:g}",
                       f"expected a time inside the phase, 0..{v['duration_s']:g} s")

    def get(key):
        return v.get(key, PHASE[key][1])
    return Phase(
        name=v["name"], duration_s=v["duration_s"], transition_s=transition, kernel=tuple(kernel),
        palette=v.get("palette", palette), lightness=v.get("lightness", lightness), warmth=get("warmth"),
        energy=get("energy"), injection=get("injection"), temperature=get("temperature"),
        cooling=get("cooling"), breath_rate=get("breath_rate"), inhale=get("breath")[0],
        exhale=get("breath")[1], cues=get("cues"), peak=get("peak"))


def load(path: str | os.PathLike) -> SessionPlan:
    """Read and validate one session file; raises SessionError with a one-line message."""
    path = Path(path)

    def fail(where: str, message: str) -> SessionError:
        return SessionError(f"{path}: {where}: {message}")

    data = read_toml(path, kind="session", error=SessionError,
                     hint="check the path or run `visualizer session --list`")
    top = _checked(data, TOP, "session", path, required=REQUIRED_TOP, skip=("phase",))
    def get(key):
        return top.get(key, TOP[key][1])
    try:
        base = presets.load_preset(get("preset"))
    except presets.PresetError as e:
        raise fail(f"preset = {get('preset')!r}", f"expected a preset that loads ({e})") from None
    tables = data.get("phase")
    if not isinstance(tables, list) or not tables:
        raise fail("phase", "missing: at least one [[phase]] table is required")
    phases: list[Phase] = []
    for i, table in enumerate(tables, 1):
        phases.append(_phase(table, i, phases[-1] if phases else None, base, get("transition_s"), path, fail))
    total = sum(p.duration_s for p in phases)
    if get("fade_in_s") + get("fade_out_s") > total:
        raise fail("fade_in_s + fade_out_s", f"expected at most the session's length ({total:g} s)")
    return SessionPlan(name=top["name"], description=top["description"], path=path, preset=get("preset"),
                       fade_in_s=get("fade_in_s"), fade_out_s=get("fade_out_s"), phases=tuple(phases))


# -- discovery --------------------------------------------------------------------------------
def session_dirs() -> list[Path]:
    """Where session files are looked for: the user's folder, then the shipped ones."""
    user = user_config_dir() / "sessions"
    return [user] + [d / "sessions" for d in presets.preset_dirs()[1:]]


CATALOGUE = TomlCatalogue("session", session_dirs, SessionError)


def discover() -> list[Path]:
    """All session files by name; a user session overrides a shipped one of the same name."""
    return CATALOGUE.discover()


def resolve(name_or_path: str) -> Path:
    """A session given by name (file stem) or by path; raises SessionError naming the available ones."""
    return CATALOGUE.resolve(name_or_path)


# -- the timeline -----------------------------------------------------------------------------
def ease(x: float) -> float:
    """Smoothstep 0 → 1 on x in [0, 1]: zero slope at both ends, so a morph never jolts."""
    x = min(max(x, 0.0), 1.0)
    return x * x * (3.0 - 2.0 * x)


@dataclass(frozen=True)
class Targets:
    """Where every timeline-driven value stands at one moment.

    kernel : (K1..K4, K_SW). injection (rad/s), temperature (rad²/s, the total the field
    should feel). palette_from, palette_to, palette_mix : the palette cross-fade (0 = from,
    1 = to). lightness (L*), warmth (0..1). energy : the phase's energy input. drive : the share
    (0..1) of that input's level that reaches the field: 1, except along a cooling schedule.
    """

    phase_index: int
    phase_time_s: float
    kernel: tuple[float, ...]
    injection: float
    temperature: float
    palette_from: str
    palette_to: str
    palette_mix: float
    lightness: float
    warmth: float
    energy: str
    drive: float = 1.0


class Timeline:
    """The plan as functions of session time t (s, 0 ≤ t ≤ duration)."""

    def __init__(self, plan: SessionPlan):
        self.plan = plan
        self.starts_s = plan.starts_s
        self.duration_s = plan.duration_s
        self._cooling = {s: Annealer(AnnealingConfig(cooling_time_s=1.0, schedule=s)) for s in SCHEDULES}

    def phase_index(self, t_s: float) -> int:
        """Index of the phase running at ``t_s`` (the last one past the end)."""
        index = 0
        for i, start in enumerate(self.starts_s):
            if t_s >= start:
                index = i
        return index

    def cooling_fraction(self, schedule: str, x: float) -> float:
        """Share (1 → 0) of a cooling still to go at fraction ``x`` of the phase, as the annealer's."""
        return self._cooling[schedule].cooling_fraction(x)

    def targets(self, t_s: float) -> Targets:
        i = self.phase_index(t_s)
        phase = self.plan.phases[i]
        previous = self.plan.phases[i - 1] if i > 0 else phase
        tau = t_s - self.starts_s[i]
        w = ease(tau / phase.transition_s) if phase.transition_s > 0 else 1.0

        def mix(a, b):
            return a + (b - a) * w
        drive = 1.0
        if phase.cooling is not None:
            left = drive = self.cooling_fraction(phase.cooling, tau / phase.duration_s)
            temperature = phase.temperature + (previous.temperature - phase.temperature) * left
        else:
            temperature = mix(previous.temperature, phase.temperature)
        return Targets(
            phase_index=i, phase_time_s=tau,
            kernel=tuple(mix(a, b) for a, b in zip(previous.kernel, phase.kernel)),
            injection=mix(previous.injection, phase.injection), temperature=temperature,
            palette_from=previous.palette, palette_to=phase.palette, palette_mix=w,
            lightness=mix(previous.lightness, phase.lightness), warmth=mix(previous.warmth, phase.warmth),
            energy=phase.energy, drive=drive)

    def fade(self, t_s: float) -> float:
        """Whole-picture (and sound) level 0..1: eased in at the start, out at the end."""
        p = self.plan
        up = ease(t_s / p.fade_in_s) if p.fade_in_s > 0 else 1.0
        down = ease((self.duration_s - t_s) / p.fade_out_s) if p.fade_out_s > 0 else 1.0
        return min(up, down)

    def cue(self, t_s: float, *, show_s: float = 9.0) -> tuple[str, float]:
        """The cue text on screen at ``t_s`` and its opacity 0..1 ("" when none)."""
        i = self.phase_index(t_s)
        tau = t_s - self.starts_s[i]
        for cue in reversed(self.plan.phases[i].cues):
            if cue.at_s <= tau < cue.at_s + show_s:
                return cue.text, _window(tau - cue.at_s, show_s)
        return "", 0.0

    def intention_opacity(self, t_s: float, *, show_s: float = 14.0) -> float:
        """0..1: the intention shows as the session begins and as each peak phase begins."""
        moments = [min(2.0, self.duration_s)] + [s for s, p in zip(self.starts_s, self.plan.phases) if p.peak]
        return max((_window(t_s - m, show_s) for m in moments if 0.0 <= t_s - m < show_s), default=0.0)


def _window(x: float, length: float, edge: float = 1.5) -> float:
    """Opacity of something shown for ``length`` s, ``x`` s after it appeared: eased in and out."""
    return min(ease(x / edge), ease((length - x) / edge))
