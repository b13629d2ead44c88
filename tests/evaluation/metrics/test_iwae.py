import numpy as np
import pytest

from vae_tf.evaluation.metrics import iwae_nll, negative_elbo
from vae_tf.runs import load_run


@pytest.fixture(scope="module")
def model_and_images(trained_run):
    config, models = load_run(trained_run)
    from vae_tf import load_data
    data = load_data("faces", num_examples=20, seed=5, image_shape=(32, 32, 3))
    x = data.train.images[:48].astype("float32") / 255.0
    return config, models, x


def test_iwae_bound_is_below_elbo_and_tightens_with_k(model_and_images):
    config, models, x = model_and_images
    decoder = models.vae.get_layer("decoder")
    elbo = negative_elbo(models.encoder, decoder, x, config.likelihood, seed=0)
    bounds = {
        k: iwae_nll(models.encoder, decoder, x, config.likelihood, k=k,
                    seed=0)["iwae_nll"]
        for k in (1, 10, 100)
    }
    # k = 1 is a one-sample -ELBO estimate: close to the analytic-KL -ELBO.
    assert bounds[1] == pytest.approx(elbo["neg_elbo"], rel=0.02)
    assert bounds[100] <= elbo["neg_elbo"]
    assert bounds[100] < bounds[10] < bounds[1]


def test_iwae_chunking_does_not_change_the_result(model_and_images):
    config, models, x = model_and_images
    decoder = models.vae.get_layer("decoder")
    a = iwae_nll(models.encoder, decoder, x[:8], config.likelihood, k=50,
                 batch_size=8, max_decodes=8 * 50, seed=3)
    b = iwae_nll(models.encoder, decoder, x[:8], config.likelihood, k=50,
                 batch_size=8, max_decodes=8 * 7, seed=3)  # 8 chunks of 7
    assert a["num_images"] == 8 and a["k"] == 50
    # Same seed, different chunking: same draws in a different grouping.
    np.testing.assert_allclose(a["iwae_nll"], b["iwae_nll"], rtol=1e-2)


def test_bad_k(model_and_images):
    config, models, x = model_and_images
    with pytest.raises(ValueError, match="k=0"):
        iwae_nll(models.encoder, models.vae.get_layer("decoder"), x,
                 "bernoulli", k=0)
