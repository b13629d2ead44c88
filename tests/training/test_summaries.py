"""TensorBoard beyond scalars: per-epoch reconstructions, samples and code
histograms in logs/latent, and the embedding projector at the end, read
back from the event files and the projector config."""

import glob
import os

import numpy as np
import pytest
import tensorflow as tf
from google.protobuf import text_format
from tensorboard.plugins import projector

from vae_tf import VAEConfig, train
from vae_tf._internal.pixels import as_float_images
from vae_tf.models import split_vae
from vae_tf.runs import Run, evaluation_images, load_model


def _events(folder):
    """`{tag: [(step, value proto), ...]}` of every event file in folder."""
    found = {}
    for path in sorted(glob.glob(os.path.join(folder, "events.out.*"))):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                found.setdefault(value.tag, []).append((event.step, value))
    return found


@pytest.fixture(scope="module")
def faces_run(tmp_path_factory):
    """Two epochs on faces, whose validation images carry attributes."""
    out = tmp_path_factory.mktemp("summaries") / "run"
    config = VAEConfig(
        input_shape=(32, 32, 3), latent_dim=4, widths=(8, 16),
        dense_units=32, batch_size=32, epochs=2, num_examples=160, seed=3,
    )
    train(config, out_dir=str(out), verbose=0)
    return str(out)


def test_each_epoch_logs_reconstructions_samples_and_code_histograms(
        faces_run):
    events = _events(os.path.join(faces_run, "logs", "latent"))
    assert {"reconstructions", "samples", "z_mean",
            "z_log_var"} <= set(events)
    for tag in events:
        assert [step for step, _ in events[tag]] == [0, 1], tag
    run = Run(faces_run)
    recon = tf.make_ndarray(events["reconstructions"][-1][1].tensor)
    samples = tf.make_ndarray(events["samples"][-1][1].tensor)
    # Image summaries hold (width, height, PNG bytes...).
    recon_png = tf.io.decode_png(recon[2]).numpy()
    sample_png = tf.io.decode_png(samples[2]).numpy()
    h, w, c = run.config.input_shape
    pad = 2
    assert recon_png.shape == (2 * (h + pad) + pad, 8 * (w + pad) + pad, c)
    assert sample_png.shape == (h + 2 * pad, 8 * (w + pad) + pad, c)
    # Epoch 1's samples are epoch 0's fixed draws decoded by newer weights.
    first = tf.io.decode_png(tf.make_ndarray(
        events["samples"][0][1].tensor)[2]).numpy()
    assert not np.array_equal(first, sample_png)

    hist = tf.make_ndarray(events["z_mean"][-1][1].tensor)  # (bins, 3)
    n_val = len(run.data.validation)
    assert hist[:, 2].sum() == pytest.approx(n_val * run.config.latent_dim)


def test_training_ends_with_an_embedding_projector_entry(faces_run):
    logs = os.path.join(faces_run, "logs")
    config = text_format.Parse(
        open(os.path.join(logs, "projector_config.pbtxt")).read(),
        projector.ProjectorConfig())
    (embedding,) = config.embeddings
    run = Run(faces_run)
    n = min(1000, len(run.data.validation))

    points = np.loadtxt(os.path.join(logs, embedding.tensor_path),
                        delimiter="\t", ndmin=2)
    assert points.shape == (n, run.config.latent_dim)
    x = as_float_images(evaluation_images(
        run.config, run.data.validation.images[:n], "validation"))
    # The projector holds the codes of the model as trained (bfloat16 on
    # CPUs with AVX512_BF16); run.models computes in float32.
    as_trained = split_vae(load_model(run.paths.model), run.config)
    z_mean = as_trained.encoder.predict(x, verbose=0)[0]
    np.testing.assert_allclose(points, z_mean, rtol=1e-4, atol=1e-5)

    rows = open(os.path.join(logs, embedding.metadata_path)).read().split(
        "\n")[:-1]
    names = sorted(run.data.validation.attributes)
    assert rows[0].split("\t") == names  # header: several columns
    assert len(rows) == n + 1
    smile = names.index("smile")
    np.testing.assert_allclose(
        [float(r.split("\t")[smile]) for r in rows[1:]],
        run.data.validation.attributes["smile"][:n], atol=5e-3)

    sprite = tf.io.decode_png(open(os.path.join(
        logs, embedding.sprite.image_path), "rb").read()).numpy()
    h, w = run.config.input_shape[:2]
    assert list(embedding.sprite.single_image_dim) == [w, h]
    cols = sprite.shape[1] // w
    assert cols * (sprite.shape[0] // h) >= n
    # The sprite's i-th tile is the i-th point's image.
    i = n - 1
    tile = sprite[(i // cols) * h:(i // cols + 1) * h,
                  (i % cols) * w:(i % cols + 1) * w]
    np.testing.assert_array_equal(tile, run.data.validation.images[i])


def test_writing_the_summaries_does_not_change_training(tmp_path):
    """Bug: encoding with the full encoder in the callback ran Sampling and
    advanced the seed state training draws from (and resumes with)."""
    config = VAEConfig(
        input_shape=(32, 32, 3), latent_dim=4, widths=(8, 16),
        dense_units=32, batch_size=32, epochs=2, num_examples=96, seed=4,
    )
    with_logs = train(config, out_dir=str(tmp_path / "run"), verbose=0)
    without = train(config, verbose=0)  # no run directory: no callbacks
    assert os.path.isdir(tmp_path / "run" / "logs" / "latent")
    for a, b in zip(with_logs.models.vae.get_weights(),
                    without.models.vae.get_weights()):
        np.testing.assert_array_equal(a, b)
