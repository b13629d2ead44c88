"""Pictures of a conditional run (issue 29): reconstructions, strips,
traversals and edits, each decoded under the factors of its own image,
and the third way to edit, through the condition input."""

import numpy as np
import pytest

from grids import tiles
from vae_tf import cli
from vae_tf.pictures import conditional, figures
from vae_tf.runs import Run


@pytest.fixture(scope="module")
def run(conditional_run):
    return Run(str(conditional_run))


def _own(run, index):
    """Reconstructions of test rows `index` under their own factors."""
    x = run.split_images("test")[index]
    cond = conditional.conditions_of(run, "test", index)
    return conditional.decode(run, conditional.encode(run, x, cond), cond)


def test_reconstructions_use_each_images_own_factors(run):
    index = np.array([0, 1, 2, 3])
    _, recon = conditional.reconstruct(run, "test", index)
    np.testing.assert_allclose(recon, _own(run, index), atol=1e-6)
    # Under other factors (the rows' conditions rolled) they differ.
    x = run.split_images("test")[index]
    cond = conditional.conditions_of(run, "test", index)
    rolled = {k: np.roll(v, 1, axis=0) for k, v in cond.items()}
    other = conditional.decode(run, conditional.encode(run, x, cond), rolled)
    assert np.abs(other - recon).max() > 1e-3


def test_interpolation_strips_end_at_both_images(run):
    strips = conditional.interpolate(run, "test", np.array([0, 1]),
                                     np.array([2, 3]), 5, "slerp")
    assert strips.shape == (2, 5, 32, 32, 3)
    np.testing.assert_allclose(strips[:, 0], _own(run, [0, 1]), atol=1e-5)
    np.testing.assert_allclose(strips[:, -1], _own(run, [2, 3]), atol=1e-5)


def test_condition_edits_move_only_the_factor(run):
    labels = run.data.test.attributes["glasses"]
    index = np.where(labels == 0)[0][:3]
    edited = conditional.edit(run, "test", index, "glasses", None,
                              [0.0, 1.0])
    np.testing.assert_allclose(edited[:, 0], _own(run, index), atol=1e-5)
    x = run.split_images("test")[index]
    cond = conditional.conditions_of(run, "test", index)
    z = conditional.encode(run, x, cond)
    cond["glasses"] = np.tile([[0.0, 1.0]], (3, 1)).astype(np.float32)
    np.testing.assert_allclose(edited[:, 1], conditional.decode(run, z, cond),
                               atol=1e-5)


def test_edit_png_measures_the_condition_way(run, tmp_path):
    path, effects = figures.edit_png(run, "glasses", str(tmp_path / "e.png"),
                                     n=3, measure=20)
    assert list(effects) == ["condition"]
    assert len(effects["condition"]["target_change"]) == 5
    assert effects["condition"]["target_change"][0] == 0.0


@pytest.mark.parametrize("args, message", [
    (["--attribute", "beard"], "conditioned on glasses, hair_color, smile, "
                               "not 'beard'"),
    (["--attribute", "glasses", "--way", "vector"],
     "--way vector needs an unconditional run"),
])
def test_edit_errors_name_what_the_run_takes(conditional_run, capsys, args,
                                             message):
    assert cli.main(["edit", str(conditional_run), *args]) == 2
    assert message in capsys.readouterr().err


def test_picture_commands_write_their_grids(conditional_run, tmp_path):
    for command, extra, shape in (
            ("reconstruct", ["--n", "4"], (2, 4)),
            ("interpolate", ["--pairs", "2", "--steps", "5"], (2, 5)),
            ("traverse", ["--dims", "0,1", "--index", "2"], (2, 9))):
        out = tmp_path / f"{command}.png"
        assert cli.main([command, str(conditional_run), *extra, "--out",
                         str(out)]) == 0
        grid = tiles(out, *shape)
        assert grid.std() > 0, command
