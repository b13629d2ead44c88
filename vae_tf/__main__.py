"""`python -m vae_tf ...`: the `vae-tf` command."""

import sys

from vae_tf.cli import main

sys.exit(main())
