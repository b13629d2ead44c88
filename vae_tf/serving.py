"""Deprecated name of `vae_tf.client` (kept for existing imports).

"Serving" now means only the `serving/` deployment folder; the clients
that call a running TF Serving live in `vae_tf.client`.
"""

import warnings

from vae_tf.client import (  # noqa: F401
    DEFAULT_DECODER,
    DEFAULT_ENCODER,
    GrpcClient,
    ModelNotFoundError,
    RestClient,
    ServingError,
)

warnings.warn("vae_tf.serving is deprecated: import vae_tf.client instead.",
              DeprecationWarning, stacklevel=2)
