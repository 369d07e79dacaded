"""The machinery of the sync facades: a private event-loop thread per process and typed descriptors.

Apart from ``sync.Client`` so that the resources' facades (``SyncSessions``...) can use it without
importing the client that imports them.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import inspect
import os
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, cast, overload

__all__ = ["LoopThread", "SyncResource", "await_", "loop_thread", "sync_iter_method", "sync_method"]

T = TypeVar("T")
R = TypeVar("R")
#: covariant, so that a facade of a subclass also serves methods the subclass inherits
R_co = TypeVar("R_co", covariant=True)
P = ParamSpec("P")


async def _anext(iterator: AsyncIterator[T]) -> T:
    return await iterator.__anext__()


async def await_(awaitable: Awaitable[T]) -> T:
    return await awaitable


class LoopThread:
    """A daemon thread running one asyncio loop; sync code hands it coroutines and waits for the results."""

    def __init__(self, name: str = "backendai-jupyter-loop") -> None:
        self._name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pid = 0

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The loop, started on first use (and restarted in a forked child)."""
        with self._lock:
            if (
                self._loop is None
                or self._thread is None
                or not self._thread.is_alive()
                or self._pid != os.getpid()
            ):
                loop = asyncio.new_event_loop()
                started = threading.Event()

                def main() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(started.set)
                    loop.run_forever()

                thread = threading.Thread(target=main, name=self._name, daemon=True)
                thread.start()
                started.wait()
                self._loop, self._thread, self._pid = loop, thread, os.getpid()
            return self._loop

    def in_loop_thread(self) -> bool:
        """Whether the caller runs on this loop's thread (where blocking on it would deadlock)."""
        return self._thread is not None and threading.current_thread() is self._thread

    def run(self, coro: Coroutine[Any, Any, T], *, timeout: float | None = None) -> T:
        """Run a coroutine on the loop thread and block until it finishes (Ctrl-C cancels it)."""
        if self.in_loop_thread():
            coro.close()
            raise RuntimeError(
                "a sync backendai_jupyter call was made from the SDK's own event-loop thread, which would "
                "deadlock; await the async API (AsyncClient) there instead"
            )
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"the call did not finish within {timeout} s and was cancelled") from None
        except BaseException:
            # KeyboardInterrupt in Jupyter: stop the work on the loop too, not just the wait.
            future.cancel()
            raise

    def iterate(self, agen: AsyncIterator[T]) -> Iterator[T]:
        """Pull items of an async iterator through the loop thread; closing this iterator closes it."""
        try:
            while True:
                try:
                    item = self.run(_anext(agen))
                except StopAsyncIteration:
                    return
                yield item
        finally:
            aclose = getattr(agen, "aclose", None)
            if aclose is not None and not self.in_loop_thread():
                self.run(aclose())

    def stop(self) -> None:
        """Stop the loop and its thread (a later call starts a new one)."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None or not thread.is_alive():
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        if not thread.is_alive():
            loop.close()


_instance: LoopThread | None = None
_instance_lock = threading.Lock()


def loop_thread() -> LoopThread:
    """The process-wide loop thread."""
    global _instance
    with _instance_lock:
        if _instance is None:
            _instance = LoopThread()
            atexit.register(_instance.stop)
        return _instance


class SyncResource(Generic[R_co]):
    """Base of the sync facades: holds the async resource and the loop thread that runs it."""

    def __init__(self, async_resource: R_co, *, loop: LoopThread | None = None) -> None:
        self._async = async_resource
        self._loop = loop if loop is not None else loop_thread()


class sync_method(Generic[R, P, T]):
    """``name = sync_method(AsyncThing.name)``: the same parameters and result, run on the loop thread."""

    def __init__(self, func: Callable[Concatenate[R, P], Coroutine[Any, Any, T]]) -> None:
        self._func = func
        self._name = func.__name__
        self.__doc__ = func.__doc__

    @overload
    def __get__(self, obj: None, objtype: type[Any] | None = None) -> sync_method[R, P, T]: ...
    @overload
    def __get__(self, obj: SyncResource[R], objtype: type[Any] | None = None) -> Callable[P, T]: ...
    def __get__(
        self, obj: SyncResource[R] | None, objtype: type[Any] | None = None
    ) -> sync_method[R, P, T] | Callable[P, T]:
        if obj is None:
            return self
        name = self._name

        def call(*args: P.args, **kwargs: P.kwargs) -> T:
            # Look the method up on the instance so that subclass overrides are honoured.
            method = cast(Callable[P, Coroutine[Any, Any, T]], getattr(obj._async, name))
            return obj._loop.run(method(*args, **kwargs))

        call.__name__ = name
        call.__doc__ = self.__doc__
        return call


class sync_iter_method(Generic[R, P, T]):
    """``name = sync_iter_method(AsyncThing.name)``: an ``AsyncIterator[T]`` method as ``Iterator[T]``."""

    def __init__(self, func: Callable[Concatenate[R, P], AsyncIterator[T]]) -> None:
        self._func = func
        self._name = func.__name__
        self.__doc__ = func.__doc__

    @overload
    def __get__(self, obj: None, objtype: type[Any] | None = None) -> sync_iter_method[R, P, T]: ...
    @overload
    def __get__(self, obj: SyncResource[R], objtype: type[Any] | None = None) -> Callable[P, Iterator[T]]: ...
    def __get__(
        self, obj: SyncResource[R] | None, objtype: type[Any] | None = None
    ) -> sync_iter_method[R, P, T] | Callable[P, Iterator[T]]:
        if obj is None:
            return self
        name = self._name

        def call(*args: P.args, **kwargs: P.kwargs) -> Iterator[T]:
            method = cast(Callable[P, Any], getattr(obj._async, name))
            result = method(*args, **kwargs)
            if inspect.isawaitable(result):
                # Also accept "async def f() -> AsyncIterator[T]" (a coroutine that returns the iterator).
                result = obj._loop.run(await_(result))
            return obj._loop.iterate(cast(AsyncIterator[T], result))

        call.__name__ = name
        call.__doc__ = self.__doc__
        return call
