"""The per-frame glue between the controllers and the session, run on the render thread.

    performance = Performance(session, tap=audio.tap, scene_set=..., clock=midi.clock, osc_out=...)
    each frame:
        features = performance.before_advance(audio.latest(), dt)   # controls, clock, scenes, drop
        state = session.advance(features, dt)
        performance.after_advance(features, state)                  # OSC features out
        lut = the palette (cross-faded while performance.palette_blend says so)
        display.set_palette(look_lut(lut, performance.look)); display.draw_field(...)  # flash limited

Nothing here waits: controller threads fill ``queue``; this drains it.
"""

from __future__ import annotations

import logging
from typing import Callable

from visualizer.engine import presets
from visualizer.engine.audio.features import FeatureSnapshot
from visualizer.stage.actions import DROP_ENERGY, Look, StageActions
from visualizer.stage.changes import ControlChange, ControlQueue
from visualizer.stage.clock import BeatMerge, MidiClock
from visualizer.stage.osc import OscFeatureOut
from visualizer.stage.scenes import SceneDirector, SceneSet

log = logging.getLogger(__name__)


class Performance:
    """Applies control changes, the MIDI clock, scene transitions and stage actions to a session.

    session : visualizer.engine.session.Session.
    queue : the queue controllers write to (a new one if None).
    tap : called for a tap (e.g. ``audio.tap``).
    scene_set : the loaded set, or None (scene changes are then refused with a message).
    clock : a MIDI clock that overrides the tracker's beats while it runs, or None.
    osc_out : where features go each frame, or None.
    say : shows a one-line message (HUD); defaults to the log.
    """

    def __init__(self, session, *, queue: ControlQueue | None = None, tap: Callable[[], None] | None = None,
                 scene_set: SceneSet | None = None, clock: MidiClock | None = None,
                 osc_out: OscFeatureOut | None = None, say: Callable[[str], None] | None = None):
        self.session = session
        self.queue = queue or ControlQueue()
        self.tap = tap
        self.director = SceneDirector(scene_set) if scene_set is not None else None
        self.beats = BeatMerge(clock)
        self.osc_out = osc_out
        self.say = say or (lambda message: log.info("%s", message))
        self.stage = StageActions()
        self.look = Look()
        self.palette_blend: tuple[str, str, float] | None = None  # (from, to, mix) set by a scene
        self._blend_preset = None  # the preset palette_blend belongs to

    def before_advance(self, features: FeatureSnapshot, dt_s: float) -> FeatureSnapshot:
        """Everything controllers asked for since the last frame; returns the features to use."""
        features = self.beats.apply(features)
        for change in self.queue.drain():
            self.apply(change)
        if self.session.preset is not self._blend_preset:  # switched by a key or a control: its own palette
            self.palette_blend = None
        if self.director is not None:
            palette = self.palette_blend[1] if self.palette_blend else self.session.preset.display.palette
            frame = self.director.update(features, self.session.base, palette)
            if frame is not None:
                if frame.preset is not None and frame.preset.path != self.session.preset.path:
                    self._switch_keeping_phases(frame.preset)
                self.session.set_bases(frame.bases)
                self.palette_blend = (frame.palette_from, frame.palette_to, frame.palette_mix)
                self._blend_preset = self.session.preset
        self.look, drop = self.stage.update(features, dt_s)
        if drop:
            self.session.inject_burst(DROP_ENERGY)
        return features

    def _switch_keeping_phases(self, preset) -> None:
        """A scene's preset takes over on the bar; the pattern flows on where the grid allows."""
        self.session.use_preset(preset, keep_phases=True)

    def after_advance(self, features: FeatureSnapshot, state) -> None:
        if self.osc_out is not None:
            self.osc_out.send(features, state)

    def apply(self, change: ControlChange) -> None:
        """One control change, now (render thread)."""
        kind = change.kind
        if kind == "set":
            self.session.set_base(change.name, change.value)
        elif kind == "message":
            self.say(change.name)
        elif kind == "preset":
            try:
                self.session.use_preset(presets.load_preset(change.name))
                self.say(f"preset: {self.session.preset.name}")
            except presets.PresetError as e:
                self.say(str(e))
        elif kind in ("scene", "next_scene", "previous_scene"):
            if self.director is None:
                self.say("no set loaded: start with --set FILE to use scenes")
            elif kind == "scene":
                self.say(self.director.request(int(change.value)))
            else:
                self.say(self.director.step(+1 if kind == "next_scene" else -1))
        elif kind == "tap":
            if self.tap is not None:
                self.tap()
        elif kind == "drop":
            self.say(self.stage.arm_drop())
        elif kind == "blackout":
            self.say(self.stage.toggle_blackout())
        elif kind == "strobe":
            self.say(self.stage.toggle_strobe())
        elif kind == "freeze":
            self.session.paused = not self.session.paused
            self.say("frozen" if self.session.paused else "running")
