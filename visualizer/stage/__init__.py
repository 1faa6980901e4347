"""Live control: OSC, MIDI (learn, notes, clock), scenes and stage actions.

Controllers never touch the session: their threads only enqueue validated ``ControlChange``s,
which the render loop drains once per frame (``Performance.before_advance``).
"""
