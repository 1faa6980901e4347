"""Drawing: colour lookup tables and palettes, the colourise kernel, the display and the HUD."""
