"""The dynamic batcher on its own: gathering, each request's own rows, the bounded queue, an
engine failure reaching every request of its batch, and closing after the queued work."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from zoo.serving.batcher import DynamicBatcher, QueueFull


def test_requests_waiting_together_share_one_engine_call_and_get_their_own_rows():
    gate, calls = threading.Event(), []

    def run(batch):
        gate.wait(5)
        calls.append(len(batch))
        return batch * 10

    batcher = DynamicBatcher(run, max_batch=8, timeout=1.0, max_queue=64)
    first = batcher.submit(np.array([[0]]))  # the worker takes it, then waits for the engine
    futures = [batcher.submit(np.array([[i], [i + 100]])) for i in range(1, 4)]
    gate.set()
    assert first.result(5).tolist() == [[0]]
    for i, future in enumerate(futures, start=1):
        assert future.result(5).tolist() == [[i * 10], [(i + 100) * 10]]
    assert sum(calls) == 7 and len(calls) <= 2  # 7 images in at most 2 engine calls
    batcher.close()


def test_a_full_queue_refuses_at_once_and_nothing_is_queued():
    gate = threading.Event()
    batcher = DynamicBatcher(lambda b: (gate.wait(5), b)[1], max_batch=2, timeout=0, max_queue=4)
    running = batcher.submit(np.zeros((2, 1)))  # taken at once: the engine holds it
    while batcher.depth:
        pass
    waiting = [batcher.submit(np.zeros((2, 1))) for _ in range(2)]  # 4 images waiting
    with pytest.raises(QueueFull, match="4 images are waiting"):
        batcher.submit(np.zeros((1, 1)))
    assert batcher.depth == 4
    gate.set()
    assert all(f.result(5).shape == (2, 1) for f in [running, *waiting])
    batcher.close()


def test_an_engine_failure_reaches_its_requests_and_the_worker_goes_on():
    def run(batch):
        if (batch < 0).any():
            raise RuntimeError("engine failed")
        return batch

    batcher = DynamicBatcher(run, max_batch=1, timeout=0, max_queue=8)
    with pytest.raises(RuntimeError, match="engine failed"):
        batcher.submit(np.array([[-1]])).result(5)
    assert batcher.submit(np.array([[3]])).result(5).tolist() == [[3]]
    assert batcher.stats.calls == 1 and batcher.stats.requests == 1
    batcher.close()


def test_close_finishes_the_queued_requests_first():
    batcher = DynamicBatcher(lambda b: b + 1, max_batch=4, timeout=0.2, max_queue=16)
    futures = [batcher.submit(np.array([[i]])) for i in range(6)]
    batcher.close()
    assert [f.result(0).tolist() for f in futures] == [[[i + 1]] for i in range(6)]
    with pytest.raises(RuntimeError, match="closed"):
        batcher.submit(np.array([[0]]))


def test_a_batch_waits_for_requests_on_their_way_and_never_for_nothing():
    import time

    calls = []
    batcher = DynamicBatcher(lambda b: (calls.append(len(b)), b)[1], max_batch=8, timeout=2.0,
                             max_queue=64)  # fmt: skip
    started = time.monotonic()
    batcher.submit(np.zeros((1, 1))).result(5)  # nothing else on its way: no wait
    assert time.monotonic() - started < 0.5 and calls == [1]
    batcher.expect()  # a second request is being decoded
    first = batcher.submit(np.zeros((1, 1)))
    time.sleep(0.2)
    assert not first.done()  # the batch waits for it
    second = batcher.submit(np.zeros((2, 1)))
    batcher.arrived()
    assert first.result(5).shape == (1, 1) and second.result(5).shape == (2, 1)
    assert calls == [1, 3]
    batcher.close()
