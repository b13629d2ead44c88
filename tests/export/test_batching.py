"""TF Serving's batching session as vae_tf emulates it (check-export, the
stand-ins): its rules against the server's sources, and check-export's
verdict on exports that the real server's batching would refuse."""

import os

import numpy as np
import pytest

from vae_tf.export.batching import BatchingError, BatchingRules

from repo import REPO  # noqa: E402
SHIPPED = os.path.join(REPO, "serving", "platform_config.txt")


def test_requests_are_refused_as_the_batching_session_refuses_them():
    """batching_util.h ComputeTensorBatchSize and shared_batch_scheduler.h
    ValidateBatchTaskQueueCapacity, in the server's words."""
    rules = BatchingRules(max_batch_size=4)
    assert rules.request_rows({"seed": np.arange(3)}) == 3
    cases = [
        ({"seed": np.int64(7)}, "Batching Run() input tensors must have at "
                                "least one dimension"),
        ({"image": np.zeros((2, 3)), "seed": np.arange(3)},
         "Batching Run() input tensors must have equal 0th-dimension size"),
        ({"seed": np.arange(5)}, "Task size 5 is larger than maximum input "
                                 "batch size 4"),
        ({}, "Batching Run() must have at least one input tensor"),
    ]
    for inputs, message in cases:
        with pytest.raises(BatchingError) as err:
            rules.request_rows(inputs)
        assert str(err.value) == message


def test_merging_pads_to_the_allowed_sizes_and_splits_back():
    """MergeInputTensors pads with copies of the last request's first
    row up to the next allowed size; SplitOutputTensors drops them."""
    rules = BatchingRules(max_batch_size=8, allowed_batch_sizes=(2, 4, 8))
    a, b = {"x": np.array([[1.0], [2.0]])}, {"x": np.array([[3.0]])}
    merged, sizes, padded = rules.merge([a, b])
    assert sizes == [2, 1] and padded == 4
    assert merged["x"][:, 0].tolist() == [1.0, 2.0, 3.0, 3.0]
    parts = rules.split({"y": merged["x"] * 10}, sizes, padded)
    assert [p["y"][:, 0].tolist() for p in parts] == [[10.0, 20.0], [30.0]]
    assert rules.padded_size(5) == 8 and rules.padded_size(9) == 9
    with pytest.raises(BatchingError, match="has 0 dimensions"):
        rules.split({"y": np.float32(1)}, sizes, padded)
    with pytest.raises(BatchingError, match="0th dimension does not equal"):
        rules.split({"y": np.zeros((3, 1))}, sizes, padded)
    split = BatchingRules(max_batch_size=1024,
                          enable_large_batch_splitting=True,
                          max_execution_batch_size=256)
    assert split.chunks(1000) == [256, 256, 256, 232]
    assert BatchingRules(max_batch_size=256).chunks(256) == [256]


@pytest.mark.parametrize("rules, message", [
    (BatchingRules(max_batch_size=32, allowed_batch_sizes=(8, 16)),
     "Last entry in allowed_batch_sizes must match max_batch_size; last "
     "entry was 16; expected 32"),
    (BatchingRules(max_batch_size=32, allowed_batch_sizes=(16, 8, 32)),
     "allowed_batch_sizes entries must be monotonically increasing"),
    (BatchingRules(max_batch_size=64, enable_large_batch_splitting=True,
                   max_execution_batch_size=32, allowed_batch_sizes=(16,)),
     "Last entry in allowed_batch_sizes must be equal to "
     "max_execution_batch_size; last entry was 16; expected 32"),
    (BatchingRules(max_batch_size=16, enable_large_batch_splitting=True,
                   max_execution_batch_size=32),
     "input_batch_size_limit must be greater than or equal to "
     "max_execution_batch_size"),
    (BatchingRules(num_batch_threads=0), "num_batch_threads must be "
                                         "positive; was 0"),
    (BatchingRules(max_batch_size=0), "input_batch_size_limit must be "
                                      "positive"),
    (BatchingRules(batch_timeout_micros=-1), "batch_timeout_micros must be "
                                             "non-negative"),
])
def test_inconsistent_parameters_fail_check_h(rules, message, tmp_path):
    """bundle_factory_util.cc, batching_session.cc and the scheduler's
    load-time rules; `check-export`'s (h) names the broken one."""
    from vae_tf.export.check import _check_platform_config

    assert any(message in e for e in rules.load_errors()), rules.load_errors()
    fields = {
        "max_batch_size": f"max_batch_size {{ value: {rules.max_batch_size} }}",
        "batch_timeout_micros":
            f"batch_timeout_micros {{ value: {rules.batch_timeout_micros} }}",
        "allowed": " ".join(f"allowed_batch_sizes: {s}"
                            for s in rules.allowed_batch_sizes),
        "split": ("enable_large_batch_splitting { value: true } "
                  "max_execution_batch_size { value: "
                  f"{rules.max_execution_batch_size} }}"
                  if rules.enable_large_batch_splitting else ""),
        "threads": ("" if rules.num_batch_threads is None else
                    f"num_batch_threads {{ value: "
                    f"{rules.num_batch_threads} }}"),
    }
    text = open(SHIPPED).read()
    start = text.index("batching_parameters {")
    end = text.index("}\n", text.index("pad_variable_length_inputs")) + 2
    path = tmp_path / "platform_config.txt"
    path.write_text(text[:start] + "batching_parameters { "
                    + " ".join(fields.values()) + " }\n" + text[end:])
    check, server = _check_platform_config(str(path))
    assert not check.ok and server is None
    assert message in check.detail and "would refuse" in check.detail
    assert BatchingRules().load_errors() == []


def test_check_export_replays_warmup_only_when_the_file_turns_it_on(
        exported, tmp_path):
    """With --platform_config_file the server replays the warmup records
    only if the file sets enable_model_warmup: (f) says so, and still
    runs them eagerly; batching (i) is checked when the file batches."""
    from vae_tf.export import check_export

    result, _ = exported
    off = tmp_path / "off.txt"
    off.write_text(open(SHIPPED).read().replace(
        "enable_model_warmup: true", "enable_model_warmup: false"))
    checks = {c.name[0]: c for c in check_export(
        result.decoder_dir, platform_config=str(off))}
    assert checks["f"].ok and "warmup is off" in checks["f"].detail
    assert checks["i"].ok and "merged vs apart" in checks["i"].detail
    assert all(c.ok for c in checks.values()), checks


def _scalar_sample_export(trained_run, base):
    """The decoder as exported before issue 26: `sample(num_samples,
    seed)` with rank-0 inputs and a scalar warmup record."""
    import keras
    import tensorflow as tf

    from vae_tf.export import assets
    from vae_tf.runs import load_run
    from vae_tf.samplers import PriorSampler

    config, models = load_run(trained_run)
    decoder, k = models.decoder, config.latent_dim
    archive = keras.export.ExportArchive()
    archive.track(decoder)

    def sample(num_samples, seed):
        z = tf.random.stateless_normal(tf.stack([num_samples, k]),
                                       seed=tf.stack([seed, 0 * seed]))
        return {"image": decoder(z), "z": z}

    archive.add_endpoint("serving_default", lambda z: {"image": decoder(z)},
                         input_signature=[tf.TensorSpec((None, k),
                                                        tf.float32, "z")])
    archive.add_endpoint("sample", sample, input_signature=[
        tf.TensorSpec((), tf.int32, "num_samples"),
        tf.TensorSpec((), tf.int64, "seed")])
    path = os.path.join(base, "old_decoder", "1")
    archive.write_out(path, verbose=False)
    z = np.zeros((4, k), np.float32)
    drawn = sample(tf.constant(4), tf.constant(0, tf.int64))
    reference = {"serving_default/z": z,
                 "serving_default/image": decoder.predict(z, verbose=0),
                 "sample/num_samples": np.int32(4),
                 "sample/seed": np.int64(0),
                 "sample/z": drawn["z"].numpy(),
                 "sample/image": drawn["image"].numpy()}
    warmup = [("serving_default", {"z": z[:1]}),
              ("sample", {"num_samples": np.int32(4), "seed": np.int64(0)})]
    info = assets.metadata(config, {}, "old", 1, PriorSampler(k))
    assets.write_assets(path, "old_decoder", reference, warmup, info)
    return path


def test_a_scalar_input_export_is_refused_under_batching(trained_run,
                                                         tmp_path, capsys):
    """The planted bug: a signature with rank-0 inputs loads and runs
    (c), and fails (d), (f) and (i) under the shipped platform config,
    with the server's message."""
    from vae_tf import cli

    path = _scalar_sample_export(trained_run, str(tmp_path))
    code = cli.main(["check-export", path, "--platform-config", SHIPPED])
    out = capsys.readouterr().out
    assert code == 1
    rank0 = "Batching Run() input tensors must have at least one dimension"
    assert "FAIL d. TF1 session load: sample: BatchingError: " + rank0 in out
    assert ("FAIL f. warmup requests: the server's warmup would fail the "
            "load: record 1 (sample)") in out
    assert ("FAIL i. batching: sample: input num_samples is a scalar "
            "(rank 0)") in out
    assert "ok   c." in out and "ok   h." in out


def test_a_failing_warmup_record_fails_the_load_in_the_stand_in(
        trained_run, tmp_path):
    """What the real server does with the old scalar `sample` record once
    warmup is on under batching: the load fails, the model is not
    served."""
    from serving_fakes import RestServer

    from vae_tf.client import ModelNotFoundError, RestClient

    _scalar_sample_export(trained_run, str(tmp_path))
    with RestServer(str(tmp_path), platform_config=SHIPPED) as server:
        client = RestClient("127.0.0.1", server.port, timeout=30)
        with pytest.raises(ModelNotFoundError, match="Servable not found"):
            client.decode(np.zeros((1, 4)), model="old_decoder")
        assert "at least one dimension" in server.repo.load_errors[
            ("old_decoder", 1)]
    with RestServer(str(tmp_path)) as server:  # no batching: it loads
        client = RestClient("127.0.0.1", server.port, timeout=30)
        assert client.decode(np.zeros((1, 4)),
                             model="old_decoder").shape == (1, 32, 32, 3)
