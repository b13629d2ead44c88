"""The `vae-tf explore` page (Gradio): a face and the sliders that make it.

- **Attributes**: one slider per attribute vector (smile, glasses, beard,
  skin tone, each hair colour, pose, and the data set's other
  attributes); 0 adds nothing, 1 adds the average difference between
  images with and without the attribute.
- **Latent dimensions**: one slider per dimension of the base code, over
  the range the data's codes take in it.
- The page opens on a draw of the run's sampler (a typical face, shown
  at 256 pixels); **Random face** draws another base code; **Upload**
  encodes an image (its `z_mean`) as the base code (read by `uploads`:
  a file too large, not an image, or damaged is refused with a note
  under it; odd modes are converted, said in the note); **Reset**
  returns to the opening face.
- **Probe reading**: beside the face, what the data set's probe reads off
  it (glasses, beard, hair colour, smile, skin tone, ...), and **Dragged
  along**: the attributes whose reading the attribute sliders changed
  although no slider of theirs moved (the face with every attribute
  slider at 0 against the face shown; `Explorer.drift`), so a user sees
  what an edit changed and what it dragged along.
- **Interpolate**: two faces (uploaded, or the current one) and the
  fraction `t` of the slerp between their codes.
- **Condition** (a conditional run, issue 29): one control per
  conditioned factor, a menu of its classes (glasses 0/1, hair colour by
  name) or a slider over its mean +- 3 std (smile); the face, random
  draws, uploads and interpolations all use the condition shown.

The picture is redrawn as a slider moves (the sliders' `input` event, the
latest value winning when several queue up).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Optional

import numpy as np

from vae_tf.explore.extra import gradio
from vae_tf.explore.session import Explorer
from vae_tf.explore.uploads import (MAX_UPLOAD_BYTES, UploadError,
                                    read_upload)
from vae_tf.pictures.png import upscale

# Attribute strengths span [-3, 3]; each latent slider spans the data's
# codes in its dimension (`Explorer.limits`).
SLIDER_RANGE = 3.0
DISPLAY_SIZE = 256  # pixels the face is shown at (nearest-neighbour)
# Gradio's image frame (its border) takes pixels from the component's
# size: the component is this much larger so the face itself shows at
# DISPLAY_SIZE (Chromium measured 254 x 254 in a 256 component).
FRAME = 8


class _View:
    """What the page shows for `explorer`: the control order (latents,
    attributes, then a conditional run's factors), and the pictures of
    control values and base codes."""

    def __init__(self, explorer: Explorer):
        self.explorer = explorer
        self.names = sorted(explorer.vectors)
        self.k = explorer.latent_dim
        self.factors = [s.name for s in explorer.specs]

    def display(self, image: np.ndarray) -> np.ndarray:
        """A decoded uint8 image enlarged for the page."""
        image = upscale(image, max(1, DISPLAY_SIZE // image.shape[0]))
        return image[..., 0] if image.shape[-1] == 1 else image

    def condition(self, values) -> dict:
        """The factor controls' values (the last `len(factors)`)."""
        if not self.factors:
            return {}
        return dict(zip(self.factors, values[-len(self.factors):]))

    def compose(self, values) -> np.ndarray:
        """The code of the control values (latents, then attributes)."""
        k = self.k
        strengths = values[k:k + len(self.names)]
        return self.explorer.code(values[:k], dict(zip(self.names,
                                                       strengths)))

    def render(self, *values):
        """The picture and the probe's reading of the control values."""
        condition = self.condition(values)
        image = self.explorer.image(self.compose(values), condition)
        strengths = values[self.k:self.k + len(self.names)]
        moved = [name for name, v in zip(self.names, strengths) if v]
        before = (self.explorer.image(values[:self.k], condition) if moved
                  else None)
        return self.display(image), self.reading(image, before, moved)

    def reading(self, image, before=None, moved=()) -> str:
        """Markdown: the probe's reading of a decoded image and, when
        attribute sliders `moved` away from the face `before`, what they
        dragged along."""
        found = self.explorer.readings(image)
        if not found:
            return "_no probe for this data set_"
        text = "**Probe reading**\n\n" + "\n".join(
            f"- {name}: {value}" for name, value in found.items())
        if before is None:
            return text
        drift = self.explorer.drift(before, image, moved)
        text += "\n\n**Dragged along** (not moved by a slider)\n\n"
        lines = [f"- {name}: {change}" for name, change in drift.items()]
        return text + ("\n".join(lines) or "- nothing")

    def start(self) -> np.ndarray:
        """The opening base code, inside the sliders' ranges."""
        limits = self.explorer.limits
        return np.clip(self.explorer.start_code(), limits[:, 0],
                       limits[:, 1]).astype(np.float32)

    def current(self, *values):
        return self.explorer.image(self.compose(values),
                                   self.condition(values))

    def with_base(self, z, condition=None):
        """Slider values and picture for a new base code (kept inside the
        sliders' ranges, so the sliders show the face that is drawn)."""
        limits = self.explorer.limits
        z = np.clip(np.asarray(z, np.float32), limits[:, 0], limits[:, 1])
        image = self.explorer.image(z, condition)
        return ([float(v) for v in z] + [0.0] * len(self.names)
                + [self.display(image), self.reading(image)])


def build_app(explorer: Explorer, title: str = "vae_tf latent explorer"):
    """The Gradio `Blocks` page for `explorer` (not launched)."""
    gr = gradio()
    view = _View(explorer)
    with gr.Blocks(title=title) as app:
        gr.Markdown(f"# {title}\n{view.k} latent dimensions, "
                    f"{len(view.names)} attribute sliders.")
        with gr.Tab("Edit"):
            edit = _edit_tab(gr, view)
        _wire_edit(view, edit)
        with gr.Tab("Interpolate"):
            _interpolate_tab(gr, view, edit.sliders + edit.conditions)
    return app


def _edit_tab(gr, view: _View) -> SimpleNamespace:
    """The face, its reading, buttons and upload, and the sliders."""
    start = view.start()
    image = view.explorer.image(start)
    with gr.Row():
        with gr.Column(scale=1):
            face = gr.Image(view.display(image), label="face",
                            elem_id="face", interactive=False,
                            format="png", height=DISPLAY_SIZE + FRAME,
                            width=DISPLAY_SIZE + FRAME)
            reading = gr.Markdown(view.reading(image), elem_id="reading")
            with gr.Row():
                seed = gr.Number(0, label="seed", precision=0,
                                 minimum=0, elem_id="seed")
                random_button = gr.Button("Random face", elem_id="random")
                reset_button = gr.Button("Reset", elem_id="reset")
            # A file, read by `uploads` (caps, odd modes, non-images);
            # gr.Image would hand it to Pillow unchecked first.
            upload = gr.File(label="Encode an image", type="filepath",
                             file_types=["image"], elem_id="upload")
            upload_note = gr.Markdown("", elem_id="upload-note")
        with gr.Column(scale=2):
            with gr.Accordion("Attributes", open=True):
                attributes = [
                    gr.Slider(-SLIDER_RANGE, SLIDER_RANGE, 0.0, step=0.05,
                              label=name, elem_id=f"attr-{_slug(name)}")
                    for name in view.names]
            conditions = _condition_controls(gr, view.explorer)
            with gr.Accordion("Latent dimensions", open=False):
                latents = [
                    gr.Slider(float(low), float(high), float(value),
                              step=0.05, label=f"z{i}", elem_id=f"z-{i}")
                    for i, ((low, high), value) in enumerate(
                        zip(view.explorer.limits, start))]
    return SimpleNamespace(face=face, reading=reading, seed=seed,
                           random=random_button, reset=reset_button,
                           upload=upload, upload_note=upload_note,
                           sliders=latents + attributes,
                           conditions=conditions)


def _condition_controls(gr, explorer: Explorer) -> list:
    """A conditional run's factor controls (none otherwise): a menu of
    each class factor's classes, a slider over each continuous factor's
    mean +- 3 std."""
    if not explorer.specs:
        return []
    controls = []
    default = explorer.default_condition()
    with gr.Accordion("Condition", open=True):
        for spec in explorer.specs:
            if spec.kind == "class":
                choices = [str(v) for v in (spec.value_names or spec.values)]
                control = gr.Dropdown(choices, value=str(default[spec.name]),
                                      label=spec.name,
                                      elem_id=f"cond-{_slug(spec.name)}")
            else:
                control = gr.Slider(
                    round(spec.mean - 3 * spec.std, 2),
                    round(spec.mean + 3 * spec.std, 2),
                    default[spec.name], step=0.01, label=spec.name,
                    elem_id=f"cond-{_slug(spec.name)}")
            controls.append(control)
    return controls


def _wire_edit(view: _View, edit: SimpleNamespace) -> None:
    """Redraw on every slider or condition change; new base codes from
    the buttons (drawn and encoded under the condition shown)."""
    explorer = view.explorer
    outputs = edit.sliders + [edit.face, edit.reading]
    controls = edit.sliders + edit.conditions
    for slider in edit.sliders:
        slider.input(view.render, controls, [edit.face, edit.reading],
                     trigger_mode="always_last", show_progress="hidden")
    for control in edit.conditions:
        control.change(view.render, controls, [edit.face, edit.reading],
                       trigger_mode="always_last", show_progress="hidden")

    def random_face(seed, *condition):
        condition = view.condition(condition)
        return view.with_base(
            explorer.random_code(int(seed or 0), condition), condition)

    gr = gradio()

    def encoded(path, *condition):
        """The uploaded file's code; a file that cannot be used leaves the
        face as it is and says why under the upload (and in a toast)."""
        if path is None:  # the file was removed
            return [gr.skip()] * len(outputs) + [""]
        try:
            image, notes = read_upload(path)
        except UploadError as err:
            gr.Warning(str(err))
            return [gr.skip()] * len(outputs) + [f"**Not used:** {err}"]
        condition = view.condition(condition)
        note = f"Encoded ({'; '.join(notes)})." if notes else "Encoded."
        return view.with_base(explorer.encode(image, condition),
                              condition) + [note]

    edit.random.click(random_face, [edit.seed] + edit.conditions, outputs)
    edit.reset.click(
        lambda *condition: view.with_base(view.start(),
                                          view.condition(condition)),
        edit.conditions, outputs)
    edit.upload.change(encoded, [edit.upload] + edit.conditions,
                       outputs + [edit.upload_note])


def _interpolate_tab(gr, view: _View, controls: list) -> None:
    """Two faces and the slerp between their codes at fraction t (a
    conditional run's under the condition shown)."""
    with gr.Row():
        face_a = gr.Image(label="A", type="numpy", elem_id="face-a",
                          format="png")
        between = gr.Image(label="between", elem_id="between",
                           interactive=False, format="png")
        face_b = gr.Image(label="B", type="numpy", elem_id="face-b",
                          format="png")
    with gr.Row():
        take_a = gr.Button("A = current face", elem_id="take-a")
        t = gr.Slider(0.0, 1.0, 0.5, step=0.05, label="t", elem_id="t")
        take_b = gr.Button("B = current face", elem_id="take-b")

    def interpolate(a, b, fraction, *values):
        if a is None or b is None:
            return None
        return view.display(view.explorer.between(
            a, b, fraction, view.condition(values)))

    take_a.click(view.current, controls, face_a)
    take_b.click(view.current, controls, face_b)
    for event in (t.input, face_a.change, face_b.change):
        event(interpolate, [face_a, face_b, t] + controls, between,
              trigger_mode="always_last", show_progress="hidden")


def _slug(name: str) -> str:
    """An HTML id from an attribute slider name (`hair_color=red`)."""
    return "".join(c if c.isalnum() else "-" for c in name)


def launch(run_dir: str, host: str = "127.0.0.1", port: Optional[int] = None,
           block: bool = True, auth: Optional[list] = None):
    """Builds the explorer of `run_dir` and serves it; returns the app
    (already serving when `block` is False). `auth`: `[(user, password),
    ...]` who may log in (`vae_tf.explore.access`), or None for no login.
    Never through Gradio's public share tunnel."""
    from vae_tf.runs import Run

    gradio()  # a missing extra fails before the run is loaded
    print(f"vae-tf explore: loading {run_dir} and finding the attribute "
          "vectors...", flush=True)
    run = Run(run_dir, verbose="auto")
    app = build_app(Explorer.from_run(run),
                    title=f"vae_tf latent explorer: {run_dir}")
    # show_error: a picture Gradio itself cannot open (dropped on A or B)
    # is explained in the page; max_file_size: refused before it is kept.
    app.launch(server_name=host, server_port=port, prevent_thread_lock=True,
               quiet=True, share=False, auth=auth, show_error=True,
               max_file_size=MAX_UPLOAD_BYTES)
    print(f"vae-tf explore: open {app.local_url} (Ctrl-C stops)", flush=True)
    if block:
        app.block_thread()
    return app
