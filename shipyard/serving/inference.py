"""One inference request from end to end, for both APIs: prepare, run, answer, count, log.

An API turns a request body into a `Call` on the version that serves it (a feed, the outputs
wanted, and how to answer from them); `Inference.respond` does the rest. Without batching
the whole request runs on one worker thread. With batching a worker thread parses the body
and queues the feed on the version's batch queue; the batch thread that runs the batch then
writes each request's answer, and the event loop awaits it holding no thread, so a full
queue, not the thread pool, bounds the requests waiting (see `batching`). Either way a
request costs one hop to a thread and back.
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool

from shipyard.serving.messages import json_response

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np
    from starlette.responses import Response

    from shipyard.serving.batching import BatchQueue
    from shipyard.serving.feed import Feed
    from shipyard.serving.loaded_model import LoadedModel
    from shipyard.serving.metrics import Metrics
    from shipyard.serving.registry import ModelRegistry
    from shipyard.serving.request_log import RequestLog

    Outputs = dict[str, np.ndarray]


@dataclass(frozen=True)
class Call:
    """A request's work on one version, prepared from its body.

    Attributes:
        feed: The model's inputs, one `[N, 1]` (or `[N]`) array per input.
        outputs: The outputs the answer needs, in order; None for all.
        answer: Builds the JSON content from those outputs.
        request_id: The request's id (KServe's `id`); None draws one for the request log.
    """

    feed: Feed
    outputs: list[str] | None
    answer: Callable[[Outputs], Any]
    request_id: str | None = None

    @property
    def rows(self) -> int:
        """The number of rows in the feed."""
        return len(next(iter(self.feed.values())))


class Inference:
    """Runs prepared calls on a registry's versions, with metrics and the request log.

    Example:
        >>> inference = Inference(registry)
        >>> await inference.respond("penguins", prepare=lambda model: predict(model, payload))
    """

    def __init__(
        self,
        registry: ModelRegistry,
        *,
        metrics: Metrics | None = None,
        request_log: RequestLog | None = None,
    ) -> None:
        self._registry = registry
        self._metrics = metrics
        self._log = request_log

    async def respond(
        self,
        name: str,
        *,
        version: int | None = None,
        label: str | None = None,
        prepare: Callable[[LoadedModel], Call],
    ) -> Response:
        """Answer one request on `name` (its default version, `version` or `label`'s).

        Raises:
            NotFoundError: No such model, version or label.
            DataError: `prepare` refused the body, or the model refused its values.
            QueueFullError: Batching is on and the version's queue is full.
        """
        with self._registry.acquire(name, version=version, label=label, split=True) as model:
            if model.batches is None:
                return await run_in_threadpool(self._run_alone, model, prepare)
            answer: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
            await run_in_threadpool(self._enqueue, model, model.batches, prepare, answer)
            return await answer

    def _run_alone(self, model: LoadedModel, prepare: Callable[[LoadedModel], Call]) -> Response:
        call, logged = self._prepare(model, prepare)
        outputs = model.run(call.feed, None if logged else call.outputs)
        if self._metrics is not None:
            self._metrics.observe_batch(model.name, model.version, call.rows)
        return self._answer(model, call, logged, outputs)

    def _enqueue(
        self,
        model: LoadedModel,
        batches: BatchQueue,
        prepare: Callable[[LoadedModel], Call],
        future: asyncio.Future[Response],
    ) -> None:
        call, logged = self._prepare(model, prepare)
        loop = future.get_loop()

        def done(response: Response | None, error: Exception | None) -> None:
            loop.call_soon_threadsafe(_settle, future, response, error)

        answer = functools.partial(self._answer, model, call, logged)
        batches.submit(call.feed, None if logged else call.outputs, call.rows, answer, done)

    def _prepare(
        self, model: LoadedModel, prepare: Callable[[LoadedModel], Call]
    ) -> tuple[Call, bool]:
        call = prepare(model)
        return call, self._log is not None and self._log.sampled()

    def _answer(self, model: LoadedModel, call: Call, logged: bool, outputs: Outputs) -> Response:
        """Log the request if sampled, write its answer and count it."""
        if logged and self._log is not None:
            self._log.add(
                model=model.name,
                version=model.version,
                request_id=call.request_id or uuid.uuid4().hex,
                feed=call.feed,
                outputs=outputs,
            )
        if call.outputs is not None:
            outputs = {name: outputs[name] for name in call.outputs}
        response = json_response(call.answer(outputs))
        if self._metrics is not None:
            self._metrics.version_requests.labels(model.name, str(model.version)).inc()
        return response


def _settle(
    future: asyncio.Future[Response], response: Response | None, error: Exception | None
) -> None:
    """Hand a batch thread's answer to the waiting request (unless it went away)."""
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        assert response is not None
        future.set_result(response)
