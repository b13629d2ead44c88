"""Clients for models served by TensorFlow Serving: REST and gRPC.

Both return NumPy arrays keyed by output name and raise `ServingError`
(or its `ModelNotFoundError`) with a one-line reason: unreachable server,
timeout, unknown model, version or signature, bad input.

    client = RestClient("127.0.0.1", 8501)
    images = client.decode(z)                      # faces_decoder, (n, H, W, C)
    codes = client.encode(images)                  # {"z_mean", "z_log_var"}

REST uses `POST /v1/models/NAME[/versions/V]:predict` with the columnar
`inputs` format (or row `instances`), `GET .../metadata` for the name of
a single output (TF Serving answers those unnamed), and `GET
/v1/models/NAME` for the versions being served (`status`); gRPC calls
`tensorflow.serving.PredictionService/Predict` with the messages of
`vae_tf.client.tensor_proto`.

- `base`: errors and the conveniences; `rest`: `RestClient`;
  `grpc_client`: `GrpcClient`; `tensor_proto`: the `Predict` messages.

This package needs NumPy only (REST: the standard library's `urllib`), plus
`grpcio` and `protobuf` for gRPC; never TensorFlow, so apps that call a
server can import it without the trainer's stack (`import vae_tf` imports
nothing heavy either).
"""

from __future__ import annotations

from vae_tf.client.base import (DEFAULT_DECODER, DEFAULT_ENCODER,
                                ModelNotFoundError, ServingError)
from vae_tf.client.grpc_client import GrpcClient
from vae_tf.client.rest import RestClient

__all__ = ["DEFAULT_DECODER", "DEFAULT_ENCODER", "GrpcClient",
           "ModelNotFoundError", "RestClient", "ServingError"]
