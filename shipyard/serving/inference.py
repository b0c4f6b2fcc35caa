"""One inference request from end to end, for both APIs: prepare, run, answer, count, log.

An API turns a request body into a `Call` on the version that serves it (a feed, the outputs
wanted, and how to answer from them); `Inference.respond` does the rest.

Where the work runs. A hop to the thread pool and back costs about 100 us, more than a
small request's whole work (parsing, the feed, `session.run` and the answer of one census
row take some 40 us), so cheap requests run on the event loop itself, and only expensive
ones go to a thread, so that the loop never stalls for long:

- A body of up to `InlinePolicy.max_body_bytes` is parsed on the loop; a larger one is
  parsed on a worker thread, and its whole request runs there.
- Without batching, a request whose model run is estimated (`LoadedModel.cost`, measured
  when the version loads) at up to `InlinePolicy.max_run_s` runs on the loop; a costlier
  one runs on a worker thread.
- With batching the feed is queued on the version's batch queue, and the event loop awaits
  it holding no thread, so a full queue, not the thread pool, bounds the requests waiting
  (see `batching`). The batch thread only runs the model and hands each request its rows
  of the outputs; each request then writes its own answer on the loop (or, for a body too
  large for the loop, on a worker thread), so the batch thread holds the GIL for the run
  and the split alone, and the next batch starts sooner.

Request ids. Every answer carries its request's id in the `X-Request-Id` header, the id the
request log writes: the client's own `X-Request-Id` when it sent a sane one
(`checked_request_id`), else KServe's body `id` (or a new UUID, as before), else one drawn
by `new_request_id` (a random prefix per process and a counter: unique without a `uuid4`
per request).
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import os
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from starlette.concurrency import run_in_threadpool

from shipyard.errors import DataError
from shipyard.serving.messages import encode_json

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np

    from shipyard.serving.batching import BatchQueue
    from shipyard.serving.feed import Feed
    from shipyard.serving.loaded_model import LoadedModel, RunCost
    from shipyard.serving.metrics import Metrics
    from shipyard.serving.registry import ModelRegistry
    from shipyard.serving.request_log import RequestLog
    from shipyard.serving.tally import VersionTally

    Outputs = dict[str, np.ndarray]
    _Answer = tuple[bytes, str, int]

DEFAULT_INLINE_RUN_S = 0.001
DEFAULT_INLINE_BODY_BYTES = 32 * 2**10
REQUEST_ID_HEADER = "X-Request-Id"
MAX_REQUEST_ID_CHARS = 128


class _RequestIds:
    """This process's random prefix and counter; a forked child draws its own."""

    def __init__(self) -> None:
        self.reseed()
        os.register_at_fork(after_in_child=self.reseed)

    def reseed(self) -> None:
        """Draw a new prefix and restart the counter."""
        self.prefix = os.urandom(8).hex()
        self.counter = itertools.count(1)


_IDS = _RequestIds()


def new_request_id() -> str:
    """Return a request id unique to this server: 32 hex digits, a prefix and a counter."""
    return f"{_IDS.prefix}{next(_IDS.counter):016x}"


def checked_request_id(value: str) -> str:
    """Return a client's `X-Request-Id` if it is 1 to 128 visible ASCII characters.

    Raises:
        DataError: It is empty, too long, or holds spaces, controls or non-ASCII characters.
    """
    if 0 < len(value) <= MAX_REQUEST_ID_CHARS and value.isascii() and value.isprintable():
        if " " not in value:
            return value
    shown = value if len(value) <= 40 else value[:37] + "..."
    raise DataError(
        f"The {REQUEST_ID_HEADER} header must be 1 to {MAX_REQUEST_ID_CHARS} visible ASCII "
        f"characters (no spaces). Got {shown!r} ({len(value)} characters) instead. Send "
        "another id, or none: the server then draws one and answers it in the header."
    )


@dataclass(frozen=True)
class InlinePolicy:
    """Which requests run on the event loop rather than on a worker thread.

    Attributes:
        max_run_s: The longest estimated model run done on the loop; 0 sends every
            request to the thread pool (or, with batching, to its batch queue through it).
        max_body_bytes: The largest body parsed on the loop.
    """

    max_run_s: float = DEFAULT_INLINE_RUN_S
    max_body_bytes: int = DEFAULT_INLINE_BODY_BYTES

    def parses_inline(self, body_bytes: int) -> bool:
        """Whether a body of `body_bytes` is parsed (and its feed built) on the loop."""
        return body_bytes <= self.inline_body_limit

    @property
    def inline_body_limit(self) -> int:
        """The largest body parsed on the loop (-1 when none is)."""
        return self.max_body_bytes if self.max_run_s > 0 else -1

    def max_inline_rows(self, cost: RunCost) -> int:
        """The most rows a run of this cost may have and still run on the loop (0: none)."""
        if cost.estimate_s(1) > self.max_run_s:
            return 0
        if cost.per_row_s <= 0:
            return 2**62
        rows = max(1, int((self.max_run_s - cost.fixed_s) / cost.per_row_s))
        while rows > 1 and cost.estimate_s(rows) > self.max_run_s:  # rounding, either way
            rows -= 1
        while cost.estimate_s(rows + 1) <= self.max_run_s:
            rows += 1
        return rows


class Call:
    """A request's work on one version, prepared from its body.

    Attributes:
        feed: The model's inputs, one `[N, 1]` (or `[N]`) array per input.
        outputs: The outputs the answer needs, in order; None for all.
        answer: Builds the JSON content from those outputs.
        request_id: The request's id, answered in `X-Request-Id` and written to the log.
        rows: The number of rows in the feed.
    """

    __slots__ = ("answer", "feed", "outputs", "request_id", "rows")

    def __init__(
        self,
        feed: Feed,
        outputs: list[str] | None,
        answer: Callable[[Outputs], Any],
        request_id: str,
    ) -> None:
        self.feed = feed
        self.outputs = outputs
        self.answer = answer
        self.request_id = request_id
        self.rows = len(next(iter(feed.values())))


class Inference:
    """Runs prepared calls on a registry's versions, with metrics and the request log.

    Example:
        >>> inference = Inference(registry)
        >>> prepare = functools.partial(prepare_call, "predict", body, None)
        >>> body, request_id = await inference.respond(
        ...     "penguins", body_bytes=len(body), prepare=prepare
        ... )
    """

    def __init__(
        self,
        registry: ModelRegistry,
        *,
        metrics: Metrics | None = None,
        request_log: RequestLog | None = None,
        inline: InlinePolicy | None = None,
    ) -> None:
        self._registry = registry
        self._metrics = metrics
        self._log = request_log
        self._inline = inline or InlinePolicy()
        self._inline_body_limit = self._inline.inline_body_limit
        self._versions: dict[LoadedModel, _VersionState] = {}
        self._handoff: _Handoff | None = None  # the last event loop's

    async def respond(
        self,
        name: str,
        *,
        version: int | None = None,
        label: str | None = None,
        body_bytes: int,
        prepare: Callable[[LoadedModel], Call],
    ) -> tuple[bytes, str]:
        """Answer one request on `name` (its default version, `version` or `label`'s).

        Args:
            name: The model.
            version: The version asked for, if any.
            label: The label asked for, if any.
            body_bytes: The size of the body `prepare` parses: small ones are parsed on
                the event loop.
            prepare: Parses the body into a call on the version that serves it.

        Returns:
            The JSON body of the answer (status 200) and the request's id.

        Raises:
            NotFoundError: No such model, version or label.
            DataError: `prepare` refused the body, or the model refused its values.
            QueueFullError: Batching is on and the version's queue is full.
        """
        model = self._registry.enter(name, version=version, label=label, split=True)
        start = time.perf_counter()
        version_state = self._versions.get(model) or self._version(model)
        try:
            if body_bytes > self._inline_body_limit:
                answer = await self._threaded(model, prepare)
            else:
                logged = None if self._log is None else self._log.start_request()
                call = prepare(model)
                batches = model.batches
                if batches is not None:
                    outputs = await self._batched(batches, call, logged)
                    answer = self._answer(model, call, logged, outputs, batched=True)
                elif call.rows <= version_state.inline_rows:
                    outputs = model.run(call.feed, None if logged is not None else call.outputs)
                    answer = self._answer(model, call, logged, outputs, batched=False)
                else:
                    answer = await run_in_threadpool(self._run, model, call, logged)
        except BaseException as exc:
            tally = version_state.tally
            if tally is not None and not isinstance(exc, asyncio.CancelledError):
                tally.request(time.perf_counter() - start, 0, failed=True)
            raise
        finally:
            model.leave()
        if version_state.tally is not None:
            version_state.tally.request(time.perf_counter() - start, answer[2])
        return answer[0], answer[1]

    async def _threaded(
        self, model: LoadedModel, prepare: Callable[[LoadedModel], Call]
    ) -> _Answer:
        """Answer a request whose body is too large for the loop, on worker threads."""
        batches = model.batches
        if batches is None:
            return await run_in_threadpool(self._run_alone, model, prepare)
        call, logged = await run_in_threadpool(self._prepare, model, prepare)
        outputs = await self._batched(batches, call, logged)
        return await run_in_threadpool(self._answer, model, call, logged, outputs, batched=True)

    def _version(self, model: LoadedModel) -> _VersionState:
        """What requests on `model` need, worked out on its first request."""
        if len(self._versions) > 64:  # versions come and go
            self._versions.clear()
        tally = None
        if self._metrics is not None:
            tally = self._metrics.version_series(model.name, model.version)
        state = _VersionState(self._inline.max_inline_rows(model.cost), tally)
        self._versions[model] = state
        return state

    def _run_alone(self, model: LoadedModel, prepare: Callable[[LoadedModel], Call]) -> _Answer:
        call, logged = self._prepare(model, prepare)
        return self._run(model, call, logged)

    def _run(self, model: LoadedModel, call: Call, logged: int | None) -> _Answer:
        outputs = model.run(call.feed, None if logged is not None else call.outputs)
        return self._answer(model, call, logged, outputs, batched=False)

    def _batched(
        self, batches: BatchQueue, call: Call, logged: int | None
    ) -> asyncio.Future[Outputs]:
        """Queue the call on its version's batches; the future gets its rows of the outputs.

        Raises:
            QueueFullError: The version's queue is full.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outputs] = loop.create_future()
        handoff = self._handoff
        if handoff is None or handoff.loop is not loop:  # (a server has one loop)
            handoff = self._handoff = _Handoff(loop)
        done = functools.partial(handoff.put, future)
        batches.submit(
            call.feed, None if logged is not None else call.outputs, call.rows, None, done
        )
        return future

    def _prepare(
        self, model: LoadedModel, prepare: Callable[[LoadedModel], Call]
    ) -> tuple[Call, int | None]:
        """Parse the call; the second item is its log start time when it is logged."""
        started = None if self._log is None else self._log.start_request()
        return prepare(model), started

    def _answer(
        self,
        model: LoadedModel,
        call: Call,
        logged: int | None,
        outputs: Outputs,
        *,
        batched: bool,
    ) -> _Answer:
        """Log the request if sampled and write its answer: the JSON, the request's id and
        the rows it ran alone (0 when `batched`: the batch thread counted the run)."""
        if logged is not None and self._log is not None:
            self._log.add(
                model=model.name,
                version=model.version,
                request_id=call.request_id,
                feed=call.feed,
                outputs=outputs,
                started_ns=logged,
            )
        if call.outputs is not None:
            outputs = {name: outputs[name] for name in call.outputs}
        return encode_json(call.answer(outputs)), call.request_id, 0 if batched else call.rows


class _VersionState(NamedTuple):
    """What every request on one version needs: the most rows it runs on the event loop,
    and its metrics (kept after it unloads: the tally then hands each update over at once)."""

    inline_rows: int
    tally: VersionTally | None


class _Handoff:
    """Hands batch threads' results to one event loop, one wake-up for many requests.

    Waking a loop from another thread costs a system call on each side; a batch settles
    all its requests at once, so the first result schedules one drain and the others of
    the batch (and any that arrive before the drain runs) join it.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._lock = threading.Lock()
        self._pending: list[tuple[asyncio.Future[Outputs], Outputs | None, Exception | None]] = []

    def put(
        self, future: asyncio.Future[Outputs], outputs: Outputs | None, error: Exception | None
    ) -> None:
        """Settle `future` on the loop with `outputs` or `error` (from any thread)."""
        with self._lock:
            self._pending.append((future, outputs, error))
            if len(self._pending) > 1:
                return  # a drain is scheduled and has not run yet
        self.loop.call_soon_threadsafe(self._drain)

    def _drain(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
        for future, outputs, error in pending:
            _settle(future, outputs, error)


def _settle(
    future: asyncio.Future[Outputs], outputs: Outputs | None, error: Exception | None
) -> None:
    """Hand a batch thread's outputs to the waiting request (unless it went away)."""
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        assert outputs is not None
        future.set_result(outputs)
