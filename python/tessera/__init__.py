"""tessera: filter chains over numpy arrays, images and videos, on the CPU or the GPU.

``Chain(text)`` parses and checks a chain once; ``chain.apply(array)`` runs it over a picture
in a numpy array (uint8, uint16, or float32 in 0..1); ``process(input, output, chain)`` runs it
over an image or video file as ``tessera process`` does, and ``process_batch(inputs, output,
chain)`` over many, as ``tessera process A B C -o 'out/{stem}.webp'`` does; ``open(path,
chain)`` reads a video frame by frame, each frame through the chain, as numpy arrays. The
chain language and every filter are described by
``tessera filters`` on the command line and in the project's README.

    >>> import numpy as np, tessera
    >>> chain = tessera.Chain("gblur(sigma=2) | scale(width=320)")
    >>> chain.apply(np.zeros((240, 640, 3), np.uint8)).shape
    (120, 320, 3)
"""

from ._tessera import (
    VIDEO,
    BackendError,
    Chain,
    ChainError,
    Error,
    MediaError,
    __version__,
    process,
    process_batch,
)

if VIDEO:
    from ._tessera import Frame, Video, open
else:

    def open(path, chain=None, backend="auto", *, read_ahead=4, on_error="stop"):
        """Reads a video frame by frame: this tessera was built without its ``video`` feature
        (``tessera.VIDEO`` is False), so it raises :class:`MediaError`."""
        raise MediaError(
            f"{path}: tessera.open reads videos with FFmpeg, and this tessera was built without "
            "its `video` feature (tessera.VIDEO is False); build it with the default features"
        )


__all__ = [
    "VIDEO",
    "BackendError",
    "Chain",
    "ChainError",
    "Error",
    "MediaError",
    "__version__",
    "process",
    "process_batch",
]
if VIDEO:
    __all__ += ["Frame", "Video"]
# `open` is left out of `from tessera import *`, which would hide the built-in `open`: it is
# `tessera.open`.
