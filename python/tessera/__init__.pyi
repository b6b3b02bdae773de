"""Type stubs of the tessera package (its compiled part, ``tessera._tessera``)."""

from collections.abc import Callable, Mapping, Sequence
from os import PathLike
from typing import Literal, TypedDict, Union

from typing_extensions import Unpack

import numpy as np
import numpy.typing as npt

__version__: str
VIDEO: bool
"""True when this build reads and writes video (the ``video`` feature); images otherwise."""

Backend = Literal["auto", "cpu", "gpu"]
Pixels = Union[npt.NDArray[np.uint8], npt.NDArray[np.uint16], npt.NDArray[np.float32]]
StrPath = Union[str, PathLike[str]]

class Error(Exception):
    """Base class of every error tessera raises."""

class ChainError(Error):
    """A chain that does not parse or resolve, or that cannot run on the picture given.

    ``str(e)`` is the offending line with a caret under the error."""

    message: str
    """The first error's text."""
    line: int
    """1-based line of the first error in the chain text."""
    column: int
    """1-based column (in characters) of the first error."""
    hint: str | None
    """A suggestion, such as "did you mean `gblur`?"."""
    errors: int
    """How many errors the text has."""

class MediaError(Error):
    """A file that cannot be read, decoded, encoded or written."""

class BackendError(Error):
    """The backend failed: no GPU adapter, a GPU error, a frame too large for the device."""

class Chain:
    """A filter chain, parsed and checked against the filter registry when made.

    Immutable; may be shared between threads, whose calls run in parallel."""

    def __init__(self, text: str) -> None: ...
    @property
    def text(self) -> str:
        """The chain's text as it was given."""
    @property
    def resolved(self) -> str:
        """The chain with every default filled in, as ``tessera check`` prints it."""
    def apply(self, img: Pixels, backend: Backend = "auto", threads: int | None = None) -> Pixels:
        """Runs the chain over a picture: (H, W) or (H, W, 1-4) of uint8, uint16 or float32
        in, the same dtype and layout out, at the size the chain makes. float32 values are
        taken as 16-bit codes, round(x * 65535), and come back as code / 65535; a value that
        does not round into 0..65535, infinity or NaN raises ValueError. ``threads=1`` keeps
        the call's CPU work to a thread of its own (for callers that spread pictures over
        threads themselves); None shares a pool of a thread a core among all calls."""
    def __reduce__(self) -> tuple[type[Chain], tuple[str]]:
        """Pickles as the chain's text."""

class StageReport(TypedDict):
    name: str
    frames: int
    working: float

class Report(TypedDict):
    input: str
    output: str | None
    status: Literal["done", "skipped"]
    error: str | None
    frames: int
    pixels: int
    seconds: float
    backend: str
    warnings: list[str]
    input_size: tuple[int, int]
    output_size: tuple[int, int]
    skipped_frames: int
    stages: list[StageReport]

class Options(TypedDict, total=False):
    """The keywords :func:`process` and :func:`process_batch` take, as the command line's options
    of the same names (``help(tessera.process)`` says what each does). Each is optional; the
    comment gives a default other than ``None``, and ``None`` is the default for any of them."""

    overwrite: bool  # default False
    format: str | None
    codec: str | None
    crf: int | None
    preset: str | None
    bitrate: int | None
    pix_fmt: str | None
    gop: int | None
    encoder_options: Mapping[str, object] | None
    no_audio: bool  # default False
    audio_codec: str | None
    auto_rotate: bool  # default False
    start: float | None
    duration: float | None
    frames: int | None
    fps: float | None
    quality: int | None
    lossless: bool  # default False
    effort: int | None
    subsampling: Literal["444", "422", "420"] | None
    progressive: bool  # default False
    compression: int | None
    fast: bool  # default False
    tiff_compression: Literal["none", "lzw", "deflate", "jpeg"] | None
    tiff_tile: str | None
    tiff_pyramid: bool  # default False
    background: str | None
    strip: bool | str | Sequence[str] | None
    auto_orient: bool  # default True
    keep_profile: bool  # default False
    profile: StrPath | None
    intent: Literal["perceptual", "relative", "saturation", "absolute"]  # default "relative"
    on_error: Literal["stop", "skip", "accept"]  # default "stop"
    max_pixels: int | str | None
    max_memory: int | str | None

def process(
    input: StrPath,
    output: StrPath | None,
    chain: str | Chain | None = None,
    backend: Backend = "auto",
    **options: Unpack[Options],
) -> Report:
    """Runs a chain over one image or video file and writes the result, as
    ``tessera process INPUT -o OUTPUT`` does; returns the run's report."""

class FileRecord(TypedDict, total=False):
    """One file's line in a batch's report; ``output``, ``error``, ``backend`` and
    ``warnings`` are absent where they have no value, as in the JSON."""

    input: str
    output: str
    status: Literal["done", "skipped", "failed", "interrupted", "not started"]
    error: str
    frames: int
    pixels: int
    seconds: float
    backend: str
    warnings: list[str]

class BatchReport(TypedDict, total=False):
    """The document ``tessera process --report`` writes (docs/batch.md); ``shard`` only with
    a shard."""

    schema: int
    chain: str
    shard: str
    processed: int
    skipped: int
    failed: int
    interrupted: int
    not_started: int
    seconds: float
    files: list[FileRecord]

def process_batch(
    inputs: StrPath | Sequence[StrPath],
    output: StrPath | None,
    chain: str | Chain | None = None,
    backend: Backend = "auto",
    *,
    jobs: int | None = None,
    progress: Callable[[int, int, FileRecord], object] | None = None,
    recursive: bool = False,
    include: str | Sequence[str] | None = None,
    exclude: str | Sequence[str] | None = None,
    skip_existing: bool = False,
    fail_fast: bool = False,
    shard: str | tuple[int, int] | None = None,
    **options: Unpack[Options],
) -> BatchReport:
    """Runs a chain over many files (paths, folders, glob patterns), as ``tessera process A B
    C -o OUTPUT`` does, ``output`` a folder or a template such as ``"out/{stem}.webp"``;
    returns the report ``--report`` writes. ``progress(done, total, entry)`` is called on the
    calling thread as each file is through. Ctrl-C raises KeyboardInterrupt, whose ``report``
    attribute is the report so far."""

PackedFormat = Literal["rgb24", "rgba", "bgr24", "bgra", "gray", "rgb48", "rgba64", "gray16"]

class Frame:
    """One frame of a video read by :func:`open`, as the chain made it (present where
    ``VIDEO`` is True)."""

    @property
    def index(self) -> int:
        """Its place in the video, from 0, in presentation order."""
    @property
    def pts(self) -> int | None:
        """Its timestamp in the stream's time base; None where the stream has none."""
    @property
    def time_base(self) -> tuple[int, int]:
        """The stream's time base as (numerator, denominator): ``pts * num / den`` seconds."""
    @property
    def time(self) -> float:
        """Seconds from the start of the file; ``t`` in the chain's per-frame expressions."""
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def bits(self) -> int:
        """Bits a sample, 8 to 16."""
    @property
    def format(self) -> str:
        """The planes' pixel format as FFmpeg names it: "yuv420p", "yuv420p10le", "gbrp", "gray"."""
    @property
    def planes(self) -> list[Pixels]:
        """The frame's own planes, read-only (H, W) views with no copy (``base`` is the frame);
        chroma at its subsampled size; uint16 above 8 bits, holding the codes themselves."""
    def to_numpy(self, format: PackedFormat = "rgb24") -> Pixels:
        """The frame as one packed array, converted once without the GIL as the command line
        converts frames it writes as image sequences: (H, W, 3 or 4), or (H, W) for grey."""

class Video:
    """A video opened by :func:`open`: an iterator of its frames, one pass (present where
    ``VIDEO`` is True). No ``len()``: see ``frame_count``."""

    @property
    def path(self) -> str: ...
    @property
    def fps(self) -> float | None:
        """Frames a second (FFmpeg's best guess); None when unknown."""
    @property
    def duration(self) -> float | None:
        """Seconds the video stream lasts; None when unknown."""
    @property
    def streams(self) -> list[dict[str, object]]:
        """Every stream of the file as ``tessera probe --json`` lists them."""
    @property
    def frame_count(self) -> int | None:
        """Frames, from the container's index of its packets (read once, the whole file,
        nothing decoded); None where the packets carry no timestamps."""
    @property
    def width(self) -> int:
        """Of the frames handed out, after the chain."""
    @property
    def height(self) -> int: ...
    @property
    def format(self) -> str: ...
    @property
    def closed(self) -> bool: ...
    def __iter__(self) -> Video: ...
    def __next__(self) -> Frame: ...
    def get_frames(self, indices: Sequence[int]) -> list[Frame]:
        """The frames at these indices (negative ones count from the end), frame-exact: the same
        frames as iterating gives. Raises IndexError for an index outside the video."""
    def close(self) -> None:
        """Stops the read and waits for its threads; frames handed out stay valid."""
    def __enter__(self) -> Video: ...
    def __exit__(self, *args: object) -> bool: ...

def open(
    path: StrPath,
    chain: str | Chain | None = None,
    backend: Backend = "auto",
    *,
    read_ahead: int = 4,
    on_error: Literal["stop", "skip", "accept"] = "stop",
) -> Video:
    """Opens a video to read frame by frame, each frame through ``chain``, decoding and the
    chain running on threads ahead of the loop by at most ``read_ahead`` frames.

    Without the ``video`` feature (``VIDEO`` is False) it raises :class:`MediaError`."""
