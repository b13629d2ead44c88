"""The checkout's root, for tests that read its files (serving/, tools/)."""

import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
REPO = str(ROOT)
