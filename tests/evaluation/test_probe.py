import numpy as np
import pytest

from vae_tf.evaluation import probe as probe_lib
from vae_tf.data import load_data
from vae_tf.evaluation.metrics.frechet import frechet_distance


@pytest.fixture(scope="module")
def faces():
    return load_data("faces", num_examples=1500, seed=4,
                     image_shape=(32, 32, 3))


@pytest.fixture(scope="module")
def probe(faces):
    return probe_lib.train_probe(faces.train.images, faces.train.attributes,
                                 seed=0, epochs=4)


def test_factor_specs_classes_and_regressions(faces):
    specs = {f.name: f for f in probe_lib.factor_specs(faces.train.attributes)}
    assert specs["glasses"].kind == "binary" and specs["beard"].kind == "binary"
    assert (specs["hair_color"].kind == "categorical"
            and specs["hair_color"].classes == 4)
    assert specs["smile"].kind == "continuous"
    celeba = probe_lib.factor_specs({"Smiling": np.array([1, -1, 1]),
                                     "id": np.array(["a", "b", "c"])})
    assert [(f.name, f.kind) for f in celeba] == [("Smiling", "binary")]
    with pytest.raises(ValueError, match="needs labels"):
        probe_lib.train_probe(faces.train.images[:4], {})


def test_probe_reads_the_factors_of_real_faces(probe, faces):
    scores = probe_lib.probe_scores(probe, faces.test.images,
                                    faces.test.attributes)
    assert scores["glasses"]["accuracy"] > 0.95
    assert scores["hair_color"]["accuracy"] > 0.8
    assert scores["smile"]["r2"] > 0.4  # 0 = predicting the mean


def test_frechet_distance_in_probe_space_floor_noise_and_constant(probe):
    from vae_tf.data.faces import make_faces

    real_a, _ = make_faces(800, seed=10, image_size=32)
    real_b, _ = make_faces(800, seed=11, image_size=32)
    real = probe.features(real_a)
    floor = frechet_distance(real, probe.features(real_b))
    rng = np.random.default_rng(0)
    noise = rng.uniform(size=real_a.shape).astype(np.float32)
    constant = np.full(real_a.shape, 0.5, np.float32)
    constant += rng.normal(0, 1e-3, constant.shape).astype(np.float32)
    assert frechet_distance(real, probe.features(noise)) > 30 * floor
    assert frechet_distance(real, probe.features(constant)) > 30 * floor


def test_probe_is_deterministic_for_a_seed(faces, probe):
    again = probe_lib.train_probe(faces.train.images, faces.train.attributes,
                                  seed=0, epochs=4)
    for a, b in zip(probe.model.weights, again.model.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    other = probe_lib.build_probe_model((32, 32, 3), probe.factors, seed=1)
    assert not np.array_equal(other.weights[0].numpy(),
                              probe_lib.build_probe_model(
                                  (32, 32, 3), probe.factors, seed=0
                              ).weights[0].numpy())


def test_probe_for_trains_once_and_then_loads_the_cache(faces, tmp_path,
                                                        monkeypatch):
    monkeypatch.setenv("VAE_TF_CACHE", str(tmp_path))
    first = probe_lib.probe_for(faces, epochs=1, verbose=False)
    cached = list((tmp_path / "probes").iterdir())
    assert len(cached) == 2  # the .keras archive and its factor list

    def no_training(*args, **kwargs):
        raise AssertionError("retrained although cached")

    monkeypatch.setattr(probe_lib, "train_probe", no_training)
    second = probe_lib.probe_for(faces, epochs=1, verbose=False)
    x = faces.test.images[:8]
    np.testing.assert_allclose(first.features(x), second.features(x), atol=1e-6)
    with pytest.raises(ValueError, match="takes images of shape"):
        second.features(np.zeros((2, 16, 16, 3), np.float32))


def test_a_shipped_probe_is_adopted_instead_of_training(faces, probe,
                                                        tmp_path,
                                                        monkeypatch):
    """A preset folder holding a probe under its cache name: probe_for
    copies it into an empty cache and loads it, trains nothing, and
    scores in its feature space; a probe of other data is ignored."""
    monkeypatch.setenv("VAE_TF_CACHE", str(tmp_path / "cache"))
    shipped = tmp_path / "preset"
    shipped.mkdir()
    name = probe_lib.probe_path(faces, epochs=1)
    probe.save(str(shipped / name.split("/")[-1]))

    def no_training(*args, **kwargs):
        raise AssertionError("trained although a shipped probe matched")

    monkeypatch.setattr(probe_lib, "train_probe", no_training)
    adopted = probe_lib.probe_for(faces, epochs=1, verbose=False,
                                  search=(str(shipped),))
    x = faces.test.images[:8]
    np.testing.assert_allclose(adopted.features(x), probe.features(x),
                               atol=1e-6)
    assert (tmp_path / "cache" / "probes").is_dir()
    other = load_data("faces", num_examples=300, seed=9,
                      image_shape=(32, 32, 3))
    with pytest.raises(AssertionError, match="trained although"):
        probe_lib.probe_for(other, epochs=1, verbose=False,
                            search=(str(shipped),))
