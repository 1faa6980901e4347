"""Drawing without a window: colour lookup tables and palettes, the colourise kernels, the field
scaled into rows of pixels, video frames and the photosensitive flash limiter (no pygame here:
``window/`` shows what these draw)."""
