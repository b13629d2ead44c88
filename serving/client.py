"""Decode latent vectors (or sample faces) from a running TF Serving.

    python serving/client.py decode --latent-dim 16 --out decoded.png
    python serving/client.py sample --num 16 --seed 3 --grpc --out samples.png

Thin command-line wrapper over `vae_tf.client` (REST on :8501 by default,
gRPC on :8500 with --grpc). Needs NumPy (and grpcio for --grpc), never
TensorFlow: the PNG is written by `vae_tf.pictures.png` with the standard
library.
"""

import argparse
import sys

import numpy as np

from vae_tf.client import GrpcClient, RestClient, ServingError
from vae_tf.pictures.png import save_grid


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["decode", "sample"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=None,
                        help="default 8501 (REST) or 8500 (gRPC)")
    parser.add_argument("--grpc", action="store_true", help="use gRPC")
    parser.add_argument("--model", default="faces_decoder")
    parser.add_argument("--latent-dim", type=int, default=16,
                        help="width of z for decode (must match the model)")
    parser.add_argument("--num", type=int, default=8, help="images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--out", default="decoded.png")
    args = parser.parse_args(argv)
    if args.grpc:
        client = GrpcClient(args.host, args.port or 8500, args.timeout)
    else:
        client = RestClient(args.host, args.port or 8501, args.timeout)
    try:
        if args.command == "decode":
            z = np.random.default_rng(args.seed).standard_normal(
                (args.num, args.latent_dim)).astype(np.float32)
            images = client.decode(z, model=args.model)
        else:
            images = client.sample(args.num, args.seed, model=args.model)
    except ServingError as err:
        print(f"client: error: {err}", file=sys.stderr)
        return 1
    save_grid(args.out, images, rows=max(1, int(len(images) ** 0.5)))
    print(f"client: {len(images)} images {images.shape[1:]} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
