"""Command line: ``visualizer [options]`` runs the app; errors become one line and exit code 2."""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from pathlib import Path

from visualizer import __version__
from visualizer.offline.arguments import at_least, parse_size
from visualizer.stage.keys import key_summary
from visualizer.system.signals import exit_code, interrupt_in, sigterm_like_sigint, which

log = logging.getLogger("visualizer")

EXIT_USAGE = 2


class UserError(Exception):
    """Something the user can fix; printed as one line."""


def parse_window(text: str) -> tuple[int, int]:
    """``WxH`` → (width, height) in pixels."""
    m = re.fullmatch(r"\s*(\d+)\s*[x×]\s*(\d+)\s*", text)
    if not m or not (160 <= int(m.group(1)) <= 16384 and 120 <= int(m.group(2)) <= 16384):
        raise argparse.ArgumentTypeError(f"--window expects WxH in pixels (e.g. 1920x1080), not {text!r}")
    return int(m.group(1)), int(m.group(2))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="visualizer", usage="visualizer [options] | visualizer COMMAND [--help]",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Audio-reactive field of coupled Kuramoto oscillators. Without a command: open the window "
                    f"(the demo track by default). Keys: {key_summary()}.",
        epilog="commands:\n" + "\n".join(f"  {name:10s}{line}" for name, (_, line) in SUBCOMMANDS.items()))
    p.add_argument("--version", action="version", version=f"visualizer {__version__}")
    p.add_argument("--preset", default="nn-dmt", help="preset name or path to a .toml file (default: nn-dmt)")
    p.add_argument("--list-presets", action="store_true", help="list the presets and exit")
    p.add_argument("--size", type=parse_size, help="grid size N or HxW, overriding the preset's")
    p.add_argument("--seed", type=at_least(0, "--seed"), default=0, help="random seed for phases, frequencies, links")
    p.add_argument("--fullscreen", action="store_true", help="start fullscreen (F toggles)")
    p.add_argument("--display", type=int, default=0, help="monitor to open on (0-based)")
    p.add_argument("--window", type=parse_window, default=(1280, 720), metavar="WxH",
                   help="window size (default 1280x720)")
    p.add_argument("--headless", action="store_true", help="render offscreen (SDL dummy driver), fixed 60 fps clock")
    p.add_argument("--frames", type=at_least(1, "--frames"), help="stop after this many frames")
    p.add_argument("--screenshot", type=Path, help="save the last frame as PNG here")
    p.add_argument("--no-hud", action="store_true", help="start with the HUD hidden (H shows it)")
    p.add_argument("--no-flash-limit", action="store_true",
                   help="turn OFF the photosensitive flash limit (≤ 3 large flashes per second): only on purpose")
    audio = p.add_mutually_exclusive_group()
    audio.add_argument("--input", metavar="DEVICE", help="listen to an input device (name substring or index; "
                                                         "a .monitor source hears what the computer plays)")
    audio.add_argument("--play", metavar="FILE", type=Path,
                       help="play an audio file (wav/flac/ogg/mp3) and react to it")
    audio.add_argument("--no-audio", action="store_true", help="silence: the field runs on its own")
    p.add_argument("--loop", action="store_true", help="with --play: start the file again when it ends "
                                                       "(otherwise the run ends with the file)")
    p.add_argument("--list-devices", action="store_true", help="list audio inputs and exit")
    stage = p.add_argument_group("performing")
    stage.add_argument("--output-display", type=at_least(0, "--output-display"), metavar="N",
                       help="two screens: the field alone, fullscreen, on monitor N (the projector; no HUD, no "
                            "cursor), the controls in a window of --window size on --display")
    stage.add_argument("--midi", nargs="?", const="", metavar="DEVICE",
                       help="MIDI input (name substring, or tcp:HOST:PORT); without a name the first one found")
    stage.add_argument("--osc", action="store_true", help="listen for OSC control (see --osc-host, --osc-port)")
    stage.add_argument("--osc-host", help="address OSC listens on, with --osc (default 127.0.0.1: this "
                                          "machine only; 0.0.0.0 opens it to the network)")
    stage.add_argument("--osc-port", help="OSC port, with --osc (default 9000)")
    stage.add_argument("--osc-out", metavar="HOST:PORT", help="send beat, onset, levels, tempo, R and E as OSC")
    stage.add_argument("--set", type=Path, metavar="FILE", help="a set file of scenes (see presets/sets/)")
    return p


# sub-command → (module with a main(argv) -> int, one line for --help); loaded only when used
SUBCOMMANDS = {
    "analyze": ("visualizer.offline.analyze", "onsets, beats and tempo of a file, as the live analyser reports them"),
    "trace": ("visualizer.offline.trace", "what the field did over a file: R, E, T, phase, patches … at 10 Hz"),
    "render": ("visualizer.offline.render", "an MP4 of a preset driven by a file, the audio muxed in"),
    "response": ("visualizer.offline.response", "how visibly a preset answers a song's beat and loudness"),
    "session": ("visualizer.meditation.cli", "a guided meditation session (Mettannealing)"),
    "compile": ("visualizer.window.compile", "compile every kernel into the cache once (the install step)"),
}


def run_subcommand(name: str, argv: list[str]) -> int:
    """Run ``visualizer NAME ARGV…``; the session command opens its window through the window layer."""
    import importlib

    module = importlib.import_module(SUBCOMMANDS[name][0])
    if name == "session":
        from visualizer.meditation.window import run_session_window

        return module.main(argv, open_window=run_session_window)
    return module.main(argv)


def list_devices() -> None:
    from visualizer.engine.audio.sources import list_input_devices

    devices = list_input_devices()
    if not devices:
        print("no audio inputs found")
    for d in devices:
        index = "" if d.pulse_source else f"[{d.index}]"
        print(f"{index:5s} {d.name}  ({d.channels} ch, {d.default_samplerate:.0f} Hz)")


def list_presets() -> None:
    from visualizer.engine import presets

    def describe(path):
        preset = presets.load(path)
        return f"{preset.name}\n{'':16s} {preset.description}"
    presets.CATALOGUE.print_listing(describe, width=16)


def run_app(args: argparse.Namespace) -> None:
    if args.headless:
        os.environ["SDL_VIDEODRIVER"] = "dummy"
    from visualizer.engine.audio.engine import AudioChoice, validate_choice
    from visualizer.engine.audio.sources import AudioUnavailable
    from visualizer.window.app import App, AppOptions

    if args.no_audio:
        audio = AudioChoice("none")
    elif args.play:
        audio = AudioChoice("file", path=args.play, loop=args.loop)
    elif args.input:
        audio = AudioChoice("input", device=args.input)
    else:
        audio = AudioChoice("demo")
    from visualizer.stage.stage import StageOptions

    validate_stage_options(args)  # before any window opens
    try:
        validate_choice(audio)  # a file or device the user named must exist before any window opens
    except AudioUnavailable:
        if args.input and "monitor" in args.input.lower() and not sound_server_running():
            raise UserError(f"no input device matches {args.input!r}: a monitor source needs a sound server "
                            f"(PulseAudio or PipeWire) running, and none answers; start it with `pulseaudio --start` "
                            f"(or `systemctl --user start pipewire-pulse`)") from None
        raise
    if args.screenshot is not None:
        check_writable(args.screenshot, "--screenshot")
    stage = StageOptions(midi=args.midi, osc=args.osc, osc_host=args.osc_host, osc_port=args.osc_port,
                         osc_out=args.osc_out, set_path=args.set)
    App(AppOptions(preset=args.preset, size=args.size, seed=args.seed, fullscreen=args.fullscreen,
                   display=args.display, window=args.window, headless=args.headless, frames=args.frames,
                   screenshot=args.screenshot, audio=audio, hud=not args.no_hud, stage=stage,
                   flash_limit=not args.no_flash_limit, output_display=args.output_display)).run()


def validate_stage_options(args: argparse.Namespace) -> None:
    """The OSC options, checked before any window opens: a bad value or a port that cannot be
    opened is one line naming the option and the fix. ``--osc-host``/``--osc-port`` need
    ``--osc`` (they would otherwise do nothing); ``--osc-out`` must be HOST:PORT and resolve."""
    from visualizer.stage.osc import DEFAULT_HOST, DEFAULT_PORT, listen_socket, parse_osc_out

    for option, value in (("--osc-host", args.osc_host), ("--osc-port", args.osc_port)):
        if value is not None and not args.osc:
            raise UserError(f"{option} {value}: only used with --osc; add --osc to listen for OSC")
    if args.osc_port is None:
        args.osc_port = DEFAULT_PORT
    else:
        try:
            port = int(args.osc_port)
        except ValueError:
            port = -1
        if not 1 <= port <= 65535:
            raise UserError(f"--osc-port {args.osc_port}: a UDP port is 1..65535 (default {DEFAULT_PORT})")
        args.osc_port = port
    args.osc_host = args.osc_host or DEFAULT_HOST
    if args.osc:
        listen_socket(args.osc_host, args.osc_port).close()  # in use, not this machine's: said now
    if args.osc_out:
        parse_osc_out(args.osc_out)


def sound_server_running() -> bool:
    """Whether a PulseAudio (or PipeWire's pulse) server answers ``pactl info`` within 5 s."""
    import subprocess

    try:
        return subprocess.run(["pactl", "info"], capture_output=True, timeout=5, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def check_writable(path: Path, option: str) -> None:
    """UserError unless a file could be written at ``path`` (checked before any window opens;
    a disk that fills up meanwhile is reported when the file is written)."""
    folder = next((p for p in path.absolute().parents if p.exists()), Path("/"))
    if path.is_dir():
        raise UserError(f"{option} {path}: is a directory; give a file name (e.g. {path / 'shot.png'})")
    if not folder.is_dir() or not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UserError(f"{option} {path}: cannot write there")


def user_errors() -> tuple[type[BaseException], ...]:
    """What counts as the user's mistake (one line, exit 2); anything else is a bug (traceback, exit 1)."""
    from visualizer.engine.audio.decode import AudioFileError
    from visualizer.engine.audio.sources import AudioUnavailable
    from visualizer.engine.params import UnknownParameter
    from visualizer.engine.presets import PresetError
    from visualizer.stage.osc import OscOptionError
    from visualizer.stage.scenes import SetError
    from visualizer.window.display import DisplayUnavailable, ScreenshotError

    return (UserError, PresetError, AudioUnavailable, AudioFileError, SetError, UnknownParameter, DisplayUnavailable,
            ScreenshotError, OscOptionError)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    sigterm_like_sigint()  # before pygame: SDL would turn SIGTERM into a quit event
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        if argv[:1] and argv[0] in SUBCOMMANDS:
            return run_subcommand(argv[0], argv[1:])
        args = build_parser().parse_args(argv)
        if args.list_presets:
            list_presets()
        elif args.list_devices:
            list_devices()
        else:
            run_app(args)
    except BaseException as caught:
        # Ctrl-C or SIGTERM first, also when a C extension wrapped it (numba's dispatcher: SystemError;
        # an import it interrupted: ImportError), and before user_errors() imports anything more
        if (interrupt := interrupt_in(caught)) is not None:
            print(f"visualizer: interrupted ({which(interrupt)})", file=sys.stderr)
            return exit_code(interrupt)
        if isinstance(caught, BrokenPipeError):  # output piped into head & co.
            return 0
        if isinstance(caught, Exception) and isinstance(caught, user_errors()):
            print(f"visualizer: error: {caught}", file=sys.stderr)
            return EXIT_USAGE
        raise
    return 0
