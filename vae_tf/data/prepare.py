"""`vae-tf prepare folder:PATH`: photos to TFRecord shards, streamed.

Files are decoded `CHUNK` at a time and written straight into the open
shard, so memory stays flat whatever the folder's size. The result is the
layout `vae_tf.data.shards` writes (and reads), shard for shard the same
bytes as `write_shards(load_data("folder:PATH"))`: the same split plan
(`vae_tf.data.folder.plan_folder`), the same decoding, the same records.

Resuming: each finished shard is renamed into place as
`SPLIT-NNNNN.pending` and `prepare-state.json` records how far the split
got (next file, rows, skipped files). Rerunning the same command after an
interruption carries on from the last finished shard; a split's shards
get their final `-of-COUNT` names once its count is known, and the
manifest, written last, marks the folder complete.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Sequence

from vae_tf._internal import io_utils
from vae_tf._internal.progress import Progress, Verbosity
from vae_tf.data import folder as folders
from vae_tf.data import photos
from vae_tf.data.errors import DataError
from vae_tf.data.types import SPLITS

STATE = "prepare-state.json"


def prepare_folder(
    root: str,
    out_dir: str,
    image_shape: Sequence[int] = (64, 64, 3),
    fit: str = "crop",
    seed: int = 0,
    images_per_shard: int = 4096,
    strict: bool = False,
    verbose: Verbosity = "auto",
    chunk: int = folders.CHUNK,
) -> dict:
    """Writes `folder:root` as shards in `out_dir`, or finishes an
    interrupted write of the same input.

    Returns:
        The manifest (`vae_tf.data.shards`), plus `skipped`: the number of
        unreadable files, listed with their reasons in
        `out_dir/skipped_images.txt`.

    Raises:
        FileExistsError: `out_dir` holds finished shards.
        DataError: `out_dir` holds an unfinished write of other input or
            settings; with `strict`, an unreadable file; a split with no
            readable image.
    """
    from vae_tf.data import shards

    photos.check_fit(fit)
    photos.check_channels(int(image_shape[2]))
    shards.check_images_per_shard(images_per_shard)
    shards.check_not_written(out_dir)
    plan = folders.plan_folder(root, seed)
    total = sum(len(v) for v in plan.values())
    job = {"data": f"folder:{root}",
           "image_shape": [int(d) for d in image_shape], "fit": fit,
           "seed": seed, "images_per_shard": images_per_shard,
           "strict": strict, "files": total, "files_sha256": _digest(plan)}
    state = _start(out_dir, job)
    h, w, c = job["image_shape"]
    progress = Progress(
        total, f"Preparing {total:,} images from {root} ({h}x{w}, {fit}) "
        f"into {out_dir}", verbose, unit="image")
    manifest = {"name": job["data"], "image_shape": [h, w, c], "splits": {}}
    skipped = []
    attributes = folders.folder_attributes(root, plan)
    for split in SPLITS:
        part = state["splits"].setdefault(
            split, {"next": 0, "shards": 0, "rows": 0, "skipped": [],
                    "done": False})
        progress.advance(part["next"])
        writer = _SplitWriter(root, out_dir, split, plan[split],
                              attributes[split], job, state, chunk)
        if not part["done"]:
            writer.write(progress)
        manifest["splits"][split] = writer.finish()
        skipped += part["skipped"]
    folders.check_skipped(root, skipped, total, False, {
        s: v["count"] for s, v in manifest["splits"].items()})
    report = folders.write_skipped_report(out_dir, skipped)
    manifest["skipped"] = len(skipped)
    io_utils.atomic_write_text(os.path.join(out_dir, shards.MANIFEST),
                               json.dumps(manifest, indent=2) + "\n")
    os.remove(os.path.join(out_dir, STATE))
    if skipped and verbose:
        print(f"vae-tf: {folders.skipped_message(root, skipped, total, False)} "
              f"Listed in {report}.",
              flush=True)
    return manifest


def _digest(plan: dict) -> str:
    text = "\n".join(f"{s}/{f}" for s in SPLITS for f in plan[s])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _start(out_dir: str, job: dict) -> dict:
    """A fresh state, or the state of an interrupted run of `job`."""
    path = os.path.join(out_dir, STATE)
    for name in os.listdir(out_dir):  # writes a crash cut short
        if name.startswith(".") and name.endswith(".tmp"):
            os.remove(os.path.join(out_dir, name))
    if not os.path.isfile(path):
        if any(n.endswith((".tfrecord", ".pending"))
               for n in os.listdir(out_dir)):
            raise DataError(
                f"{out_dir} holds shard files but no {STATE} or manifest: "
                "choose an empty --out.")
        state = {"job": job, "splits": {}}
        _save(out_dir, state)
        return state
    try:
        with open(path, encoding="utf-8") as f:
            state = json.load(f)
        before = state["job"]
        state["splits"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise DataError(
            f"{path} is damaged ({err}): delete {out_dir} and prepare "
            "again.") from None
    changed = sorted(k for k in job if before.get(k) != job[k])
    if changed:
        raise DataError(
            f"{out_dir} holds an unfinished prepare of other input or "
            f"settings ({', '.join(changed)} differ): rerun that command "
            "to finish it, or choose an empty --out.")
    print(f"vae-tf prepare: resuming the unfinished write in {out_dir}",
          flush=True)
    return state


def _save(out_dir: str, state: dict) -> None:
    io_utils.atomic_write_text(os.path.join(out_dir, STATE),
                               json.dumps(state) + "\n")


class _SplitWriter:
    """Streams one split's files into shards of `images_per_shard`."""

    def __init__(self, root, out_dir, split, files, attrs, job, state,
                 chunk):
        self.root, self.out_dir, self.split = root, out_dir, split
        self.files, self.job, self.state = files, job, state
        self.part = state["splits"][split]
        self.chunk = chunk
        self.attrs = attrs
        self.names = sorted(self.attrs)
        self._tmp = self._writer = None

    def _pending(self, k: int) -> str:
        return os.path.join(self.out_dir, f"{self.split}-{k:05d}.pending")

    def _open(self) -> None:
        import tensorflow as tf

        final = self._pending(self.part["shards"])
        self._tmp = os.path.join(
            self.out_dir, f".{os.path.basename(final)}.tmp")
        self._writer = tf.io.TFRecordWriter(self._tmp)

    def _publish(self, next_file: int, rows: int, skipped) -> None:
        self._writer.close()
        os.replace(self._tmp, self._pending(self.part["shards"]))
        self._writer = self._tmp = None
        self.part.update(next=next_file, shards=self.part["shards"] + 1,
                         rows=rows, skipped=list(skipped))
        _save(self.out_dir, self.state)

    def write(self, progress: Progress) -> None:
        """Decodes and writes files `next ..` of the split."""
        from vae_tf.data.shards import example_bytes

        h, w, c = self.job["image_shape"]
        per_shard = self.job["images_per_shard"]
        rows, skipped = self.part["rows"], list(self.part["skipped"])
        in_shard = 0
        try:
            for start in range(self.part["next"], len(self.files),
                               self.chunk):
                names = self.files[start:start + self.chunk]
                paths = [os.path.join(self.root, f) for f in names]
                for i, image, why in photos.read_images(
                        paths, (h, w), c, self.job["fit"]):
                    if image is None:
                        if self.job["strict"]:
                            raise DataError(folders.strict_message(
                                self.root, names[i], why))
                        skipped.append([names[i], why])
                        continue
                    if self._writer is None:
                        self._open()
                    values = [self.attrs[a][start + i] for a in self.names]
                    self._writer.write(example_bytes(image, values,
                                                     self.names))
                    rows, in_shard = rows + 1, in_shard + 1
                    if in_shard == per_shard:
                        self._publish(start + i + 1, rows, skipped)
                        in_shard = 0
                progress.advance(len(names))
            if self._writer is not None or self.part["shards"] == 0:
                if self._writer is None:
                    self._open()  # an empty split: one empty shard
                self._publish(len(self.files), rows, skipped)
            self.part.update(next=len(self.files), rows=rows,
                             skipped=list(skipped), done=True)
            _save(self.out_dir, self.state)
        finally:
            if self._writer is not None:  # interrupted mid-shard
                self._writer.close()
                os.remove(self._tmp)

    def finish(self) -> dict:
        """Gives the split's shards their final names; its manifest entry."""
        from vae_tf.data.shards import shard_name

        count = self.part["shards"]
        files = []
        for k in range(count):
            final = shard_name(self.split, k, count)
            pending = self._pending(k)
            if os.path.isfile(pending):
                os.replace(pending, os.path.join(self.out_dir, final))
            elif not os.path.isfile(os.path.join(self.out_dir, final)):
                raise DataError(
                    f"{self.out_dir}: shard {final} is missing: delete the "
                    "folder and prepare again.")
            files.append(final)
        return {"count": self.part["rows"], "files": files,
                "attributes": self.names}
