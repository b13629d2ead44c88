"""Rebuilds a pretrained preset end to end (`vae_tf.runs.presets`):

    python tools/build_pretrained.py [faces] [--base saved_models]

1. trains it with its recorded command (`presets.PRESETS[name]`, run as
   `vae-tf ...` in a scratch folder);
2. assembles the preset's run directory `BASE/<name>/`: the config, the
   model without optimizer state, the fitted samplers, history, pictures,
   and the data set's probe (so the explorer, `evaluate` and `edit` read
   faces with the probe the preset's numbers were measured with, without
   training one);
3. exports it as `BASE/<name>_encoder/1/` and `BASE/<name>_decoder/1/`
   (TF Serving's layout, warmup records included) and checks both with
   `vae-tf check-export` under `serving/`'s files;
4. evaluates it (`vae-tf evaluate`, also scoring the exported `sample`
   signature) into `BASE/<name>/evaluation_test.json`;
5. writes `BASE/<name>/recipe.json`: the command, seed, wall times, the
   machine, the package and library versions, the git commit.

Everything is built in a scratch folder and moved into BASE only when
complete; an existing preset is replaced whole. Prints the files' sizes.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # this checkout's vae_tf, installed or not
RUN_FILES = ("config.json", "history.csv", "sampler.json",
             "sampler_mixture.json", "sampler_flow.json",
             "reconstructions.png", "samples.png")


def _vae_tf(args: list[str], cwd: str) -> float:
    """Runs `vae-tf ARGS` (this checkout's); its wall seconds."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from vae_tf.cli import main; "
         "sys.exit(main(sys.argv[1:]))", *args],
        cwd=cwd, env=dict(os.environ, PYTHONPATH=ROOT))
    if done.returncode != 0:
        raise SystemExit(f"vae-tf {' '.join(args)} failed "
                         f"({done.returncode})")
    return time.perf_counter() - start


def _machine() -> dict:
    info = {"processor": platform.processor() or platform.machine(),
            "cores": os.cpu_count(), "python": platform.python_version()}
    try:
        with open("/proc/cpuinfo", encoding="ascii") as f:
            text = f.read()
        model = next(line.split(":", 1)[1].strip()
                     for line in text.splitlines()
                     if line.startswith("model name"))
        flags = next(line.split(":", 1)[1].split()
                     for line in text.splitlines()
                     if line.startswith("flags"))
        info["cpu"] = model
        info["cpu_flags"] = sorted(f for f in flags if f in (
            "avx2", "avx512f", "avx512_bf16", "amx_bf16"))
    except (OSError, StopIteration):
        pass
    return info


def _versions() -> dict:
    import keras
    import tensorflow as tf
    import tensorflow_probability as tfp

    import vae_tf

    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    return {"vae_tf": vae_tf.__version__, "tensorflow": tf.__version__,
            "keras": keras.__version__, "tensorflow_probability":
            tfp.__version__, "git_commit": commit or None}


def build(name: str, base: str, work: str) -> dict:
    from vae_tf.runs.presets import PRESETS, RECIPE_FILE
    from vae_tf.runs import load_model, save_model

    command = PRESETS[name]
    run = os.path.join(work, "run")
    start = time.perf_counter()
    train_seconds = _vae_tf([*command, "--out", run], work)
    staged = os.path.join(work, "saved_models")
    preset = os.path.join(staged, name)
    os.makedirs(preset)
    for file in RUN_FILES:
        if os.path.isfile(os.path.join(run, file)):
            shutil.copy(os.path.join(run, file), preset)
    save_model(load_model(os.path.join(run, "model.keras")),
               os.path.join(preset, "model.keras"), include_optimizer=False)
    _copy_probe(preset)
    _vae_tf(["export", preset, "--name", name, "--base", staged], work)
    checks = {}
    for part in ("encoder", "decoder"):
        folder = os.path.join(staged, f"{name}_{part}")
        _vae_tf(["check-export", folder, "--platform-config",
                 os.path.join(ROOT, "serving", "platform_config.txt")], ROOT)
        checks[part] = "passed"
    evaluate_seconds = _vae_tf([
        "evaluate", preset, "--out",
        os.path.join(preset, "evaluation_test.json"),
        "--decoder", os.path.join(staged, f"{name}_decoder")], work)
    recipe = {
        "name": name,
        "command": ["vae-tf", *command],
        "seed": int(command[command.index("--seed") + 1])
        if "--seed" in command else 0,
        "train_wall_seconds": round(train_seconds, 1),
        "evaluate_wall_seconds": round(evaluate_seconds, 1),
        "total_wall_seconds": round(time.perf_counter() - start, 1),
        "built": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"),
        "machine": _machine(),
        "versions": _versions(),
        "check_export": checks,
        "rebuild": f"python tools/build_pretrained.py {name}",
    }
    with open(os.path.join(preset, RECIPE_FILE), "w", encoding="utf-8") as f:
        json.dump(recipe, f, indent=2)
        f.write("\n")
    _publish(staged, base, name)
    return recipe


def _copy_probe(preset: str) -> None:
    """The data set's probe beside the model, under its cache name, so
    `probe_for(..., search=(preset,))` adopts it (`vae_tf.evaluation.
    probe`): the preset's numbers are measured with it."""
    from vae_tf.evaluation.probe import probe_for, probe_path
    from vae_tf.runs import Run

    data = Run(preset).data
    probe_for(data, verbose=True)  # trained if not cached
    path = probe_path(data)
    for suffix in ("", ".json"):
        shutil.copy(path + suffix, preset)


def _publish(staged: str, base: str, name: str) -> None:
    """Moves the three folders into `base`, replacing older ones whole."""
    os.makedirs(base, exist_ok=True)
    for folder in (name, f"{name}_encoder", f"{name}_decoder"):
        target = os.path.join(base, folder)
        old = None
        if os.path.exists(target):
            old = os.path.join(base, f".old-{folder}-{os.getpid()}")
            os.rename(target, old)
        shutil.move(os.path.join(staged, folder), target)
        if old:
            shutil.rmtree(old)


def sizes(base: str, name: str) -> list[tuple[str, int]]:
    out = []
    for folder in (name, f"{name}_encoder", f"{name}_decoder"):
        for d, _, files in os.walk(os.path.join(base, folder)):
            for f in files:
                path = os.path.join(d, f)
                out.append((os.path.relpath(path, base),
                            os.path.getsize(path)))
    return sorted(out)


def main(argv=None) -> int:
    from vae_tf.runs.presets import PRESETS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", nargs="?", default="faces",
                        choices=tuple(PRESETS))
    parser.add_argument("--base", default=os.path.join(ROOT, "saved_models"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="vae_tf_preset_") as work:
        recipe = build(args.name, args.base, work)
    total = 0
    for path, size in sizes(args.base, args.name):
        total += size
        print(f"{size / 1e6:8.2f} MB  {path}")
    print(f"{total / 1e6:8.2f} MB  in all; built in "
          f"{recipe['total_wall_seconds']:.0f} s "
          f"(training {recipe['train_wall_seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
