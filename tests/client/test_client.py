import pathlib
import shutil
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from serving_fakes import GrpcServer, RestServer
from vae_tf.client import (GrpcClient, ModelNotFoundError, RestClient,
                           ServingError)
from vae_tf.runs import load_run

from repo import ROOT  # noqa: E402


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
        client = RestClient("127.0.0.1", server.port, timeout=30,
                            row_format=row_format)
        images = client.decode(z)
        np.testing.assert_allclose(
            images, keras_models.decoder.predict(z, verbose=0), atol=1e-5)
        codes = client.encode(images)
        assert (set(codes) == {"z_mean", "z_log_var"}
                and codes["z_mean"].shape == (3, 4))
        assert set(client.encode(images, sample=True)) == {
            "z_mean", "z_log_var", "z"}
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
            client.predict("faces_decoder", {"z": np.zeros((1, 4))},
                           signature="nope")
        with pytest.raises(ServingError, match="HTTP 400"):
            client.decode(np.zeros((1, 7)))  # wrong latent width
    with pytest.raises(ServingError, match="Cannot reach TF Serving"):
        RestClient("127.0.0.1", _free_port(), timeout=2).decode(
            np.zeros((1, 4)))


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
    with GrpcServer(base) as server, GrpcClient(
            "127.0.0.1", server.port, timeout=30) as client:
        images = client.decode(z)
        np.testing.assert_allclose(
            images, keras_models.decoder.predict(z, verbose=0), atol=1e-5)
        assert client.encode(images)["z_mean"].shape == (2, 4)
        assert client.sample(3, seed=1).shape == (3, 32, 32, 3)
        with pytest.raises(ModelNotFoundError, match="Servable not found"):
            client.decode(z, model="nope")
        with pytest.raises(ModelNotFoundError, match="signature"):
            client.predict("faces_decoder", {"z": z}, signature="nope")
    with GrpcClient("127.0.0.1", _free_port(), timeout=2) as client:
        with pytest.raises(ServingError, match="Cannot reach TF Serving"):
            client.decode(z)


SHIPPED_PLATFORM = str(ROOT / "serving" / "platform_config.txt")


def test_stand_ins_batch_and_warm_up_as_the_platform_config_says(
        exported, keras_models, trained_run):
    """Under the shipped platform config the stand-ins refuse what TF
    Serving's batching refuses (rank-0 inputs, more rows than
    max_batch_size), in its words, and replay the warmup records at load;
    the client's seeded draws are vae_tf.generate's, row by row."""
    import grpc

    from vae_tf import generate
    from vae_tf.runs import run_sampler

    _, base = exported
    rank0 = "Batching Run() input tensors must have at least one dimension"
    with RestServer(base, platform_config=SHIPPED_PLATFORM) as rest, \
            GrpcServer(base, platform_config=SHIPPED_PLATFORM) as served:
        predict = "/v1/models/faces_decoder:predict"
        assert _http(rest.port, predict, {
            "signature_name": "sample", "inputs": {"seed": 7}}) == (
            400, {"error": rank0})
        err = _raw_predict(served.port, "faces_decoder",
                           {"seed": np.int64(7)}, "sample")
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert err.details() == rank0
        client = RestClient("127.0.0.1", rest.port, timeout=30)
        with pytest.raises(ServingError, match="Task size 1025 is larger "
                           "than maximum input batch size 1024"):
            client.decode(np.zeros((1025, 4), np.float32))
        assert rest.repo.warmups_run == {("faces_decoder", 1): 2}
        config, _ = load_run(trained_run)
        sampler = run_sampler(trained_run, config)
        expected, _ = generate.sample(keras_models.decoder, 3, seed=40,
                                      sampler=sampler)
        with GrpcClient("127.0.0.1", served.port, timeout=30) as g:
            # The largest batch passes (gRPC: 12 MB of tensor content, not
            # 3 million JSON numbers).
            assert g.decode(np.zeros((1024, 4))).shape == (1024, 32, 32, 3)
            for c in (client, g):
                np.testing.assert_allclose(c.sample(3, seed=40), expected,
                                           atol=1e-5)
                np.testing.assert_allclose(c.sample(seeds=[41]),
                                           expected[1:2], atol=1e-5)
                images = c.decode(np.zeros((2, 4)))
                a = c.encode(images, sample=True, seed=3)
                np.testing.assert_allclose(
                    c.encode(images[1:], sample=True, seed=4)["z"],
                    a["z"][1:], atol=1e-5)
        assert served.repo.warmups_run == {("faces_decoder", 1): 2,
                                           ("faces_encoder", 1): 2}


_NO_TENSORFLOW = """
import sys
for name in ("tensorflow", "tensorflow_serving", "keras", "tf_keras",
             "tensorflow_probability"):
    sys.modules[name] = None  # any import of them raises ImportError
"""


def test_client_needs_no_tensorflow(exported, keras_models, tmp_path):
    """An app that calls TF Serving imports vae_tf.client, and the CLI
    client writes its PNG, in a process where TensorFlow, Keras and
    tensorflow-serving-api cannot be imported: REST and gRPC both."""
    _, base = exported
    z = np.random.default_rng(2).standard_normal((2, 4)).astype("float32")
    np.save(tmp_path / "z.npy", z)
    program = _NO_TENSORFLOW + f"""
import numpy as np
import vae_tf
from vae_tf.client import GrpcClient, RestClient
z = np.load({str(tmp_path / "z.npy")!r})
rest = RestClient("127.0.0.1", int(sys.argv[1]), timeout=30).decode(z)
with GrpcClient("127.0.0.1", int(sys.argv[2]), timeout=30) as client:
    grpc = client.decode(z)
np.save({str(tmp_path / "rest.npy")!r}, rest)
np.save({str(tmp_path / "grpc.npy")!r}, grpc)
heavy = ("tensorflow", "keras", "tensorflow_serving")
assert not [m for m, mod in sys.modules.items()
            if mod is not None and m.split(".")[0] in heavy]
"""
    cli = _NO_TENSORFLOW + f"""
sys.path.insert(0, {str(ROOT / "serving")!r})
sys.argv = ["client.py"] + sys.argv[1:]
import client
sys.exit(client.main())
"""
    expected = keras_models.decoder.predict(z, verbose=0)
    with RestServer(base) as rest, GrpcServer(base) as grpc:
        done = subprocess.run(
            [sys.executable, "-c", program, str(rest.port), str(grpc.port)],
            capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        png = tmp_path / "sampled.png"
        shown = subprocess.run(
            [sys.executable, "-c", cli, "sample", "--num", "4", "--grpc",
             "--port", str(grpc.port), "--out", str(png)],
            capture_output=True, text=True, timeout=120)
        assert shown.returncode == 0, shown.stderr[-2000:]
    for name in ("rest", "grpc"):
        np.testing.assert_allclose(np.load(tmp_path / f"{name}.npy"),
                                   expected, atol=1e-5)
    assert "client: 4 images (32, 32, 3) -> " in shown.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_live_server_command_is_the_compose_files(exported, tmp_path):
    """What the live test below runs: every flag of serving/docker-compose.
    yml, the shipped models.config (its /models paths mapped to the
    export) and platform config, on free ports."""
    from compose import server_command

    _, base = exported
    argv = server_command(base, tmp_path, 9000, 9001)
    assert argv[:3] == ["tensorflow_model_server", "--port=9000",
                        "--rest_api_port=9001"]
    platform = str(ROOT / "serving" / "platform_config.txt")
    assert f"--platform_config_file={platform}" in argv
    assert f"--model_config_file={tmp_path / 'models.config'}" in argv
    assert "--file_system_poll_wait_seconds=5" in argv
    config = (tmp_path / "models.config").read_text()
    assert f'base_path: "{base}/faces_decoder"' in config
    assert "/models/" not in config


@pytest.mark.skipif(shutil.which("tensorflow_model_server") is None,
                    reason="tensorflow_model_server binary not on PATH "
                           "(TF Serving is not installable here; the "
                           "stand-ins emulate it)")
def test_live_tensorflow_model_server(exported, keras_models,
                                      trained_run, tmp_path):
    """The real server, started exactly as serving/docker-compose.yml
    starts it: warmup replayed at load (its log line), then encode, decode
    and sample over REST and gRPC under the platform config's batching."""
    from compose import server_command

    from vae_tf import generate
    from vae_tf.runs import run_sampler

    _, base = exported
    grpc_port, rest_port = _free_port(), _free_port()
    log = tmp_path / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            server_command(base, tmp_path, grpc_port, rest_port),
            stdout=out, stderr=subprocess.STDOUT)
    try:
        client = RestClient("127.0.0.1", rest_port, timeout=30)
        for _ in range(120):
            try:
                if all(client.status(m) == {1: "AVAILABLE"}
                       for m in ("faces_encoder", "faces_decoder")):
                    break
            except ServingError:
                pass
            assert proc.poll() is None, log.read_text()[-3000:]
            time.sleep(1)
        else:
            pytest.fail("models not AVAILABLE in 120 s: "
                        + log.read_text()[-3000:])
        text = log.read_text()
        assert text.count("Finished reading warmup data for model at") == 2
        assert "Number of warmup records read: 2." in text
        assert "Wrapping session to perform batch processing" in text
        z = np.zeros((2, 4), np.float32)
        expected = keras_models.decoder.predict(z, verbose=0)
        config, _ = load_run(trained_run)
        drawn, _ = generate.sample(keras_models.decoder, 3, seed=7,
                                   sampler=run_sampler(trained_run, config))
        with GrpcClient("127.0.0.1", grpc_port, timeout=30) as grpc_client:
            for c in (client, grpc_client):
                images = c.decode(z)
                np.testing.assert_allclose(images, expected, atol=1e-5)
                codes = c.encode(images, sample=True, seed=5)
                assert codes["z"].shape == (2, 4)
                np.testing.assert_allclose(
                    codes["z_mean"], keras_models.encoder.predict(
                        images, verbose=0)[0], atol=1e-5)
                np.testing.assert_allclose(c.sample(3, seed=7), drawn,
                                           atol=1e-5)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def half_plus_two(tmp_path_factory):
    """TF Serving's documented example model (version 123), plus a
    two-output signature: `serving_default` y = x / 2 + 2, `pair` -> a, b."""
    import tensorflow as tf

    class HalfPlusTwo(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, "x")])
        def serve(self, x):
            return {"y": 0.5 * x + 2.0}

        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, "x")])
        def pair(self, x):
            return {"a": x, "b": 2.0 * x}

    base = tmp_path_factory.mktemp("models")
    module = HalfPlusTwo()
    tf.saved_model.save(module, str(base / "half_plus_two" / "123"),
                        signatures={"serving_default": module.serve,
                                    "pair": module.pair})
    return str(base)


def _http(port, path, body=None):
    import json
    import urllib.error
    import urllib.request
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                     data=data)
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_rest_stand_in_answers_as_documented(half_plus_two):
    """The stand-in's answers, pinned to TF Serving's REST API page (quoted
    in serving_fakes.py): one output comes bare, several come named."""
    with RestServer(half_plus_two) as server:
        predict = "/v1/models/half_plus_two:predict"
        # The page's own example: instances [1, 2, 5] -> [2.5, 3.0, 4.5].
        assert _http(server.port, predict, {"instances": [
            {"x": 1.0}, {"x": 2.0}, {"x": 5.0}]}) == (
            200, {"predictions": [2.5, 3.0, 4.5]})
        assert _http(server.port, predict, {"inputs": {"x": [1.0, 2.0]}}) == (
            200, {"outputs": [2.5, 3.0]})
        pair = {"signature_name": "pair"}
        assert _http(server.port, predict,
                     {**pair, "inputs": {"x": [1.0]}}) == (
            200, {"outputs": {"a": [1.0], "b": [2.0]}})
        assert _http(server.port, predict,
                     {**pair, "instances": [{"x": 1.0}]}) == (
            200, {"predictions": [{"a": 1.0, "b": 2.0}]})
        code, meta = _http(server.port, "/v1/models/half_plus_two/metadata")
        assert code == 200
        assert meta["model_spec"] == {"name": "half_plus_two",
                                      "signature_name": "", "version": "123"}
        defs = meta["metadata"]["signature_def"]["signature_def"]
        assert sorted(defs) == ["pair", "serving_default"]
        assert list(defs["serving_default"]["outputs"]) == ["y"]
        assert defs["serving_default"]["inputs"]["x"]["dtype"] == "DT_FLOAT"
        assert defs["pair"]["method_name"] == "tensorflow/serving/predict"
        code, error = _http(server.port, "/v1/models/nope:predict",
                            {"inputs": {"x": [1.0]}})
        assert code == 404 and list(error) == ["error"]


@pytest.mark.parametrize("row_format", [False, True])
def test_rest_client_names_a_bare_single_output(half_plus_two, row_format):
    """Bug: the client returning a bare answer under a made-up key
    ("output") instead of the signature's real output name."""
    with RestServer(half_plus_two) as server:
        client = RestClient("127.0.0.1", server.port, timeout=30,
                            row_format=row_format)
        out = client.predict("half_plus_two", {"x": np.array([1.0, 5.0])})
        assert list(out) == ["y"]
        np.testing.assert_allclose(out["y"], [2.5, 4.5])
        out = client.predict("half_plus_two", {"x": np.array([3.0])}, "pair")
        assert sorted(out) == ["a", "b"]
        assert client.output_names("half_plus_two", "pair", 123) == ["a", "b"]
        with pytest.raises(ModelNotFoundError, match="signature 'nope'"):
            client.output_names("half_plus_two", "nope")


def _copy_versions(source_base, target_base, name, versions):
    """`target_base/name/<v>` for each v, copies of the first version."""
    folder = pathlib.Path(source_base) / name
    first = sorted(p for p in folder.iterdir() if p.name.isdigit())[0]
    for v in versions:
        shutil.copytree(first, pathlib.Path(target_base) / name / str(v))


def test_version_status_and_the_model_version_policy(half_plus_two,
                                                     tmp_path):
    """TF Serving serves the versions its models.config names (by default
    the newest only); `GET /v1/models/NAME` lists them."""
    base = tmp_path / "models"
    _copy_versions(half_plus_two, base, "half_plus_two", [1, 2, 3])
    config = tmp_path / "models.config"
    config.write_text(
        'model_config_list { config { name: "half_plus_two" base_path: '
        '"/models/half_plus_two" model_platform: "tensorflow" '
        "model_version_policy { specific { versions: 1 versions: 3 } } } }")
    with RestServer(str(base), str(config)) as server:
        assert _http(server.port, "/v1/models/half_plus_two") == (200, {
            "model_version_status": [
                {"version": v, "state": "AVAILABLE",
                 "status": {"error_code": "OK", "error_message": ""}}
                for v in ("3", "1")]})
        client = RestClient("127.0.0.1", server.port, timeout=30)
        assert client.status("half_plus_two") == {3: "AVAILABLE",
                                                  1: "AVAILABLE"}
        assert client.status("half_plus_two", 1) == {1: "AVAILABLE"}
        with pytest.raises(ModelNotFoundError,
                           match="Could not find version 2 of model"):
            client.status("half_plus_two", 2)
        with pytest.raises(ModelNotFoundError,
                           match=r"Specific\(half_plus_two, 2\)"):
            client.predict("half_plus_two", {"x": np.ones(1)}, version=2)
        assert client.predict("half_plus_two", {"x": np.ones(1)},
                              version=1)["y"].tolist() == [2.5]
        assert _http(server.port, "/v1/models/half_plus_two/metadata")[1][
            "model_spec"]["version"] == "3"
        with pytest.raises(ModelNotFoundError,
                           match="Could not find any versions of model nope"):
            client.status("nope")
    with RestServer(str(base)) as server:  # no config: the newest only
        client = RestClient("127.0.0.1", server.port, timeout=30)
        assert client.status("half_plus_two") == {3: "AVAILABLE"}


def test_the_projects_models_config_serves_the_two_newest(exported,
                                                          tmp_path):
    """serving/models.config keeps `latest { num_versions: 2 }` of each
    model: after three exports a client pinned to version 2 still works,
    version 1 is gone."""
    _, source = exported
    for name in ("faces_encoder", "faces_decoder"):
        _copy_versions(source, tmp_path, name, [1, 2, 3])
    with RestServer(str(tmp_path), str(ROOT / "serving" / "models.config")
                    ) as rest, GrpcServer(
            str(tmp_path), str(ROOT / "serving" / "models.config")) as grpc:
        client = RestClient("127.0.0.1", rest.port, timeout=30)
        for name in ("faces_encoder", "faces_decoder"):
            assert client.status(name) == {3: "AVAILABLE", 2: "AVAILABLE"}
        z = np.zeros((1, 4), np.float32)
        assert client.decode(z, version=2).shape == (1, 32, 32, 3)
        with pytest.raises(ModelNotFoundError, match="Specific"):
            client.decode(z, version=1)
        with GrpcClient("127.0.0.1", grpc.port, timeout=30) as g:
            assert g.decode(z, version=2).shape == (1, 32, 32, 3)
            with pytest.raises(ModelNotFoundError, match="Specific"):
                g.decode(z, version=1)


def _raw_predict(port, name, inputs, signature="serving_default"):
    """A gRPC Predict with hand-made TensorProtos; the RpcError or reply."""
    import grpc
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    request = predict_pb2.PredictRequest()
    request.model_spec.name = name
    request.model_spec.signature_name = signature
    for key, value in inputs.items():
        request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        try:
            return stub.Predict(request, timeout=30)
        except grpc.RpcError as err:
            return err


def test_grpc_stand_in_refuses_as_tf_serving_does(half_plus_two):
    import grpc

    with GrpcServer(half_plus_two) as server:
        ok = _raw_predict(server.port, "half_plus_two",
                          {"x": np.array([1.0], np.float32)})
        assert list(ok.outputs) == ["y"]
        err = _raw_predict(server.port, "half_plus_two",
                           {"x": np.array([1.0], np.float64)})
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert err.details() == ("Expects arg[0] to be float but double is "
                                 "provided")
        err = _raw_predict(server.port, "half_plus_two",
                           {"x": np.array([1.0], np.float32)}, "nope")
        assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert err.details() == 'Serving signature key "nope" not found.'
        err = _raw_predict(server.port, "half_plus_two", {
            "x": np.array([1.0], np.float32),
            "extra": np.array([1.0], np.float32)})
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert err.details() == (
            "input size does not match signature: 2!=1 len({extra,x}) != "
            "len({x}). Sent extra: {extra}. Missing but required: {}.")
        err = _raw_predict(server.port, "half_plus_two",
                           {"w": np.array([1.0], np.float32)})
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert err.details().startswith(
            "input tensor alias not found in signature: w.")
        with GrpcClient("127.0.0.1", server.port, timeout=30) as client:
            with pytest.raises(ServingError, match="INVALID_ARGUMENT"):
                client.predict("half_plus_two", {"x": np.array([1.0])})
            with pytest.raises(ModelNotFoundError,
                               match='signature key "nope" not found'):
                client.predict("half_plus_two",
                               {"x": np.ones(1, np.float32)}, "nope")


def test_rest_stand_in_answers_extra_and_missing_keys(half_plus_two):
    """Row objects must hold exactly the signature's inputs (400); the
    columnar `inputs` object is read by the signature's names, so an extra
    key there is ignored, as json_tensor.cc does; a missing one is a 400."""
    with RestServer(half_plus_two) as server:
        predict = "/v1/models/half_plus_two:predict"
        code, body = _http(server.port, predict,
                           {"instances": [{"x": 1.0, "extra": 2.0}]})
        assert code == 400 and body["error"].startswith(
            "Failed to process element: 0 key: extra of 'instances' list.")
        assert _http(server.port, predict, {"inputs": {
            "x": [1.0], "extra": [2.0]}}) == (200, {"outputs": [2.5]})
        assert _http(server.port, predict, {"inputs": {"w": [1.0]}}) == (
            400, {"error": "Missing named input: x in 'inputs' object."})
        assert _http(server.port, predict, {
            "signature_name": "nope", "inputs": {"x": [1.0]}}) == (
            400, {"error": 'Serving signature name: "nope" not found in '
                           "signature def"})
        assert _http(server.port, predict, {"x": [1.0]}) == (
            400, {"error": "Missing 'inputs' or 'instances' key"})
