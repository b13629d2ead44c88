"""`precision`: bfloat16 networks, float32 everywhere a number leaves them
(heads, KL, sampling, likelihood, losses, saved and exported models)."""

import json

import keras
import numpy as np
import pytest

from vae_tf import VAEConfig, build_vae
from vae_tf.models import compute_dtype, in_precision, leaf_layers
from vae_tf.models.precision import cpu_flags, resolve_precision


def _dtypes(model):
    return {layer.name: layer.compute_dtype for layer in leaf_layers(model)
            if not isinstance(layer, keras.layers.InputLayer)}


def test_auto_follows_the_cpu_flags(tmp_path, monkeypatch):
    from vae_tf.models import precision

    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f "
                    "avx512_bf16\n")
    assert "avx512_bf16" in cpu_flags(str(info))
    assert cpu_flags(str(tmp_path / "missing")) == set()
    monkeypatch.setattr(precision, "cpu_flags",
                        lambda path=None: {"avx2", "avx512_bf16"})
    assert resolve_precision("auto") == "bfloat16"
    monkeypatch.setattr(precision, "cpu_flags",
                        lambda path=None: {"amx_bf16"})
    assert resolve_precision("auto") == "bfloat16"
    monkeypatch.setattr(precision, "cpu_flags", lambda path=None: {"avx2"})
    monkeypatch.setattr(precision, "gpu_capabilities", lambda: [])
    assert resolve_precision("auto") == "float32"  # no GPU
    assert resolve_precision("float32") == "float32"
    assert resolve_precision("bfloat16") == "bfloat16"


class _Gpu:
    device_type = "GPU"

    def __init__(self, capability):
        self.capability = capability


@pytest.mark.parametrize("capabilities, expected", [
    ([(8, 0)], "bfloat16"),             # A100
    ([(9, 0), (8, 6)], "bfloat16"),     # H100 beside an RTX 3090
    ([(7, 5)], "float16"),              # T4: float16 tensor cores only
    ([(8, 0), (7, 0)], "float16"),      # a V100 holds the pair back
    ([(6, 1)], "float32"),              # P4: neither
    ([None], "float32"),                # capability not reported
])
def test_auto_on_gpus_follows_their_compute_capability(
        monkeypatch, capabilities, expected):
    """A faked device list: bfloat16 only where every GPU has it, float16
    with loss scaling on Volta/Turing, float32 on older cards, whatever
    the CPU has."""
    import tensorflow as tf

    from vae_tf.models import precision

    gpus = [_Gpu(c) for c in capabilities]
    monkeypatch.setattr(tf.config, "list_physical_devices",
                        lambda kind=None: gpus if kind == "GPU" else [])
    monkeypatch.setattr(
        tf.config.experimental, "get_device_details",
        lambda gpu: {} if gpu.capability is None else {
            "compute_capability": gpu.capability, "device_name": "fake"})
    monkeypatch.setattr(precision, "cpu_flags",
                        lambda path=None: {"avx512_bf16"})
    assert resolve_precision("auto") == expected


def test_float16_trains_with_loss_scaling_and_loads_in_float32(tmp_path):
    """float16 networks (the precision "auto" picks on Volta/Turing GPUs)
    train through a LossScaleOptimizer to a finite, falling loss; the
    run loads in float32 (as inference and exports use it)."""
    from vae_tf import compile_vae
    from vae_tf.runs import load_model, load_run

    config = VAEConfig(
        input_shape=(32, 32, 3), latent_dim=4, widths=(8, 16),
        dense_units=32, batch_size=32, epochs=4, num_examples=320, seed=1,
        precision="float16",
    )
    models = build_vae(config.resolve())
    assert compute_dtype(models.vae) == "float16"
    compile_vae(models.vae, config.resolve())
    assert isinstance(models.vae.optimizer,
                      keras.optimizers.LossScaleOptimizer)
    assert _dtypes(models.vae)["z_mean"] == "float32"
    from vae_tf import train

    out = tmp_path / "run"
    losses = train(config, out_dir=str(out), verbose=0).history["loss"]
    assert np.isfinite(losses).all() and losses[-1] < losses[0], losses
    # Inference and exports rebuild it in float32 with the same weights.
    saved = load_model(str(out / "model.keras"))
    _, loaded = load_run(str(out))
    assert compute_dtype(loaded.vae) == "float32"
    for a, b in zip(saved.get_weights(), loaded.vae.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_resolve_fills_in_a_concrete_precision(monkeypatch):
    from vae_tf.models import precision

    monkeypatch.setattr(precision, "cpu_flags", lambda path=None: set())
    config = VAEConfig(input_shape=(32, 32, 3), precision="auto")
    assert config.resolve().precision == "float32"
    monkeypatch.setattr(precision, "cpu_flags",
                        lambda path=None: {"avx512_bf16"})
    assert config.resolve().precision == "bfloat16"


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_bfloat16_bodies_float32_everywhere_else(tiny_config, likelihood):
    config = tiny_config.replace(precision="bfloat16", likelihood=likelihood)
    models = build_vae(config)
    assert keras.config.dtype_policy().name == "float32"  # restored
    dtypes = _dtypes(models.vae)
    body = {n for n, d in dtypes.items() if d == "bfloat16"}
    assert {"enc_conv_0", "enc_conv_1", "enc_dense", "dec_dense",
            "dec_project"} <= body
    # The likelihood's parameters come from a float32 output layer.
    for name in ("z_mean", "z_log_var_raw", "z_log_var", "kl_divergence",
                 "z", "dec_out"):
        assert dtypes[name] == "float32", (name, dtypes)
    if likelihood == "gaussian":
        assert dtypes["calibrated_scale"] == "float32"
    for output in (*models.encoder.outputs, *models.decoder.outputs,
                   *models.vae.outputs):
        assert output.dtype == "float32"
    assert {w.dtype for w in models.vae.weights} == {"float32"}
    assert compute_dtype(models.vae) == "bfloat16"


@pytest.mark.parametrize("architecture", ["conv", "resconv", "mlp"])
def test_every_architecture_outputs_from_a_float32_layer(
        tiny_config, architecture):
    config = tiny_config.replace(precision="bfloat16",
                                 architecture=architecture, widths=None)
    decoder = build_vae(config).vae.get_layer("decoder")
    assert decoder.layers[-1].compute_dtype == "float32"
    assert "params_float32" not in [layer.name for layer in decoder.layers]
    assert "bfloat16" in {layer.compute_dtype for layer in decoder.layers}


def test_a_custom_bfloat16_body_gets_a_float32_output(tiny_config):
    def body(z, config, activation=None):
        h = keras.layers.Dense(32 * 32 * 3, activation=activation)(z)
        return keras.layers.Reshape((32, 32, 3))(h)

    models = build_vae(tiny_config.replace(precision="bfloat16"),
                       decoder_body=body)
    decoder = models.vae.get_layer("decoder")
    assert decoder.layers[-1].name == "params_float32"
    assert decoder.layers[-2].compute_dtype == "bfloat16"
    assert decoder.outputs[0].dtype == "float32"


def test_float32_has_no_bfloat16_layer(tiny_config):
    models = build_vae(tiny_config.replace(precision="float32"))
    assert set(_dtypes(models.vae).values()) == {"float32"}
    assert compute_dtype(models.vae) == "float32"
    assert "params_float32" not in _dtypes(models.vae)


def test_policy_is_restored_when_the_build_fails(tiny_config):
    def broken_body(x, config):
        raise RuntimeError("body failed")

    with pytest.raises(RuntimeError, match="body failed"):
        build_vae(tiny_config.replace(precision="bfloat16"),
                  encoder_body=broken_body)
    assert keras.config.dtype_policy().name == "float32"


def test_in_precision_keeps_the_weights(tiny_config, rng):
    config = tiny_config.replace(precision="bfloat16")
    models = build_vae(config)
    same = in_precision(models, config, "bfloat16")
    assert same is models
    f32 = in_precision(models, config, "float32")
    assert compute_dtype(f32.vae) == "float32"
    for a, b in zip(models.vae.get_weights(), f32.vae.get_weights()):
        np.testing.assert_array_equal(a, b)
    x = rng.uniform(size=(4, 32, 32, 3)).astype(np.float32)
    # bfloat16 has an 8-bit mantissa: the two agree to about 1%.
    a = models.encoder.predict(x, verbose=0)[0]
    b = f32.encoder.predict(x, verbose=0)[0]
    assert np.abs(a - b).max() < 0.05 * (np.abs(b).max() + 1e-3)
    assert not np.array_equal(a, b)  # the first really ran in bfloat16


def test_bfloat16_run_trains_saves_loads_and_exports_float32(tmp_path):
    from vae_tf import train
    from vae_tf.export import check_export, export_run
    from vae_tf.export.archives import signature_specs
    from vae_tf.runs import load_model, load_run

    out = tmp_path / "run"
    config = VAEConfig(
        input_shape=(32, 32, 3), latent_dim=4, widths=(8, 16),
        dense_units=32, batch_size=32, epochs=2, num_examples=128, seed=1,
        precision="bfloat16",
    )
    history = train(config, out_dir=str(out), verbose=0).history
    losses = history["loss"]
    assert np.isfinite(losses).all() and losses[-1] < losses[0], losses
    assert json.loads((out / "config.json").read_text())["precision"] == (
        "bfloat16")
    saved = load_model(str(out / "model.keras"))  # safe mode
    assert compute_dtype(saved) == "bfloat16"
    _, models = load_run(str(out))  # inference in float32, same weights
    assert compute_dtype(models.vae) == "float32"
    for a, b in zip(saved.get_weights(), models.vae.get_weights()):
        np.testing.assert_array_equal(a, b)

    # float32 exports of bfloat16-trained runs: tests/export/test_export.py (its
    # trained_run uses the default precision, bfloat16 on AVX512_BF16).
    base = str(tmp_path / "sm")
    for precision in ("bfloat16",):
        result = export_run(str(out), name="vae", base=base,
                            precision=precision)
        for path in (result.encoder_dir, result.decoder_dir):
            for spec in signature_specs(path).values():
                for tensor in (*spec["inputs"].values(),
                               *spec["outputs"].values()):
                    if tensor["dtype"] not in ("int32", "int64"):
                        assert tensor["dtype"] == "float32", spec
            failed = [c for c in check_export(path) if not c.ok]
            assert not failed, failed
            assert _graph_computes_in_bfloat16(path) == (
                precision == "bfloat16"), (precision, path)
            info = json.loads(
                (tmp_path / path / "assets.extra" / "vae_tf.json"
                 ).read_text())
            assert info["config"]["precision"] == precision

    from vae_tf.export import ExportError
    with pytest.raises(ExportError, match="--precision float32"):
        export_run(str(out), name="vae", base=base, precision="bfloat16",
                   tflite=True)


def _graph_computes_in_bfloat16(path):
    """Whether any node of the SavedModel's graphs has a bfloat16 type."""
    from tensorflow.python.framework import dtypes

    from vae_tf.export.check import graph_nodes

    bf16 = dtypes.bfloat16.as_datatype_enum
    return any(attr.type == bf16 for n in graph_nodes(path)
               for attr in n.attr.values())
