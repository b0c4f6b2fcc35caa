"""Server-side batching as TensorFlow Serving does it: requests queue, run together, split back.

Each served version has a `BatchQueue`; one `BatchScheduler` owns `num_batch_threads` threads
shared by every queue. A request's rows join the open batch of its version's queue when they
fit in `max_batch_size`; otherwise that batch closes and a new one opens. A batch runs once it
is full, or once `batch_timeout_micros` have passed since it opened, as soon as a thread is
free (with a timeout of 0 a batch grows only while every thread is busy). The window adapts
to the load: each queue keeps a moving average of the time between its requests, and a
batch whose next request is not expected before its deadline runs at once, so that at low
load no request waits for company that will not come. Its feeds are
concatenated along the rows with NumPy, the model runs once, and the batch thread hands each
request its rows of the outputs (the request's `answer` turns them into its response). A
request with more rows than `max_batch_size` is not split: it runs alone, as a batch of its
own. When a request would open a batch while `max_enqueued_batches` already wait, it is
refused with `QueueFullError` (503: load shedding, not bad input). A batch that fails runs
again request by request, so a request ONNX Runtime refuses fails alone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from shipyard.errors import QueueFullError

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np

    from shipyard.serving.config import BatchingOptions
    from shipyard.serving.feed import Feed

    Outputs = dict[str, np.ndarray]
    Run = Callable[[Feed, list[str] | None], Outputs]
    Answer = Callable[[Outputs], Any]
    Done = Callable[[Any, Exception | None], None]

logger = logging.getLogger("shipyard.serving")


class _Task:
    __slots__ = ("answer", "done", "feed", "outputs", "rows")

    def __init__(
        self, feed: Feed, outputs: list[str] | None, rows: int, answer: Answer | None, done: Done
    ) -> None:
        self.feed = feed
        self.outputs = outputs
        self.rows = rows
        self.answer = answer
        self.done = done

    def settle(self, outputs: Outputs | None, error: Exception | None = None) -> None:
        """Answer from this task's outputs, or fail it; never raises."""
        answer: Any = None
        if outputs is not None:
            try:
                answer = outputs if self.answer is None else self.answer(outputs)
            except Exception as exc:  # this task only
                error = exc
        try:
            self.done(answer, error)
        except Exception:  # e.g. the event loop closed: nobody waits any more
            logger.exception("Could not hand an answer back.")


class _Batch:
    __slots__ = ("closed", "deadline", "rows", "tasks")

    def __init__(self, deadline: float) -> None:
        self.tasks: list[_Task] = []
        self.rows = 0
        self.deadline = deadline
        self.closed = False


class BatchQueue:
    """The batches of one version; `submit` is safe to call from any thread."""

    def __init__(self, scheduler: BatchScheduler, run: Run, *, name: str, version: int) -> None:
        self.name = name
        self.version = version
        self.run = run
        self.batches: deque[_Batch] = deque()
        self.gap_s = 0.0
        """The recent time between two requests (a moving average): the window's guide."""
        self.last_arrival = float("-inf")
        self._scheduler = scheduler

    def submit(
        self, feed: Feed, outputs: list[str] | None, rows: int, answer: Answer | None, done: Done
    ) -> None:
        """Queue a request of `rows` rows; `done` gets what `answer` makes of its outputs.

        Args:
            feed: The request's inputs.
            outputs: The outputs it needs; None for all.
            rows: The rows in `feed`.
            answer: Called on a batch thread with the request's rows of the outputs; None
                hands `done` those rows themselves (the caller answers on its own thread).
            done: Called on a batch thread with `answer`'s result and None, or with None
                and the error the run or `answer` raised.

        Raises:
            QueueFullError: `max_enqueued_batches` batches already wait.
        """
        self._scheduler.enqueue(self, _Task(feed, outputs, rows, answer, done))


class BatchScheduler:
    """The threads that run every queue's batches, round robin across queues.

    Example:
        >>> scheduler = BatchScheduler(BatchingOptions(max_batch_size=32))
        >>> queue = scheduler.queue(model.run, name="penguins", version=3)
        >>> queue.submit(feed, None, 1, answer=format_outputs, done=reply)
        >>> scheduler.close()
    """

    def __init__(
        self, options: BatchingOptions, *, observe: Callable[[str, int, int], None] | None = None
    ) -> None:
        """Start `options.num_batch_threads` threads.

        Args:
            options: The batching parameters.
            observe: Called with the model name, version and rows of every batch run.
        """
        self.options = options
        self._timeout_s = options.batch_timeout_micros / 1e6
        self._observe = observe
        self._lock = threading.Lock()
        self._condition = threading.Condition(self._lock)
        self._idle = 0  # threads waiting on the condition: only they need a notify
        self._waiting: deque[BatchQueue] = deque()  # queues holding batches
        self._stopping = False
        self._threads = [
            threading.Thread(target=self._work, name=f"shipyard-batch-{i}", daemon=True)
            for i in range(options.num_batch_threads)
        ]
        for thread in self._threads:
            thread.start()

    def queue(self, run: Run, *, name: str, version: int) -> BatchQueue:
        """Return a queue whose batches `run` runs (a version's `LoadedModel.run`)."""
        return BatchQueue(self, run, name=name, version=version)

    def enqueue(self, queue: BatchQueue, task: _Task) -> None:
        """Add a task to the open batch of `queue`, or open one (see the module docstring).

        Raises:
            QueueFullError: Opening a batch would exceed `max_enqueued_batches`.
        """
        limit = self.options.max_batch_size
        now = time.monotonic()
        with self._lock:
            gap = min(now - queue.last_arrival, 2 * self._timeout_s)  # quick to catch a burst
            queue.gap_s = 0.75 * queue.gap_s + 0.25 * gap
            queue.last_arrival = now
            batches = queue.batches
            last = batches[-1] if batches and not batches[-1].closed else None
            if last is not None and last.rows + task.rows <= limit:
                last.tasks.append(task)
                last.rows += task.rows
                if last.rows >= limit:
                    last.closed = True
                    if self._idle:
                        self._condition.notify()
                return
            if last is not None:
                last.closed = True
            if len(batches) >= self.options.max_enqueued_batches:
                if self._idle:
                    self._condition.notify()
                raise QueueFullError(
                    f"The model {queue.name!r} (version {queue.version}) has "
                    f"{len(batches)} batches waiting, the most --max-enqueued-batches allows; "
                    f"retry later, or serve with more --num-batch-threads or --workers."
                )
            batch = _Batch(now + self._timeout_s)
            batch.tasks.append(task)
            batch.rows = task.rows
            batch.closed = task.rows >= limit
            batches.append(batch)
            if len(batches) == 1:
                self._waiting.append(queue)
            if self._idle:
                self._condition.notify()

    def close(self, timeout_s: float = 30.0) -> None:
        """Run what is queued, then stop the threads (waiting up to `timeout_s` each)."""
        with self._lock:
            self._stopping = True
            self._condition.notify_all()
        for thread in self._threads:
            thread.join(timeout_s)

    def _work(self) -> None:
        while True:
            with self._lock:
                while True:
                    queue, batch, wait_s = self._take(time.monotonic())
                    if batch is not None or (self._stopping and not self._waiting):
                        break
                    self._idle += 1
                    self._condition.wait(wait_s)
                    self._idle -= 1
            if queue is None or batch is None:
                return
            self._run(queue, batch)

    def _take(self, now: float) -> tuple[BatchQueue | None, _Batch | None, float | None]:
        """Pop the first ready batch, round robin; else return how long to wait for one."""
        wait_s: float | None = None
        for _ in range(len(self._waiting)):
            queue = self._waiting[0]
            head = queue.batches[0]
            # Adaptive window: wait for more rows only while the next request is expected
            # before the deadline; at low load a batch runs at once, with no waiting.
            alone = now + queue.gap_s > head.deadline
            if head.closed or head.deadline <= now or alone or self._stopping:
                queue.batches.popleft()
                head.closed = True
                if queue.batches:
                    self._waiting.rotate(-1)
                else:
                    self._waiting.popleft()
                return queue, head, None
            left_s = head.deadline - now
            wait_s = left_s if wait_s is None else min(wait_s, left_s)
            self._waiting.rotate(-1)
        return None, None, wait_s

    def _run(self, queue: BatchQueue, batch: _Batch) -> None:
        tasks = batch.tasks
        if self._observe is not None:
            self._observe(queue.name, queue.version, sum(task.rows for task in tasks))
        if len(tasks) > 1:
            try:
                results = _run_together(queue.run, tasks)
            except Exception as exc:  # run each alone: only the request at fault fails
                logger.debug("A batch failed (%s); running its requests one by one.", exc)
            else:
                for task, outputs in zip(tasks, results, strict=True):
                    task.settle(outputs)
                return
        for task in tasks:
            try:
                outputs = queue.run(task.feed, task.outputs)
            except Exception as exc:
                task.settle(None, exc)
            else:
                task.settle(outputs)


def _run_together(run: Run, tasks: list[_Task]) -> list[Outputs]:
    """Run the tasks' feeds as one and return each task's rows of the outputs.

    Raises:
        ValueError: An output's first dimension is not the rows (it cannot be split).
        Exception: Whatever the run raised.
    """
    import numpy as np

    names: list[str] | None = []
    for task in tasks:
        if task.outputs is None or names is None:
            names = None
        else:
            names += [name for name in task.outputs if name not in names]
    feed = {key: np.concatenate([task.feed[key] for task in tasks]) for key in tasks[0].feed}
    outputs = run(feed, names)
    total = sum(task.rows for task in tasks)
    if any(value.shape[:1] != (total,) for value in outputs.values()):
        raise ValueError("an output does not hold one entry per row")
    split: list[Outputs] = []
    start = 0
    for task in tasks:
        stop = start + task.rows
        wanted = outputs if task.outputs is None else task.outputs
        split.append({name: outputs[name][start:stop] for name in wanted})
        start = stop
    return split
