"""Feedback to controllers: what changed since the last frame, whoever changed it.

Each frame the stage's state is observed — every parameter's base value, the switches (blackout,
strobe, freeze, record), the armed drop, the scene, the preset and the palette — and compared with
the last frame's. Each change becomes OSC messages on the addresses a controller sends to
(``/visualizer/k3 <value>`` and ``/visualizer/k3/norm <0..1>``; ``/visualizer/blackout 1|0``;
``/visualizer/scene <n>``, ``/preset <name>``, ``/palette <name>``) and MIDI values for the bound
controls' LEDs and motor faders (``MidiController.show``: targets → 0..1). Keys, the mouse, MIDI,
OSC, scenes and session timelines all end up here, so a controller never drifts from the truth.
"""

from __future__ import annotations

from dataclasses import dataclass

from visualizer.engine import params
from visualizer.stage.changes import SWITCHES
from visualizer.stage.osc import PREFIX


@dataclass(frozen=True)
class Changes:
    """osc : (address, *args) messages for what changed. midi : target → 0..1 (parameters,
    switches, "drop", "scene:N") for ``MidiController.show``: every value, each frame (it sends a
    control only what changed for it, and everything to a device plugged in)."""

    osc: tuple[tuple, ...]
    midi: dict[str, float]


def observe(performance) -> dict[str, float | str]:
    """The state a controller shows, by OSC path (``Performance``'s session, stage and director)."""
    session = performance.session
    state: dict[str, float | str] = {name: session.base.get(name) for name in params.REGISTRY}
    state.update({name: float(performance.switched(name)) for name in SWITCHES})
    state["drop"] = float(performance.stage.drop_armed)
    director = performance.director
    state["scene"] = float(director.current) if director is not None and director.current is not None else -1.0
    state["preset"] = session.preset.name
    state["palette"] = performance.palette
    return state


def messages(name: str, value: float | str) -> list[tuple]:
    """The OSC messages that say ``name`` is now ``value``."""
    if name not in params.REGISTRY:
        return [(f"{PREFIX}/{name}", value)]
    spec = params.spec(name)
    return [(f"{PREFIX}/{name}", float(value)), (f"{PREFIX}/{name}/norm", (value - spec.lo) / (spec.hi - spec.lo))]


def midi_values(state: dict[str, float | str], scenes: int) -> dict[str, float]:
    """Targets → 0..1 for MIDI: parameters over their range, switches and the drop on/off, the
    current scene's pad lit among ``scenes``."""
    values = {name: (state[name] - params.spec(name).lo) / (params.spec(name).hi - params.spec(name).lo)
              for name in params.REGISTRY}
    values.update({name: state[name] for name in SWITCHES + ("drop",)})
    values.update({f"scene:{n}": float(state["scene"] == n) for n in range(scenes)})
    return values


class Feedback:
    """Remembers the last state sent; ``changes`` gives what differs now (nothing the first time)."""

    def __init__(self) -> None:
        self._last: dict[str, float | str] | None = None

    def changes(self, performance) -> Changes:
        state = observe(performance)
        last, self._last = self._last, state
        osc = () if last is None else tuple(m for name, value in state.items() if value != last[name]
                                             for m in messages(name, value))
        director = performance.director
        return Changes(osc, midi_values(state, len(director.set.scenes) if director is not None else 0))
