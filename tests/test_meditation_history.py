"""The person's side of a session: calm ratings, the intention and a history kept over runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from visualizer.meditation import history
from visualizer.meditation.cli import main as session_main

TINY = """
name = "Tiny"
description = "Two seconds of drone, two of cooling."
preset = "metta"
fade_in_s = 0.5
fade_out_s = 0.5

[[phase]]
name = "sit"
duration_s = 2.0
injection = 6.0
temperature = 1.0

[[phase]]
name = "cool"
duration_s = 2.0
cooling = "linear"
"""


@pytest.fixture
def data_home(tmp_path, monkeypatch) -> Path:
    """A private user data folder (platformdirs follows $XDG_DATA_HOME)."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    (tmp_path / "tiny.toml").write_text(TINY)
    return tmp_path / "data"


def test_history_accumulates_over_two_runs_and_is_printed_and_plotted(pulse_server, data_home, tmp_path, capsys):
    """Two real-time headless runs with ratings go into the history in order; a --fast preview
    does not; `--history` prints both; the second report's plot has the ratings row."""
    runs = ((2, 4, "patience"), (3, 5, "kindness"))
    for i, (before, after, intention) in enumerate(runs):
        assert session_main([str(tmp_path / "tiny.toml"), "--headless", "--report", str(tmp_path / f"r{i}"),
                             "--calm-before", str(before), "--calm-after", str(after), "--intention", intention]) == 0
    assert session_main([str(tmp_path / "tiny.toml"), "--fast"]) == 0
    assert history.history_path() == data_home / "visualizer" / "sessions.jsonl"
    entries = history.read()
    assert [(e["calm_before"], e["calm_after"], e["intention"]) for e in entries] == list(runs)
    for entry in entries:
        assert entry["name"] == "Tiny" and entry["phases"] == ["sit", "cool"] and not entry["ended_early"]
        assert entry["ran_s"] == pytest.approx(4.0, abs=0.05) and entry["planned_s"] == 4.0
    assert entries[0]["started_at"] <= entries[1]["started_at"]
    capsys.readouterr()
    assert session_main(["--history"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert "patience" in printed[1] and "2 → 4" in printed[1] and "kindness" in printed[2] and "3 → 5" in printed[2]
    assert printed[-1].startswith("(2 sessions")
    report = json.loads((tmp_path / "r1" / "report.json").read_text())
    assert (report["calm_before"], report["calm_after"], report["intention"]) == (3, 5, "kindness")
    import matplotlib.image

    heights = [matplotlib.image.imread(tmp_path / f"r{i}" / "report.png").shape[0] for i in (0, 1)]
    assert heights[0] == heights[1] > 800  # both with the ratings row (5 rows at 1.9 in, 90 dpi)


def test_history_skips_a_damaged_line_with_one_warning(data_home, caplog):
    path = history.history_path()
    path.parent.mkdir(parents=True)
    path.write_text('{"name": "A", "calm_before": 1}\nnot json\n{"name": "B"}\n')
    assert [e["name"] for e in history.read()] == ["A", "B"]
    assert "line(s) 2 are not session records" in caplog.text


def test_no_history_yet_and_a_bad_rating_are_one_line_each(data_home, tmp_path, capsys):
    assert session_main(["--history"]) == 0
    assert capsys.readouterr().out.startswith("no sessions yet")
    with pytest.raises(SystemExit) as caught:
        session_main([str(tmp_path / "tiny.toml"), "--fast", "--calm-before", "7"])
    err = capsys.readouterr().err
    assert caught.value.code == 2 and "expected a calm rating 1 (restless) .. 5 (calm), not '7'" in err
