"""The oscillator field: Kuramoto lattice, frequencies, harmonics, annealing and measures."""

from visualizer.engine.sim.field import Field, FieldConfig

__all__ = ["Field", "FieldConfig"]
