"""SubPixelConv2DTranspose and the exported decoder graph: the same
function as the Conv2DTranspose it replaces."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from vae_tf import VAEConfig, build_vae
from vae_tf.export.serving_graph import serving_decoder
from vae_tf.layers import SubPixelConv2DTranspose
from vae_tf.models import leaf_layers


def _conv_transpose(filters, channels, activation=None, use_bias=True,
                    seed=0, **kwargs):
    options = {**dict(kernel_size=4, strides=2, padding="same"), **kwargs}
    layer = keras.layers.Conv2DTranspose(
        filters, activation=activation, use_bias=use_bias, name="dec_out",
        **options)
    layer.build((None, None, None, channels))
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.normal(size=w.shape).astype("float32")
                       for w in layer.get_weights()])
    return layer


@pytest.mark.parametrize("filters, channels, activation, use_bias, shape", [
    (3, 32, "sigmoid", True, (6, 4)),
    (1, 5, None, True, (7, 5)),
    (2, 8, "relu", False, (1, 1)),
    (64, 16, None, True, (3, 3)),
])
def test_same_outputs_as_the_conv_transpose(filters, channels, activation,
                                            use_bias, shape):
    layer = _conv_transpose(filters, channels, activation, use_bias)
    sub = SubPixelConv2DTranspose.from_conv_transpose(layer)
    x = np.random.default_rng(1).normal(
        size=(3, *shape, channels)).astype("float32")
    want = keras.ops.convert_to_numpy(layer(x))
    got = keras.ops.convert_to_numpy(sub(x))
    assert got.shape == want.shape == (3, 2 * shape[0], 2 * shape[1],
                                       filters)
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5)
    assert sub.name == layer.name and sub.dtype_policy == layer.dtype_policy


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=3), dict(strides=1), dict(padding="valid"),
    dict(output_padding=1),
])
def test_refuses_a_layer_it_does_not_reproduce(kwargs):
    layer = _conv_transpose(3, 8, **kwargs)
    with pytest.raises(ValueError, match="no sub-pixel equivalent"):
        SubPixelConv2DTranspose.from_conv_transpose(layer)


def test_config_round_trip():
    layer = SubPixelConv2DTranspose(3, activation="sigmoid", name="x")
    again = SubPixelConv2DTranspose.from_config(layer.get_config())
    assert again.filters == 3 and again.name == "x"
    assert again.activation is keras.activations.sigmoid
    with pytest.raises(ValueError, match="filters >= 1"):
        SubPixelConv2DTranspose(0)


def _twin(config):
    models = build_vae(config.resolve())
    twin = serving_decoder(models.decoder)
    z = np.random.default_rng(2).normal(
        size=(5, config.latent_dim)).astype("float32")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(twin(z)),
        keras.ops.convert_to_numpy(models.decoder(z)), atol=1e-5)
    return models, twin


@pytest.mark.parametrize("likelihood", ["gaussian", "bernoulli"])
def test_serving_decoder_swaps_only_the_output_layer(likelihood):
    config = VAEConfig(input_shape=(16, 16, 3), latent_dim=4,
                       widths=(8, 16), dense_units=16,
                       likelihood=likelihood, precision="float32")
    models, twin = _twin(config)
    swapped = [la for la in leaf_layers(twin)
               if isinstance(la, SubPixelConv2DTranspose)]
    assert [la.name for la in swapped] == ["dec_out"]
    kept = [la for la in leaf_layers(twin) if la.name == "dec_deconv_0"]
    original = [la for la in leaf_layers(models.decoder)
                if la.name == "dec_deconv_0"]
    assert kept and kept[0] is original[0]  # shared, not copied


def test_serving_decoder_keeps_a_decoder_without_transposed_convs():
    config = VAEConfig(input_shape=(8, 8, 1), latent_dim=2,
                       architecture="mlp", widths=(16,), dense_units=0,
                       precision="float32")
    models = build_vae(config.resolve())
    assert serving_decoder(models.decoder) is models.decoder


def test_bfloat16_body_keeps_a_float32_output_layer():
    config = VAEConfig(input_shape=(16, 16, 3), latent_dim=4,
                       widths=(8, 16), dense_units=16, precision="bfloat16")
    models = build_vae(config.resolve())
    twin = serving_decoder(models.decoder)
    out = [la for la in leaf_layers(twin) if la.name == "dec_out"][0]
    assert isinstance(out, SubPixelConv2DTranspose)
    assert out.compute_dtype == "float32"
    z = tf.zeros((2, 4))
    assert twin(z).dtype == tf.float32
