"""``python -m visualizer.bench [--json]``: the whole benchmark, a short name for
``python -m visualizer.tools.bench`` (the figures of issue 16 in one table or JSON object)."""

from visualizer.tools.bench import main

if __name__ == "__main__":
    raise SystemExit(main())
