"""The field's ears: audio sources, the ring buffer, streaming analysis and beat tracking."""
