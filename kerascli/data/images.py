"""Image files as a lazy array: decoded and resized the way `image_dataset_from_directory` does, per batch.

`ImageFiles` looks like a float32 array of shape `(files, height, width,
channels)` but holds only the paths: indexing it decodes those files. Each
image is decoded as Keras' own loader does it (`PIL.Image.open`, converted to
the colour mode, then `keras.ops.image.resize` with the same `interpolation`,
`crop_to_aspect_ratio` and `pad_to_aspect_ratio`; pixel values stay 0-255 as
in Keras), so a model trained here sees what it would see from
`keras.utils.image_dataset_from_directory`. A set that fits
`data.memory_budget` is decoded once into RAM; a bigger one is decoded batch
by batch in reader threads (`kerascli.data.streaming`), so the resident
memory is bounded by the batch, not the folder.

Keras is imported on first decode (the backend is chosen by then).
"""

from __future__ import annotations

import concurrent.futures
import os
from pathlib import Path

import numpy as np

from kerascli.errors import DataError

CHANNELS = {"grayscale": 1, "rgb": 3, "rgba": 4}
PIL_MODES = {1: "L", 3: "RGB", 4: "RGBA"}


class ImageFiles:
    """Image files seen as one float32 array `(files, height, width, channels)`.

    Args:
        root: the folder the paths are relative to.
        files: the image paths, relative to `root`.
        image_size: `(height, width)` every image is resized to.
        color_mode: `grayscale`, `rgb` or `rgba`.
        interpolation: the `keras.ops.image.resize` interpolation.
        crop_to_aspect_ratio: crop the centre to the target aspect ratio.
        pad_to_aspect_ratio: pad to the target aspect ratio.
        fail: raises the error for a message (it knows the config location).
    """

    known_finite = True  # decoded pixels are never NaN: the data checks skip the scan

    def __init__(
        self,
        root: Path,
        files: list[str],
        *,
        image_size,
        color_mode: str,
        interpolation: str,
        crop_to_aspect_ratio: bool,
        pad_to_aspect_ratio: bool,
        fail=None,
    ):
        self.root = Path(root)
        self.files = list(files)
        self.image_size = tuple(int(v) for v in image_size)
        self.channels = CHANNELS[color_mode]
        self.interpolation = interpolation
        self.crop = crop_to_aspect_ratio
        self.pad = pad_to_aspect_ratio
        self.fail = fail or _raise
        self.shape = (len(self.files), *self.image_size, self.channels)
        self.dtype = np.dtype("float32")
        self.ndim = 4

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index) -> np.ndarray:
        if isinstance(index, slice):
            rows = range(*index.indices(len(self)))
        else:
            rows = np.asarray(index).reshape(-1).tolist()
            if np.ndim(index) == 0:
                return self.decode(self.files[int(index)])
        out = np.empty((len(rows), *self.shape[1:]), np.float32)
        for i, row in enumerate(rows):
            out[i] = self.decode(self.files[row])
        return out

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """Every image decoded, by a pool of threads (PIL and XLA release the GIL)."""
        out = np.empty(self.shape, np.float32)

        def fill(row: int) -> None:
            out[row] = self.decode(self.files[row])

        with concurrent.futures.ThreadPoolExecutor(max_workers=min(8, (os.cpu_count() or 1) * 2)) as pool:
            list(pool.map(fill, range(len(self))))
        return out if dtype is None else out.astype(dtype)

    def release(self) -> None:
        """Nothing to release: decoded batches are not kept."""

    def check_headers(self) -> None:
        """Opens every file's header (no decoding): an unreadable or non-image file fails now, by name."""
        from PIL import Image

        for name in self.files:
            try:
                with Image.open(self.root / name) as image:
                    image.size  # noqa: B018 - the header is parsed on open
            except Exception as exc:  # noqa: BLE001 - PIL raises many types for bad files
                self.fail(f"cannot read image {name} of {self.root}: {_reason(exc, self.root / name)}")

    def decode(self, name: str) -> np.ndarray:
        """One image as `keras.utils.image_dataset_from_directory` decodes it: float32 `(h, w, c)`."""
        from PIL import Image

        path = self.root / name
        try:
            with Image.open(path) as image:
                mode = image.mode
                if self.channels == 1 and mode not in ("L", "I;16", "I"):
                    image = image.convert("L")
                elif self.channels != 1 and mode != PIL_MODES[self.channels]:
                    image = image.convert(PIL_MODES[self.channels])
                pixels = np.asarray(image, dtype=np.float32)
        except Exception as exc:  # noqa: BLE001 - truncated or corrupt data raise many types
            self.fail(f"cannot decode image {name} of {self.root}: {_reason(exc, path)}")
        if pixels.ndim == 2:
            pixels = pixels[:, :, None]
        if pixels.shape[:2] == self.image_size:
            return pixels  # resizing to the same size changes nothing
        return _resize(pixels, self.image_size, self.interpolation, self.crop, self.pad)


def _resize(pixels: np.ndarray, size, interpolation: str, crop: bool, pad: bool) -> np.ndarray:
    from kerascli.engine.keras_import import load_keras

    keras = load_keras()
    with keras.device("cpu"):
        resized = keras.ops.image.resize(
            pixels,
            size=size,
            interpolation=interpolation,
            crop_to_aspect_ratio=crop,
            pad_to_aspect_ratio=pad,
            data_format="channels_last",
        )
    return np.asarray(resized, dtype=np.float32)


def _reason(exc: Exception, path: Path) -> str:
    """PIL's message without the path it repeats."""
    text = str(exc).split("\n")[0].replace(f" '{path}'", "").replace(f" {path}", "")
    return text or type(exc).__name__


def _raise(message: str):
    raise DataError(message)
