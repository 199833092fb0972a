"""`kerascli.run.serve.batching`: concurrent requests share model calls, each gets back its own rows."""

import asyncio

import numpy as np

from kerascli.run.serve.batching import MicroBatcher, bucket_for, buckets, pad


def test_batch_sizes_are_powers_of_two_up_to_the_maximum():
    assert buckets(1) == [1]
    assert buckets(8) == [1, 2, 4, 8]
    assert buckets(100) == [1, 2, 4, 8, 16, 32, 64, 100]
    assert [bucket_for(n, buckets(100)) for n in (1, 3, 64, 65, 100)] == [1, 4, 64, 100, 100]


def test_padding_adds_zero_rows():
    padded = pad({"x": np.ones((3, 2), np.float32)}, 4)["x"]
    assert padded.shape == (4, 2) and padded[3].tolist() == [0, 0] and padded.dtype == np.float32


def run_concurrently(max_batch, requests, predict):
    batcher = MicroBatcher(predict, max_batch)

    async def main():
        batcher.start()
        try:
            return await asyncio.gather(*(batcher.submit({"x": x}) for x in requests))
        finally:
            await batcher.stop()

    return asyncio.run(main())


def test_queued_requests_share_a_model_call_and_get_their_own_rows():
    calls = []

    def predict(inputs):
        calls.append(len(inputs["x"]))
        return {"y": inputs["x"] * 10}

    requests = [np.full((n, 1), i, np.float32) for i, n in enumerate([1, 2, 3, 1, 5])]
    results = run_concurrently(16, requests, predict)
    for x, result in zip(requests, results):
        assert result["y"].tolist() == (x * 10).tolist()
    assert sum(calls) < 5 * 16 and len(calls) < len(requests)  # batched
    assert all(size in buckets(16) for size in calls)  # padded to a compiled size


def test_a_request_larger_than_max_batch_is_split_into_model_calls():
    calls = []

    def predict(inputs):
        calls.append(len(inputs["x"]))
        return {"y": inputs["x"] + 1}

    (result,) = run_concurrently(4, [np.arange(10, dtype=np.float32)[:, None]], predict)
    assert result["y"][:, 0].tolist() == list(range(1, 11))
    assert calls == [4, 4, 2]


def test_a_failing_model_call_fails_only_its_requests():
    def predict(inputs):
        if (inputs["x"] < 0).any():
            raise ValueError("negative")
        return {"y": inputs["x"]}

    batcher = MicroBatcher(predict, 1)

    async def main():
        batcher.start()
        try:
            return await asyncio.gather(
                batcher.submit({"x": np.ones((1, 1))}), batcher.submit({"x": -np.ones((1, 1))}), return_exceptions=True
            )
        finally:
            await batcher.stop()

    good, bad = asyncio.run(main())
    assert good["y"].tolist() == [[1.0]]
    assert isinstance(bad, ValueError)
