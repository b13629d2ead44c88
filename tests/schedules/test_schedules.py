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
    # Keras' Callback API allows logs=None; nothing is logged then.
    warmup.on_epoch_end(2, None)


def test_schedule_without_kl_layer_is_an_error():
    import keras
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="KLDivergence"):
        model.fit(np.zeros((4, 2)), np.zeros((4, 1)), verbose=0,
                  callbacks=[LinearBetaWarmup(10)])


# Found by mutation testing (tools/mutation/schedules.toml): the factory and the
# constructors' edge cases were only reached through slow training tests.

@pytest.mark.parametrize("schedule, cls, values", [
    ("linear", LinearBetaWarmup, {"warmup_steps": 7, "beta_max": 3.0}),
    ("cyclical", CyclicalBeta, {"cycle": 10 * 5 / 4, "ratio": 0.25,
                                "beta_max": 3.0}),
    ("capacity", CapacitySchedule, {"capacity_max": 9.0,
                                    "capacity_steps": 11}),
])
def test_schedule_callbacks_builds_the_configured_schedule(
    tiny_config, schedule, cls, values
):
    from vae_tf.schedules import schedule_callbacks

    config = tiny_config.replace(
        beta=3.0, beta_schedule=schedule, warmup_steps=7, epochs=5,
        num_cycles=4, cycle_ratio=0.25, capacity_max=9.0, capacity_steps=11,
    )
    # As read back from a config file: equal, not identical, strings.
    config = type(config).from_json(config.to_json())
    callbacks = schedule_callbacks(config, steps_per_epoch=10)
    assert [type(c) for c in callbacks] == [cls]
    for name, value in values.items():
        assert getattr(callbacks[0], name) == value, name


def test_constant_beta_needs_no_callback(tiny_config):
    from vae_tf.schedules import schedule_callbacks

    assert schedule_callbacks(tiny_config, steps_per_epoch=10) == []


def test_default_beta_max_is_one():
    assert LinearBetaWarmup(10).value(10) == 1.0
    assert CyclicalBeta(40).value(39) == 1.0


def test_cyclical_defaults_are_four_cycles_ramping_over_half():
    s = CyclicalBeta(total_steps=40)
    assert s.cycle == 10 and s.ratio == 0.5
    assert s.value(10) == 0.0 and s.value(5) == 1.0


def test_cycle_length_is_not_rounded():
    # 10 steps in 4 cycles: cycles of 2.5 steps (floor division gives 2).
    s = CyclicalBeta(total_steps=10, num_cycles=4, ratio=1.0)
    assert s.value(2) == pytest.approx(0.8)
    assert s.value(3) == pytest.approx(0.2)


@pytest.mark.parametrize("make", [
    lambda: LinearBetaWarmup(0), lambda: LinearBetaWarmup(-1),
    lambda: CyclicalBeta(0), lambda: CyclicalBeta(-5),
    lambda: CyclicalBeta(10, num_cycles=0),
    lambda: CyclicalBeta(10, num_cycles=-1),
    lambda: CyclicalBeta(10, ratio=0.0), lambda: CyclicalBeta(10, ratio=1.5),
    lambda: CapacitySchedule(-1.0, 10), lambda: CapacitySchedule(5.0, 0),
    lambda: CapacitySchedule(5.0, -3),
])
def test_invalid_schedule_arguments_are_refused(make):
    with pytest.raises(ValueError, match="Expected"):
        make()


@pytest.mark.parametrize("make", [
    lambda: LinearBetaWarmup(1), lambda: CyclicalBeta(1, num_cycles=1),
    lambda: CyclicalBeta(10, ratio=1.0), lambda: CapacitySchedule(0.0, 1),
])
def test_boundary_schedule_arguments_are_accepted(make):
    make()


def test_negative_ramp_ratio_is_refused():
    with pytest.raises(ValueError, match="ratio"):
        CyclicalBeta(10, ratio=-0.5)


@pytest.mark.parametrize("schedule", ["constant", "linear", "cyclical",
                                      "capacity"])
def test_initial_kl_weights_are_each_schedules_value_at_step_0(schedule):
    """The model starts where its schedule does (one rule, in schedules)."""
    from vae_tf import VAEConfig
    from vae_tf.schedules import initial_kl_weights, schedule_callbacks

    config = VAEConfig(beta=3.0, beta_schedule=schedule, capacity_max=25.0,
                       epochs=2)
    start = {"beta": config.beta, "capacity": 0.0}
    for callback in schedule_callbacks(config, steps_per_epoch=10):
        start[callback.variable] = callback.value(0)
    assert initial_kl_weights(config) == (start["beta"], start["capacity"])


def test_one_cycle_warms_up_then_anneals():
    """Smith & Topin's one cycle: peak / 25 at step 0, the peak after 30%
    of the steps, peak / 10,000 at the end, monotonic on either side."""
    from vae_tf import VAEConfig
    from vae_tf.schedules import OneCycle, learning_rate_schedule

    schedule = OneCycle(4e-3, 1000)
    values = [float(schedule(s)) for s in range(0, 1001, 50)]
    assert values[0] == pytest.approx(4e-3 / 25)
    assert float(schedule(300)) == pytest.approx(4e-3)
    assert values[-1] == pytest.approx(4e-3 / 1e4, rel=1e-3)
    rise, fall = values[:7], values[6:]
    assert rise == sorted(rise) and fall == sorted(fall, reverse=True)
    again = OneCycle.from_config(schedule.get_config())
    assert float(again(500)) == float(schedule(500))
    config = VAEConfig(lr_schedule="one_cycle", learning_rate=2e-3,
                       epochs=4, num_examples=320, batch_size=32)
    built = learning_rate_schedule(config, 10)
    assert isinstance(built, OneCycle) and built.total_steps == 40
    with pytest.raises(ValueError, match="0 < warmup < 1"):
        OneCycle(1e-3, 100, warmup=1.5)


def test_a_schedule_over_data_of_unknown_size_needs_its_steps():
    """num_examples counts procedural images only: for Fashion-MNIST (55,000
    training images) the guess of 313 steps per epoch ended the one-cycle
    schedule within the first of the run's epochs and training stalled
    (benchmarks/train.py: -ELBO 370.07 -> 370.01 over 3 epochs)."""
    from vae_tf import VAEConfig
    from vae_tf.schedules import learning_rate_schedule

    config = VAEConfig(data="fashion_mnist", epochs=3)
    with pytest.raises(ValueError, match="steps_per_epoch=ceil"):
        learning_rate_schedule(config)
    assert learning_rate_schedule(config, 1719).total_steps == 3 * 1719
    constant = config.replace(lr_schedule="constant")
    assert learning_rate_schedule(constant) == constant.learning_rate
    faces = VAEConfig(batch_size=32)  # 10,000 drawn faces: 313 steps
    assert learning_rate_schedule(faces).total_steps == 12 * 313
