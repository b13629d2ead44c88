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
