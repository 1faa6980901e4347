"""The lock-free ring buffer under a real concurrent producer and consumer."""

import threading

import numpy as np

from visualizer.engine.audio.ring import RingBuffer


def test_concurrent_producer_and_consumer_lose_and_duplicate_nothing():
    total = 3_000_000
    ring = RingBuffer(capacity=48_000, channels=2)
    received = np.zeros((total, 2), np.float32)
    rng = np.random.default_rng(0)
    sizes = rng.integers(1, 700, size=20_000)

    def produce():
        sent, i = 0, 0
        while sent < total:
            n = min(int(sizes[i % sizes.size]), total - sent)
            while ring.written - ring.read + n > ring.capacity:  # a real device would overflow; the test waits
                pass
            block = np.arange(sent, sent + n, dtype=np.float32)[:, None].repeat(2, axis=1)
            block[:, 1] *= -1
            ring.write(block)
            sent += n
            i += 1

    producer = threading.Thread(target=produce)
    producer.start()
    out = np.zeros((1024, 2), np.float32)
    got = 0
    while got < total:
        n = ring.read_into(out[: int(rng.integers(1, 1024))])
        received[got:got + n] = out[:n]
        got += n
    producer.join()
    expected = np.arange(total, dtype=np.float32)
    assert ring.overflows == 0
    assert np.array_equal(received[:, 0], expected) and np.array_equal(received[:, 1], -expected)


def test_a_consumer_that_falls_behind_skips_to_the_newest_and_counts_the_loss():
    ring = RingBuffer(capacity=100, channels=1)
    ring.write(np.arange(250, dtype=np.float32)[:, None])
    out = np.zeros((100, 1), np.float32)
    assert ring.read_into(out) == 100
    assert ring.overflows == 150
    assert np.array_equal(out[:, 0], np.arange(150, 250))


def test_limit_holds_back_frames_not_yet_heard():
    ring = RingBuffer(capacity=100, channels=1)
    ring.write(np.ones((60, 1), np.float32))
    out = np.zeros((100, 1), np.float32)
    assert ring.read_into(out, limit=40) == 40
    assert ring.read_into(out, limit=40) == 0
    assert ring.read_into(out) == 20
