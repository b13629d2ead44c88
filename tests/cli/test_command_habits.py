"""What a published command does (issue 30, point 4): `--version`,
`python -m vae_tf`, `--verbose` before or after the command, and errors:
the package's as one line (status 2), anything else as one line with a
hint to rerun with `--verbose`, which prints the traceback (status 1)."""

import subprocess
import sys

import pytest

from vae_tf import __version__, cli


def test_version_from_the_command_and_the_module(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"vae-tf {__version__}"
    ran = subprocess.run([sys.executable, "-m", "vae_tf", "--version"],
                         capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0 and ran.stdout.strip() == \
        f"vae-tf {__version__}"


@pytest.mark.parametrize("argv", [["--verbose", "sample", "RUN"],
                                  ["sample", "RUN", "--verbose"]])
def test_verbose_before_or_after_the_command(argv):
    args = cli.build_parser().parse_args(argv)
    assert args.verbose and args.command == "sample"
    assert not cli.build_parser().parse_args(["sample", "RUN"]).verbose


def _failing(error):
    def handler(args):
        raise error
    return handler


@pytest.mark.parametrize("verbose", [False, True])
def test_bugs_are_one_line_with_a_hint_or_a_traceback(monkeypatch, capsys,
                                                      verbose):
    parser = cli.build_parser()
    args = parser.parse_args(["sample", "RUN"] + ["--verbose"] * verbose)
    args.func = _failing(TypeError("unsupported operand"))
    assert cli._run(args) == 1
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert last.startswith("vae-tf sample: internal error: TypeError: "
                           "unsupported operand")
    assert ("Traceback (most recent call last)" in err) == verbose
    assert ("rerun with --verbose for the traceback" in last) != verbose


def test_package_errors_stay_one_line(capsys):
    args = cli.build_parser().parse_args(["sample", "RUN"])
    args.func = _failing(ValueError("Expected n > 0 samples. Received: n=0"))
    assert cli._run(args) == 2
    err = capsys.readouterr().err
    assert err == "vae-tf sample: error: Expected n > 0 samples. " \
                  "Received: n=0\n"


def test_set_reaches_every_config_field_and_wins_over_flags():
    from vae_tf.cli.options import config_from_args

    args = cli.build_parser().parse_args([
        "train", "--latent-dim", "8", "--set", "latent_dim=4",
        "--set", "widths=[8,16]", "--set", "binarize=false",
        "--set", "capacity-max=50", "--set", "data_dir=/x y",
        "--set", "likelihood_scale=null"])
    config = config_from_args(args)
    assert (config.latent_dim, config.widths, config.binarize,
            config.capacity_max, config.data_dir, config.likelihood_scale) \
        == (4, (8, 16), False, 50, "/x y", None)


@pytest.mark.parametrize("item, message", [
    ("latentdim=3", "VAEConfig has no field 'latentdim'. Fields: "
                    "input_shape, latent_dim,"),
    ("latent_dim", "--set takes FIELD=VALUE"),
    ("latent_dim=abc", "Expected `latent_dim` to be a positive integer"),
])
def test_bad_settings_are_one_line(item, message, capsys, tmp_path):
    assert cli.main(["train", "--set", item, "--out",
                     str(tmp_path / "r")]) == 2
    assert message in capsys.readouterr().err


def test_config_lists_every_field_with_default_and_meaning(capsys):
    """One place for every VAEConfig field: a field added without a line
    in VAEConfig's docstring fails here."""
    import dataclasses
    import json

    from vae_tf.cli.fields import field_table
    from vae_tf.config import VAEConfig

    table = field_table()
    assert [row[0] for row in table] == [
        f.name for f in dataclasses.fields(VAEConfig)]
    undocumented = [name for name, _, _, doc in table if not doc]
    assert not undocumented
    # Only the beta schedules' parameters are documented by pointing to
    # beta_schedule; every other field has its own entry.
    pointers = {name for name, _, _, doc in table
                if doc.startswith("a parameter of")}
    assert pointers == {"warmup_steps", "num_cycles", "cycle_ratio",
                        "capacity_max", "capacity_steps"}
    assert cli.main(["config"]) == 0
    out = capsys.readouterr().out
    assert "latent_dim = 16  (int)\n    number of latent dimensions" in out
    assert "batch_size = 32  (int)\n    images per step (global)." in out
    assert cli.main(["config", "--json"]) == 0
    assert VAEConfig(**json.loads(capsys.readouterr().out)) == VAEConfig()
