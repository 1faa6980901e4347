"""Developer tools, outside the runtime path: bench, eval, plot, trace, contact sheet, faults, demo-track generation."""
