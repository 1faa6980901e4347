"""The live-performance layer between the window and the Session: controllers (MIDI, OSC), scenes,
stage actions, preset switching, the look (palette, blackout, strobe) and recording (the output
with its audio). Pygame-free: the window hands it key names and pixel arrays.

Controllers only enqueue; ``before_advance`` drains the queue once per frame, so the render loop
never waits on the network or MIDI. ``after_advance`` sends every change, whatever made it, back
to the controllers (``feedback``).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

import numpy as np

from visualizer.background.video_writer import VideoError
from visualizer.engine import presets
from visualizer.engine.audio.features import FeatureSnapshot
from visualizer.engine.session import FrameState, Session
from visualizer.render.colour import palette_lut
from visualizer.stage.actions import look_lut
from visualizer.stage.changes import TRIGGERS, ControlChange, ControlQueue
from visualizer.stage.feedback import Feedback
from visualizer.stage.keys import help_keys
from visualizer.stage.midi import MidiController
from visualizer.stage.osc import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    OscFeatureOut,
    OscServer,
    parse_osc_out,
)
from visualizer.stage.overlay import help_lines
from visualizer.stage.performance import Performance
from visualizer.stage.recording import LiveRecording
from visualizer.stage.scenes import crossfade_lut, load_set
from visualizer.stage.user_preset import save_user_preset
from visualizer.system.paths import pictures_dir

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StageOptions:
    """midi : device name (or tcp:HOST:PORT), "" for the first one, None for no MIDI.
    osc : listen for OSC on osc_host:osc_port. osc_out : "host:port" for features out.
    set_path : a set file of scenes."""

    midi: str | None = None
    osc: bool = False
    osc_host: str = DEFAULT_HOST
    osc_port: int = DEFAULT_PORT
    osc_out: str | None = None
    set_path: Path | None = None


class Stage:
    """Controllers, scenes, actions, look and recording for one Session; see the module docstring."""

    def __init__(self, session: Session, options: StageOptions, *, audio, say: Callable[[str], None],
                 output: Callable[[], tuple[tuple[int, int], tuple[int, int, int]]] | None = None):
        """audio : the audio engine (``on_samples`` for recordings). output : () → (size (w, h) px,
        the pixels' RGB bit shifts) of the picture to record; None: nothing to record."""
        self.session = session
        self.audio = audio
        self.say = say
        self.queue = ControlQueue()
        scene_set = load_set(options.set_path) if options.set_path else None
        self.osc_out = OscFeatureOut(*parse_osc_out(options.osc_out)) if options.osc_out else None
        self.osc = OscServer(self.queue, read_value=self._base_and_live, host=options.osc_host,
                             port=options.osc_port) if options.osc else None  # OscOptionError before MIDI starts
        self.osc_address = f"{options.osc_host}:{options.osc_port}"
        self.midi = MidiController(self.queue, device=options.midi or None) if options.midi is not None else None
        self.output = output
        self.performance = Performance(session, queue=self.queue, scene_set=scene_set,
                                       clock=self.midi.clock if self.midi else None, osc_out=self.osc_out, say=say,
                                       record=self._record_switch if output else None,
                                       recording=lambda: self.recording is not None)
        self.feedback = Feedback()
        self.recording: LiveRecording | None = None
        self._finishing: list[threading.Thread] = []
        self.show_help = False
        self._luts: dict[tuple, np.ndarray] = {}

    def before_advance(self, features: FeatureSnapshot, dt: float) -> FeatureSnapshot:
        return self.performance.before_advance(features, dt)

    def after_advance(self, features: FeatureSnapshot, state: FrameState) -> None:
        """Features out; every change since the last frame to --osc-out, the last OSC controller
        and the MIDI device's LEDs and motor faders."""
        self.performance.after_advance(features, state)
        if self.osc is None and self.osc_out is None and self.midi is None:
            return
        changes = self.feedback.changes(self.performance)
        for address, *args in changes.osc:
            for out in (self.osc_out, self.osc):
                if out is not None:
                    (out.send_message if out is self.osc_out else out.send)(address, *args)
        if self.midi is not None:
            self.midi.show(changes.midi)

    def _base_and_live(self, name: str) -> tuple[float, float]:
        """A parameter's base and live value (immutable snapshots: safe on the OSC thread)."""
        return self.session.base.get(name), self.performance.live.get(name)

    def lut(self, state: FrameState) -> tuple[np.ndarray, np.ndarray]:
        """(the palette's LUT, the LUT with blackout/strobe applied) for this frame, uint8 (n, 3)."""
        def one(palette: str) -> np.ndarray:
            key = (palette, round(state.params.lightness), round(state.params.saturation, 2))
            if key not in self._luts:
                if len(self._luts) > 32:
                    self._luts.clear()
                self._luts[key] = palette_lut(palette, lightness=key[1], saturation=key[2])
            return self._luts[key]
        lut = one(state.palette)
        blend = self.performance.palette_blend
        if blend:
            lut = crossfade_lut(one(blend[0]), one(blend[1]), blend[2])
        return lut, look_lut(lut, self.performance.look)

    def key(self, action: str, selected: str, *, number: int = 0) -> None:
        """A stage key's action (``visualizer.stage.keys``); ``selected`` is the selected slider's
        parameter, ``number`` the digit of a "scene" key (1 = the first scene). While MIDI learn
        holds a pad, an action key binds the pad to that action instead."""
        target = f"scene:{number - 1}" if action == "scene" else action
        if self.midi is not None and self.midi.pending_pad is not None and (target in TRIGGERS or action == "scene"):
            self.midi.bind_pad(target)
        elif action in TRIGGERS:
            self.queue.put(ControlChange(action, source="key"))
        elif action == "scene":
            self.queue.put(ControlChange("scene", value=number - 1, source="key"))
        elif action == "clear_tap":
            self.performance.beats.taps.clear()
            self.say("tap tempo cleared: the beat tracker leads again")
        elif action == "learn":
            self.say(self.midi.learn(selected) if self.midi else "no MIDI input: start with --midi [DEVICE]")
        elif action == "save_preset":
            try:
                self.say(f"saved user preset {save_user_preset(self.session.preset, self.session.base)}")
            except OSError as e:  # a read-only or full disk: a message, never the end of the show
                self.say(f"user preset not saved: {e.filename or ''}: {e.strerror or e}")
        elif action == "help":
            self.show_help = not self.show_help

    def help(self) -> list[str]:
        m = self.midi
        return help_lines(help_keys(), midi_bindings=m.describe_bindings() if m else (),
                          midi_device=m.name if m else None,
                          osc=f"{self.osc_address} (/visualizer/<param> <float>)" if self.osc else None,
                          learning=m.learning if m else None)

    def cycle_preset(self, direction: int) -> None:
        """Next (+1) or previous (−1) preset; broken ones are skipped with a message."""
        playlist = presets.discover()
        paths = [p.resolve() for p in playlist]
        here = self.session.preset.path.resolve()
        start = paths.index(here) if here in paths else -1
        skipped = []
        for step in range(1, len(paths) + 1):
            path = playlist[(start + direction * step) % len(paths)]
            try:
                self.session.use_preset(presets.load(path))
            except presets.PresetError as e:
                log.warning("skipping preset: %s", e)
                skipped.append(path.name)
                continue
            if skipped:
                self.say(f"skipped broken preset {', '.join(skipped)} (see log)")
            return

    @property
    def status(self) -> str:
        """"" while the controllers are healthy; otherwise why not ("OSC input failed: …")."""
        return "; ".join(part.status for part in (self.osc, self.midi) if part is not None and part.status)

    def status_lines(self) -> list[str]:
        """The stage at a glance (the controls window): scene, actions armed, recording."""
        p, director = self.performance, self.performance.director
        lines = []
        if director is not None:
            scenes = director.set.scenes
            now = scenes[director.current].name if director.current is not None else "-"
            going = f" → {scenes[director.pending].name} (next bar)" if director.pending is not None else ""
            lines.append(f"scene: {now}{going}{'  morphing' if director.morphing else ''}")
        actions = [name for name, on in (("BLACKOUT", p.stage.blackout), ("STROBE", p.stage.strobe),
                                          ("drop armed", p.stage.drop_armed), ("FROZEN", self.session.paused)) if on]
        lines.append("actions: " + (", ".join(actions) if actions else "none") + "   (B O D Space . ,)")
        if self.recording is not None:
            lines.append(f"● REC {self.recording.path.name}  ({self.recording.dropped} frames dropped)")
        return lines

    def _record_switch(self, on: bool) -> None:
        """Start (``on``) or stop recording the output (``toggle_recording`` with ``output``'s format)."""
        if on != (self.recording is not None):
            self.toggle_recording(*self.output())

    def toggle_recording(self, size: tuple[int, int], shifts: tuple[int, int, int]) -> None:
        """Start recording the output (``size`` (w, h) px, the pixels' RGB bit ``shifts``) and its
        audio into the pictures folder, or stop: the file is finished (muxed) on a thread of its
        own and its path shown when it is done."""
        if self.recording is None:
            path = pictures_dir() / f"visualizer-{datetime.now():%Y%m%d-%H%M%S}.mp4"
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                self.recording = LiveRecording(path, size=size, shifts=shifts)
            except (OSError, VideoError) as e:
                self.say(f"cannot record to {path}: {e}")
                return
            self.audio.on_samples = self.recording.add_audio
            self.say(f"recording to {path}")
        else:
            self.stop_recording()

    def stop_recording(self, *, interrupted: bool = False) -> None:
        """Finish the recording on a thread of its own; ``interrupted`` (Ctrl-C / SIGTERM) keeps
        it as ``NAME.partial.mp4``."""
        recording, self.recording = self.recording, None
        self.audio.on_samples = None
        if not interrupted:
            self.say(f"saving {recording.path.name}…")
        thread = threading.Thread(target=self._finish, args=(recording, interrupted), name="recording-finish",
                                  daemon=True)
        thread.start()
        self._finishing.append(thread)

    def _finish(self, recording: LiveRecording, interrupted: bool) -> None:
        try:
            path = recording.finish(interrupted=interrupted)
        except (OSError, VideoError) as e:
            self.say(f"recording failed: {e}")
            return
        if interrupted:
            self.say(f"recording interrupted: kept {recording.video.frames / recording.fps:.1f} s as {path}")
        else:
            self.say(f"recorded {path} ({recording.dropped} frames dropped)")

    def record(self, rows: np.ndarray, time_s: float) -> None:
        """One output frame, uint32 (H, W) packed pixels shown at ``time_s`` (s), while recording."""
        if self.recording is not None:
            self.recording.add_frame(rows, time_s)

    def close(self, *, interrupted: bool = False) -> None:
        """Stop the controllers; a recording still running is finished (as ``NAME.partial.mp4``
        if ``interrupted``), and every file waited for."""
        if self.recording is not None:
            self.stop_recording(interrupted=interrupted)
        for thread in self._finishing:
            thread.join()
        for part in (self.osc, self.midi, self.osc_out):
            if part is not None:
                part.close()
