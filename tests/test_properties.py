"""Property-based tests (hypothesis): whatever a user puts in a config file
or passes as images, the package either accepts it or raises its own error
(`ConfigError`, `DataError`), never a TypeError or a TensorFlow error.

The default suite runs 40 examples per property; the slow profile runs
1,000: `VAE_TF_HYPOTHESIS=slow python -m pytest tests/test_properties.py`.
"""

import json
import math
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from vae_tf import VAEConfig
from vae_tf.config import ConfigError
from vae_tf.data import DataError
from vae_tf.data.validation import check_images

settings.register_profile(
    "default", max_examples=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "slow", max_examples=1000, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("VAE_TF_HYPOTHESIS", "default"))

FIELDS = [f for f in VAEConfig().to_dict()]

json_scalars = st.one_of(
    st.none(), st.booleans(), st.text(max_size=12),
    st.integers(min_value=-10**12, max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=6), inner,
                                            max_size=3)),
    max_leaves=8,
)
config_dicts = st.dictionaries(
    st.one_of(st.sampled_from(FIELDS), st.text(max_size=10)),
    json_values, max_size=6,
)


@given(config_dicts)
def test_any_config_dict_is_accepted_or_a_config_error(values):
    try:
        config = VAEConfig.from_dict(values)
    except ConfigError as err:
        assert str(err)  # a message that names the problem
        return
    # Accepted: every field is what the model builder and trainer expect,
    # and the config survives its own JSON round trip unchanged.
    _assert_well_formed(config)
    assert VAEConfig.from_json(config.to_json()) == config


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_finite(v):
    return (isinstance(v, (int, float)) and not isinstance(v, bool)
            and math.isfinite(v))


def _assert_well_formed(c):
    for name in ("latent_dim", "warmup_steps", "num_cycles", "capacity_steps",
                 "num_examples", "epochs", "batch_size",
                 "steps_per_execution"):
        assert _is_int(getattr(c, name)) and getattr(c, name) > 0, name
    assert _is_int(c.seed) and c.seed >= 0
    assert _is_int(c.dense_units) and c.dense_units >= 0
    for name in ("beta", "capacity_max", "free_bits", "frequency_weight"):
        assert _is_finite(getattr(c, name)) and getattr(c, name) >= 0, name
    assert _is_finite(c.learning_rate) and c.learning_rate > 0
    assert _is_finite(c.cycle_ratio) and 0 < c.cycle_ratio <= 1
    assert c.likelihood_scale is None or (
        _is_finite(c.likelihood_scale) and c.likelihood_scale > 0)
    assert c.widths is None or (
        len(c.widths) > 0 and all(_is_int(w) and w > 0 for w in c.widths))
    assert c.input_shape is None or (
        len(c.input_shape) == 3
        and all(_is_int(d) and d > 0 for d in c.input_shape))
    assert c.binarize in (None, True, False)
    assert isinstance(c.jit_compile, bool)
    assert isinstance(c.data, str) and c.data
    for name, choices in (("likelihood", ("bernoulli", "gaussian", "laplace")),
                          ("sampler", ("mixture", "flow", "prior", "auto")),
                          ("lr_schedule", ("constant", "cosine",
                                           "one_cycle"))):
        assert getattr(c, name) in choices, name


@given(st.text(max_size=200))
def test_any_config_text_is_accepted_or_a_config_error(text):
    try:
        VAEConfig.from_json(text)
    except ConfigError:
        pass


@given(st.sampled_from(FIELDS), json_values)
def test_one_bad_field_is_named_in_the_error(field, value):
    values = VAEConfig().to_dict()
    values[field] = value
    try:
        VAEConfig.from_dict(values)
    except ConfigError as err:
        assert field in str(err) or "Invalid config value" in str(err)


image_dtypes = st.sampled_from([np.uint8, np.float16, np.float32,
                                np.float64, np.int32, np.bool_])


@given(hnp.arrays(
    dtype=image_dtypes,
    shape=hnp.array_shapes(min_dims=1, max_dims=5, min_side=0, max_side=5),
    elements=None,
))
def test_any_array_is_accepted_or_a_data_error(images):
    try:
        check_images(images, "property test")
    except DataError as err:
        assert "property test" in str(err)
        return
    # Accepted: a 4-D non-empty uint8 array, or finite floats in [0, 1].
    assert images.ndim == 4 and len(images) > 0
    if images.dtype != np.uint8:
        assert np.issubdtype(images.dtype, np.floating)
        assert np.all(np.isfinite(images))
        assert images.min() >= 0.0 and images.max() <= 1.0


@given(st.floats(allow_nan=True, allow_infinity=True, width=32),
       st.integers(0, 3), st.integers(0, 3))
def test_a_single_bad_pixel_is_found(value, i, j):
    images = np.full((2, 4, 4, 1), 0.5, np.float32)
    images[1, i, j, 0] = value
    ok = math.isfinite(value) and 0.0 <= value <= 1.0
    if ok:
        check_images(images, "one pixel")
    else:
        with pytest.raises(DataError, match="one pixel"):
            check_images(images, "one pixel")


def test_profiles_are_registered():
    # The slow profile is what the closing note's 1,000 examples refers to.
    assert settings.get_profile("slow").max_examples == 1000
    json.dumps(VAEConfig().to_dict())  # the config is plain JSON


# -- exported signatures ------------------------------------------------------

@pytest.fixture(scope="module")
def signatures(exported):
    import tensorflow as tf

    result, _ = exported
    enc = tf.saved_model.load(result.encoder_dir)
    dec = tf.saved_model.load(result.decoder_dir)
    return enc, dec  # keep the objects alive: signatures hold weak refs


@given(batch=st.integers(0, 1024), seed=st.integers(0, 2**31 - 1),
       bad_row=st.integers(0, 1023),
       bad=st.sampled_from([np.nan, np.inf, -np.inf, 1e30, -1e30]))
@example(batch=0, seed=0, bad_row=0, bad=np.nan)
def test_encoder_signature_any_batch_and_extreme_rows(signatures, batch, seed,
                                                      bad_row, bad):
    """Any batch size 0..1,024 gives (batch, K) outputs; valid rows are
    finite with |z_log_var| < 10; an extreme pixel (+-1e30) in one image
    changes that image's row only; a NaN or infinite one fails the
    request, naming the input (`vae_tf.export.finite_inputs`)."""
    import tensorflow as tf

    enc, _ = signatures
    x = np.random.default_rng(seed).uniform(size=(batch, 32, 32, 3))
    x = x.astype(np.float32)
    clean = enc.signatures["serving_default"](image=tf.constant(x))
    assert clean["z_mean"].shape == (batch, 4)
    assert clean["z_log_var"].shape == (batch, 4)
    assert np.all(np.isfinite(clean["z_mean"]))
    assert np.all(np.abs(clean["z_log_var"]) < 10.0)
    if batch == 0:
        return
    row = bad_row % batch
    x[row, 5, 7, 1] = bad
    if not np.isfinite(bad):
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match="image holds NaN or infinite values"):
            enc.signatures["serving_default"](image=tf.constant(x))
        return
    dirty = enc.signatures["serving_default"](image=tf.constant(x))
    keep = np.arange(batch) != row
    for key in ("z_mean", "z_log_var"):
        np.testing.assert_allclose(dirty[key].numpy()[keep],
                                   clean[key].numpy()[keep], atol=1e-5)


@given(n=st.integers(0, 1024), seed=st.integers(-2**63, 2**63 - 1))
@example(n=0, seed=0)
def test_sample_signature_any_count_and_seed(signatures, n, seed):
    """The served `sample` signature: n images in [0, 1] and n finite z
    for n int64 seeds (from any seed, wrapping at 2**63); the same seeds
    give the same images."""
    import tensorflow as tf

    from vae_tf._internal.seeds import row_seeds

    _, dec = signatures
    args = dict(seed=tf.constant(row_seeds(n, seed), tf.int64))
    out = dec.signatures["sample"](**args)
    assert out["image"].shape == (n, 32, 32, 3)
    assert out["z"].shape == (n, 4)
    assert np.all(np.isfinite(out["z"]))
    image = out["image"].numpy()
    assert np.all((image >= 0) & (image <= 1))
    again = dec.signatures["sample"](**args)
    np.testing.assert_array_equal(again["image"], image)


@given(z=hnp.arrays(np.float32, hnp.array_shapes(min_dims=2, max_dims=2,
                                                 min_side=0, max_side=64)
                    .map(lambda s: (s[0], 4)),
                    elements=st.floats(-1e6, 1e6, width=32)))
@example(z=np.zeros((0, 4), np.float32))
def test_decoder_signature_images_stay_in_range(signatures, z):
    """Any finite z up to 1e6 decodes to pixel probabilities in [0, 1]."""
    import tensorflow as tf

    _, dec = signatures
    image = dec.signatures["serving_default"](z=tf.constant(z))["image"]
    assert image.shape == (len(z), 32, 32, 3)
    image = image.numpy()
    assert np.all((image >= 0) & (image <= 1))
