"""Guided meditation sessions: timelines of phases on one field, a breath pacer, a drone/bell
bed, a per-frame driver for the window, a headless runner and the session report."""


class ReportError(Exception):
    """A session report could not be written (the message says which file and why, in one line)."""
