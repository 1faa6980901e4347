"""Audio-reactive live visualizer: music shapes a field of coupled Kuramoto oscillators."""

__version__ = "0.1.0"
