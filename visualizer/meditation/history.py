"""The person's history of sessions: one JSON line per session that ran, in the user data folder.

``HISTORY_FILE`` lives in ``system.paths.user_data_dir()`` (e.g.
``~/.local/share/visualizer/sessions.jsonl``; ``$XDG_DATA_HOME`` moves it). Each line holds when
the session started, its name, how long it was planned and actually ran, whether it was ended
early, the phases reached, calm before and after (1..5 or null) and the intention.
``visualizer session --history`` prints them as a table; report.png plots the ratings.
A line that cannot be read (a hand edit gone wrong) is skipped with one warning naming it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from pathlib import Path

from visualizer.meditation import ReportError
from visualizer.meditation.report import SessionReport
from visualizer.system.paths import user_data_dir

log = logging.getLogger(__name__)

HISTORY_FILE = "sessions.jsonl"
KEYS = ("started_at", "name", "planned_s", "ran_s", "ended_early", "calm_before", "calm_after", "intention")


def history_path() -> Path:
    """The history file in the user data folder (not created here)."""
    return user_data_dir() / HISTORY_FILE


def entry(report: SessionReport) -> dict:
    """The history line of one session: ``KEYS`` plus the phases reached (names)."""
    values = asdict(report)
    return {**{key: values[key] for key in KEYS}, "phases": [row["name"] for row in report.phases]}


def append(report: SessionReport, path: Path | None = None) -> Path:
    """Add ``report``'s line to the history (folder created); returns the file. ReportError
    (one line) when it cannot be written."""
    path = path or history_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(entry(report), ensure_ascii=False) + "\n")
    except OSError as e:
        raise ReportError(f"cannot add to the session history {path}: {e.strerror or e}") from e
    return path


def read(path: Path | None = None) -> list[dict]:
    """Every readable line of the history, oldest first ([] when there is none yet)."""
    path = path or history_path()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    except OSError as e:
        raise ReportError(f"cannot read the session history {path}: {e.strerror or e}") from e
    entries, bad = [], []
    for number, line in enumerate(lines, 1):
        try:
            item = json.loads(line)
            if not isinstance(item, dict):
                raise ValueError
            entries.append(item)
        except ValueError:
            if line.strip():
                bad.append(number)
    if bad:
        log.warning("session history %s: line(s) %s are not session records; skipped (fix or delete them)",
                    path, ", ".join(map(str, bad)))
    return entries


def table(entries: list[dict]) -> str:
    """The history as a fixed-width text table, one session a line, oldest first."""
    def calm(value) -> str:
        return "-" if value is None else str(value)

    lines = [f"{'date':16s}  {'session':24s} {'ran':>7s}  {'of':>6s}  {'ended':8s} {'calm':>9s}  intention"]
    for e in entries:
        ran, planned = e.get("ran_s", 0.0), e.get("planned_s", 0.0)
        lines.append(f"{str(e.get('started_at', ''))[:16]:16s}  {str(e.get('name', ''))[:24]:24s} "
                     f"{ran / 60:5.1f} m  {planned / 60:4.0f} m  {'early' if e.get('ended_early') else 'complete':8s} "
                     f"{calm(e.get('calm_before')):>4s} → {calm(e.get('calm_after')):1s}  {e.get('intention', '')}")
    return "\n".join(lines)
