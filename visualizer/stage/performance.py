"""The per-frame glue between the controllers and the session, run on the render thread.

    performance = Performance(session, scene_set=..., clock=midi.clock, osc_out=...)
    each frame:
        features = performance.before_advance(audio.latest(), dt)   # controls, beats, scenes, drop
        state = session.advance(features, dt)
        performance.after_advance(features, state)                  # OSC features out
        lut = the palette (cross-faded while performance.palette_blend says so)
        display.set_palette(look_lut(lut, performance.look)); display.draw_field(...)  # flash limited

Beats come from ``BeatMerge``: the MIDI clock, taps, the tracker, or — for bars only, so scenes,
drops and the strobe keep time without music — a timed beat. Nothing here waits: controller
threads fill ``queue``; this drains it.
"""

from __future__ import annotations

import logging
from typing import Callable

from visualizer.engine import presets
from visualizer.engine.audio.features import FeatureSnapshot
from visualizer.engine.params import Params
from visualizer.stage.actions import DROP_ENERGY, Look, StageActions
from visualizer.stage.changes import SWITCHES, ControlChange, ControlQueue
from visualizer.stage.clock import BeatMerge, MidiClock
from visualizer.stage.osc import OscFeatureOut
from visualizer.stage.scenes import SceneDirector, SceneSet

log = logging.getLogger(__name__)


class Performance:
    """Applies control changes, the MIDI clock, scene transitions and stage actions to a session.

    session : visualizer.engine.session.Session.
    queue : the queue controllers write to (a new one if None).
    scene_set : the loaded set, or None (scene changes are then refused with a message).
    clock : a MIDI clock that overrides the tracker's beats while it runs, or None.
    osc_out : where features go each frame, or None.
    say : shows a one-line message (HUD); defaults to the log.
    record : starts (True) or stops (False) the recording, or None if there is none to make.
    """

    def __init__(self, session, *, queue: ControlQueue | None = None, scene_set: SceneSet | None = None,
                 clock: MidiClock | None = None, osc_out: OscFeatureOut | None = None,
                 say: Callable[[str], None] | None = None, record: Callable[[bool], None] | None = None,
                 recording: Callable[[], bool] = lambda: False):
        self.session = session
        self.queue = queue or ControlQueue()
        self.record = record
        self.recording = recording  # whether a recording runs
        self.live: Params = session.base  # the live values of the last frame (read by the OSC thread)
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
        self.apply_queued()
        merged = self.beats.apply(features, dt_s)
        features, timing = merged.features, merged.timing
        if self.session.preset is not self._blend_preset:  # switched by a key or a control: its own palette
            self.palette_blend = None
        if self.director is not None:
            frame = self.director.update(timing, self.session.base, self.palette)
            if frame is not None:
                if frame.preset is not None and frame.preset.path != self.session.preset.path:
                    self._switch_keeping_phases(frame.preset)
                self.session.set_bases(frame.bases)
                self.palette_blend = (frame.palette_from, frame.palette_to, frame.palette_mix)
                self._blend_preset = self.session.preset
        self.look, drop = self.stage.update(timing, dt_s)
        if drop:
            self.session.inject_burst(DROP_ENERGY)
        return features

    def apply_queued(self) -> None:
        """Apply every change queued so far (``before_advance`` does; call it earlier for changes
        that must take effect before the frame's audio, such as starting a recording)."""
        for change in self.queue.drain():
            self.apply(change)

    @property
    def palette(self) -> str:
        """The palette on screen now (where a cross-fade ends)."""
        return self.palette_blend[1] if self.palette_blend else self.session.preset.display.palette

    def _switch_keeping_phases(self, preset) -> None:
        """A scene's preset takes over on the bar; the pattern flows on where the grid allows."""
        self.session.use_preset(preset, keep_phases=True)

    def after_advance(self, features: FeatureSnapshot, state) -> None:
        self.live = state.params
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
            self.beats.tap()
        elif kind == "drop":
            self.say(self.stage.arm_drop())
        elif kind == "palette":
            self.palette_blend, self._blend_preset = (self.palette, change.name, 1.0), self.session.preset
            self.say(f"palette: {change.name}")
        elif kind in SWITCHES or kind == "switch":
            name = change.name if kind == "switch" else kind
            self.switch(name, not self.switched(name) if kind != "switch" else change.value > 0)

    def switched(self, name: str) -> bool:
        """Whether the switch ``name`` (one of SWITCHES) is on."""
        return {"blackout": self.stage.blackout, "strobe": self.stage.strobe, "freeze": self.session.paused,
                "record": self.recording()}[name]

    def switch(self, name: str, on: bool) -> None:
        """Turn the switch ``name`` on or off (nothing if it already is)."""
        if on == self.switched(name):
            return
        if name == "blackout":
            self.say(self.stage.toggle_blackout())
        elif name == "strobe":
            self.say(self.stage.toggle_strobe())
        elif name == "freeze":
            self.session.paused = on
            self.say("frozen" if on else "running")
        elif self.record is None:
            self.say("nothing to record here")
        else:
            self.record(on)
