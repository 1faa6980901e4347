"""MIDI in (mido): learn, bindings per device, notes as triggers, MIDI clock.

A daemon thread opens the chosen input (an ALSA/CoreMTM/WinMM port through python-rtmidi, or a
mido socket port ``tcp:HOST:PORT``), looks for it again every few seconds while it is missing,
and turns its messages into ``ControlChange``s on the shared queue — it never touches the session.

- Control changes (knobs, faders) bound to a parameter set its base value over the parameter's
  range (0..127 → lo..hi); notes (pads) bound to a trigger fire it (``TRIGGERS``: next scene,
  drop, blackout, tap, …); a CC bound to a trigger fires as it crosses 64 upwards.
- ``learn(target)`` arms MIDI learn: the next CC or note binds to ``target`` (a parameter or a
  trigger). Bindings are saved per device name in ``<user config>/midi/<device>.toml`` and
  loaded whenever that device is opened — at start and when it is plugged back in.
- Clock, start, continue and stop go to a ``MidiClock`` with their arrival times.
"""

from __future__ import annotations

import logging
import re
import threading
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


def _binding(table: object) -> Binding | None:
    """One ``[[binding]]`` table; None if its target is not a parameter or trigger (any more);
    ValueError naming the key and what is allowed."""
    if not isinstance(table, dict):
        raise ValueError("expected a table with kind, channel, number and target")

    def whole(key: str, lo: int, hi: int) -> int:
        value = table.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise ValueError(f"{key} = {value!r}: expected a whole number {lo}..{hi}")
        return value

    kind = table.get("kind")
    if kind not in ("cc", "note"):
        raise ValueError(f"kind = {kind!r}: expected \"cc\" or \"note\"")
    channel, number = whole("channel", 0, 15), whole("number", 0, 127)
    target = table.get("target")
    if not isinstance(target, str):
        raise ValueError(f"target = {target!r}: expected a parameter or trigger name")
    if target not in params.REGISTRY and target not in TRIGGERS:
        return None
    return Binding(kind=kind, channel=channel, number=number, target=target)


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
        self.problem = ""  # the last failure to reach MIDI, for the HUD
        self.received = 0
        self.connections = 0  # how many times a device was opened
        self._last_cc: dict[tuple[str, int, int], int] = {}
        self._lock = threading.Lock()  # bindings are read by the HUD thread for the help overlay
        self._port = None  # the open input, owned by the MIDI thread
        self._guard = GuardedThread("MIDI input", self._run)

    @property
    def status(self) -> str:
        """"" while healthy; "MIDI input failed: …" after the reader failed (it restarts)."""
        return self._guard.status

    def learn(self, target: str) -> str:
        """Arm MIDI learn for a parameter or trigger; returns a message for the HUD."""
        if target not in params.REGISTRY and target not in TRIGGERS:
            raise ValueError(f"cannot learn {target!r}: not a parameter or one of {', '.join(TRIGGERS)}")
        self.learning = target
        return f"MIDI learn: move a knob or hit a pad for {target}"

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
                if port.closed:
                    next_check = 0.0
                elif not messages:
                    time.sleep(POLL_S)
        finally:
            if stop.is_set() and self._port is not None:
                self._port.close()

    def _check(self, port):
        """Drop a vanished device; open the wanted one when it is (back) there."""
        try:
            gone = port is not None and port_gone(self.name, port)
        except Exception as e:  # the MIDI system itself went away
            self._failed(e)
            gone = True
        if gone:
            log.warning("MIDI: %s disconnected; looking for it every %.0f s", self.name, RETRY_S)
            port.close()
            port = None
        if port is None:
            try:
                opened = self.opener(self.device)
            except Exception as e:  # no sequencer (no /dev/snd/seq), a port that refuses, …
                self._failed(e)
                opened = None
            if opened is not None:
                self.name, port = opened
                self.problem = ""
                with self._lock:
                    self.bindings = load_bindings(self.name, self.folder)
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
            return self._bind(key)
        with self._lock:
            binding = self.bindings.get(key)
        previous = self._last_cc.get(key, 0)
        self._last_cc[key] = value
        if binding is None:
            return
        if binding.target in TRIGGERS:
            if key[0] == "note" or (value >= 64 > previous):
                self.queue.put(ControlChange(binding.target, source="midi"))
            return
        spec = params.spec(binding.target)
        self.queue.put(ControlChange("set", name=binding.target, value=spec.lo + (spec.hi - spec.lo) * value / 127,
                                     source="midi"))

    def _bind(self, key: tuple[str, int, int]) -> None:
        binding = Binding(*key, target=self.learning)
        self.learning = None
        with self._lock:
            self.bindings = {k: b for k, b in self.bindings.items() if b.target != binding.target}
            self.bindings[key] = binding
            bindings = dict(self.bindings)
        try:
            path = save_bindings(self.name or "device", bindings, self.folder)
            log.info("MIDI: %s (saved in %s)", binding.describe(), path)
        except OSError as e:
            log.warning("MIDI: could not save bindings: %s", e)
        self.queue.put(ControlChange("message", name=f"MIDI: {binding.describe()}", source="midi"))
