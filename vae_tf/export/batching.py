"""TF Serving's batching session, its rules read from tensorflow/serving's
sources, for the checks and test stand-ins that run without the server.

When the platform config sets `batching_parameters`, every request to a
model passes through a batching session (`batching_session.cc`): the
request's input tensors must each have a dimension 0 of one common size
(`batching_util.h`, `ComputeTensorBatchSize`), a request may hold at most
`max_batch_size` rows (`shared_batch_scheduler.h`,
`ValidateBatchTaskQueueCapacity`), concurrent requests to one signature
are concatenated along dimension 0, padded up to the next
`allowed_batch_sizes` entry with copies of the last request's first row
(`MergeInputTensors`), run as one call, and every output is split back
along dimension 0, which must therefore hold exactly the merged rows
(`SplitOutputTensors`). The load itself refuses inconsistent parameters
(`bundle_factory_util.cc` `WrapSessionForBatching`,
`CreateBatchingSession`, `SharedBatchScheduler::Create` / `AddQueue`).

The error messages are the server's own, so a test or check that trips a
rule reads what a client of the real server would read. NumPy only.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping, Optional, Sequence

import numpy as np

# SharedBatchScheduler::QueueOptions defaults (shared_batch_scheduler.h).
DEFAULT_MAX_BATCH_SIZE = 1000
DEFAULT_MAX_ENQUEUED_BATCHES = 10


class BatchingError(ValueError):
    """A request (or a merged batch's output) that the batching session
    refuses; the message is TF Serving's."""


@dataclasses.dataclass(frozen=True)
class BatchingRules:
    """The `BatchingParameters` of a platform config, with the server's
    defaults for unset fields.

    Attributes:
        max_batch_size: rows a request may hold (`input_batch_size_limit`)
            and, without large-batch splitting, rows a merged batch holds.
        batch_timeout_micros: how long a batch waits for more requests.
        max_enqueued_batches: batches queued before requests are refused.
        num_batch_threads: batches run at once; None: the server's core
            count (`port::MaxParallelism()`).
        allowed_batch_sizes: merged batches are padded up to one of these.
        enable_large_batch_splitting: split a request into execution
            batches of at most `max_execution_batch_size` rows.
        max_execution_batch_size: see above; defaults to `max_batch_size`.
        pad_variable_length_inputs: pad dimensions after the 0th.
    """

    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE
    batch_timeout_micros: int = 0
    max_enqueued_batches: int = DEFAULT_MAX_ENQUEUED_BATCHES
    num_batch_threads: Optional[int] = None
    allowed_batch_sizes: tuple[int, ...] = ()
    enable_large_batch_splitting: bool = False
    max_execution_batch_size: Optional[int] = None
    pad_variable_length_inputs: bool = False

    @classmethod
    def from_proto(cls, params) -> "BatchingRules":
        """From a `tensorflow.serving.BatchingParameters` message."""
        def wrapped(name, default=None):
            return (getattr(params, name).value if params.HasField(name)
                    else default)

        return cls(
            max_batch_size=wrapped("max_batch_size", DEFAULT_MAX_BATCH_SIZE),
            batch_timeout_micros=wrapped("batch_timeout_micros", 0),
            max_enqueued_batches=wrapped("max_enqueued_batches",
                                         DEFAULT_MAX_ENQUEUED_BATCHES),
            num_batch_threads=wrapped("num_batch_threads"),
            allowed_batch_sizes=tuple(params.allowed_batch_sizes),
            enable_large_batch_splitting=bool(
                wrapped("enable_large_batch_splitting", False)),
            max_execution_batch_size=wrapped("max_execution_batch_size"),
            pad_variable_length_inputs=params.pad_variable_length_inputs,
        )

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping) -> "BatchingRules":
        values = dict(values)
        values["allowed_batch_sizes"] = tuple(values["allowed_batch_sizes"])
        return cls(**values)

    @property
    def execution_batch_size(self) -> int:
        """The most rows one merged batch runs with."""
        if self.enable_large_batch_splitting:
            return self.max_execution_batch_size or self.max_batch_size
        return self.max_batch_size

    def load_errors(self) -> list[str]:
        """Why the server would refuse to load a model with these
        parameters (empty if it would not), in its own words."""
        errors = []
        sizes = self.allowed_batch_sizes
        if self.num_batch_threads is not None and self.num_batch_threads < 1:
            errors.append("num_batch_threads must be positive; was "
                          f"{self.num_batch_threads}")
        if self.max_batch_size <= 0:
            errors.append("input_batch_size_limit must be positive; was "
                          f"{self.max_batch_size}")
        if self.batch_timeout_micros < 0:
            errors.append("batch_timeout_micros must be non-negative; was "
                          f"{self.batch_timeout_micros}")
        if self.max_enqueued_batches <= 0 and (
                self.enable_large_batch_splitting
                or self.max_enqueued_batches < 0):
            errors.append("max_enqueued_batches must be positive; was "
                          f"{self.max_enqueued_batches}")
        if sizes and sizes[-1] != self.max_batch_size and not (
                self.enable_large_batch_splitting):
            errors.append(
                "Last entry in allowed_batch_sizes must match max_batch_size;"
                f" last entry was {sizes[-1]}; expected "
                f"{self.max_batch_size}")
        if any(b <= a for a, b in zip(sizes, sizes[1:])):
            # The server checks this only with large-batch splitting; its
            # proto documents it as a requirement either way, and padding
            # (the first allowed size >= the batch) assumes it.
            errors.append("allowed_batch_sizes entries must be "
                          f"monotonically increasing; got {list(sizes)}")
        if self.enable_large_batch_splitting:
            limit = self.execution_batch_size
            if self.max_batch_size < limit:
                errors.append(
                    "When enable_large_batch_splitting is true, "
                    "input_batch_size_limit must be greater than or equal "
                    f"to max_execution_batch_size; got {self.max_batch_size}"
                    f" < {limit}")
            if sizes and sizes[-1] > self.max_batch_size:
                errors.append(
                    "Last entry in allowed_batch_sizes must be less than or "
                    f"equal to max_batch_size; last entry was {sizes[-1]}; "
                    f"expected {self.max_batch_size}")
            if sizes and sizes[-1] != limit:
                errors.append(
                    "Last entry in allowed_batch_sizes must be equal to "
                    f"max_execution_batch_size; last entry was {sizes[-1]}; "
                    f"expected {limit}")
        return errors

    def request_rows(self, inputs: Mapping[str, np.ndarray]) -> int:
        """The rows of one request; `BatchingError` where the batching
        session refuses it before it is queued."""
        if not inputs:
            raise BatchingError(
                "Batching Run() must have at least one input tensor")
        sizes = set()
        for value in inputs.values():
            value = np.asarray(value)
            if value.ndim == 0:
                raise BatchingError(
                    "Batching Run() input tensors must have at least one "
                    "dimension")
            sizes.add(value.shape[0])
        if len(sizes) > 1:
            raise BatchingError(
                "Batching Run() input tensors must have equal 0th-dimension "
                "size")
        rows = sizes.pop()
        if rows > self.max_batch_size:
            raise BatchingError(
                f"Task size {rows} is larger than maximum input batch size "
                f"{self.max_batch_size}")
        return rows

    def padded_size(self, rows: int) -> int:
        """`RoundToLowestAllowedBatchSize`: the first allowed size that
        holds `rows` (`rows` itself without allowed sizes, or when it
        exceeds them all)."""
        for size in self.allowed_batch_sizes:
            if size >= rows:
                return size
        return rows

    def chunks(self, rows: int) -> list[int]:
        """A request's rows as the execution batches it runs in: one,
        unless large-batch splitting cuts it into pieces of at most
        `execution_batch_size` rows."""
        limit = self.execution_batch_size
        if not self.enable_large_batch_splitting or rows <= limit:
            return [rows]
        return [limit] * (rows // limit) + (
            [rows % limit] if rows % limit else [])

    def merge(self, requests: Sequence[Mapping[str, np.ndarray]]):
        """One batch from several requests to one signature, as
        `MergeInputTensors` builds it: `(inputs, sizes, padded_rows)`,
        inputs concatenated along dimension 0 and padded with copies of
        the last request's first row up to `padded_size`."""
        sizes = [self.request_rows(r) for r in requests]
        total = sum(sizes)
        if total > self.execution_batch_size:
            raise BatchingError(
                f"a batch of {total} rows exceeds the execution batch size "
                f"{self.execution_batch_size}; the scheduler would not merge "
                "these requests")
        padded = self.padded_size(total)
        names = list(requests[0])
        merged = {}
        for name in names:
            parts = [np.asarray(r[name]) for r in requests]
            shapes = {p.shape[1:] for p in parts}
            if len(shapes) > 1 and not self.pad_variable_length_inputs:
                raise BatchingError(
                    f"Tensors with name '{name}' from different tasks have "
                    "different shapes and padding is turned off. Set "
                    "pad_variable_length_inputs to true, or ensure that all "
                    "tensors with the same name have equal dimensions "
                    "starting with the first dim.")
            if padded > total:
                parts.append(np.repeat(parts[-1][:1], padded - total, axis=0))
            merged[name] = np.concatenate(parts, axis=0)
        return merged, sizes, padded

    def run(self, run_batch, inputs: Mapping[str, np.ndarray]) -> dict:
        """One request as the batching session runs it alone:
        `run_batch(batch inputs) -> outputs` called per execution batch
        (each merged and padded), the outputs split and concatenated
        back."""
        rows = self.request_rows(inputs)
        parts, start = [], 0
        for size in self.chunks(rows):
            chunk = {k: np.asarray(v)[start:start + size]
                     for k, v in inputs.items()}
            merged, sizes, padded = self.merge([chunk])
            parts.append(self.split(run_batch(merged), sizes, padded)[0])
            start += size
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}

    @staticmethod
    def split(outputs: Mapping[str, np.ndarray], sizes: Sequence[int],
              padded_rows: int) -> list[dict[str, np.ndarray]]:
        """A merged batch's outputs back into one dict per request
        (`SplitOutputTensors`), padding rows dropped; `BatchingError` for
        an output without the batch as its dimension 0."""
        for value in outputs.values():
            value = np.asarray(value)
            if value.ndim == 0:
                raise BatchingError("Batched output tensor has 0 dimensions")
            if value.shape[0] != padded_rows:
                raise BatchingError(
                    "Batched output tensor's 0th dimension does not equal "
                    "the sum of the 0th dimension sizes of the input tensors")
        starts = np.cumsum([0, *sizes])
        return [{k: np.asarray(v)[a:b] for k, v in outputs.items()}
                for a, b in zip(starts[:-1], starts[1:])]
