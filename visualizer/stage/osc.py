"""OSC in and out (python-osc, UDP).

In — a background thread receives datagrams, validates them against the parameter registry and
enqueues ``ControlChange``s; it never touches the session, so it can never block a frame. It runs
in a ``GuardedThread``: a failure is logged once, shown in ``OscServer.status``, and the
listener starts again.

    /visualizer/<param> <number>          set a parameter's base value (clamped to its range)
    /visualizer/<param>/norm <0..1>       the same, scaled over the parameter's range (faders)
    /visualizer/preset <name>             switch preset
    /visualizer/palette <name>            draw with another palette (until the preset changes)
    /visualizer/scene <n>                 go to scene n (0-based) of the loaded set, on the next bar
    /visualizer/<switch> [x]              blackout, freeze, strobe, record: without an argument
                                          toggle; with one, on when x > 0, off otherwise (1 | 0)
    /visualizer/<trigger> [x]             next_scene, previous_scene, tap, drop; with an argument,
                                          fires only when x > 0 (a button's press, not its release)
    /visualizer/get <param>               answers /visualizer/value <param> <base> <live> to the sender

Anything else — unparsable datagrams, unknown addresses, wrong arguments — is counted by kind and
logged once per kind. The sender of the last accepted message is the *controller* that feedback
goes to (``OscServer.send``).

Out — ``OscFeatureOut.send`` (render thread, once per frame, non-blocking UDP): events
``/visualizer/beat``, ``/downbeat``, ``/onset`` (int count, sent when it grows) and levels
``/visualizer/energy``, ``/bands`` (bass, mid, high), ``/tempo`` (BPM), ``/phase`` (beat phase),
``/R`` (order parameter), ``/E`` (annealing energy), every frame; ``send_message`` for feedback.
"""

from __future__ import annotations

import errno
import logging
import math
import socket
import struct
import threading
from collections import Counter
from typing import Callable

from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket, ParseError

from visualizer.background.guard import GuardedThread
from visualizer.engine import params
from visualizer.render.colour import PALETTES
from visualizer.stage.changes import SWITCHES, TRIGGERS, ControlChange, ControlQueue

log = logging.getLogger(__name__)

PREFIX = "/visualizer"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9000
_POLL_S = 0.2  # how often the receive thread looks at its stop flag
BUNDLE_PREFIX = b"#bundle\0"
BUNDLE_HEADER = 16  # the prefix and an 8-byte time tag
MAX_BUNDLE_DEPTH = 4


class OscOptionError(Exception):
    """An OSC option the program cannot use (a port in use or out of range, a host that is not
    this machine's, a target that does not resolve): one line naming the option and the fix."""


FIX_HOST = "use 127.0.0.1 (this machine only) or 0.0.0.0 (every network)"


def listen_socket(host: str, port: int) -> socket.socket:
    """A UDP socket bound to ``host:port`` (port 0: any free one); OscOptionError naming the
    option and the fix when it cannot be (only binds: never sends anything)."""
    if not 0 <= port <= 65535:
        raise OscOptionError(f"--osc-port {port}: a UDP port is 1..65535 (default {DEFAULT_PORT})")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind((host, port))
    except socket.gaierror:
        sock.close()
        raise OscOptionError(f"--osc-host {host}: not an IPv4 address or a known host name; {FIX_HOST}") from None
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            raise OscOptionError(f"OSC port {port} on {host} is already in use (another program, or another "
                                 f"visualizer with --osc): choose a free one with --osc-port, e.g. "
                                 f"--osc-port {port + 1 if port < 65535 else 9000}") from None
        if e.errno == errno.EADDRNOTAVAIL:
            raise OscOptionError(f"--osc-host {host} is not an address of this machine; {FIX_HOST}") from None
        if e.errno == errno.EACCES:
            raise OscOptionError(f"--osc-port {port}: not allowed (ports below 1024 need root); "
                                 f"use 1024..65535") from None
        raise OscOptionError(f"cannot listen for OSC on {host}:{port}: {e.strerror or e}; "
                             f"check --osc-host and --osc-port") from None
    return sock


def resolve_target(host: str, port: int) -> tuple[str, int]:
    """(IPv4 address, port) to send to; OscOptionError if ``host`` does not resolve. Resolved
    once, so sending never waits on name lookups."""
    try:
        return socket.getaddrinfo(host, port, socket.AF_INET, socket.SOCK_DGRAM)[0][4][:2]
    except (socket.gaierror, UnicodeError):
        raise OscOptionError(f"--osc-out {host}:{port}: unknown host {host!r}; give an IPv4 address or a known "
                             f"host name (e.g. --osc-out 127.0.0.1:9001)") from None


def parse_host_port(text: str, *, default_host: str = DEFAULT_HOST) -> tuple[str, int]:
    """``host:port`` or ``port`` → (host, port); ValueError with a one-line message."""
    host, _, port = text.rpartition(":")
    try:
        number = int(port)
    except ValueError:
        number = -1
    if not 0 < number < 65536:
        raise ValueError(f"expected host:port (e.g. 127.0.0.1:9001), not {text!r}")
    return host or default_host, number


def parse_osc_out(text: str) -> tuple[str, int]:
    """``--osc-out HOST:PORT`` → the (address, port) to send to; OscOptionError naming the fix."""
    try:
        host, port = parse_host_port(text)
    except ValueError:
        raise OscOptionError(f"--osc-out {text}: expected HOST:PORT with a port 1..65535 "
                             f"(e.g. --osc-out 127.0.0.1:9001)") from None
    return resolve_target(host, port)


def build_message(address: str, *args: float | int | str) -> bytes:
    """One OSC message as a datagram (floats as 32-bit floats, ints as 32-bit ints)."""
    builder = OscMessageBuilder(address=address)
    for arg in args:
        builder.add_arg(arg, "f" if isinstance(arg, float) else None)
    return builder.build().dgram


def _padded(n: int) -> int:
    return (n + 3) & ~3


def well_formed(dgram: bytes) -> bool:
    """Whether an OSC message's length is exactly what its type tags declare.

    python-osc reads a float whose bytes are missing as 0.0: a truncated ``/visualizer/k1 f``
    would silently set K1 = 0. This rejects such datagrams, and type tags python-osc does not
    parse (it would log each one on the root logger and skip it).
    """
    try:
        pos = _padded(dgram.index(b"\0") + 1)
        if pos >= len(dgram):
            return pos == len(dgram)  # an address with no type tag string: no arguments
        if dgram[pos:pos + 1] != b",":
            return False
        end = dgram.index(b"\0", pos)
        tags, pos = dgram[pos + 1:end].decode("ascii"), _padded(end + 1)
        for tag in tags:
            if tag in "ifrm":
                pos += 4
            elif tag in "dht":
                pos += 8
            elif tag == "s":
                pos = _padded(dgram.index(b"\0", pos) + 1)
            elif tag == "b":
                pos += 4 + _padded(struct.unpack(">i", dgram[pos:pos + 4])[0])
            elif tag not in "TFN[]":
                return False
        return pos == len(dgram)
    except (ValueError, UnicodeDecodeError, struct.error):
        return False


def well_formed_packet(dgram: bytes, depth: int = 0) -> bool:
    """Whether a datagram is a well-formed OSC message (``well_formed``) or a bundle whose every
    element is one (sizes > 0, multiples of 4, inside the bundle; nested at most
    ``MAX_BUNDLE_DEPTH`` deep). Checked before python-osc parses anything: it would log each bad
    element of a bundle on the root logger — a flood under garbage — and skip it."""
    if dgram.startswith(b"/"):
        return well_formed(dgram)
    if not dgram.startswith(BUNDLE_PREFIX) or depth >= MAX_BUNDLE_DEPTH or len(dgram) < BUNDLE_HEADER:
        return False
    pos = BUNDLE_HEADER
    while pos < len(dgram):
        if pos + 4 > len(dgram):
            return False
        size = struct.unpack(">i", dgram[pos:pos + 4])[0]
        pos += 4
        if size <= 0 or size % 4 or pos + size > len(dgram) or not well_formed_packet(dgram[pos:pos + size], depth + 1):
            return False
        pos += size
    return True


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


class OscServer:
    """Receives OSC on ``host:port`` in a guarded daemon thread and enqueues validated changes.

    queue : where changes go (the render loop drains it).
    read_value : name → (base value, live value), for ``/get`` (called on the OSC thread: pass a
        function that reads immutable snapshots).
    host : 127.0.0.1 by default; open it to the network only on purpose.
    port : UDP port; 0 picks a free one (see ``.port``).
    Raises OscOptionError (address in use, not this machine's, …) from the constructor.
    """

    def __init__(self, queue: ControlQueue, *, read_value: Callable[[str], tuple[float, float]],
                 host: str = DEFAULT_HOST, port: int = DEFAULT_PORT):
        self.queue = queue
        self.read_value = read_value
        self._socket = listen_socket(host, port)
        self._socket.settimeout(_POLL_S)
        self.host, self.port = self._socket.getsockname()[:2]
        self.received = 0
        self.accepted = 0
        self.problems: Counter[str] = Counter()
        self.controller: tuple[str, int] | None = None  # who sent the last accepted message
        self.sent = 0
        self._guard = GuardedThread("OSC input", self._run)
        log.info("OSC: listening on %s:%d", self.host, self.port)

    @property
    def status(self) -> str:
        """"" while healthy; "OSC input failed: …" after the listener failed (it restarts)."""
        return self._guard.status

    def close(self) -> None:
        self._guard.close(timeout_s=2.0)
        self._socket.close()

    def send(self, address: str, *args: float | int | str) -> None:
        """Feedback to the controller that spoke last (none yet: nothing); never blocks, a datagram
        that cannot go is dropped."""
        target = self.controller
        if target is None:
            return
        try:
            self._socket.sendto(build_message(address, *args), socket.MSG_DONTWAIT, target)
            self.sent += 1
        except OSError as e:
            self._problem("feedback failed", f"to {target[0]}:{target[1]}: {e}")

    def summary(self) -> str:
        """One line for the HUD: messages accepted and problems by kind."""
        bad = ", ".join(f"{n} {kind}" for kind, n in self.problems.items() if n)
        return f"OSC {self.host}:{self.port}: {self.accepted} ok" + (f", {bad}" if bad else "")

    # -- the receive thread -----------------------------------------------------------------
    def _run(self, stop: threading.Event) -> None:
        """Receive until ``stop``; an exception (a bug handling a datagram, a failing socket)
        ends this run and the guard logs it once, shows it in ``status`` and starts it again."""
        while not stop.is_set():
            try:
                data, sender = self._socket.recvfrom(65536)
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                if stop.is_set():  # closed by close()
                    return
                raise
            try:
                self._datagram(data, sender)
            finally:  # counted once handled: whoever reads the count finds the datagram's change queued
                self.received += 1

    def _problem(self, kind: str, detail: str) -> None:
        self.problems[kind] += 1
        if self.problems[kind] == 1:
            log.warning("OSC: %s (%s); further ones are only counted", kind, detail)

    def _datagram(self, data: bytes, sender: tuple[str, int]) -> None:
        if not well_formed_packet(data):
            self._problem("malformed", f"{len(data)} bytes from {sender[0]}: not an OSC message or bundle whose "
                                       "arguments match their type tags")
            return
        try:
            packet = OscPacket(data)
        except (ParseError, ValueError, IndexError, UnicodeDecodeError) as e:
            self._problem("malformed", f"{len(data)} bytes from {sender[0]}: {e}")
            return
        for timed in packet.messages:
            self._message(timed.message.address, list(timed.message.params), sender)

    def _message(self, address: str, args: list, sender: tuple[str, int]) -> None:
        if not address.startswith(PREFIX + "/"):
            return self._problem("unknown address", address)
        path = address[len(PREFIX) + 1:]
        if path == "get":
            return self._get(args, sender)
        if path == "preset":
            if len(args) != 1 or not isinstance(args[0], str) or not args[0]:
                return self._problem("bad arguments", f"{address} expects one preset name, got {args!r}")
            return self._accept(ControlChange("preset", name=args[0], source="osc"), sender)
        if path == "palette":
            if len(args) != 1 or args[0] not in PALETTES:
                return self._problem("bad arguments", f"{address} expects one of {', '.join(PALETTES)}, got {args!r}")
            return self._accept(ControlChange("palette", name=args[0], source="osc"), sender)
        if path == "scene":
            index = _number(args[0]) if len(args) == 1 else None
            if index is None or index < 0 or index != int(index):
                return self._problem("bad arguments", f"{address} expects a scene index ≥ 0, got {args!r}")
            return self._accept(ControlChange("scene", value=index, source="osc"), sender)
        if path in TRIGGERS:
            if args and (_number(args[0]) is None or len(args) > 1):
                return self._problem("bad arguments", f"{address} expects nothing or one number, got {args!r}")
            if args and path in SWITCHES:
                return self._accept(ControlChange("switch", name=path, value=float(args[0] > 0), source="osc"), sender)
            if not args or args[0] > 0:
                self._accept(ControlChange(path, source="osc"), sender)
            return None
        name, _, scale = path.partition("/")
        if name not in params.REGISTRY or scale not in ("", "norm"):
            return self._problem("unknown address", address)
        value = _number(args[0]) if len(args) == 1 else None
        if value is None:
            return self._problem("bad arguments", f"{address} expects one number, got {args!r}")
        spec = params.spec(name)
        if scale == "norm":
            value = spec.lo + (spec.hi - spec.lo) * min(max(value, 0.0), 1.0)
        return self._accept(ControlChange("set", name=name, value=params.clamp(name, value), source="osc"), sender)

    def _get(self, args: list, sender: tuple[str, int]) -> None:
        if len(args) != 1 or args[0] not in params.REGISTRY:
            return self._problem("bad arguments", f"{PREFIX}/get expects a parameter name, got {args!r}")
        base, live = self.read_value(args[0])
        reply = build_message(f"{PREFIX}/value", args[0], float(base), float(live))
        self.controller = sender
        try:
            self._socket.sendto(reply, sender)
            self.accepted += 1
        except OSError as e:
            self._problem("reply failed", f"to {sender}: {e}")

    def _accept(self, change: ControlChange, sender: tuple[str, int]) -> None:
        self.accepted += 1
        self.controller = sender
        self.queue.put(change)


class OscFeatureOut:
    """Sends the music features and the field's state to ``host:port``, once per frame.

    Never blocks: the socket is non-blocking and a datagram that cannot go is dropped and
    counted (``dropped``), the first failure logged.
    """

    def __init__(self, host: str, port: int):
        self.target = resolve_target(host, port)  # OscOptionError if it does not resolve
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.setblocking(False)
        self._seen = {"beat": 0, "downbeat": 0, "onset": 0}
        self.sent = 0
        self.dropped = 0
        log.info("OSC: sending features to %s:%d", host, port)

    def send(self, features, state=None) -> None:
        """features : FeatureSnapshot; state : FrameState (for R and E) or None."""
        counts = {"beat": features.beat_count, "downbeat": getattr(features, "downbeat_count", 0),
                  "onset": features.onset_count}
        for name, count in counts.items():
            if count > self._seen[name]:
                self._seen[name] = count
                self.send_message(f"{PREFIX}/{name}", int(count))
        self.send_message(f"{PREFIX}/energy", float(features.energy))
        self.send_message(f"{PREFIX}/bands", float(features.bass), float(features.mid), float(features.high))
        self.send_message(f"{PREFIX}/tempo", float(features.tempo_bpm))
        self.send_message(f"{PREFIX}/phase", float(features.beat_phase))
        if state is not None:
            if state.measures is not None:
                self.send_message(f"{PREFIX}/R", float(state.measures.order))
            self.send_message(f"{PREFIX}/E", float(state.annealing.energy))

    def send_message(self, address: str, *args: float | int | str) -> None:
        """One message to the target, never blocking (dropped and counted when it cannot go)."""
        try:
            self._socket.sendto(build_message(address, *args), self.target)
            self.sent += 1
        except OSError as e:  # nobody listening (ICMP refused), buffer full: drop
            self.dropped += 1
            if self.dropped == 1:
                log.warning("OSC out: cannot send to %s:%d (%s); dropping until it can", *self.target, e)

    def close(self) -> None:
        self._socket.close()
