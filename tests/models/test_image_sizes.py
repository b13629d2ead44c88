"""Architectures that follow the image size (issue 30, point 1, part):
the default conv stack has one stride-2 stage per doubling of the side,
so 32 to 256 px photos all end on a small grid; each size builds, trains
a step and exports with the Keras numbers."""

import numpy as np
import pytest
import tensorflow as tf

from vae_tf import VAEConfig, build_vae, compile_vae
from vae_tf.models import leaf_layers


@pytest.mark.parametrize("size, stages", [(32, 3), (64, 4), (128, 5),
                                          (256, 6)])
def test_each_size_builds_trains_and_exports(size, stages, tmp_path):
    from vae_tf.export import export_models

    config = VAEConfig(input_shape=(size, size, 3), latent_dim=4,
                       dense_units=16, batch_size=4, seed=0,
                       precision="float32").resolve()
    models = build_vae(config)
    strided = [layer for layer in leaf_layers(models.encoder)
               if isinstance(layer, tf.keras.layers.Conv2D)
               and layer.strides == (2, 2)]
    assert len(strided) == len(config.widths) == stages
    grid = models.encoder.get_layer(strided[-1].name).output.shape[1]
    assert 4 <= grid <= 8, grid
    compile_vae(models.vae, config, steps_per_epoch=1)
    x = np.random.default_rng(0).random((4, size, size, 3), np.float32)
    history = models.vae.fit(x, x, batch_size=4, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    # The exported decoder and encoder give the Keras numbers.
    result = export_models(models, config, base=str(tmp_path))
    z = np.random.default_rng(1).standard_normal((2, 4)).astype(np.float32)
    served = tf.saved_model.load(result.decoder_dir).signatures[
        "serving_default"](z=tf.constant(z))["image"].numpy()
    assert served.shape == (2, size, size, 3)
    np.testing.assert_allclose(
        served, models.decoder.predict(z, verbose=0), atol=1e-5)
    codes = tf.saved_model.load(result.encoder_dir).signatures[
        "serving_default"](image=tf.constant(x[:2]))["z_mean"].numpy()
    np.testing.assert_allclose(
        codes, models.encoder.predict(x[:2], verbose=0)[0], atol=1e-5)
