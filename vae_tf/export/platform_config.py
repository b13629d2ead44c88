"""TF Serving's `--platform_config_file`: read it as the server reads it.

`serving/platform_config.txt` tells `tensorflow_model_server` how each
loaded SavedModel's TensorFlow session runs (`session_config`, a
`tensorflow.ConfigProto`: threads, executor), how requests are batched
(`batching_parameters`) and whether the warmup records are replayed at
load (`enable_model_warmup`, `model_warmup_options`). With that flag the
server takes all of this from the file and ignores `--enable_batching`,
`--batching_parameters_file`, `--enable_model_warmup` and the thread flags
(`tensorflow_serving/model_servers/server.cc`), so warmup is off unless
the file turns it on.

The messages inside the `Any` (`SavedModelBundleSourceAdapterConfig` ->
`SessionBundleConfig` -> `BatchingParameters`, `ModelWarmupOptions`) are
not in the `tensorflow-serving-api` wheel; `serving_protos` holds them,
compiled from tensorflow/serving's own `.proto` files, so every field the
server accepts parses and a misspelt one is an error naming it, as at the
server's start (a strict text-format parse, like its `ParseProtoTextFile`).
`write_platform_config` writes the project's file for a machine's cores.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Optional

from google.protobuf import descriptor_pool, message_factory, text_format

from vae_tf.export.batching import BatchingRules

TENSORFLOW_PLATFORM = "tensorflow"
_PACKAGE = "tensorflow.serving"
_ADAPTER = f"{_PACKAGE}.SavedModelBundleSourceAdapterConfig"
ADAPTER_TYPE_URL = f"type.googleapis.com/{_ADAPTER}"


class PlatformConfigError(ValueError):
    """The platform config is missing, does not parse, or lacks the
    `tensorflow` platform's SavedModel adapter config."""


@dataclasses.dataclass
class ServingSessionConfig:
    """What the server applies to every SavedModel of the platform.

    Attributes:
        session_config: the `tensorflow.ConfigProto` of each model's
            session (`tf.compat.v1.ConfigProto`).
        batching: the `BatchingParameters` message, or None without
            batching.
        warmup: whether the server replays `assets.extra/
            tf_serving_warmup_requests` at load (`enable_model_warmup`).
        warmup_iterations: times each record is replayed
            (`model_warmup_options.num_request_iterations`, default 1).
        bundle: the whole `SessionBundleConfig` message.
    """

    session_config: object
    batching: object
    warmup: bool = False
    warmup_iterations: int = 1
    bundle: object = None

    @property
    def batching_rules(self) -> Optional[BatchingRules]:
        """The batching parameters with the server's defaults filled in,
        or None without batching."""
        if self.batching is None:
            return None
        return BatchingRules.from_proto(self.batching)

    def num_batch_threads(self) -> int:
        """Batches the server runs at once (1 without batching; the
        server's core count when batching leaves it unset)."""
        rules = self.batching_rules
        if rules is None:
            return 1
        return rules.num_batch_threads or (os.cpu_count() or 1)

    def describe(self) -> str:
        """One line: threads, executor, batching, warmup."""
        config = self.session_config
        executor = config.experimental.executor_type or "DEFAULT"
        text = (f"intra-op threads {config.intra_op_parallelism_threads}, "
                f"inter-op threads {config.inter_op_parallelism_threads}, "
                f"executor {executor}")
        rules = self.batching_rules
        if rules is not None:
            text += (f"; batching requests of up to {rules.max_batch_size} "
                     f"rows, run in batches of up to "
                     f"{rules.execution_batch_size} rows within "
                     f"{rules.batch_timeout_micros} us on "
                     f"{self.num_batch_threads()} threads")
            if rules.allowed_batch_sizes:
                text += (" padded to "
                         f"{list(rules.allowed_batch_sizes)}")
        text += "; warmup " + (
            f"on ({self.warmup_iterations} replay(s) per record)"
            if self.warmup else "off")
        return text


def _pool():
    """protobuf's default pool with the TF Serving messages added (once),
    after the TensorFlow and protobuf files they import."""
    from google.protobuf import wrappers_pb2  # noqa: F401
    from tensorflow.core.protobuf import config_pb2  # noqa: F401
    from tensorflow.core.protobuf import named_tensor_pb2  # noqa: F401

    from vae_tf.export.serving_protos import FILES

    from google.protobuf import descriptor_pb2

    pool = descriptor_pool.Default()
    for data in FILES:
        proto = descriptor_pb2.FileDescriptorProto.FromString(data)
        try:
            pool.FindFileByName(proto.name)
        except KeyError:
            pool.Add(proto)
    return pool


def message_class(name: str):
    """The message class `tensorflow.serving.NAME` (e.g.
    `SessionBundleConfig`, `BatchingParameters`)."""
    return message_factory.GetMessageClass(
        _pool().FindMessageTypeByName(f"{_PACKAGE}.{name}"))


def read_platform_config(path: str) -> ServingSessionConfig:
    """Parses a `PlatformConfigMap` text proto; returns the `tensorflow`
    platform's session config, batching parameters and warmup setting.

    Raises:
        PlatformConfigError: naming the file, the field and the fix.
    """
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as err:
        raise PlatformConfigError(
            f"cannot read the platform config {path!r}: {err}") from err
    return parse_platform_config(text, path)


def parse_platform_config(text: str, path: str = "<text>"
                          ) -> ServingSessionConfig:
    """`read_platform_config` of a file's text; `path` names it in
    errors."""
    from tensorflow_serving.config import platform_config_pb2

    pool = _pool()
    try:
        config = text_format.Parse(
            text, platform_config_pb2.PlatformConfigMap(),
            descriptor_pool=pool)
    except text_format.ParseError as err:
        raise PlatformConfigError(
            f"{path} is not a PlatformConfigMap text proto: {err}") from err
    if TENSORFLOW_PLATFORM not in config.platform_configs:
        raise PlatformConfigError(
            f"{path} has no platform_configs entry with key "
            f"{TENSORFLOW_PLATFORM!r}; TF Serving needs it to load "
            "SavedModels")
    packed = config.platform_configs[TENSORFLOW_PLATFORM].source_adapter_config
    adapter = message_class("SavedModelBundleSourceAdapterConfig")()
    if not packed.Unpack(adapter):
        raise PlatformConfigError(
            f"{path}: the {TENSORFLOW_PLATFORM!r} source_adapter_config is "
            f"{packed.TypeName() or 'empty'}, not {_ADAPTER}")
    legacy = adapter.legacy_config
    batching = (legacy.batching_parameters
                if legacy.HasField("batching_parameters") else None)
    from tensorflow.core.protobuf import config_pb2

    session = config_pb2.ConfigProto.FromString(
        legacy.session_config.SerializeToString())
    options = legacy.model_warmup_options
    iterations = (options.num_request_iterations.value
                  if options.HasField("num_request_iterations") else 1)
    return ServingSessionConfig(session, batching,
                                warmup=legacy.enable_model_warmup,
                                warmup_iterations=iterations, bundle=legacy)


# The project's serving layout, per machine (`platform_config_text`).
MAX_REQUEST_ROWS = 1024
EXECUTION_BATCH_ROWS = 256
BATCH_TIMEOUT_MICROS = 2000

_TEMPLATE = """\
# TensorFlow Serving platform config (--platform_config_file) for a
# {cores}-core machine, written by `vae-tf platform-config --cores {cores}`
# (rerun it with the serving machine's core count). With this flag the
# server takes the session, batching and warmup settings from this file
# and ignores --enable_batching, --batching_parameters_file,
# --enable_model_warmup and the --tensorflow_*_parallelism flags.
# `vae-tf check-export MODEL --platform-config FILE` loads an export under
# these rules; `benchmarks/serve.py` times it.
platform_configs {{
  key: "tensorflow"
  value {{
    source_adapter_config {{
      [{type_url}] {{
        legacy_config {{
          # One thread per request, its ops run in the calling thread: a
          # batch-1 decode does not wait for hand-offs between
          # TensorFlow's pools, and throughput comes from running
          # num_batch_threads batches at once, one per core (measured
          # against the default session by benchmarks/serve.py;
          # benchmarks/README.md, "Serving").
          session_config {{
            intra_op_parallelism_threads: 1
            inter_op_parallelism_threads: 1
            experimental {{ executor_type: "SINGLE_THREADED_EXECUTOR" }}
          }}
          # Batching counts rows (images or latent codes), not requests:
          # a request may hold up to max_batch_size rows and is split into
          # batches of at most max_execution_batch_size rows; rows of
          # concurrent requests arriving within batch_timeout_micros are
          # merged into one batch. num_batch_threads = the cores.
          batching_parameters {{
            max_batch_size {{ value: {max_rows} }}
            enable_large_batch_splitting {{ value: true }}
            max_execution_batch_size {{ value: {batch_rows} }}
            batch_timeout_micros {{ value: {timeout} }}
            max_enqueued_batches {{ value: 100 }}
            num_batch_threads {{ value: {cores} }}
            pad_variable_length_inputs: false
          }}
          # Replay assets.extra/tf_serving_warmup_requests at load, so the
          # first client request does not pay for graph optimization.
          enable_model_warmup: true
        }}
      }}
    }}
  }}
}}
"""


def platform_config_text(cores: int) -> str:
    """The project's platform config for a machine with `cores` cores:
    one intra-op thread per session and `cores` batch threads, requests
    of up to `MAX_REQUEST_ROWS` rows run in batches of up to
    `EXECUTION_BATCH_ROWS`, warmup on.

    Raises:
        PlatformConfigError: `cores` is not a positive integer.
    """
    if isinstance(cores, bool) or not isinstance(cores, int) or cores < 1:
        raise PlatformConfigError(
            f"Expected cores to be a positive integer (the serving "
            f"machine's cores). Received: cores={cores!r}")
    return _TEMPLATE.format(
        cores=cores, type_url=ADAPTER_TYPE_URL, max_rows=MAX_REQUEST_ROWS,
        batch_rows=EXECUTION_BATCH_ROWS, timeout=BATCH_TIMEOUT_MICROS)


def write_platform_config(path: str, cores: Optional[int] = None) -> str:
    """Writes `platform_config_text(cores)` (default: this machine's
    cores) to `path` atomically, after parsing it back; returns `path`."""
    from vae_tf._internal import io_utils

    if cores is None:
        cores = os.cpu_count() or 1
    text = platform_config_text(cores)
    parse_platform_config(text, path)
    io_utils.atomic_write_text(path, text)
    return path
