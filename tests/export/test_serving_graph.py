"""The exported decoder graph (`serving_decoder`): the trained decoder
with its image-channel output layer swapped for a sub-pixel convolution,
the same function."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from vae_tf import VAEConfig, build_vae
from vae_tf.export.serving_graph import serving_decoder
from vae_tf.layers import SubPixelConv2DTranspose
from vae_tf.models import leaf_layers


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
