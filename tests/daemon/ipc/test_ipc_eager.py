"""start_eagerly: synchronous completion, hand-over to a Task, cancellation and errors."""

from __future__ import annotations

import asyncio

import pytest

from sqry.daemon.ipc.eager import start_eagerly

pytestmark = pytest.mark.timeout(30)


def test_completes_synchronously_without_a_task() -> None:
    async def main() -> None:
        log: list[str] = []

        async def quick() -> None:
            log.append("ran")

        assert start_eagerly(quick()) is None
        assert log == ["ran"]  # ran inside the call, not on a later loop iteration

    asyncio.run(main())


def test_suspension_is_continued_by_a_task_with_results_and_errors() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        first: asyncio.Future[int] = loop.create_future()
        second: asyncio.Future[int] = loop.create_future()
        log: list[object] = []

        async def worker() -> None:
            log.append("start")
            log.append(await first)
            await asyncio.sleep(0)
            try:
                await second
            except ValueError as exc:
                log.append(f"caught {exc}")
            log.append("end")

        task = start_eagerly(worker())
        assert task is not None and log == ["start"]
        first.set_result(41)
        await asyncio.sleep(0)
        second.set_exception(ValueError("boom"))
        await task
        assert log == ["start", 41, "caught boom", "end"]

    asyncio.run(main())


def test_cancellation_reaches_the_inner_coroutine() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        never: asyncio.Future[None] = loop.create_future()
        log: list[str] = []

        async def worker() -> None:
            try:
                await never
            except asyncio.CancelledError:
                log.append("cancelled inside")
                raise
            finally:
                log.append("finally")

        task = start_eagerly(worker())
        assert task is not None
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert log == ["cancelled inside", "finally"]
        assert never.cancelled()

    asyncio.run(main())


def test_error_before_first_suspension_propagates() -> None:
    async def main() -> None:
        async def bad() -> None:
            raise KeyError("early")

        with pytest.raises(KeyError):
            start_eagerly(bad())

    asyncio.run(main())


def test_error_after_suspension_fails_the_task() -> None:
    async def main() -> None:
        async def later() -> None:
            await asyncio.sleep(0)
            raise LookupError("late")

        task = start_eagerly(later())
        assert task is not None
        with pytest.raises(LookupError):
            await task

    asyncio.run(main())
