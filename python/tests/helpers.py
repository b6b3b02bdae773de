"""What the tests share: the tessera binary, PNG files read and written exactly, test pictures.

PNGs are read and written here with zlib and numpy only, so that the comparison with the
command line's output depends on no other image library."""

from __future__ import annotations

import os
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]


def binary() -> Path:
    """The tessera binary the package is compared with: $TESSERA_BIN, else the debug build."""
    path = Path(os.environ.get("TESSERA_BIN", REPO / "target" / "debug" / "tessera"))
    if not path.exists():
        raise RuntimeError(f"{path} is missing: build it with `cargo build` first")
    return path


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(binary()), *args], cwd=REPO, capture_output=True, text=True, check=check
    )


def picture(height: int, width: int, channels: int, dtype, seed: int = 1) -> np.ndarray:
    """Smooth gradients with noise and a few hard edges: every filter has something to do.
    `channels` 0 gives an (H, W) grey array."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    planes = []
    for c in range(max(channels, 1)):
        wave = 0.5 + 0.35 * np.sin(x / (5 + 3 * c) + y / (7 + c)) + 0.1 * ((x + 2 * y + 9 * c) % 17 > 8)
        if channels in (2, 4) and c == max(channels, 1) - 1:
            wave = 0.3 + 0.7 * x / max(width - 1, 1)  # alpha: a ramp, opaque at the right
        planes.append(np.clip(wave + rng.normal(0, 0.04, (height, width)), 0, 1))
    top = np.iinfo(dtype).max
    out = (np.stack(planes, axis=-1) * top).round().astype(dtype)
    return out[..., 0] if channels == 0 else out


_COLOUR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}


def write_png(path: Path, img: np.ndarray) -> None:
    """An 8- or 16-bit PNG of a grey, grey+alpha, RGB or RGBA array (rows unfiltered)."""
    h, w = img.shape[:2]
    channels = 1 if img.ndim == 2 else img.shape[2]
    depth = 16 if img.dtype == np.uint16 else 8
    raw = img.astype(">u2" if depth == 16 else np.uint8).reshape(h, -1).view(np.uint8)
    rows = np.concatenate([np.zeros((h, 1), np.uint8), raw.reshape(h, -1)], axis=1)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", w, h, depth, _COLOUR_TYPES[channels], 0, 0, 0)
    Path(path).write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(rows.tobytes()))
        + chunk(b"IEND", b"")
    )


def read_png(path: Path) -> np.ndarray:
    """A non-interlaced 8- or 16-bit grey, grey+alpha, RGB or RGBA PNG as an array: (H, W)
    for grey, else (H, W, C); uint8 or uint16."""
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    at, idat = 8, []
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        if kind == b"IHDR":
            w, h, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        at += 12 + length
    channels = {0: 1, 4: 2, 2: 3, 6: 4}[colour]
    assert depth in (8, 16) and interlace == 0, (depth, interlace)
    bpp = channels * depth // 8
    stride = w * bpp
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), np.uint8).reshape(h, stride + 1)
    rows: list[list[int]] = []
    prev = [0] * stride
    for y in range(h):
        kind, line = raw[y, 0], raw[y, 1:]
        if kind == 0:
            row = line.tolist()
        elif kind == 1:
            row = (np.cumsum(line.reshape(w, bpp), axis=0).reshape(stride) & 255).tolist()
        elif kind == 2:
            row = ((line.astype(np.int32) + prev) & 255).tolist()
        else:
            # Average and Paeth depend on the bytes just made: one byte at a time, in plain ints.
            line, row = line.tolist(), [0] * stride
            for x in range(stride):
                a = row[x - bpp] if x >= bpp else 0
                b = prev[x]
                if kind == 3:
                    pred = (a + b) >> 1
                else:
                    c = prev[x - bpp] if x >= bpp else 0
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                row[x] = (line[x] + pred) & 255
        rows.append(row)
        prev = row
    out = np.array(rows, np.uint8)
    samples = out
    if depth == 16:
        samples = samples.view(">u2").astype(np.uint16)
    img = samples.reshape(h, w, channels)
    return img[..., 0] if channels == 1 else img
