"""`saved_model_cli` commands run inside the current process.

`run_saved_model_cli(["show", "--all", "--dir", PATH])` parses its
arguments with the tool's own parser and calls the command's function,
as `saved_model_cli`'s `main` does, capturing what it prints. Checks (a)
and (b) of `check_export` run this way in the fresh-load process
(`fresh_load --cli`): one TensorFlow start per check instead of three
(each start costs ~6 s of CPU). TensorFlow is imported when called.
"""

from __future__ import annotations

import contextlib
import io
import traceback


def run_saved_model_cli(args: list[str]) -> dict:
    """Runs `saved_model_cli ARGS`.

    Returns:
        `{"args", "returncode", "stdout", "stderr"}`: exit code 0, 2 for
        arguments the parser refuses, 1 for a command that raised (its
        traceback is in `stderr`).
    """
    from absl import flags
    from tensorflow.python.tools import saved_model_cli as tool

    stdout, stderr = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(stdout), \
            contextlib.redirect_stderr(stderr):
        try:
            flags.FLAGS.unparse_flags()  # each command parses afresh
            tool.create_parser().parse_args(args).func()
        except SystemExit as err:
            code = err.code if isinstance(err.code, int) else 2
        except Exception:  # the tool's own errors, as its main shows them
            traceback.print_exc()
            code = 1
    return {"args": ["saved_model_cli", *args], "returncode": code,
            "stdout": stdout.getvalue(), "stderr": stderr.getvalue()}
