"""`vae-tf explore RUN_DIR`: an interactive latent explorer in the browser
(Gradio, the `[explore]` extra).

- `session`: the computation (attribute vectors, codes, images), NumPy
  and the run's Keras models, no web framework;
- `app`: the Gradio page on top of it;
- `access`: who may use the page (logins, the exposure warning);
- `extra`: Gradio itself, imported on demand with the install hint.
"""
