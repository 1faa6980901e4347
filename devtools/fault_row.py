"""What every fault-table row shares: the Row itself, the frame clock, and a log catcher."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass

DT = 1 / 60  # s per frame
SIZE = (48, 48)  # a small grid: the rows test handling, not speed


@dataclass(frozen=True)
class Row:
    """fault : what was done. expected : what a user should see. happened : what was seen.
    passed : whether that is what a user should see. lost : what the fault cost."""

    fault: str
    expected: str
    happened: str
    passed: bool
    lost: str


class _Catcher(logging.Handler):
    def __init__(self, records: list[logging.LogRecord]):
        super().__init__()
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def captured_log(logger: str, level: int = logging.WARNING):
    """Within the block, the list of records ``logger`` (and its children) emits at ``level`` or above."""
    records: list[logging.LogRecord] = []
    handler = _Catcher(records)
    handler.setLevel(level)
    target = logging.getLogger(logger)
    previous = target.level
    if target.getEffectiveLevel() > level:
        target.setLevel(level)
    target.addHandler(handler)
    try:
        yield records
    finally:
        target.removeHandler(handler)
        target.setLevel(previous)
