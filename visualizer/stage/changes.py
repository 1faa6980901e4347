"""What a controller may ask for, and the queue that carries it to the render loop."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

# actions a key, a pad or an OSC address can fire (no argument)
TRIGGERS = ("next_scene", "previous_scene", "drop", "blackout", "freeze", "strobe", "tap", "record")
# the triggers that toggle a state, which a "switch" change sets absolutely instead
SWITCHES = ("blackout", "freeze", "strobe", "record")
# every kind of change: "set" (name = parameter, value), "preset" (name), "scene" (value = index),
# "switch" (name = one of SWITCHES, value 1 = on, 0 = off), "palette" (name),
# "message" (name = a line for the HUD, e.g. "K1 bound to CC 16")
KINDS = ("set", "preset", "scene", "switch", "palette", "message") + TRIGGERS

QUEUE_LENGTH = 4096


@dataclass(frozen=True)
class ControlChange:
    """One validated request from a controller.

    kind : one of ``KINDS``.
    name : the parameter ("set"), the preset ("preset"), the switch ("switch"), the palette
        ("palette") or the text ("message").
    value : the parameter value ("set", already inside its registry range), the scene index
        ("scene") or 1 / 0 for on / off ("switch").
    source : who asked ("osc", "midi", "key"), for the log and the HUD.
    """

    kind: str
    name: str = ""
    value: float = 0.0
    source: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown control change {self.kind!r}; one of {', '.join(KINDS)}")


class ControlQueue:
    """Many producer threads, one consumer (the render loop); never blocks either side.

    ``deque.append`` and ``popleft`` are atomic in CPython, so no lock is needed. When the
    render loop stalls the oldest changes are dropped first (``dropped`` counts them).
    """

    def __init__(self, maxlen: int = QUEUE_LENGTH):
        self._items: deque[ControlChange] = deque(maxlen=maxlen)
        self.dropped = 0

    def put(self, change: ControlChange) -> None:
        if len(self._items) == self._items.maxlen:
            self.dropped += 1
        self._items.append(change)

    def drain(self) -> list[ControlChange]:
        """Every change queued so far, oldest first."""
        out = []
        while True:
            try:
                out.append(self._items.popleft())
            except IndexError:
                return out
