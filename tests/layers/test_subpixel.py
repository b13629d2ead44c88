"""SubPixelConv2DTranspose: the same function as the Conv2DTranspose it
replaces (the exported decoder's use of it: tests/export/
test_serving_graph.py)."""

import keras
import numpy as np
import pytest

from vae_tf.layers import SubPixelConv2DTranspose


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


def test_layer_contract(check_layer):
    """Shapes, weights and the config round trip, as for every layer."""
    layer, _ = check_layer(
        SubPixelConv2DTranspose, {"filters": 3, "activation": "sigmoid"},
        np.zeros((2, 4, 5, 8), np.float32), [(2, 8, 10, 3)],
        expected_num_trainable_weights=2)
    again = SubPixelConv2DTranspose.from_config(layer.get_config())
    assert again.activation is keras.activations.sigmoid
    with pytest.raises(ValueError, match="filters >= 1"):
        SubPixelConv2DTranspose(0)
