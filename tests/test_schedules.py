import numpy as np
import pytest

from vae_tf import (CapacitySchedule, CyclicalBeta, LinearBetaWarmup,
                    build_vae, compile_vae)
from vae_tf.schedules import kl_layers


def test_linear_warmup_values():
    s = LinearBetaWarmup(warmup_steps=100, beta_max=4.0)
    assert [s.value(t) for t in (0, 50, 100, 500)] == [0.0, 2.0, 4.0, 4.0]


def test_cyclical_values_follow_fu_et_al():
    s = CyclicalBeta(total_steps=400, num_cycles=4, ratio=0.5, beta_max=1.0)
    # Each 100-step cycle: ramp over 50 steps, then hold at 1, then restart.
    assert s.value(0) == 0.0
    assert s.value(25) == pytest.approx(0.5)
    assert s.value(50) == 1.0 and s.value(99) == 1.0
    assert s.value(100) == 0.0 and s.value(125) == pytest.approx(0.5)


def test_capacity_values():
    s = CapacitySchedule(capacity_max=20.0, capacity_steps=10)
    assert [s.value(t) for t in (0, 5, 10, 99)] == [0.0, 10.0, 20.0, 20.0]


def test_callbacks_drive_the_layer_variables_during_fit(tiny_config):
    config = tiny_config.replace(beta=2.0)
    vae = compile_vae(build_vae(config).vae, config)
    x = np.random.default_rng(0).uniform(size=(64, 32, 32, 3)).astype("float32")
    warmup = LinearBetaWarmup(warmup_steps=4, beta_max=2.0)
    capacity = CapacitySchedule(capacity_max=6.0, capacity_steps=8)
    history = vae.fit(x, x, batch_size=16, epochs=2, verbose=0,
                      callbacks=[warmup, capacity]).history
    layer = kl_layers(vae)[0]
    # 8 steps ran; the last update happened before step 8 (iterations=7).
    assert float(layer.beta.numpy()) == 2.0
    assert float(layer.capacity.numpy()) == pytest.approx(6.0 * 7 / 8)
    assert history["beta"] == [1.5, 2.0]  # 2 * 3/4 after step 3
    assert history["capacity"][0] == pytest.approx(6.0 * 3 / 8)


def test_schedule_without_kl_layer_is_an_error():
    import keras
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="KLDivergence"):
        model.fit(np.zeros((4, 2)), np.zeros((4, 1)), verbose=0,
                  callbacks=[LinearBetaWarmup(10)])
