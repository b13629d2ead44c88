import json
import math
import os

import pytest
import tensorflow as tf

from vae_tf import cli
from vae_tf.evaluate import evaluate_run


def test_evaluate_run_report(trained_run):
    report = evaluate_run(trained_run, split="test", k=5, iwae_images=10, verbose=False)
    assert report["num_images"] == 12  # num_examples // 10
    assert math.isclose(report["neg_elbo"], report["reconstruction"] + report["kl"], rel_tol=1e-5)
    assert len(report["kl_per_dim"]) == 4
    assert math.isclose(sum(report["kl_per_dim"]), report["kl"], rel_tol=1e-4)
    assert report["iwae"]["k"] == 5 and report["iwae"]["num_images"] == 10
    assert 0 <= report["active_units"] <= 4
    assert 0.0 <= report["mig"] <= 1.0  # faces have ground-truth factors
    assert set(report["mig_per_factor"]) >= {"smile", "glasses"}
    json.dumps(report)  # serialisable


def _png_shape(path):
    return tuple(tf.io.decode_png(tf.io.read_file(str(path))).shape)


def _grid_shape(rows, cols, size=32, pad=2, min_height=256):
    h, w = rows * (size + pad) + pad, cols * (size + pad) + pad
    f = max(1, -(-min_height // h))
    return (h * f, w * f, 3)


@pytest.mark.parametrize("args, name, rows, cols", [
    (["sample", "--n", "8"], "samples_t1.png", 2, 4),
    (["reconstruct", "--n", "5"], "reconstructions_test.png", 2, 5),
    (["interpolate", "--pairs", "2", "--steps", "6"], "interpolation_slerp.png", 2, 6),
    (["traverse", "--dims", "0,1,3", "--values=-2:2:5"], "traversal.png", 3, 5),
    (["edit", "--attribute", "glasses", "--strengths", "0,1,2", "--n", "3"],
     "edit_glasses.png", 3, 4),
])
def test_cli_writes_pngs_of_the_expected_size(trained_run, tmp_path, capsys, args, name, rows, cols):
    out = tmp_path / name
    assert cli.main([args[0], trained_run, *args[1:], "--out", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    assert _png_shape(out) == _grid_shape(rows, cols)


def test_cli_evaluate_writes_json_and_plots(trained_run, tmp_path, capsys):
    out = tmp_path / "eval" / "report.json"
    os.makedirs(out.parent)
    assert cli.main(["evaluate", trained_run, "--k", "3", "--iwae-images", "4",
                     "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["iwae"]["k"] == 3 and "mig" in report
    for png in ("latent_scatter.png", "loss_curves.png"):
        shape = _png_shape(out.parent / png)
        assert shape[0] > 200 and shape[1] > 200


def test_cli_edit_unknown_attribute_is_a_one_line_error(trained_run, capsys):
    assert cli.main(["edit", trained_run, "--attribute", "hat"]) == 2
    err = capsys.readouterr().err
    assert "no attribute 'hat'" in err and "smile" in err


def test_cli_sample_from_a_decoder_savedmodel(exported, tmp_path):
    result, _ = exported
    out = tmp_path / "s.png"
    assert cli.main(["sample", "-", "--decoder", result.decoder_dir, "--n", "4",
                     "--out", str(out)]) == 0
    assert _png_shape(out) == _grid_shape(1, 4)


def _write_celeba_folder(folder, n=40):
    """Procedural faces saved as PNG files with a CelebA attribute file."""
    from vae_tf.data.faces import make_faces
    images, attrs = make_faces(n, seed=9, image_size=32)
    folder.mkdir()
    lines = [str(n), "Eyeglasses Smiling"]
    for i, img in enumerate(images):
        name = f"{i:06d}.png"
        (folder / name).write_bytes(tf.io.encode_png(img).numpy())
        glasses = 1 if attrs["glasses"][i] else -1
        smiling = 1 if attrs["smile"][i] > 0 else -1
        lines.append(f"{name} {glasses} {smiling}")
    (folder / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")


def test_edit_with_celeba_attributes_from_an_image_folder(tmp_path, capsys):
    _write_celeba_folder(tmp_path / "celeba")
    config = tmp_path / "c.json"
    config.write_text(json.dumps({
        "input_shape": [32, 32, 3], "latent_dim": 4, "widths": [8, 16],
        "dense_units": 16, "batch_size": 8, "epochs": 1,
        "data": f"folder:{tmp_path / 'celeba'}",
    }))
    run = tmp_path / "run"
    assert cli.main(["train", "--config", str(config), "--out", str(run)]) == 0
    out = tmp_path / "edit.png"
    assert cli.main(["edit", str(run), "--attribute", "Eyeglasses", "--n", "2",
                     "--split", "train", "--out", str(out)]) == 0
    assert _png_shape(out) == _grid_shape(2, 6)


def test_evaluate_reports_mig_on_shapes(tmp_path):
    from vae_tf import VAEConfig, train
    run = tmp_path / "shapes"
    train(VAEConfig(data="shapes", input_shape=(32, 32, 1), latent_dim=3,
                    widths=(8, 16), dense_units=16, num_examples=128,
                    batch_size=32, epochs=1), out_dir=str(run), verbose=0)
    report = evaluate_run(str(run), k=2, iwae_images=4, verbose=False)
    assert set(report["mig_per_factor"]) == {"shape", "scale", "rotation", "x", "y"}
    assert 0.0 <= report["mig"] <= 1.0
