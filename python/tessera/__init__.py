"""tessera: filter chains over numpy arrays, images and videos, on the CPU or the GPU.

``Chain(text)`` parses and checks a chain once; ``chain.apply(array)`` runs it over a picture
in a numpy array; ``process(input, output, chain)`` runs it over an image or video file as
``tessera process`` does. The chain language and every filter are described by
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
]
