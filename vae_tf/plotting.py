"""Moved: `vae_tf.pictures.png` (PNG grids) and `vae_tf.pictures.charts`
(plots). This name stays until `training` imports the new modules."""

from vae_tf.pictures.charts import (  # noqa: F401
    save_latent_scatter, save_loss_curves,
)
from vae_tf.pictures.png import (  # noqa: F401
    encode_png, image_grid, save_grid, save_png, save_rows, upscale,
)
