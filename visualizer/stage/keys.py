"""The key map: one table that the window dispatches on, the help overlay lists and ``--help`` prints.

Each key names an *action*; the window performs window actions (fullscreen, HUD, sliders, …) and
hands the others to the stage (``Stage.key``). Pure data: the command line reads it without
loading pygame.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Key:
    """label : the key as the help shows it. names : ``pygame.key.name`` of each key that does it.
    action : what it does (``shift_action`` with Shift held). what : the help's description."""

    label: str
    names: tuple[str, ...]
    action: str
    what: str
    shift_action: str | None = None


KEYMAP = (
    Key("F", ("f",), "fullscreen", "fullscreen"),
    Key("H", ("h",), "hud", "HUD"),
    Key("V", ("v",), "antiphase_view", "anti-phase view"),
    Key("C", ("c",), "colour_reference", "colour relative to the mean phase"),
    Key("M", ("m",), "measures", "measures"),
    Key("I", ("i",), "injection", "injection mode"),
    Key("Space", ("space",), "freeze", "freeze the field"),
    Key("R", ("r",), "reseed", "reseed"),
    Key("S", ("s",), "screenshot", "screenshot"),
    Key("N", ("n",), "next_preset", "next preset"),
    Key("P", ("p",), "previous_preset", "previous preset"),
    Key("Tab", ("tab",), "next_slider", "next slider (Shift: previous)", "previous_slider"),
    Key("Down", ("down",), "next_slider", "next slider"),
    Key("Up", ("up",), "previous_slider", "previous slider"),
    Key("Left", ("left",), "slider_down", "slider down (Shift: 5 steps)"),
    Key("Right", ("right",), "slider_up", "slider up (Shift: 5 steps)"),
    Key("T / Shift+T", ("t",), "tap", "tap tempo / release", "clear_tap"),
    Key("L", ("l",), "learn", "MIDI learn (a knob; a pad, then its key)"),
    Key("1-9", tuple("123456789"), "scene", "scene 1-9 (on the next bar)"),
    Key(".", (".",), "next_scene", "next scene"),
    Key(",", (",",), "previous_scene", "previous scene"),
    Key("D", ("d",), "drop", "drop on the next bar"),
    Key("B", ("b",), "blackout", "blackout"),
    Key("O", ("o",), "strobe", "strobe on the beat (flash limited)"),
    Key("U", ("u",), "save_preset", "save as user preset"),
    Key("W", ("w",), "record", "record video"),
    Key("?", ("/", "?"), "help", "this help"),
    Key("Q / Esc", ("q", "escape"), "quit", "quit"),
)
_BY_NAME = {name: key for key in KEYMAP for name in key.names}


def action_for(name: str, *, shift: bool = False) -> str | None:
    """The action of the key ``name`` (as ``pygame.key.name`` spells it), None for a free key."""
    key = _BY_NAME.get(name)
    if key is None:
        return None
    return key.shift_action if shift and key.shift_action else key.action


def help_keys() -> tuple[tuple[str, str], ...]:
    """(label, what) pairs for the help overlay, in the table's order."""
    return tuple((k.label, k.what) for k in KEYMAP)


def key_summary() -> str:
    """One line for ``--help``: 'F fullscreen, H HUD, …'."""
    return ", ".join(f"{label} {what}" for label, what in help_keys())
