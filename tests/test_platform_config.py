"""serving/platform_config.txt: it parses as TF Serving parses it, and
`check_export` runs the export in a session configured by it."""

import os

import pytest

from vae_tf.export import (PlatformConfigError, check_export,
                           read_platform_config)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
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
    assert config.batching.max_batch_size.value == 256
    assert config.num_batch_threads() == 2
    assert "SINGLE_THREADED_EXECUTOR" in config.describe()


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
