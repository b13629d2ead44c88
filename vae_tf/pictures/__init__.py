"""Pictures, in three layers:

- `png`: arrays to PNG files (grids, rows; zlib, NumPy only, no
  TensorFlow: the serving client uses it);
- `charts`: matplotlib plots of a run (latent scatter, loss curves);
- `figures`: a run's pictures, the `vae-tf sample|reconstruct|interpolate|
  traverse|edit|evaluate` outputs (model -> images -> `png`/`charts`).

Nothing is imported here: `from vae_tf.pictures.png import save_grid`
loads NumPy only.
"""
