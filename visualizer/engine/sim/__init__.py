"""The oscillator field: Kuramoto lattice, frequencies, harmonics, annealing and measures.

``Field`` and ``FieldConfig`` load on first use (PEP 562), so a light module here
(``neighbourhood``) never pulls in numba and the kernels."""

__all__ = ["Field", "FieldConfig"]


def __getattr__(name: str):
    if name in __all__:
        from visualizer.engine.sim import field

        return getattr(field, name)
    raise AttributeError(f"module 'visualizer.engine.sim' has no attribute {name!r}")
