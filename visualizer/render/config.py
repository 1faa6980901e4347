"""A preset's [display] section (the look the renderer uses; lightness and saturation are
parameters in the registry so music and controllers can move them)."""

from __future__ import annotations

from dataclasses import dataclass

from visualizer.render.colour import DEFAULT_PALETTE

VIEWS = ("phase", "antiphase", "domains", "auto")
REFERENCES = ("fixed", "mean")  # see visualizer.engine.phase_reference


@dataclass(frozen=True)
class DisplayConfig:
    """palette : a name from ``visualizer.render.colour.PALETTES``. view : "phase" draws θ;
    "antiphase" draws θ + π on every other cell, so checkerboard order shows as flat colour;
    "domains" draws each region as the one of those two that suits it (checkerboard domains and
    smooth ones side by side, neither as cell-sized static); "auto" follows the field as a whole:
    anti-phase while most neighbours are in anti-phase, else phase.
    reference : "fixed" colours absolute phase; "mean" colours phase relative to the field's
    mean phase, so a coherent field holds one colour (see ``engine.phase_reference``)."""

    palette: str = DEFAULT_PALETTE
    view: str = "phase"
    reference: str = "fixed"
