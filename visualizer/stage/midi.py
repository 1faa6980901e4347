"""MIDI in (mido): learn, bindings per device, notes as triggers, MIDI clock.

A daemon thread opens the chosen input (an ALSA/CoreMTM/WinMM port through python-rtmidi, or a
mido socket port ``tcp:HOST:PORT``), looks for it again every few seconds while it is missing,
and turns its messages into ``ControlChange``s on the shared queue — it never touches the session.

- Control changes (knobs, faders) bound to a parameter set its base value over the parameter's
  range (0..127 → lo..hi); notes (pads) bound to a trigger fire it (``TRIGGERS``: next scene,
  drop, blackout, tap, …) or go to a scene (``scene:N``); a CC bound to a trigger fires as it
  crosses 64 upwards.
- ``learn(target)`` arms MIDI learn: the next CC or note binds to ``target``; but a note (a pad)
  when ``target`` is a parameter is held until ``bind_pad(action)`` names what it does (the
  window: L with a slider selected, the pad, then the action's key).
  Bindings are saved per device name in ``<user config>/midi/<device>.toml`` and loaded whenever
  that device is opened — at start and when it is plugged back in.
- Feedback: ``show(values)`` sends each bound control its target's value (a CC 0..127, a note on
  or off) when it changes, so motorised faders and pad LEDs follow; sent from the MIDI thread
  when the device has an output (a socket port is both ways; an ALSA/CoreMIDI input, the output
  of the same name).
- Clock, start, continue and stop go to a ``MidiClock`` with their arrival times.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import deque
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import mido
import mido.sockets
import tomli_w

from visualizer.background.guard import GuardedThread
from visualizer.engine import params
from visualizer.engine.schema import check_table, choice, integer, text
from visualizer.stage.changes import TRIGGERS, ControlChange, ControlQueue
from visualizer.stage.clock import MidiClock
from visualizer.system.paths import user_config_dir

log = logging.getLogger(__name__)

RETRY_S = 2.0  # how often a missing device is looked for (and a present one checked)
POLL_S = 0.001  # the reader's sleep between empty polls: clock ticks are timed to about this
SOCKET_PREFIX = "tcp:"
CLOCK_TYPES = ("clock", "start", "continue", "stop")
IGNORED_PORTS = ("Midi Through",)


@dataclass(frozen=True)
class Binding:
    """A control on a device bound to a target. kind : "cc" or "note"; channel 0..15."""

    kind: str
    channel: int
    number: int
    target: str

    @property
    def key(self) -> tuple[str, int, int]:
        return self.kind, self.channel, self.number

    def describe(self) -> str:
        return f"{'CC' if self.kind == 'cc' else 'note'} {self.number} (ch {self.channel + 1}) → {self.target}"


def bindings_dir() -> Path:
    return user_config_dir() / "midi"


def bindings_path(device: str, folder: Path | None = None) -> Path:
    """Where a device's bindings live: its name made safe for a file name."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", device).strip("_") or "device"
    return (folder or bindings_dir()) / f"{slug}.toml"


def load_bindings(device: str, folder: Path | None = None) -> dict[tuple[str, int, int], Binding]:
    """A device's saved bindings (none if it has no file; a broken file is logged and ignored)."""
    path = bindings_path(device, folder)
    if not path.exists():
        return {}
    try:
        with open(path, "rb") as f:
            tables = tomllib.load(f).get("binding", [])
        if not isinstance(tables, list):
            raise TypeError("'binding' must be an array of tables ([[binding]])")
    except (OSError, tomllib.TOMLDecodeError, TypeError, ValueError) as e:
        log.warning("MIDI: ignoring unreadable bindings %s: %s", path, e)
        return {}
    valid: dict[tuple[str, int, int], Binding] = {}
    unknown = 0
    for i, table in enumerate(tables, 1):
        try:
            binding = _binding(table)
        except ValueError as e:  # one line naming the file, the binding, the key and what is allowed
            log.warning("MIDI: %s: binding %d: %s; that binding is skipped", path, i, e)
            continue
        if binding is None:
            unknown += 1
        else:
            valid[binding.key] = binding
    if unknown:
        log.warning("MIDI: %s: ignored %d binding(s) to unknown targets", path, unknown)
    return valid


_BINDING = {"kind": choice(("cc", "note")), "channel": integer(0, 15), "number": integer(0, 127), "target": text}


def _binding(table: object) -> Binding | None:
    """One ``[[binding]]`` table; None if its target is not a parameter or trigger (any more);
    ValueError naming the key and what is allowed."""
    if not isinstance(table, dict):
        raise ValueError("expected a table with kind, channel, number and target")
    try:
        binding = check_table(table, _BINDING, "", required=tuple(_BINDING))
    except ValueError as e:
        raise ValueError(str(e).removeprefix(": ")) from None  # the caller names the file and the binding
    return Binding(**binding) if valid_target(binding["target"]) else None


def valid_target(target: str) -> bool:
    """A parameter, a trigger, or ``scene:N`` (scene N of the set, 0-based)."""
    return target in params.REGISTRY or target in TRIGGERS or re.fullmatch(r"scene:\d{1,3}", target) is not None


def save_bindings(device: str, bindings: dict[tuple[str, int, int], Binding], folder: Path | None = None) -> Path:
    path = bindings_path(device, folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    tables = [{"kind": b.kind, "channel": b.channel, "number": b.number, "target": b.target}
              for b in sorted(bindings.values(), key=lambda b: b.key)]
    path.write_text(tomli_w.dumps({"device": device, "binding": tables}))
    return path


def open_port(device: str | None) -> tuple[str, mido.ports.BaseInput] | None:
    """Open ``device``: ``tcp:HOST:PORT`` (mido socket), a substring of an input's name, or None
    for the first input that is not a loopback. None when it is not there."""
    if device and device.startswith(SOCKET_PREFIX):
        host, port = mido.sockets.parse_address(device[len(SOCKET_PREFIX):])
        try:
            return device, mido.sockets.connect(host, port)
        except OSError:
            return None
    names = [n for n in mido.get_input_names() if not n.startswith(IGNORED_PORTS)]
    for name in names:
        if device is None or device.lower() in name.lower():
            return name, mido.open_input(name)
    return None


def open_output_for(name: str, port: mido.ports.BaseInput) -> mido.ports.BaseOutput | None:
    """Where feedback to the device goes: the port itself when it is two-way (a socket port), else
    the output of the same name (a USB controller lists its input and output alike), else None."""
    if isinstance(port, mido.ports.BaseOutput):
        return port
    try:
        return mido.open_output(name) if name in mido.get_output_names() else None
    except Exception as e:  # an output that refuses: the device works without its LEDs
        log.warning("MIDI: no feedback to %s: %s", name, e)
        return None


def port_gone(name: str, port: mido.ports.BaseInput) -> bool:
    """An unplugged device: a socket port closes itself; an rtmidi port leaves the input list."""
    if port.closed:
        return True
    return not name.startswith(SOCKET_PREFIX) and name not in mido.get_input_names()


class MidiController:
    """MIDI input on a guarded daemon thread (``visualizer.background.guard``): bindings, learn and clock.

    queue : where control changes go.
    device : which input (see ``open_port``); None = the first one found.
    clock : fed with clock/start/continue/stop; a new one if None (see ``.clock``).
    folder : where bindings are saved (default ``bindings_dir()``).
    """

    def __init__(self, queue: ControlQueue, *, device: str | None = None, clock: MidiClock | None = None,
                 folder: Path | None = None, opener: Callable[[str | None], tuple[str, object] | None] = open_port):
        self.queue = queue
        self.device = device
        self.clock = clock or MidiClock()
        self.folder = Path(folder) if folder is not None else None
        self.opener = opener
        self.name: str | None = None  # the open device's name
        self.bindings: dict[tuple[str, int, int], Binding] = {}
        self.learning: str | None = None
        self.pending_pad: tuple[str, int, int] | None = None  # a pad hit while learning, waiting for its action
        self._feedback: deque[mido.Message] = deque(maxlen=1024)  # to the device, sent by the MIDI thread
        self._shown: dict[tuple[str, int, int], int] = {}  # the value each control was last sent
        self.problem = ""  # the last failure to reach MIDI, for the HUD
        self.received = 0
        self.connections = 0  # how many times a device was opened
        self._last_cc: dict[tuple[str, int, int], int] = {}
        self._lock = threading.Lock()  # bindings are read by the HUD thread for the help overlay
        self._port = None  # the open input, owned by the MIDI thread
        self._out = None  # where feedback goes (the input itself, a matching output, or None)
        self._guard = GuardedThread("MIDI input", self._run)

    @property
    def status(self) -> str:
        """"" while healthy; "MIDI input failed: …" after the reader failed (it restarts)."""
        return self._guard.status

    def learn(self, target: str) -> str:
        """Arm MIDI learn: the control moved next binds to ``target`` (a parameter, trigger or
        ``scene:N``), except a pad for a parameter, which waits for ``bind_pad``; a HUD message."""
        if not valid_target(target):
            raise ValueError(f"cannot learn {target!r}: not a parameter, scene:N or one of {', '.join(TRIGGERS)}")
        self.pending_pad = None
        self.learning = target
        return f"MIDI learn: move a knob for {target}, or hit a pad and then press the key of its action"

    def bind_pad(self, target: str) -> str:
        """Bind the pad hit while learning to ``target`` (a trigger or ``scene:N``); a HUD message."""
        if self.pending_pad is None:
            return "MIDI learn: hit a pad first"
        if not valid_target(target):
            raise ValueError(f"cannot bind a pad to {target!r}: not scene:N or one of {', '.join(TRIGGERS)}")
        key, self.pending_pad = self.pending_pad, None
        return self._bind(key, target)

    def show(self, values: dict[str, float]) -> None:
        """Feedback: ``values`` maps targets to 0..1 (parameters scaled over their range; triggers and
        scenes 1 = lit); each bound control whose value changed is sent it (render thread; queued)."""
        with self._lock:
            bindings = list(self.bindings.values())
        for b in bindings:
            if b.target not in values:
                continue
            value = round(min(max(values[b.target], 0.0), 1.0) * 127)
            if self._shown.get(b.key) == value:
                continue
            self._shown[b.key] = value
            if b.kind == "cc":
                self._feedback.append(mido.Message("control_change", channel=b.channel, control=b.number, value=value))
            else:
                self._feedback.append(mido.Message("note_on", channel=b.channel, note=b.number,
                                                   velocity=127 if value >= 64 else 0))

    def describe_bindings(self) -> list[str]:
        with self._lock:
            return [b.describe() for b in sorted(self.bindings.values(), key=lambda b: b.key)]

    def close(self) -> None:
        self._guard.close(timeout_s=2.0)

    # -- the MIDI thread --------------------------------------------------------------------
    def _run(self, stop: threading.Event) -> None:
        """Read until ``stop``. An exception (a bug handling a message, an opener that breaks)
        ends this run: the guard logs it once, shows it in ``status`` and starts it again, with
        the open port kept (a bad message does not drop the device)."""
        next_check = 0.0
        try:
            while not stop.is_set():
                now = time.monotonic()
                if now >= next_check:
                    next_check = now + RETRY_S
                    self._port = self._check(self._port)
                port = self._port
                if port is None:
                    stop.wait(0.05)
                    continue
                try:
                    messages = list(port.iter_pending())
                except Exception as e:  # the device went away mid-read
                    log.warning("MIDI: %s: %s", self.name, e)
                    messages, next_check = [], 0.0
                    port.close()
                now = time.monotonic()
                for message in messages:
                    self.handle(message, now)
                self._send_feedback()
                if port.closed:
                    next_check = 0.0
                elif not messages:
                    time.sleep(POLL_S)
        finally:
            if stop.is_set() and self._port is not None:
                self._close()

    def _send_feedback(self) -> None:
        """Send the queued feedback to the device's output (dropped when it has none)."""
        while self._feedback:
            message = self._feedback.popleft()
            if self._out is not None and not self._out.closed:
                self._out.send(message)

    def _close(self) -> None:
        for port in {id(p): p for p in (self._port, self._out) if p is not None}.values():
            port.close()
        self._port = self._out = None

    def _check(self, port):
        """Drop a vanished device; open the wanted one when it is (back) there."""
        try:
            gone = port is not None and port_gone(self.name, port)
        except Exception as e:  # the MIDI system itself went away
            self._failed(e)
            gone = True
        if gone:
            log.warning("MIDI: %s disconnected; looking for it every %.0f s", self.name, RETRY_S)
            self._port = port
            self._close()
            port = None
        if port is None:
            try:
                opened = self.opener(self.device)
            except Exception as e:  # no sequencer (no /dev/snd/seq), a port that refuses, …
                self._failed(e)
                opened = None
            if opened is not None:
                self.name, port = opened
                self._out = open_output_for(self.name, port)
                self.problem = ""
                with self._lock:
                    self.bindings = load_bindings(self.name, self.folder)
                self._shown.clear()  # a device plugged (back) in is sent every value again
                self.queue.put(ControlChange("message", name=f"MIDI: {self.name} ({len(self.bindings)} bindings)",
                                             source="midi"))
                self.connections += 1  # after the message: whoever sees the count finds it queued
        return port

    def _failed(self, error: Exception) -> None:
        """Log a failure to reach MIDI once per distinct message (it is retried every RETRY_S)."""
        text = f"{type(error).__name__}: {error}"
        if text != self.problem:
            self.problem = text
            log.warning("MIDI: cannot open %s (%s); retrying every %.0f s", self.device or "an input", text, RETRY_S)

    def handle(self, message: mido.Message, time_s: float) -> None:
        """One incoming message, arrived at ``time_s`` (monotonic s)."""
        self.received += 1
        if message.type in CLOCK_TYPES:
            self.clock.feed(message.type, time_s)
            return
        if message.type == "control_change":
            key, value = ("cc", message.channel, message.control), message.value
        elif message.type == "note_on" and message.velocity > 0:
            key, value = ("note", message.channel, message.note), message.velocity
        else:
            return
        if self.learning is not None:
            if key[0] == "note" and self.learning in params.REGISTRY:  # a pad for a slider: it waits for its action
                self.pending_pad = key
                self.learning = None
                return self.queue.put(ControlChange("message", name=f"MIDI learn: note {key[2]}: now press the key "
                                                                    "of its action (B O D Space T . , 1-9)",
                                                    source="midi"))
            target, self.learning = self.learning, None
            self._bind(key, target)
            return None
        with self._lock:
            binding = self.bindings.get(key)
        previous = self._last_cc.get(key, 0)
        self._last_cc[key] = value
        if binding is None:
            return
        if binding.target in TRIGGERS or binding.target.startswith("scene:"):
            if key[0] == "note" or (value >= 64 > previous):
                scene = binding.target.startswith("scene:")
                self.queue.put(ControlChange("scene", value=int(binding.target[6:]), source="midi") if scene
                               else ControlChange(binding.target, source="midi"))
            return
        spec = params.spec(binding.target)
        self.queue.put(ControlChange("set", name=binding.target, value=spec.lo + (spec.hi - spec.lo) * value / 127,
                                     source="midi"))

    def _bind(self, key: tuple[str, int, int], target: str) -> str:
        """Bind ``key`` to ``target`` (replacing its earlier control), save, and say so."""
        binding = Binding(*key, target=target)
        with self._lock:
            self.bindings = {k: b for k, b in self.bindings.items() if b.target != binding.target}
            self.bindings[key] = binding
            bindings = dict(self.bindings)
        try:
            path = save_bindings(self.name or "device", bindings, self.folder)
            log.info("MIDI: %s (saved in %s)", binding.describe(), path)
        except OSError as e:
            log.warning("MIDI: could not save bindings: %s", e)
        self._shown.pop(key, None)
        self.queue.put(ControlChange("message", name=f"MIDI: {binding.describe()}", source="midi"))
        return f"MIDI: {binding.describe()}"
