"""Stills of a meditation session's window at given session times (the README's pictures).

    xvfb-run -s "-screen 0 1280x720x24" python -m devtools.session_stills \
        --at 10,60,180 --out assets/session-{t}s.png

Runs the real session window (Xvfb, or SDL's dummy driver) on a ``StepClock`` moved 1/60 s a
frame, so the stills show the session at those times whatever the machine's speed; the timer is
on, as ``--timer`` shows it. Each picture is saved at ``--width`` pixels wide (PNG).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from visualizer.meditation import timeline
from visualizer.meditation.cli import WindowRequest
from visualizer.meditation.report import Person
from visualizer.meditation.runner import FPS, StepClock
from visualizer.meditation.window import run_session_window


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.session_stills", description=__doc__.splitlines()[0])
    parser.add_argument("--session", default="mettannealing-short")
    parser.add_argument("--at", default="10,60,180", help="session times (s), comma-separated")
    parser.add_argument("--out", default="assets/session-{t}s.png", help="file pattern; {t} is the time")
    parser.add_argument("--intention", default="May I meet today with kindness")
    parser.add_argument("--width", type=int, default=960)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    from visualizer.window.pygame_loader import pygame

    times = sorted(float(t) for t in args.at.split(","))
    plan = timeline.load(timeline.resolve(args.session))
    clock = StepClock()
    pending = list(times)

    def observe(canvas, view) -> None:
        if pending and view.time_s >= pending[0]:
            t = pending.pop(0)
            path = Path(args.out.format(t=f"{t:g}"))
            w, h = canvas.get_size()
            pygame.image.save(pygame.transform.smoothscale(canvas, (args.width, round(h * args.width / w))), path)
            print(f"{path}: session time {view.time_s:.1f} s, phase {view.phase_name}, "
                  f"{path.stat().st_size // 1024} KB")
        if not pending:
            pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_q, mod=0, unicode="q", scancode=0))
        clock.advance(1 / FPS)

    request = WindowRequest(plan=plan, person=Person(args.intention), ask=False, timer=True, seed=args.seed,
                            keep_history=False)
    return run_session_window(request, clock=clock, observe=observe)


if __name__ == "__main__":
    raise SystemExit(main())
