"""serving/platform_config.txt: it parses as TF Serving parses it, and
`check_export` runs the export in a session configured by it."""

import os

import pytest

from vae_tf.export import (PlatformConfigError, check_export,
                           read_platform_config)

from repo import REPO  # noqa: E402
SHIPPED = os.path.join(REPO, "serving", "platform_config.txt")
ADAPTER = ("[type.googleapis.com/tensorflow.serving."
           "SavedModelBundleSourceAdapterConfig]")


def _platform(body: str, key: str = "tensorflow",
              adapter: str = ADAPTER) -> str:
    return (f'platform_configs {{ key: "{key}" value {{ '
            f'source_adapter_config {{ {adapter} {{ legacy_config {{ '
            f'{body} }} }} }} }} }}')


def test_shipped_config_runs_one_thread_per_request_two_batches():
    config = read_platform_config(SHIPPED)
    session = config.session_config
    assert session.intra_op_parallelism_threads == 1
    assert session.experimental.executor_type == "SINGLE_THREADED_EXECUTOR"
    rules = config.batching_rules
    assert rules.max_batch_size == 1024  # rows a request may hold
    assert rules.enable_large_batch_splitting
    assert rules.execution_batch_size == 256  # rows a batch runs with
    assert rules.load_errors() == []
    assert config.num_batch_threads() == 2
    # With --platform_config_file the server reads warmup from the file
    # only: the shipped file must turn it on, or the records never run.
    assert config.warmup and config.warmup_iterations == 1
    assert "SINGLE_THREADED_EXECUTOR" in config.describe()
    assert "warmup on" in config.describe()


def test_the_shipped_file_is_the_writer_output_for_two_cores(
        tmp_path, capsys):
    """serving/platform_config.txt is `vae-tf platform-config --cores 2`,
    so it cannot drift from the documented formula; other core counts
    change the batch threads only."""
    from vae_tf import cli
    from vae_tf.export.platform_config import platform_config_text

    assert open(SHIPPED).read() == platform_config_text(2)
    out = tmp_path / "p8.txt"
    assert cli.main(["platform-config", "--cores", "8", "--out",
                     str(out)]) == 0
    assert "for 8 cores" in capsys.readouterr().out
    eight = read_platform_config(str(out))
    assert eight.num_batch_threads() == 8
    assert eight.session_config.intra_op_parallelism_threads == 1
    assert eight.batching_rules.max_batch_size == 1024
    assert cli.main(["platform-config", "--cores", "0", "--out",
                     str(tmp_path / "p0.txt")]) == 2
    assert "cores=0" in capsys.readouterr().err
    assert not (tmp_path / "p0.txt").exists()
    assert cli.main(["platform-config", "--cores", "3", "--out", "-"]) == 0
    assert "num_batch_threads { value: 3 }" in capsys.readouterr().out


def _proto_fields(name: str) -> dict:
    """`{field: number}` of message `name` in the vendored .proto text."""
    import re

    path = os.path.join(REPO, "tools", "protos", "tensorflow_serving",
                        "servables", "tensorflow",
                        "session_bundle_config.proto")
    text = re.sub(r"//[^\n]*", "", open(path).read())
    body = re.search(r"message %s \{(.*?)\n\}" % name, text, re.S).group(1)
    return {m.group(1): int(m.group(2)) for m in re.finditer(
        r"(\w+)\s*=\s*(\d+)\s*(?:\[[^\]]*\])?;", body)}


@pytest.mark.parametrize("message", ["SessionBundleConfig",
                                     "BatchingParameters",
                                     "ModelWarmupOptions"])
def test_every_field_the_server_accepts_parses(message, tmp_path):
    """The messages are declared completely (tensorflow/serving's .proto
    compiled): every field of the .proto text is there with its number,
    and a file setting each of them parses."""
    from google.protobuf import descriptor

    from vae_tf.export.platform_config import message_class

    fields = message_class(message).DESCRIPTOR.fields
    assert {f.name: f.number for f in fields} == _proto_fields(message)

    def value(field):
        if field.type == descriptor.FieldDescriptor.TYPE_MESSAGE:
            return "{ }"
        if field.type == descriptor.FieldDescriptor.TYPE_BOOL:
            return "true"
        if field.type == descriptor.FieldDescriptor.TYPE_STRING:
            return '"x"'
        return "1"

    body = " ".join(f"{f.name}: {value(f)}" if value(f) != "{ }"
                    else f"{f.name} {{ }}" for f in fields)
    if message == "BatchingParameters":
        body = f"batching_parameters {{ {body} }}"
    elif message == "ModelWarmupOptions":
        body = f"model_warmup_options {{ {body} }}"
    path = tmp_path / "all.txt"
    path.write_text(_platform(body))
    read_platform_config(str(path))


def test_the_compiled_messages_match_the_vendored_protos():
    """vae_tf/export/serving_protos.py is protoc's output for the .proto
    files in tools/protos/ (rerun tools/compile_serving_protos.py after
    updating them)."""
    import subprocess
    import sys

    pytest.importorskip("grpc_tools", reason="grpcio-tools ([test] extra) "
                        "compiles the .proto files")
    done = subprocess.run(
        [sys.executable, os.path.join(REPO, "tools",
                                      "compile_serving_protos.py"),
         "--check"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "up to date" in done.stdout


def test_compose_serves_with_the_platform_config():
    compose = open(os.path.join(REPO, "serving", "docker-compose.yml")).read()
    assert "--platform_config_file=/config/platform_config.txt" in compose
    assert "./platform_config.txt:/config/platform_config.txt" in compose
    # The server ignores these flags once a platform config is given.
    assert "--enable_batching" not in compose


def test_without_batching_one_batch_thread(tmp_path):
    path = tmp_path / "p.txt"
    path.write_text(_platform("session_config { "
                              "intra_op_parallelism_threads: 2 }"))
    config = read_platform_config(str(path))
    assert config.batching is None and config.num_batch_threads() == 1
    assert config.session_config.intra_op_parallelism_threads == 2


@pytest.mark.parametrize("text, match", [
    (_platform("session_config { intra_op_threads: 1 }"), "intra_op_threads"),
    (_platform("enable_model_warmpu: true"), "enable_model_warmpu"),
    (_platform("batching_parameters { max_batch_sise { value: 8 } }"),
     "max_batch_sise"),
    (_platform("batching_parameters { max_batch_size: 256 }"),
     "max_batch_size"),
    (_platform("", key="tensorflw"), "no platform_configs entry"),
    ('platform_configs { key: "tensorflow" value { source_adapter_config { '
     '[type.googleapis.com/tensorflow.ConfigProto] { '
     'intra_op_parallelism_threads: 1 } } } }',
     "not tensorflow.serving.SavedModelBundleSourceAdapterConfig"),
])
def test_bad_platform_config_is_a_clear_error(tmp_path, text, match):
    path = tmp_path / "platform_config.txt"
    path.write_text(text)
    with pytest.raises(PlatformConfigError, match=match) as err:
        read_platform_config(str(path))
    assert "platform_config.txt" in str(err.value)


def test_missing_platform_config(tmp_path):
    with pytest.raises(PlatformConfigError, match="cannot read"):
        read_platform_config(str(tmp_path / "nope.txt"))


def test_check_export_runs_the_session_as_configured(exported, tmp_path):
    """The session really is built from the file: an executor TensorFlow
    does not have fails (d) and (f), not the eager load (c). (The shipped
    file passing every check: test_export's CLI test.)"""
    result, _ = exported
    bad = tmp_path / "bad.txt"
    bad.write_text(open(SHIPPED).read().replace(
        "SINGLE_THREADED_EXECUTOR", "NO_SUCH_EXECUTOR"))
    checks = {c.name[0]: c for c in check_export(
        result.decoder_dir, platform_config=str(bad))}
    assert checks["c"].ok and checks["h"].ok
    assert not checks["d"].ok and "NO_SUCH_EXECUTOR" in checks["d"].detail
    assert not checks["f"].ok


@pytest.mark.slow  # 13 s; the parse errors themselves are tested above
def test_unparsable_platform_config_fails_check_h(exported, tmp_path):
    result, _ = exported
    bad = tmp_path / "typo.txt"
    bad.write_text("platform_config { }")
    checks = {c.name[0]: c for c in check_export(
        result.encoder_dir, platform_config=str(bad))}
    assert not checks["h"].ok and "typo.txt" in checks["h"].detail
    assert checks["d"].ok  # then the default session, still checked
