"""`tensorflow_model_server` started as `serving/docker-compose.yml`
starts it, outside Docker: the live-server test runs the binary this way.

The compose service runs the official image, whose entrypoint is
`tensorflow_model_server --port=8500 --rest_api_port=8501
--model_name=${MODEL_NAME} --model_base_path=${MODEL_BASE_PATH}/
${MODEL_NAME} "$@"` (tensorflow_serving/tools/docker/Dockerfile), with the
service's `command` as `"$@"`; with --model_config_file the server ignores
--model_name/--model_base_path. `server_command` keeps every flag of the
compose file, in order, and maps only what Docker would provide: the
mounted container paths (`volumes`) to the local files, the models'
`/models` mount to a local base folder, and the ports to free ones.
"""

from __future__ import annotations

import os
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "serving" / "docker-compose.yml"
SERVICE = "tf-serving"
MODELS_MOUNT = "/models"


def compose_service(path: os.PathLike = COMPOSE) -> dict:
    import yaml

    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)["services"][SERVICE]


def mounts(service: dict, compose_dir: pathlib.Path) -> dict[str, str]:
    """`{container path: local path}` of the service's volumes."""
    out = {}
    for volume in service["volumes"]:
        local, container = volume.split(":")[:2]
        out[container] = str((compose_dir / local).resolve())
    return out


def server_command(models_base: str, workdir: pathlib.Path, grpc_port: int,
                   rest_port: int, compose: os.PathLike = COMPOSE
                   ) -> list[str]:
    """The server's argv: the entrypoint's flags, then the compose
    `command`, with `/models` standing for `models_base` (the folder the
    exports are in) and container files for their local copies; a
    models.config naming `/models/...` is rewritten into `workdir`."""
    compose = pathlib.Path(compose)
    service = compose_service(compose)
    local = mounts(service, compose.parent)
    local[MODELS_MOUNT] = models_base
    argv = ["tensorflow_model_server", "--port=8500", "--rest_api_port=8501"]
    for flag in service["command"]:
        name, _, value = flag.partition("=")
        if name == "--port":
            value = str(grpc_port)
        elif name == "--rest_api_port":
            value = str(rest_port)
        elif value.startswith("/"):
            value = _local_path(value, local)
            if name == "--model_config_file":
                value = _rewrite_models_config(value, models_base, workdir)
        argv.append(f"{name}={value}" if value else name)
    # The entrypoint's own ports come first; later flags win, as in the
    # container, but keep one of each to read clearly.
    argv[1] = f"--port={grpc_port}"
    argv[2] = f"--rest_api_port={rest_port}"
    return argv


def _local_path(container_path: str, local: dict[str, str]) -> str:
    for mount in sorted(local, key=len, reverse=True):
        if container_path == mount or container_path.startswith(mount + "/"):
            return local[mount] + container_path[len(mount):]
    raise ValueError(f"{container_path} is not under any mounted volume "
                     f"({sorted(local)})")


def _rewrite_models_config(path: str, models_base: str,
                           workdir: pathlib.Path) -> str:
    text = pathlib.Path(path).read_text(encoding="utf-8")
    out = workdir / "models.config"
    out.write_text(text.replace(f'"{MODELS_MOUNT}/', f'"{models_base}/'),
                   encoding="utf-8")
    return str(out)
