import keras
import numpy as np
import pytest

from vae_tf import generate
from vae_tf.runs import load_run


@pytest.fixture(scope="module")
def models(trained_run):
    return load_run(trained_run)[1]


def _images(n, seed=0):
    return np.random.default_rng(seed).uniform(
        size=(n, 32, 32, 3)).astype("float32")


def test_slerp_returns_its_endpoints_exactly_and_keeps_the_norm():
    rng = np.random.default_rng(0)
    a, b = (rng.normal(size=16).astype("float32"),
            rng.normal(size=16).astype("float32"))
    path = generate.slerp(a, b, np.linspace(0, 1, 7))
    np.testing.assert_array_equal(path[0], a)
    np.testing.assert_array_equal(path[-1], b)
    b_same_norm = b / np.linalg.norm(b) * np.linalg.norm(a)
    norms = np.linalg.norm(
        generate.slerp(a, b_same_norm, np.linspace(0, 1, 9)), axis=1)
    np.testing.assert_allclose(norms, np.linalg.norm(a), rtol=1e-5)
    mid_lerp = generate.lerp(a, b_same_norm, [0.5])[0]
    assert np.linalg.norm(mid_lerp) < norms[4]  # why slerp is the default
    parallel = generate.slerp(a, 2 * a, np.array([0.0, 0.5, 1.0]))
    np.testing.assert_allclose(parallel[1], 1.5 * a, rtol=1e-5)


def test_interpolate_endpoints_are_the_reconstructions(models):
    x = _images(4)
    images, z = generate.interpolate(models.encoder, models.decoder, x[:2],
                                     x[2:], steps=5)
    assert images.shape == (2, 5, 32, 32, 3) and z.shape == (2, 5, 4)
    recon = generate.reconstruct(models.encoder, models.decoder, x)
    np.testing.assert_allclose(images[:, 0], recon[:2], atol=1e-5)
    np.testing.assert_allclose(images[:, -1], recon[2:], atol=1e-5)
    with pytest.raises(ValueError, match="Unknown method"):
        generate.interpolate(models.encoder, models.decoder, x[0], x[1],
                             method="cubic")


def test_traverse_moves_one_dimension_per_row(models):
    z = np.array([0.1, -0.2, 0.3, 0.0], np.float32)
    grid = generate.traverse(models.decoder, z, dims=[0, 2],
                             values=[-2.0, 0.1, 2.0])
    assert grid.shape == (2, 3, 32, 32, 3)
    # Row 0, column 1 sets dim 0 to its own value: the plain decode.
    plain = models.decoder.predict(z[None], verbose=0)[0]
    np.testing.assert_allclose(grid[0, 1], plain, atol=1e-5)
    with pytest.raises(ValueError, match="out of range"):
        generate.traverse(models.decoder, z, dims=[4], values=[0.0])
    from_image = generate.traverse(models.decoder, _images(1)[0], [1],
                                   [0.0, 1.0], encoder=models.encoder)
    assert from_image.shape == (1, 2, 32, 32, 3)


def test_attribute_vector_recovers_a_planted_direction():
    # An "encoder" whose codes are its inputs: the latents are synthetic.
    inp = keras.Input((8,))
    identity = keras.Model(inp, [inp, inp, inp])
    rng = np.random.default_rng(0)
    direction = rng.normal(size=8).astype("float32")
    labels = rng.integers(0, 2, 4000)
    z = (rng.normal(size=(4000, 8)).astype("float32")
         + labels[:, None] * direction)
    found = generate.attribute_vector(identity, z, labels)
    cosine = (found @ direction / np.linalg.norm(found)
              / np.linalg.norm(direction))
    assert cosine > 0.99
    np.testing.assert_allclose(found, direction, atol=0.12)
    with pytest.raises(ValueError, match="both with and without"):
        generate.attribute_vector(identity, z, np.ones(4000))


def test_edit_at_strength_zero_is_the_reconstruction(models):
    x = _images(3)
    vector = np.ones(4, np.float32)
    edited = generate.edit(models.encoder, models.decoder, x, vector,
                           [0.0, 1.0, 3.0])
    assert edited.shape == (3, 3, 32, 32, 3)
    np.testing.assert_allclose(
        edited[:, 0], generate.reconstruct(models.encoder, models.decoder, x),
        atol=1e-5
    )
    assert not np.allclose(edited[:, 0], edited[:, 2])


def test_sample_and_edit_on_exported_savedmodels(exported, models):
    result, _ = exported
    images, z = generate.sample(result.decoder_dir, 5, temperature=0.5, seed=2)
    assert images.shape == (5, 32, 32, 3)
    np.testing.assert_allclose(images, models.decoder.predict(z, verbose=0),
                               atol=1e-5)
    assert np.abs(z).std() < 0.8  # temperature 0.5
    base = result.decoder_dir.rsplit("/", 1)[0]  # model base path works too
    again, _ = generate.sample(base, 5, temperature=0.5, seed=2)
    np.testing.assert_array_equal(images, again)
    x = _images(2)
    edited = generate.edit(result.encoder_dir, result.decoder_dir, x,
                           np.ones(4), [0.0, 1.0])
    np.testing.assert_allclose(
        edited,
        generate.edit(models.encoder, models.decoder, x, np.ones(4),
                      [0.0, 1.0]),
        atol=1e-5,
    )


def test_generate_accepts_loaded_savedmodel_objects(exported, models):
    """The README promises a `tf.saved_model.load`ed export works like its
    path: every generate function, the same numbers as the Keras models."""
    import tensorflow as tf

    result, _ = exported
    enc = tf.saved_model.load(result.encoder_dir)
    dec = tf.saved_model.load(result.decoder_dir)
    x = _images(3)
    images, z = generate.sample(dec, 4, seed=3)
    np.testing.assert_allclose(
        images, models.decoder.predict(z, verbose=0), atol=1e-5)
    np.testing.assert_allclose(
        generate.reconstruct(enc, dec, x),
        generate.reconstruct(models.encoder, models.decoder, x), atol=1e-5)
    np.testing.assert_allclose(
        generate.interpolate(enc, dec, x[0], x[1], steps=4)[0],
        generate.interpolate(models.encoder, models.decoder, x[0], x[1],
                             steps=4)[0], atol=1e-5)
    served, served_z = generate.sample_served(dec, 4, seed=3)
    assert served.shape == (4, 32, 32, 3) and served_z.shape == (4, 4)


def test_bad_counts_shapes_and_samplers_are_named(models):
    """Bugs: a negative count, a sampler of another latent width, or a
    batch of images given to traverse reaching TensorFlow unexplained."""
    from vae_tf.samplers import PriorSampler

    for n in (0, -1, 2.0):
        with pytest.raises(ValueError, match="Expected n > 0 samples"):
            generate.sample(models.decoder, n)
    for width in (2, 6):  # the decoder takes 4
        with pytest.raises(ValueError, match=f"draws {width}-dimensional z"):
            generate.sample(models.decoder, 3, sampler=PriorSampler(width))
    with pytest.raises(ValueError, match="one latent .K,. or one image"):
        generate.traverse(models.decoder, _images(2), [0], [0.0],
                          encoder=models.encoder)


def test_sample_served_defaults_to_seed_0(exported):
    import tensorflow as tf

    dec = tf.saved_model.load(exported[0].decoder_dir)
    default, z = generate.sample_served(dec, 3)
    seeded, z0 = generate.sample_served(dec, 3, seed=0)
    np.testing.assert_array_equal(z, z0)
    np.testing.assert_array_equal(default, seeded)
    assert not np.array_equal(z, generate.sample_served(dec, 3, seed=1)[1])


def test_edit_decodes_the_code_plus_strength_times_the_vector(models):
    """Bug: the strength applied other than as `z + s * vector`; also a
    single image (H, W, C) is edited like a batch of one."""
    x = _images(2)
    vector = np.array([0.5, -1.0, 2.0, 0.25], np.float32)
    strengths = [0.0, 1.5, -2.0]
    edited = generate.edit(models.encoder, models.decoder, x, vector,
                           strengths)
    z = generate.encoder_fn(models.encoder)(x)
    for j, s in enumerate(strengths):
        np.testing.assert_allclose(
            edited[:, j], models.decoder.predict(z + s * vector, verbose=0),
            atol=1e-5)
    single = generate.edit(models.encoder, models.decoder, x[0], vector,
                           strengths)
    assert single.shape == (1, 3, 32, 32, 3)
    np.testing.assert_allclose(single[0], edited[0], atol=1e-5)


def test_slerp_extrapolates_beyond_its_endpoints():
    a = np.array([1.0, 0.0], np.float32)
    b = np.array([0.0, 1.0], np.float32)
    # On the unit circle: t = 2 is 180 degrees from a, t = -1 is -90.
    np.testing.assert_allclose(generate.slerp(a, b, np.array([2.0, -1.0])),
                               [[-1.0, 0.0], [0.0, -1.0]], atol=1e-6)


def test_attribute_vector_is_the_difference_of_class_means(models):
    """Bug: the two class means added, or labels of another length."""
    x = _images(6, seed=4)
    labels = np.array([1, 0, 1, 1, 0, 0])
    z = generate.encoder_fn(models.encoder)(x)
    np.testing.assert_allclose(
        generate.attribute_vector(models.encoder, x, labels),
        z[labels == 1].mean(0) - z[labels == 0].mean(0), atol=1e-6)
    for wrong in (labels[:5], np.append(labels, 1)):
        with pytest.raises(ValueError, match="images but .* labels"):
            generate.attribute_vector(models.encoder, x, wrong)


def test_sample_defaults_to_seed_0_and_interpolation_needs_two_steps(models):
    np.testing.assert_array_equal(generate.sample(models.decoder, 3)[1],
                                  generate.sample(models.decoder, 3, seed=0)[1])
    x = _images(2)
    with pytest.raises(ValueError, match="steps"):
        generate.interpolate(models.encoder, models.decoder, x[0], x[1],
                             steps=1)


def test_slerp_of_opposite_vectors_is_finite():
    """cos of two opposite vectors can round below -1; arccos of it is NaN
    unless clipped."""
    rng = np.random.default_rng(5)
    for _ in range(50):
        a = rng.normal(size=7).astype(np.float32)
        path = generate.slerp(a, -a, np.linspace(0, 1, 5))
        assert np.isfinite(path).all()


def test_slerp_from_the_origin_and_the_default_path_length(models):
    """A zero code (the prior's mean) has no direction: slerp must fall
    back to lerp instead of dividing by zero. `interpolate` gives 8 points
    by default, as documented."""
    import warnings

    zero, b = np.zeros(3, np.float32), np.array([1.0, 2.0, 2.0], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 0 / 0 on the way
        np.testing.assert_allclose(generate.slerp(zero, b, np.array([0.5])),
                                   [0.5 * b], atol=1e-6)
    x = _images(2)
    images, z = generate.interpolate(models.encoder, models.decoder, x[0],
                                     x[1])
    assert images.shape[:2] == (1, 8) and z.shape == (1, 8, 4)


def test_lerp_is_the_straight_line():
    a = np.array([1.0, 0.0, 2.0], np.float32)
    b = np.array([0.0, 4.0, -2.0], np.float32)
    np.testing.assert_allclose(generate.lerp(a, b, [0.0, 0.25, 1.0]),
                               [a, 0.75 * a + 0.25 * b, b], atol=1e-6)


def test_shape_errors_name_the_shape_the_user_passed(models):
    """Bugs: a check that lets through a z of the wrong rank or a narrower
    width (TensorFlow then fails deep inside), or interpolation of a
    single-channel image turned into a batch before the error."""
    decode = generate.decoder_fn(models.decoder)
    for bad in ((2, 4, 1), (2, 3), (2, 5), (4,)):
        with pytest.raises(ValueError, match=r"decoder input z: expected shape"
                           rf" \(batch, 4\)\. Received: \({bad[0]},"):
            decode(np.zeros(bad, np.float32))
    with pytest.raises(ValueError, match=r"Received: \(32, 32\)"):
        generate.interpolate(models.encoder, models.decoder,
                             np.zeros((32, 32)), np.zeros((32, 32)))
    one, two = _images(1), _images(2)
    for x_a, x_b in ((one, two), (two, one)):
        with pytest.raises(ValueError, match="same shape"):
            generate.interpolate(models.encoder, models.decoder, x_a, x_b)
    for width in (3, 5):
        with pytest.raises(ValueError, match=f"vector has {width} entries, "
                           "the latent space 4"):
            generate.edit(models.encoder, models.decoder, one,
                          np.ones(width), [1.0])


def test_interpolate_follows_the_chosen_path(models):
    """Bug: lerp and slerp swapped, or two steps (just the endpoints)
    refused."""
    x = _images(2, seed=7)
    za, zb = generate.encoder_fn(models.encoder)(x)
    t = np.linspace(0.0, 1.0, 5)
    for method, path in (("lerp", generate.lerp), ("slerp", generate.slerp)):
        _, z = generate.interpolate(models.encoder, models.decoder, x[0],
                                    x[1], steps=5, method=path.__name__)
        np.testing.assert_allclose(z[0], path(za, zb, t), atol=1e-6)
    assert not np.allclose(generate.lerp(za, zb, t), generate.slerp(za, zb, t))
    images, z = generate.interpolate(models.encoder, models.decoder, x[0],
                                     x[1], steps=2)
    assert images.shape == (1, 2, 32, 32, 3)
    np.testing.assert_allclose(z[0], [za, zb], atol=1e-6)


def test_slerp_at_obtuse_and_opposite_angles():
    """Bugs: the angle clipped to [0, 90] degrees; opposite vectors (no
    plane to turn in) not falling back to the straight line."""
    a = np.array([1.0, 0.0], np.float32)
    b = np.array([np.cos(2.0), np.sin(2.0)], np.float32)  # 115 degrees
    mid = generate.slerp(a, b, np.array([0.5]))[0]
    np.testing.assert_allclose(mid, [np.cos(1.0), np.sin(1.0)], atol=1e-6)
    c = np.array([0.5, -1.0, 2.0], np.float32)
    np.testing.assert_allclose(generate.slerp(c, -c, np.array([0.25, 0.5])),
                               [0.5 * c, 0 * c], atol=1e-6)


def test_traverse_sets_each_value_in_each_row():
    """Bug: the values never written into the grid (every tile the plain
    decode). An identity "decoder" shows the latents it was given."""
    inp = keras.Input((4,))
    identity = keras.Model(inp, keras.layers.Reshape((2, 2, 1))(inp))
    z = np.array([0.1, -0.2, 0.3, 0.0], np.float32)
    grid = generate.traverse(identity, z, dims=[2, 0], values=[-2.0, 5.0])
    expected = np.repeat(z[None, None], 2, 0).repeat(2, 1)
    expected[0, :, 2] = [-2.0, 5.0]
    expected[1, :, 0] = [-2.0, 5.0]
    np.testing.assert_allclose(grid.reshape(2, 2, 4), expected)


def test_one_sample_and_a_quiet_keras_decode(models, capfd):
    """Bugs: n = 1 refused; Keras progress bars printed by every call."""
    images, z = generate.sample(models.decoder, 1, seed=3)
    assert images.shape == (1, 32, 32, 3) and z.shape == (1, 4)
    generate.reconstruct(models.encoder, models.decoder, _images(2))
    out, err = capfd.readouterr()
    assert "step" not in out + err


@pytest.mark.parametrize("content, first_line", [
    (b"corrupt", "Cannot parse file"),  # TensorFlow: OSError
    (b"", "requires a `tags=` argument"),  # ValueError
])
def test_broken_savedmodels_are_one_clear_error(tmp_path, content,
                                                first_line):
    folder = tmp_path / "decoder" / "1"
    (folder / "variables").mkdir(parents=True)
    (folder / "saved_model.pb").write_bytes(content)
    with pytest.raises(ValueError, match=f"Cannot load SavedModel {folder}: "
                       f".*{first_line}"):
        generate.sample(str(folder), 2)


def test_traverse_refuses_negative_and_far_dims(models):
    """Bugs: dim -1 silently moving the last latent (NumPy indexing), or a
    dim past the end reaching NumPy as an IndexError."""
    z = np.zeros(4, np.float32)
    for dim in (-1, 7):
        with pytest.raises(ValueError, match=rf"Latent dims \[{dim}\] out"):
            generate.traverse(models.decoder, z, dims=[dim], values=[0.0])


def test_sample_temperature_must_be_positive_and_defaults_to_1(models):
    for bad in (0.0, -1.0):
        with pytest.raises(ValueError, match="temperature > 0"):
            generate.sample(models.decoder, 2, temperature=bad)
    np.testing.assert_array_equal(
        generate.sample(models.decoder, 3, seed=4)[1],
        generate.sample(models.decoder, 3, seed=4, temperature=1.0)[1])


def test_slerp_of_short_vectors():
    """Bug: the cosine's norm guard applied to vectors whose norm product
    is below 1, bending the path of short codes."""
    a = np.array([0.1, 0.0], np.float32)
    b = 0.1 * np.array([np.cos(1.0), np.sin(1.0)], np.float32)
    mid = generate.slerp(a, b, np.array([0.5]))[0]
    np.testing.assert_allclose(mid, [0.1 * np.cos(0.5), 0.1 * np.sin(0.5)],
                               atol=1e-7)


def test_wide_latent_spaces_are_accepted():
    """Bug: latent widths compared by identity (`is not`), true only for
    CPython's cached small ints: a 300-dimensional sampler was refused."""
    from vae_tf.samplers import PriorSampler

    z = keras.Input((300,))
    decoder = keras.Model(z, keras.layers.Reshape((10, 10, 3))(z))
    width = int("300")  # a new int object, as read from a config file
    images, codes = generate.sample(decoder, 2, sampler=PriorSampler(width))
    assert images.shape == (2, 10, 10, 3) and codes.shape == (2, 300)


def test_a_load_error_reports_its_first_line(tmp_path, monkeypatch):
    """TensorFlow's messages put the cause first and details after."""
    import tensorflow as tf

    folder = tmp_path / "1"
    (folder / "variables").mkdir(parents=True)
    (folder / "saved_model.pb").write_bytes(b"")

    def fail(path):
        raise OSError("the cause\nstack details\nmore details")

    monkeypatch.setattr(tf.saved_model, "load", fail)
    with pytest.raises(ValueError, match=r"Cannot load SavedModel .*: the "
                       r"cause$"):
        generate.sample(str(folder), 2)


def test_slerp_of_parallel_vectors_is_finite():
    """cos of two parallel vectors rounds above 1 for about a quarter of
    them; arccos of it is NaN unless clipped at 1."""
    rng = np.random.default_rng(5)
    for _ in range(50):
        a = rng.normal(size=7).astype(np.float32)
        path = generate.slerp(a, 2 * a, np.linspace(0, 1, 5))
        np.testing.assert_allclose(path[2], 1.5 * a, rtol=1e-5)


def test_edit_names_the_shape_of_a_2d_image(models):
    with pytest.raises(ValueError, match=r"Received: \(32, 32\)"):
        generate.edit(models.encoder, models.decoder, np.zeros((32, 32)),
                      np.ones(4), [1.0])


def test_runtime_strings_wide_latents_and_celeba_labels():
    """Bugs: `is` for ==, true only for interned literals (a method name
    read from a CLI or config) and CPython's cached small ints (latents
    above 256); CelebA's -1 labels counted as having the attribute."""
    x = keras.Input((10, 10, 3))
    flat = keras.layers.Flatten()(x)
    encoder = keras.Model(x, [flat, flat, flat])  # 300-dim codes
    z = keras.Input((300,))
    decoder = keras.Model(z, keras.layers.Reshape((10, 10, 3))(z))
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(4, 10, 10, 3)).astype(np.float32)
    vector = np.full(int("300"), 0.5, np.float32)
    edited = generate.edit(encoder, decoder, images, vector, [1.0])
    np.testing.assert_allclose(edited[:, 0], images + 0.5, atol=1e-6)
    lerp = "".join(["l", "erp"])  # not the interned literal
    _, path = generate.interpolate(encoder, decoder, images[0], images[1],
                                   steps=3, method=lerp)
    np.testing.assert_allclose(path[0, 1], (images[0] + images[1]).ravel()
                               / 2, atol=1e-6)
    np.testing.assert_allclose(
        generate.attribute_vector(encoder, images, [1, -1, 1, -1]),
        generate.attribute_vector(encoder, images, [1, 0, 1, 0]))
