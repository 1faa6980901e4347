"""The help overlay's text: keys, controller bindings, OSC addresses."""

from __future__ import annotations

from typing import Sequence

from visualizer.stage.changes import TRIGGERS
from visualizer.stage.osc import PREFIX


def help_lines(keys: Sequence[tuple[str, str]], *, midi_bindings: Sequence[str] = (), midi_device: str | None = None,
               osc: str | None = None, learning: str | None = None) -> list[str]:
    """Lines for the ``?`` overlay.

    keys : (key, what it does) pairs, in the order to show them.
    midi_bindings : ``MidiController.describe_bindings()``; midi_device : the open device's name.
    osc : ``OscServer.summary()`` or None when OSC is off. learning : the target MIDI learn waits for.
    """
    width = max((len(k) for k, _ in keys), default=0)
    lines = ["Keys"] + [f"  {k.ljust(width)}  {what}" for k, what in keys]
    if midi_device is None:
        lines += ["", "MIDI: no device (start with --midi [NAME])"]
    else:
        lines += ["", f"MIDI: {midi_device}"]
        lines += [f"  {b}" for b in midi_bindings] or ["  no bindings yet: choose a slider, press L, move a knob"]
    if learning:
        lines.append(f"  learning: move a knob or hit a pad for {learning}")
    if osc is not None:
        lines += ["", osc, f"  {PREFIX}/<param> <value>   {PREFIX}/<param>/norm <0..1>   {PREFIX}/get <param>",
                  f"  {PREFIX}/preset <name>   {PREFIX}/scene <n>   " + "   ".join(f"{PREFIX}/{t}" for t in TRIGGERS)]
    return lines
