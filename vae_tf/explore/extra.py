"""The `[explore]` extra: `gradio()` imports Gradio or raises ImportError
with the install command. No TensorFlow: `vae-tf explore` calls it before
the run (and TensorFlow) loads, so a missing extra is refused at once."""

from __future__ import annotations

import os


def gradio():
    """The `gradio` module, with Gradio's usage reports off.

    Raises:
        ImportError: Gradio is not installed (the message says how).
    """
    # No usage reports from a local tool (and none reach a closed network).
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    try:
        import gradio as gr
    except ImportError:
        raise ImportError(
            "vae-tf explore needs Gradio: pip install 'vae_tf[explore]'"
        ) from None
    return gr
