"""Work that waiting requests share: what queues up while one group is handled is handled
next as one group (one commit, one check), each request getting its own share back.

>>> doubled = Grouped(lambda items: [2 * i for i in items], name="double")
>>> doubled.submit(21).result()
42
>>> doubled.close()
"""

from __future__ import annotations

import concurrent.futures
import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Grouped(Generic[T, R]):
    """``workers`` threads in front of ``handle``, which takes a group of items and returns
    one result per item, in order. ``weight(item)`` counts toward ``max_weight`` a group may
    reach (a group always holds at least one item). What ``handle`` raises goes to every
    request of the group."""

    def __init__(
        self,
        handle: Callable[[list[T]], list[R]],
        *,
        name: str,
        workers: int = 1,
        max_weight: int = 20_000,
        weight: Callable[[T], int] = lambda item: 1,
    ) -> None:
        self.handle = handle
        self.max_weight = max_weight
        self.weight = weight
        self._queue: queue.Queue[tuple[T, concurrent.futures.Future[R]] | None] = queue.Queue()
        self._threads = [
            threading.Thread(target=self._run, name=f"kefu-{name}-{n}", daemon=True)
            for n in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, item: T) -> concurrent.futures.Future[R]:
        future: concurrent.futures.Future[R] = concurrent.futures.Future()
        self._queue.put((item, future))
        return future

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            group, weight, stop = [first], self.weight(first[0]), False
            while weight < self.max_weight:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                group.append(item)
                weight += self.weight(item[0])
            self._handle(group)
            if stop:
                return

    def _handle(self, group: list[tuple[T, concurrent.futures.Future[R]]]) -> None:
        try:
            results = self.handle([item for item, _ in group])
        except Exception as exc:
            for _, future in group:
                _settle(future, exception=exc)
            return
        for (_, future), result in zip(group, results, strict=True):
            _settle(future, result=result)

    def close(self) -> None:
        """Handle what is queued, then stop the workers."""
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()


def _settle(
    future: concurrent.futures.Future[R],
    result: R | None = None,
    exception: BaseException | None = None,
) -> None:
    """Resolve ``future`` unless its request gave up waiting (a cancelled request: a
    client that hung up): a worker must outlive any one request."""
    try:
        if exception is not None:
            future.set_exception(exception)
        else:
            future.set_result(result)  # type: ignore[arg-type]
    except concurrent.futures.InvalidStateError:
        pass  # cancelled meanwhile: nobody waits for it
