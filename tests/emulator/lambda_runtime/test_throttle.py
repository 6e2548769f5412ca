"""Reserved concurrency on synchronous callers: N at once, 10 x N a second, 0 refuses all."""

from __future__ import annotations

import asyncio

import pytest

from emulator.lambda_runtime.throttle import Throttle, Throttled, reserved_concurrency


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_more_than_the_reserved_concurrency_at_once_is_throttled() -> None:
    throttle = Throttle(2)
    release = asyncio.Event()

    async def slow() -> str:
        await release.wait()
        return "done"

    running = [asyncio.create_task(throttle.run(slow)) for _ in range(2)]
    await asyncio.sleep(0)
    with pytest.raises(Throttled):
        await throttle.run(slow)
    release.set()
    assert await asyncio.gather(*running) == ["done", "done"]
    assert await throttle.run(slow) == "done"  # capacity is back
    assert throttle.throttled == 1


async def test_ten_times_the_reserved_concurrency_per_second() -> None:
    clock = Clock()
    throttle = Throttle(1, clock)

    async def quick() -> int:
        return 1

    assert [await throttle.run(quick) for _ in range(10)] == [1] * 10
    with pytest.raises(Throttled):
        await throttle.run(quick)
    clock.now += 1.0
    assert await throttle.run(quick) == 1


async def test_zero_refuses_everything_and_none_nothing() -> None:
    async def quick() -> int:
        return 1

    with pytest.raises(Throttled):
        await Throttle(0).run(quick)
    unreserved = Throttle(None)
    assert await asyncio.gather(*(unreserved.run(quick) for _ in range(100))) == [1] * 100


@pytest.mark.parametrize(("value", "expected"), [(None, None), ("", None), ("5", 5), (3, 3)])
def test_reserved_concurrency_from_the_template(value, expected) -> None:
    assert reserved_concurrency(value) == expected
