import shutil
import socket
import subprocess
import time

import numpy as np
import pytest

from serving_fakes import GrpcServer, RestServer
from vae_tf.serving import (GrpcClient, ModelNotFoundError, RestClient,
                            ServingError)
from vae_tf.training import load_run


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def keras_models(trained_run):
    return load_run(trained_run)[1]


@pytest.mark.parametrize("row_format", [False, True])
def test_rest_client_round_trip(exported, keras_models, row_format):
    _, base = exported
    z = np.random.default_rng(0).standard_normal((3, 4)).astype("float32")
    with RestServer(base) as server:
        client = RestClient("127.0.0.1", server.port, timeout=30, row_format=row_format)
        images = client.decode(z)
        np.testing.assert_allclose(images, keras_models.decoder.predict(z, verbose=0), atol=1e-5)
        codes = client.encode(images)
        assert set(codes) == {"z_mean", "z_log_var"} and codes["z_mean"].shape == (3, 4)
        assert set(client.encode(images, sample=True)) == {"z_mean", "z_log_var", "z"}
        assert client.decode(z, version=1).shape == (3, 32, 32, 3)
        if not row_format:
            assert client.sample(6, seed=3).shape == (6, 32, 32, 3)


def test_rest_client_errors(exported):
    _, base = exported
    with RestServer(base) as server:
        client = RestClient("127.0.0.1", server.port, timeout=30)
        with pytest.raises(ModelNotFoundError, match="Servable not found"):
            client.decode(np.zeros((1, 4)), model="nope")
        with pytest.raises(ModelNotFoundError, match="Specific"):
            client.decode(np.zeros((1, 4)), version=99)
        with pytest.raises(ModelNotFoundError, match="signature"):
            client.predict("vae_decoder", {"z": np.zeros((1, 4))}, signature="nope")
        with pytest.raises(ServingError, match="HTTP 400"):
            client.decode(np.zeros((1, 7)))  # wrong latent width
    with pytest.raises(ServingError, match="Cannot reach TF Serving"):
        RestClient("127.0.0.1", _free_port(), timeout=2).decode(np.zeros((1, 4)))


def test_rest_client_timeout():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the connection, never answers
    try:
        client = RestClient("127.0.0.1", listener.getsockname()[1], timeout=0.5)
        start = time.monotonic()
        with pytest.raises(ServingError, match="did not answer within 0.5 s"):
            client.decode(np.zeros((1, 4)))
        assert time.monotonic() - start < 10
    finally:
        listener.close()


def test_grpc_client_round_trip_and_errors(exported, keras_models):
    _, base = exported
    z = np.random.default_rng(1).standard_normal((2, 4)).astype("float32")
    with GrpcServer(base) as server, GrpcClient("127.0.0.1", server.port, timeout=30) as client:
        images = client.decode(z)
        np.testing.assert_allclose(images, keras_models.decoder.predict(z, verbose=0), atol=1e-5)
        assert client.encode(images)["z_mean"].shape == (2, 4)
        assert client.sample(3, seed=1).shape == (3, 32, 32, 3)
        with pytest.raises(ModelNotFoundError, match="Servable not found"):
            client.decode(z, model="nope")
        with pytest.raises(ModelNotFoundError, match="signature"):
            client.predict("vae_decoder", {"z": z}, signature="nope")
    with GrpcClient("127.0.0.1", _free_port(), timeout=2) as client:
        with pytest.raises(ServingError, match="Cannot reach TF Serving"):
            client.decode(z)


@pytest.mark.skipif(shutil.which("tensorflow_model_server") is None,
                    reason="tensorflow_model_server binary not on PATH")
def test_live_tensorflow_model_server(exported, keras_models, tmp_path):
    _, base = exported
    config = tmp_path / "models.config"
    config.write_text("model_config_list {\n" + "".join(
        f'  config {{ name: "{m}" base_path: "{base}/{m}" model_platform: "tensorflow" }}\n'
        for m in ("vae_encoder", "vae_decoder")) + "}\n")
    grpc_port, rest_port = _free_port(), _free_port()
    proc = subprocess.Popen([
        "tensorflow_model_server", f"--port={grpc_port}",
        f"--rest_api_port={rest_port}", f"--model_config_file={config}",
    ])
    try:
        client = RestClient("127.0.0.1", rest_port, timeout=5)
        z = np.zeros((2, 4), np.float32)
        for _ in range(60):
            try:
                images = client.decode(z)
                break
            except ServingError:
                time.sleep(1)
        else:
            pytest.fail("tensorflow_model_server did not come up in 60 s")
        np.testing.assert_allclose(images, keras_models.decoder.predict(z, verbose=0), atol=1e-5)
        with GrpcClient("127.0.0.1", grpc_port) as grpc_client:
            np.testing.assert_allclose(grpc_client.decode(z), images, atol=1e-5)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
