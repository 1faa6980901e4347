"""Checkers for configuration files (presets, lattices, sessions, sets): each returns the cleaned
value or raises ValueError naming what is allowed, so a loader can turn it into one line that names
the file, the key, the bad value and the expectation."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any, Callable, Mapping


def number(lo: float, hi: float) -> Callable[[Any], float]:
    def check(v: Any) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not lo <= v <= hi:
            raise ValueError(f"a number in {lo:g}..{hi:g}")
        return float(v)
    return check


def parameter(name: str) -> Callable[[Any], float]:
    """A number in the parameter registry's range for ``name`` (the one declaration of it)."""
    from visualizer.engine.params import REGISTRY

    spec = REGISTRY[name]
    return number(spec.lo, spec.hi)


def integer(lo: int, hi: int) -> Callable[[Any], int]:
    def check(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise ValueError(f"an integer in {lo}..{hi}")
        return v
    return check


def choice(options: tuple[str, ...]) -> Callable[[Any], str]:
    def check(v: Any) -> str:
        if v not in options:
            raise ValueError("one of " + ", ".join(repr(o) for o in options))
        return v
    return check


def flag(v: Any) -> bool:
    if not isinstance(v, bool):
        raise ValueError("true or false")
    return v


def text(v: Any) -> str:
    if not isinstance(v, str) or not v.strip():
        raise ValueError("a non-empty string")
    return v


def numbers(count: int, lo: float, hi: float) -> Callable[[Any], tuple[float, ...]]:
    one = number(lo, hi)

    def check(v: Any) -> tuple[float, ...]:
        try:
            if not isinstance(v, list) or len(v) != count:
                raise ValueError
            return tuple(one(x) for x in v)
        except ValueError:
            raise ValueError(f"a list of {count} numbers in {lo:g}..{hi:g}") from None
    return check


def ordered_pair(lo: float, hi: float) -> Callable[[Any], tuple[float, float]]:
    pair = numbers(2, lo, hi)

    def check(v: Any) -> tuple[float, float]:
        a, b = pair(v)
        if a > b:
            raise ValueError(f"[low, high] with low ≤ high, both in {lo:g}..{hi:g}")
        return a, b
    return check


def check_table(table: Any, checks: Mapping[str, Callable[[Any], Any]], where: str, *,
                required: tuple[str, ...] = (), skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The one walker of a TOML table: each key of ``table`` checked by ``checks[key]``; returns
    {key: cleaned value} for the keys present (``skip`` keys are left out, checked elsewhere, e.g.
    sub-tables). Raises ValueError with one line starting with ``where``: the unknown key and what
    is allowed, the bad value and what was expected, or the missing required key."""
    if not isinstance(table, dict):
        raise ValueError(f"{where}: must be a table")
    clean: dict[str, Any] = {}
    for key, value in table.items():
        if key in skip:
            continue
        if key not in checks:
            raise ValueError(f"{where}: unknown key {key!r}; allowed: {', '.join([*checks, *skip])}")
        try:
            clean[key] = checks[key](value)
        except ValueError as e:
            raise ValueError(f"{where}: {key} = {value!r}: expected {e}") from None
    for key in required:
        if key not in clean:
            raise ValueError(f"{where}: {key}: missing (required)")
    return clean


def read_toml(path: Path, *, kind: str, error: type[Exception], hint: str = "") -> dict[str, Any]:
    """The TOML table in ``path``; an unreadable or malformed file raises ``error`` with one line
    naming the file (``kind`` names what it should have been, ``hint`` says what to try)."""
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as e:
        raise error(f"{path}: cannot read {kind} ({e.strerror or e}){'; ' + hint if hint else ''}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise error(f"{path}: not valid TOML: {e}") from None
