"""`vae-tf explore`: the attribute vectors and codes behind the page, and
the page itself in a real browser (Playwright driving Debian's Chromium):
moving the smile slider redraws the face, and changes its mouth more than
the rest of it."""

import io
import shutil
import socket
import time

import numpy as np
import pytest

from vae_tf import VAEConfig, train
from vae_tf.data.faces import ATTRIBUTES, render_faces
from vae_tf.explore.session import (Explorer, attribute_vectors,
                                    latent_limits)
from vae_tf.runs import Run

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# The flags a closed-network machine needs (no sandbox as root, no calls
# home, see the machine notes).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def faces_run(tmp_path_factory):
    """A small faces VAE (32x32, 3,000 images, 6 epochs: ~15 s) that has
    learned where the mouth is."""
    out = tmp_path_factory.mktemp("explore") / "run"
    config = VAEConfig(
        input_shape=(32, 32, 3), latent_dim=8, widths=(16, 32),
        dense_units=64, batch_size=32, epochs=6, num_examples=3000, seed=5,
        # The recipe this small model was sized with (the default's one
        # cycle to 3e-3 is tuned for 12 epochs of the 64 px model).
        lr_schedule="constant", learning_rate=1e-3)
    train(config, out_dir=str(out), verbose=0)
    return str(out)


@pytest.fixture(scope="module")
def explorer(faces_run):
    return Explorer.from_run(Run(faces_run))


def _mouth_mask(size: int) -> np.ndarray:
    """Pixels of a centred face that a smile changes: the same face drawn
    with smile -1 and +1."""
    face = {k: np.zeros(1, np.float32) for k in ATTRIBUTES}
    face.update(hair_color=np.ones(1, np.int32),
                size=np.full(1, 0.5, np.float32),
                background=np.full(1, 0.5, np.float32),
                skin_tone=np.full(1, 0.3, np.float32))
    frown = render_faces(dict(face, smile=-np.ones(1, np.float32)), size)
    smile = render_faces(dict(face, smile=np.ones(1, np.float32)), size)
    return np.abs(frown.astype(int) - smile.astype(int)).max(-1)[0] > 30


def _change(before: np.ndarray, after: np.ndarray, mask: np.ndarray):
    """Mean absolute change per pixel inside and outside `mask`."""
    d = np.abs(after.astype(float) - before.astype(float)).mean(-1)
    return d[mask].mean(), d[~mask].mean()


def test_attribute_vectors_per_kind_of_attribute(explorer):
    names = set(explorer.vectors)
    # Binary and continuous attributes: one slider; hair colour: one per
    # colour, named by the data set.
    assert {"smile", "glasses", "beard", "skin_tone", "pose", "x", "y",
            "size", "background"} <= names
    assert {f"hair_color={c}" for c in ("black", "brown", "blond", "red")
            } <= names
    assert "hair_color" not in names
    for vector in explorer.vectors.values():
        assert vector.shape == (explorer.latent_dim,)
    # The definition: mean code with minus mean code without.
    z = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
    found = attribute_vectors(
        z, {"flag": np.array([0, 1, 0, 1, 1, 0]),
            "level": np.array([0.1, 0.9, 0.2, 0.8, 0.7, 0.3], np.float32),
            "kind": np.array([0, 1, 2, 0, 1, 2]),
            "same": np.ones(6),
            # over half tied at the top: no "above the median" images
            "tied": np.array([0.1, 0.5, 0.9, 0.9, 0.9, 0.9], np.float32)},
        {"kind": ("a", "b")})
    np.testing.assert_allclose(
        found["flag"], z[[1, 3, 4]].mean(0) - z[[0, 2, 5]].mean(0),
        rtol=1e-6)
    np.testing.assert_allclose(found["level"], found["flag"], rtol=1e-6)
    assert sorted(found) == ["flag", "kind=2", "kind=a", "kind=b", "level"]
    np.testing.assert_allclose(
        found["kind=2"], z[[2, 5]].mean(0) - z[[0, 1, 3, 4]].mean(0),
        rtol=1e-6)


def test_latent_sliders_span_the_datas_codes():
    z = np.array([[0.5, -7.2, 0.0], [1.0, 2.0, 3.5]], np.float32)
    np.testing.assert_array_equal(
        latent_limits(z), [[-3, 3], [-8, 3], [-3, 4]])


def test_codes_images_encoding_and_interpolation(explorer, faces_run):
    k = explorer.latent_dim
    zero = np.zeros(k, np.float32)
    np.testing.assert_allclose(
        explorer.code(zero, {"smile": 2.0, "glasses": -1.0}),
        2 * explorer.vectors["smile"] - explorer.vectors["glasses"],
        rtol=1e-6)
    image = explorer.image(zero)
    assert image.dtype == np.uint8 and image.shape == (32, 32, 3)
    before, after = image, explorer.image(explorer.code(zero, {"smile": 2}))
    mouth, rest = _change(before, after, _mouth_mask(32))
    assert mouth > 1.5 * rest, (mouth, rest)

    run = Run(faces_run)
    face = run.data.validation.images[0]
    z = explorer.encode(face)
    expected = run.models.encoder.predict(face[None] / 255.0, verbose=0)[0]
    np.testing.assert_allclose(z, expected[0], atol=1e-5)
    # Any size and channel count is resized / converted first.
    big = np.repeat(np.repeat(face, 2, 0), 2, 1)
    assert np.abs(explorer.encode(big) - z).max() < 0.5
    assert explorer.encode(face[..., :1]).shape == (k,)
    other = run.data.validation.images[1]
    np.testing.assert_array_equal(explorer.between(face, other, 0.0),
                                  explorer.image(z))
    np.testing.assert_array_equal(explorer.between(face, other, 1.0),
                                  explorer.image(explorer.encode(other)))
    assert explorer.random_code(3).shape == (k,)
    assert not np.array_equal(explorer.random_code(3),
                              explorer.random_code(4))


def test_the_probe_reads_the_shown_face(explorer, faces_run):
    """Each attribute the data set's probe knows, as the page shows it:
    classes by name (glasses yes/no, hair by colour), values signed; the
    reading is the probe's own prediction for that image."""
    image = explorer.image(explorer.start_code())
    found = explorer.readings(image)
    assert {"glasses", "beard", "hair_color", "smile", "skin_tone",
            "pose"} <= set(found)
    assert found["glasses"] in ("yes", "no")
    assert found["hair_color"] in ("black", "brown", "blond", "red")
    predicted = explorer.probe.predict(image[None])
    assert found["smile"] == f"{float(predicted['smile'][0]):+.2f}"
    assert explorer.readings(np.zeros((8, 8, 3), np.uint8)) == {}
    np.testing.assert_array_equal(explorer.start_code(),
                                  explorer.random_code(0))


def test_drift_lists_what_an_edit_dragged_along(explorer):
    """Two different faces: every attribute the probe reads differently
    is listed, except those named as moved (a hair colour slider moves
    `hair_color`); the same face twice drags nothing."""
    a = explorer.image(explorer.random_code(0))
    b = explorer.image(explorer.random_code(3))
    assert explorer.drift(a, a) == {}
    read = explorer.probe.predict(np.stack([a, b]))
    changed = explorer.drift(a, b)
    for factor in explorer.probe.factors:
        x, y = read[factor.name]
        if factor.is_discrete:
            assert (factor.name in changed) == (x != y), factor.name
        else:
            big = abs(float(y) - float(x)) >= 0.25 * factor.std
            assert (factor.name in changed) == big, factor.name
    assert changed, "two random faces read alike in every attribute"
    some = next(iter(changed))
    assert some not in explorer.drift(a, b, [f"{some}=x"])
    assert explorer.drift(np.zeros((8, 8, 3), np.uint8),
                          np.zeros((8, 8, 3), np.uint8)) == {}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def page_url(explorer):
    pytest.importorskip("gradio", reason="install the [explore] extra")
    from vae_tf.explore.app import build_app

    app = build_app(explorer)
    port = _free_port()
    app.launch(server_name="127.0.0.1", server_port=port,
               prevent_thread_lock=True, quiet=True)
    yield f"http://127.0.0.1:{port}/"
    app.close()


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("no Chromium installed (Debian: apt-get install "
                    "chromium; .ci/run installs it)")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="install the [test] extra (playwright)")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _face(page, element="#face") -> tuple[str, np.ndarray]:
    """The `src` of the shown picture and its pixels at model size.

    While the page redraws fast (typing into the latent boxes), the file
    behind a `src` read a moment ago can already be gone (seen once in a
    full run: the body was not an image); the picture is then read again
    from the `src` shown now."""
    from PIL import Image, UnidentifiedImageError

    for _ in range(20):
        src = page.locator(f"{element} img").get_attribute("src")
        data = page.request.get(src).body()
        try:
            image = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        except UnidentifiedImageError:
            time.sleep(0.1)
            continue
        factor = image.shape[0] // 32
        return src, image[::factor, ::factor]
    raise AssertionError(f"{element} never served an image: {data[:200]!r}")


def _settled_text(page, element: str, timeout: float = 10.0) -> str:
    """`element`'s text once Gradio's "processing" overlay is gone (seen
    once in a full run: the reading read while still processing)."""
    deadline = time.monotonic() + timeout
    text = page.locator(element).inner_text()
    while "processing" in text and time.monotonic() < deadline:
        time.sleep(0.05)
        text = page.locator(element).inner_text()
    return text


def _wait_for_new(page, old_src: str, element="#face", timeout=30.0):
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        src = page.locator(f"{element} img").get_attribute("src")
        if src and src != old_src:
            return _face(page, element)
        time.sleep(0.05)
    raise AssertionError(f"{element} was not redrawn within {timeout} s")


def test_moving_the_smile_slider_changes_the_mouth(
        browser, page_url, explorer):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(page_url, wait_until="networkidle")
    page.locator("#face img").wait_for(timeout=30000)
    src, before = _face(page)
    # It opens on a typical face (the sampler's first draw), >= 256 px.
    np.testing.assert_array_equal(
        before, explorer.image(explorer.start_code()))
    box = page.locator("#face img").bounding_box()
    assert box["width"] >= 256 and box["height"] >= 256, box
    reading = page.locator("#reading").inner_text()
    assert "Probe reading" in reading and "glasses:" in reading
    # Edits are checked from z = 0, where the small model's smile
    # direction is known to work (test_codes_images_encoding...): a
    # sampler draw of a 6-epoch model can sit where +2.5 smile changes
    # little. Typing 0 into every latent box moves the base code there.
    page.get_by_text("Latent dimensions", exact=True).click()  # open it
    zero_face = explorer.image(np.zeros(explorer.latent_dim, np.float32))
    # Gradio may drop a change event that arrives while the previous
    # one runs: retype the boxes until the face is z = 0's.
    for attempt in range(4):
        for i in range(explorer.latent_dim):
            box = page.locator(f"#z-{i} input[type=number]")
            if attempt:  # an unchanged value sends no event
                box.fill("1")
                box.press("Enter")
            box.fill("0")
            box.press("Enter")
        deadline = time.monotonic() + 10
        while not (done := np.array_equal(_face(page)[1], zero_face)) \
                and time.monotonic() < deadline:
            time.sleep(0.1)
        if done:
            break
    else:
        pytest.fail("the face did not reach z = 0: " + str([
            page.locator(f"#z-{i} input[type=number]").input_value()
            for i in range(explorer.latent_dim)]))
    src, before = _face(page)
    reading = page.locator("#reading").inner_text()
    page.locator("#attr-smile input[type=range]").fill("2.5")
    src, after = _wait_for_new(page, src)
    # The reading follows the face: the probe's smile value changed;
    # what the smile slider dragged along is listed (the base face z = 0
    # against this one, as Explorer.drift reads them).
    shown = _settled_text(page, "#reading")
    assert shown != reading and "Dragged along" in shown
    expected = explorer.drift(
        zero_face, explorer.image(explorer.code(
            np.zeros(explorer.latent_dim), {"smile": 2.5})), ["smile"])
    for name, change in expected.items():
        assert f"{name}: {change}" in shown
    if not expected:
        assert "nothing" in shown.split("Dragged along")[1]
    assert not np.array_equal(before, after)
    mouth, rest = _change(before, after, _mouth_mask(32))
    print(f"smile 0 -> 2.5: mean change {mouth:.2f} in the mouth, "
          f"{rest:.2f} elsewhere (0-255)")
    assert mouth > 1.5 * rest

    # Random face: new latent slider values and a new face.
    z0 = page.locator("#z-0 input[type=number]").input_value()
    page.locator("#seed input").fill("7")
    page.locator("#random").click()
    src, drawn = _wait_for_new(page, src)
    assert page.locator("#z-0 input[type=number]").input_value() != z0
    assert page.locator("#attr-smile input[type=number]").input_value() == "0"

    # Interpolation: A = this face, B = another, t moves between them.
    page.get_by_role("tab", name="Interpolate").click()
    page.locator("#take-a").click()
    page.locator("#face-a img").wait_for(timeout=30000)
    page.get_by_role("tab", name="Edit").click()
    page.locator("#seed input").fill("8")
    page.locator("#random").click()
    src, _ = _wait_for_new(page, src)
    page.get_by_role("tab", name="Interpolate").click()
    page.locator("#take-b").click()
    page.locator("#face-b img").wait_for(timeout=30000)
    page.locator("#between img").wait_for(timeout=30000)
    middle_src, middle = _face(page, "#between")
    page.locator("#t input[type=range]").fill("0")
    _, start = _wait_for_new(page, middle_src, "#between")
    assert not np.array_equal(middle, start)
    page.close()


def test_uploading_an_image_shows_its_reconstruction(browser, page_url,
                                                     explorer, faces_run,
                                                     tmp_path):
    from PIL import Image

    face = Run(faces_run).data.validation.images[2]
    path = tmp_path / "face.png"
    Image.fromarray(face).save(path)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(page_url, wait_until="networkidle")
    page.locator("#face img").wait_for(timeout=30000)
    src, _ = _face(page)
    page.locator("#upload input[type=file]").set_input_files(str(path))
    _, shown = _wait_for_new(page, src)
    np.testing.assert_array_equal(shown,
                                  explorer.image(explorer.encode(face)))
    page.close()


def test_hostile_uploads_get_a_note_and_the_page_keeps_serving(
        browser, page_url, explorer, faces_run, tmp_path):
    """A file that is not an image (named .txt: Gradio refuses it in a
    toast; named .png: our reader, in the note under the upload) and a
    decompression bomb (a PNG header claiming 20,000 x 20,000 pixels) are
    refused with a message and the face stays; a face uploaded next (on a
    fresh page: the server kept serving) is encoded as usual."""
    from PIL import Image

    from test_uploads import header_only_png

    page = browser.new_page(viewport={"width": 1400, "height": 1000})

    def fresh():
        page.goto(page_url, wait_until="networkidle")
        page.locator("#face img").wait_for(timeout=30000)
        return _face(page)[0], page.locator("#upload input[type=file]")

    src, upload = fresh()
    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture")
    upload.set_input_files(str(notes))
    page.locator(".toast-body", has_text="Invalid file type: notes.txt"
                 ).wait_for(timeout=30000)
    fake = tmp_path / "fake.png"
    fake.write_text("not a picture either")
    bomb = header_only_png(tmp_path / "bomb.png", 20_000, 20_000)
    for path, says in ((fake, "fake.png is not an image this page reads"),
                       (bomb, "bomb.png has 400,000,000 pixels")):
        src, upload = fresh()
        upload.set_input_files(str(path))
        page.locator("#upload-note", has_text=says).wait_for(timeout=30000)
        assert _face(page)[0] == src  # the face was left as it was
    src, upload = fresh()
    face = Run(faces_run).data.validation.images[3]
    Image.fromarray(face).save(tmp_path / "face.png")
    upload.set_input_files(str(tmp_path / "face.png"))
    _, shown = _wait_for_new(page, src)
    np.testing.assert_array_equal(shown,
                                  explorer.image(explorer.encode(face)))
    page.locator("#upload-note", has_text="Encoded.").wait_for(
        timeout=30000)
    page.close()


def test_the_command_serves_the_page_and_explains_a_missing_extra(
        faces_run):
    import subprocess
    import sys
    import urllib.request

    pytest.importorskip("gradio", reason="install the [explore] extra")
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "vae_tf.cli", "explore", faces_run,
         "--port", str(port)], stdout=subprocess.PIPE, text=True)
    try:
        lines = []
        for line in server.stdout:
            lines.append(line)
            if "open http" in line:
                break
        assert lines[-1].strip() == (f"vae-tf explore: open "
                                     f"http://127.0.0.1:{port}/ (Ctrl-C "
                                     "stops)"), lines
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/",
                                    timeout=30) as reply:
            assert reply.status == 200 and b"<html" in reply.read()
    finally:
        server.terminate()
        server.wait(timeout=30)
    # Refused at once: before the run, and TensorFlow, load.
    blocked = subprocess.run(
        [sys.executable, "-c",
         "import sys; sys.modules['gradio'] = None\n"
         "from vae_tf.cli import main\n"
         f"code = main(['explore', {faces_run!r}])\n"
         "print('tensorflow loaded:', 'tensorflow' in sys.modules)\n"
         "sys.exit(code)"],
        capture_output=True, text=True, timeout=120)
    assert blocked.returncode == 2
    assert "pip install 'vae_tf[explore]'" in blocked.stderr
    assert "Traceback" not in blocked.stderr
    assert "tensorflow loaded: False" in blocked.stdout


def test_a_login_guards_the_page_and_its_api(faces_run):
    """With `auth`, the page's API answers 401 until a user logs in; a
    wrong password is refused."""
    import urllib.error
    import urllib.parse
    import urllib.request

    pytest.importorskip("gradio", reason="install the [explore] extra")
    from vae_tf.explore.app import launch

    port = _free_port()
    app = launch(faces_run, "127.0.0.1", port, block=False,
                 auth=[("ann", "pw1")])
    url = f"http://127.0.0.1:{port}"
    try:
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"{url}/config", timeout=30)
        assert err.value.code == 401

        def login(password):
            form = urllib.parse.urlencode(
                {"username": "ann", "password": password}).encode()
            try:
                with urllib.request.urlopen(urllib.request.Request(
                        f"{url}/login", data=form), timeout=30) as reply:
                    return reply.status
            except urllib.error.HTTPError as refused:
                return refused.code

        assert login("wrong") == 400
        assert login("pw1") == 200
    finally:
        app.close()


# -- a conditional run (issue 29): the condition as controls -------------


@pytest.fixture(scope="module")
def cond_explorer(conditional_run):
    return Explorer.from_run(Run(str(conditional_run)))


def test_a_conditional_explorer_decodes_under_the_condition(cond_explorer):
    e = cond_explorer
    assert [s.name for s in e.specs] == ["glasses", "hair_color", "smile"]
    # No vectors for conditioned factors: the condition moves those.
    assert not {"glasses", "smile"} & set(e.vectors)
    assert not any(n.startswith("hair_color") for n in e.vectors)
    assert {"beard", "skin_tone"} <= set(e.vectors)
    assert e.default_condition() == {"glasses": 0, "hair_color": "black",
                                     "smile": round(e.specs[2].mean, 2)}
    z = e.start_code()
    plain = e.image(z)
    np.testing.assert_array_equal(plain, e.image(z, e.default_condition()))
    red = e.image(z, {"hair_color": "red", "glasses": "1"})
    assert np.abs(red.astype(int) - plain.astype(int)).max() > 0
    # Random draws follow the condition (the sampler's class tables).
    assert not np.allclose(e.random_code(3, {"glasses": 1}),
                           e.random_code(3, {"glasses": 0}))
    with pytest.raises(ValueError, match="hair_color has no value 'green'"):
        e.image(z, {"hair_color": "green"})


def test_the_conditional_page_redraws_when_a_condition_changes(
        browser, cond_explorer):
    pytest.importorskip("gradio", reason="install the [explore] extra")
    from vae_tf.explore.app import build_app

    app = build_app(cond_explorer)
    port = _free_port()
    app.launch(server_name="127.0.0.1", server_port=port,
               prevent_thread_lock=True, quiet=True)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"http://127.0.0.1:{port}/", wait_until="networkidle")
        page.locator("#face img").wait_for(timeout=30000)
        src, before = _face(page)
        z = cond_explorer.start_code()
        np.testing.assert_array_equal(before, cond_explorer.image(z))
        # The hair colour menu offers the classes by name.
        page.locator("#cond-hair-color input").click()
        page.get_by_role("option", name="red").click()
        src, after = _wait_for_new(page, src)
        np.testing.assert_array_equal(
            after, cond_explorer.image(z, {"hair_color": "red"}))
        page.locator("#cond-smile input[type=number]").fill("0.5")
        page.locator("#cond-smile input[type=number]").press("Enter")
        _, smiling = _wait_for_new(page, src)
        np.testing.assert_array_equal(smiling, cond_explorer.image(
            z, {"hair_color": "red", "smile": 0.5}))
        page.close()
    finally:
        app.close()
