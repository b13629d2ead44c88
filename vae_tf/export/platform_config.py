"""TF Serving's `--platform_config_file`: read it as the server does.

`serving/platform_config.txt` tells `tensorflow_model_server` how each
loaded SavedModel's TensorFlow session runs (`session_config`, a
`tensorflow.ConfigProto`: threads, executor) and how requests are batched
(`batching_parameters`). With that flag the server ignores
`--enable_batching`, `--batching_parameters_file` and the thread flags, so
this one file holds both.

The messages inside the `Any` (`SavedModelBundleSourceAdapterConfig` ->
`SessionBundleConfig` -> `BatchingParameters`) are not in the
`tensorflow-serving-api` wheel; they are declared here with the field
numbers of tensorflow_serving/servables/tensorflow/
session_bundle_config.proto and saved_model_bundle_source_adapter.proto,
so a typo in the file fails here, as it would fail the server's start.
"""

from __future__ import annotations

import dataclasses

from google.protobuf import descriptor_pb2, descriptor_pool, text_format
from google.protobuf import message_factory

TENSORFLOW_PLATFORM = "tensorflow"
_PACKAGE = "tensorflow.serving"
_ADAPTER = f"{_PACKAGE}.SavedModelBundleSourceAdapterConfig"


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
    """

    session_config: object
    batching: object

    def num_batch_threads(self) -> int:
        """Batches the server runs at once (1 without batching)."""
        if self.batching is None or not self.batching.HasField(
                "num_batch_threads"):
            return 1
        return int(self.batching.num_batch_threads.value)

    def describe(self) -> str:
        """One line: threads, executor, batching."""
        config = self.session_config
        executor = config.experimental.executor_type or "DEFAULT"
        text = (f"intra-op threads {config.intra_op_parallelism_threads}, "
                f"inter-op threads {config.inter_op_parallelism_threads}, "
                f"executor {executor}")
        if self.batching is not None:
            size = self.batching.max_batch_size.value
            text += (f"; batching up to {size} within "
                     f"{self.batching.batch_timeout_micros.value} us on "
                     f"{self.num_batch_threads()} threads")
        return text


def _field(name, number, type_name=None, label="LABEL_OPTIONAL",
           kind="TYPE_MESSAGE"):
    field = descriptor_pb2.FieldDescriptorProto(
        name=name, number=number,
        label=getattr(descriptor_pb2.FieldDescriptorProto, label),
        type=getattr(descriptor_pb2.FieldDescriptorProto, kind))
    if type_name:
        field.type_name = type_name
    return field


def _declare(pool) -> None:
    """Adds the three messages to `pool` (once)."""
    try:
        pool.FindMessageTypeByName(_ADAPTER)
        return
    except KeyError:
        pass
    from tensorflow.core.protobuf import config_pb2  # noqa: F401
    from google.protobuf import wrappers_pb2  # noqa: F401

    i64, i32 = ".google.protobuf.Int64Value", ".google.protobuf.Int32Value"
    batching = descriptor_pb2.DescriptorProto(name="BatchingParameters")
    batching.field.extend([
        _field("max_batch_size", 1, i64),
        _field("batch_timeout_micros", 2, i64),
        _field("max_enqueued_batches", 3, i64),
        _field("num_batch_threads", 4, i64),
        _field("thread_pool_name", 5, ".google.protobuf.StringValue"),
        _field("allowed_batch_sizes", 6, label="LABEL_REPEATED",
               kind="TYPE_INT64"),
        _field("pad_variable_length_inputs", 7, kind="TYPE_BOOL"),
    ])
    bundle = descriptor_pb2.DescriptorProto(name="SessionBundleConfig")
    bundle.field.extend([
        _field("session_target", 1, kind="TYPE_STRING"),
        _field("session_config", 2, ".tensorflow.ConfigProto"),
        _field("batching_parameters", 3, f".{_PACKAGE}.BatchingParameters"),
        _field("session_run_load_threadpool_index", 4, i32),
    ])
    adapter = descriptor_pb2.DescriptorProto(
        name="SavedModelBundleSourceAdapterConfig")
    adapter.field.append(
        _field("legacy_config", 1000, f".{_PACKAGE}.SessionBundleConfig"))
    pool.Add(descriptor_pb2.FileDescriptorProto(
        name="vae_tf/tensorflow_serving_session_bundle_config.proto",
        package=_PACKAGE, syntax="proto3",
        dependency=["google/protobuf/wrappers.proto",
                    "tensorflow/core/protobuf/config.proto"],
        message_type=[batching, bundle, adapter]))


def read_platform_config(path: str) -> ServingSessionConfig:
    """Parses a `PlatformConfigMap` text proto; returns the `tensorflow`
    platform's session config and batching parameters.

    Raises:
        PlatformConfigError: naming the file and the fix.
    """
    from tensorflow_serving.config import platform_config_pb2

    pool = descriptor_pool.Default()
    _declare(pool)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as err:
        raise PlatformConfigError(
            f"cannot read the platform config {path!r}: {err}") from err
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
    adapter_cls = message_factory.GetMessageClass(
        pool.FindMessageTypeByName(_ADAPTER))
    adapter = adapter_cls()
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
    return ServingSessionConfig(session, batching)
