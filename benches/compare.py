#!/usr/bin/env python3
"""Side-by-side benchmark: tessera against FFmpeg and libvips on the same machine, in one run.

Every case runs a tessera command and the equivalent peer command (the `ffmpeg` CLI, or the
`vips` CLI for the image case). Rounds are interleaved: in each round every case runs its two
commands back to back, and which of the two goes first alternates from case to case and from
round to round, so slow drifts of the machine (heat, other load) fall on both sides alike.
Each command is timed (wall clock) and its peak memory read from GNU time's maximum resident set
size. The report gives medians over the rounds and the ratios tessera / peer (below 1 means
tessera is faster or smaller).

A memory-flatness check runs once at the end (not interleaved): the `eq` case on a clip and on
one ten times longer, for both tools. The `decode` case (each tool decoding and discarding, no
filter) gives each filter case the time it adds over its own tool's decoding. A fidelity check
(`benches/fidelity.rs`) measures the gblur σ=3 outputs of both tools against an exact Gaussian
in f64, plane by plane.

Inputs are made with FFmpeg's testsrc2 source and cached under target/compare/. A full run
writes docs/benchmarks.md and docs/benchmarks.svg; `--quick` and `--only` runs write to
target/compare/report/ unless `--out` says otherwise, so a test run does not replace the
published figures. Sections of an existing report that the run does not write (written by hand,
or a partial run's figures copied in) are kept, after the new ones.

Only Python's standard library is used. Needs ffmpeg, ffprobe, vips and /usr/bin/time; the
last two are installed with apt-get when missing (through sudo when not root).
"""

import argparse
import datetime
import math
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "target" / "compare"
GNU_TIME = "/usr/bin/time"

FULL = {"frames": 300, "long_frames": 3000, "tiff": 5000, "huge": 30000, "batch": 200,
        "rounds": 3}
QUICK = {"frames": 30, "long_frames": 300, "tiff": 1000, "huge": 6000, "batch": 12, "rounds": 1}
# The thumbnail case's camera-sized JPEG (a 27-megapixel sensor's 6000×5232, as issue 15 names
# it) and the width both tools make of it.
PHOTO = (6000, 5232)
THUMB_WIDTH = 800

CASE_IDS = ["decode", "gblur", "unsharp", "eq", "sharpen", "lanczos", "colour5", "lut3d", "transpose",
            "tmix", "hqdn3d", "denoise", "denoise_hqdn3d", "x264", "vips", "vips_py", "thumbnail",
            "huge", "batch"]
# The cases on still images (no video input), each run once untimed before the rounds.
IMAGE_CASES = ("vips", "vips_py", "thumbnail", "huge", "batch")
# Distinct photos among the batch case's files (the rest are links to them).
BATCH_DISTINCT = 8
FLAT_ID = "flat"
FIDELITY_ID = "fidelity"

# The targets of each case: (time ratio, peak memory ratio), tessera ÷ peer.
TARGETS = {"decode": (1.0, 1.1), "gblur": (1.0, 1.1), "unsharp": (1.0, 1.1), "eq": (1.0, 1.1),
           "sharpen": (1.0, 1.1), "lanczos": (1.0, 1.1), "colour5": (1.0, 1.1),
           "lut3d": (1.0, 1.1), "transpose": (1.0, 1.1), "tmix": (1.0, 1.1), "hqdn3d": (1.0, 1.1),
           "denoise": (1.0, 1.1), "denoise_hqdn3d": (1.0, 1.1), "x264": (1.02, 1.1), "vips": (1.0, 1.5),
           "vips_py": (1.0, 1.5), "thumbnail": (1.0, 1.5), "huge": (None, None), "batch": (1.0, None)}
# Targets of peak memory in MiB, whatever the peer holds: the huge picture's.
MEMORY_MIB = {"huge": 256}
# Frames of the clip the fidelity check blurs and compares.
FIDELITY_FRAMES = 10

SHARPEN_3X3 = "0 -1 0 -1 5 -1 0 -1 0"


class BenchError(Exception):
    """A failure that must stop the run before any table is written."""


# --------------------------------------------------------------------------------------------
# small helpers


def rel(path):
    """A path as shown in commands: relative to the repository root when inside it."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def show(argv):
    return shlex.join(str(a) for a in argv)


def log(msg=""):
    print(msg, file=sys.stderr, flush=True)


def tail(text, lines=40):
    parts = text.rstrip().splitlines()
    if len(parts) > lines:
        parts = ["[... %d earlier lines]" % (len(parts) - lines)] + parts[-lines:]
    return "\n".join(parts)


def run_checked(argv, what, cwd=ROOT, env=None):
    """Runs a helper command (not a timed one); returns stdout; raises on failure."""
    try:
        proc = subprocess.run([str(a) for a in argv], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, errors="replace")
    except OSError as err:
        raise BenchError(f"{what}: could not start\n  $ {show(argv)}\n  {err}")
    if proc.returncode != 0:
        raise BenchError(f"{what}: exit status {proc.returncode}\n  $ {show(argv)}\n"
                         f"--- stderr ---\n{tail(proc.stderr or proc.stdout)}")
    return proc.stdout


def loadavg():
    try:
        return os.getloadavg()
    except OSError:
        return (float("nan"),) * 3


def fmt_load(load):
    return ", ".join(f"{x:.2f}" for x in load)


# --------------------------------------------------------------------------------------------
# tools


def ensure_tools():
    """Installs vips and GNU time when missing; checks for ffmpeg and ffprobe."""
    wanted = {}
    if not shutil.which("vips") or not shutil.which("vipsheader"):
        wanted["libvips-tools"] = "vips"
    if not os.access(GNU_TIME, os.X_OK):
        wanted["time"] = GNU_TIME
    if not shutil.which("ffmpeg") or not shutil.which("ffprobe"):
        wanted["ffmpeg"] = "ffmpeg/ffprobe"
    if not wanted:
        return
    if not shutil.which("apt-get"):
        raise BenchError("missing " + ", ".join(wanted.values()) + " and no apt-get to install "
                         "them; install packages " + " ".join(wanted) + " by hand")
    prefix = []
    if os.geteuid() != 0:
        if not shutil.which("sudo"):
            raise BenchError("missing " + ", ".join(wanted.values()) + "; not root and no sudo: "
                             "install packages " + " ".join(wanted) + " by hand")
        prefix = ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = prefix + ["apt-get", "install", "-y", "--no-install-recommends"] + list(wanted)
    log(f"installing {' '.join(wanted)}: {show(install)}")
    try:
        run_checked(install, "apt-get install", env=env)
    except BenchError:
        log("apt-get install failed; running apt-get update and trying again")
        run_checked(prefix + ["apt-get", "update"], "apt-get update", env=env)
        run_checked(install, "apt-get install", env=env)


def ensure_tessera(path, is_default):
    if path.is_file() and os.access(path, os.X_OK):
        return
    if not is_default:
        raise BenchError(f"--tessera {path}: no such executable")
    log(f"{rel(path)} is missing: building it with cargo build --release")
    run_checked(["cargo", "build", "--release"], "cargo build --release")
    if not path.is_file():
        raise BenchError(f"cargo build --release did not produce {path}")


# --------------------------------------------------------------------------------------------
# inputs (cached under target/compare/)


def probe_clip(path):
    out = run_checked(["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_packets",
                       "-show_entries", "stream=width,height,nb_read_packets", "-of", "csv=p=0",
                       path], f"ffprobe {rel(path)}")
    fields = out.strip().split(",")
    return tuple(int(x) for x in fields[:3])


def make_clip(frames):
    path = WORK / f"testsrc2-1080p30-{frames}f.mp4"
    if path.exists():
        try:
            if probe_clip(path) == (1920, 1080, frames):
                return path
        except BenchError:
            pass
        log(f"{rel(path)} is not as expected: making it again")
    part = path.with_name(path.stem + ".part.mp4")
    argv = ["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi",
            "-i", "testsrc2=size=1920x1080:rate=30", "-frames:v", str(frames),
            "-c:v", "libx264", "-pix_fmt", "yuv420p", part]
    log(f"making {rel(path)} ({frames} frames): {show(argv)}")
    run_checked(argv, "making the test clip")
    part.replace(path)
    if probe_clip(path) != (1920, 1080, frames):
        raise BenchError(f"{rel(path)}: ffprobe does not see 1920x1080, {frames} frames")
    return path


def describe_clip(path):
    """'W×H, N frames, codec pix_fmt' as ffprobe reads them."""
    try:
        out = run_checked(["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_packets",
                           "-show_entries", "stream=width,height,nb_read_packets,codec_name,pix_fmt",
                           "-of", "default=nw=1", path], f"ffprobe {rel(path)}")
    except BenchError:
        return "not readable by ffprobe"
    info = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    return (f"{info.get('width')}×{info.get('height')}, {info.get('nb_read_packets')} frames, "
            f"{info.get('codec_name')} {info.get('pix_fmt')}")


def image_info(path):
    """(width, height, bands, format) as vipsheader reads them."""
    out = run_checked(["vipsheader", "-a", path], f"vipsheader {rel(path)}")
    info = {}
    for line in out.splitlines():
        key, _, value = line.partition(":")
        info[key.strip()] = value.strip()
    try:
        return int(info["width"]), int(info["height"]), int(info["bands"]), info["format"]
    except (KeyError, ValueError):
        raise BenchError(f"vipsheader could not read the size of {rel(path)}:\n{out}")


def cached_rgb_tiff(path, size):
    """True when `path` is already the size×size 8-bit RGB TIFF it should be."""
    if path.exists():
        try:
            if image_info(path) == (size, size, 3, "uchar"):
                return True
        except BenchError:
            pass
        log(f"{rel(path)} is not as expected: making it again")
    return False


def make_tiff(size):
    path = WORK / f"testsrc2-{size}x{size}-rgb24.tif"
    if cached_rgb_tiff(path, size):
        return path
    part = path.with_name(path.stem + ".part.tif")
    argv = ["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi",
            "-i", f"testsrc2=size={size}x{size}", "-frames:v", "1", "-update", "1",
            "-pix_fmt", "rgb24", "-compression_algo", "raw", part]
    log(f"making {rel(path)}: {show(argv)}")
    run_checked(argv, "making the test TIFF")
    part.replace(path)
    if image_info(path) != (size, size, 3, "uchar"):
        raise BenchError(f"{rel(path)} is not a {size}x{size} 8-bit RGB TIFF")
    return path


def make_photo(size):
    """A photo-like JPEG: FFmpeg's test pattern softened and grained, at -q:v 2."""
    w, h = size
    path = WORK / f"testsrc2-grain-{w}x{h}.jpg"
    if path.exists():
        try:
            if image_info(path)[:3] == (w, h, 3):
                return path
        except BenchError:
            pass
        log(f"{rel(path)} is not as expected: making it again")
    part = path.with_name(path.stem + ".part.jpg")
    argv = ["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi",
            "-i", f"testsrc2=size={w}x{h},gblur=sigma=1.5,noise=alls=8:allf=t",
            "-frames:v", "1", "-update", "1", "-q:v", "2", part]
    log(f"making {rel(path)}: {show(argv)}")
    run_checked(argv, "making the test photo")
    part.replace(path)
    return path


def make_huge_tiff(size):
    """A size×size 8-bit RGB TIFF in strips of 16 rows, uncompressed, written here row by row
    (FFmpeg refuses pictures this large): 61 rows of noise, each row one of them shifted, so
    that a blur has detail everywhere and no two neighbouring rows are alike."""
    path = WORK / f"noise-{size}x{size}-rgb24-strips.tif"
    if cached_rgb_tiff(path, size):
        return path
    part = path.with_name(path.stem + ".part.tif")
    log(f"making {rel(path)} ({size * size * 3 / 2**30:.1f} GiB)")
    row_bytes = size * 3
    rows_per_strip = 16
    strips = (size + rows_per_strip - 1) // rows_per_strip
    import struct
    import random
    rng = random.Random(15)
    # Smooth-ish noise: the sum of a few random values per sample keeps the blur's work real.
    base = [bytes(rng.randrange(256) for _ in range(row_bytes + 3 * 61)) for _ in range(7)]
    rows = [bytes((a + b) // 2 for a, b in zip(base[i % 7][i:i + row_bytes],
                                              base[(i + 3) % 7][2 * i:2 * i + row_bytes]))
            for i in range(61)]
    header_len = 8
    # Image data first, then the strip tables, then the IFD.
    data_at = header_len
    offsets_at = data_at + size * row_bytes
    counts_at = offsets_at + 4 * strips
    bps_at = counts_at + 4 * strips
    ifd_at = bps_at + 6
    entries = [
        (256, 4, 1, size), (257, 4, 1, size), (258, 3, 3, bps_at), (259, 3, 1, 1),
        (262, 3, 1, 2), (273, 4, strips, offsets_at), (277, 3, 1, 3),
        (278, 4, 1, rows_per_strip), (279, 4, strips, counts_at), (284, 3, 1, 1),
    ]
    with open(part, "wb") as f:
        f.write(b"II*\0" + struct.pack("<I", ifd_at))
        for y in range(size):
            f.write(rows[(y * 7) % 61])
        f.write(struct.pack(f"<{strips}I", *[data_at + k * rows_per_strip * row_bytes
                                               for k in range(strips)]))
        f.write(struct.pack(f"<{strips}I", *[min(rows_per_strip, size - k * rows_per_strip)
                                               * row_bytes for k in range(strips)]))
        f.write(struct.pack("<3H", 8, 8, 8))
        f.write(struct.pack("<H", len(entries)))
        for tag, typ, count, value in entries:
            packed = struct.pack("<H", value) + b"\0\0" if typ == 3 and count == 1 else \
                struct.pack("<I", value)
            f.write(struct.pack("<HHI", tag, typ, count) + packed)
        f.write(struct.pack("<I", 0))
    part.replace(path)
    if image_info(path) != (size, size, 3, "uchar"):
        raise BenchError(f"{rel(path)} is not a {size}x{size} 8-bit RGB TIFF")
    return path


def make_batch(count):
    """A folder of `count` camera-sized JPEGs: BATCH_DISTINCT photos made as the thumbnail
    case's, the rest hard links to them (the page cache holds each once, as it would a
    photographer's folder read twice)."""
    w, h = PHOTO
    folder = WORK / f"batch-{count}"
    names = [folder / f"photo-{i:03d}.jpg" for i in range(count)]
    if all(n.exists() for n in names) and len(list(folder.iterdir())) == count:
        return folder
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    distinct = WORK / f"batch-distinct-{w}x{h}"
    distinct.mkdir(parents=True, exist_ok=True)
    sources = [distinct / f"{i}.jpg" for i in range(BATCH_DISTINCT)]
    if not all(s.exists() for s in sources):
        argv = ["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi",
                "-i", f"testsrc2=size={w}x{h}:rate=1,gblur=sigma=1.5,noise=alls=8:allf=t",
                "-frames:v", str(BATCH_DISTINCT), "-q:v", "2", "-start_number", "0",
                str(distinct / "%d.jpg")]
        log(f"making {BATCH_DISTINCT} photos for the batch case: {show(argv)}")
        run_checked(argv, "making the batch photos")
    for i, name in enumerate(names):
        os.link(sources[i % BATCH_DISTINCT], name)
    return folder


def ensure_pyvips():
    """A virtual environment under target/compare with pyvips (which binds the system's
    libvips); its Python."""
    venv = WORK / "venv"
    python = venv / "bin" / "python"
    check = [str(python), "-c", "import pyvips"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    log(f"making {rel(venv)} with pyvips")
    run_checked([sys.executable, "-m", "venv", str(venv)], "python3 -m venv")
    run_checked([str(python), "-m", "pip", "install", "--quiet", "pyvips"], "pip install pyvips")
    run_checked(check, "import pyvips")
    return python


# --------------------------------------------------------------------------------------------
# cases


class Case:
    def __init__(self, cid, title, short, tessera, peer, peer_name, frames, note=""):
        self.id = cid
        self.title = title
        self.short = short          # label in the chart
        self.tessera = tessera      # argv
        self.peer = peer            # argv
        self.peer_name = peer_name  # "ffmpeg" or "vips"
        self.frames = frames        # frames tessera must report
        self.note = note
        self.samples = {"tessera": [], "peer": []}  # (wall s, max RSS KiB)

    def argv(self, side):
        return self.tessera if side == "tessera" else self.peer

    def median(self, side, index):
        return statistics.median(s[index] for s in self.samples[side])


def write_grade_cube(path, size):
    """A film-like grade as an Adobe .cube 3D LUT: an S-curve of contrast, shadows pushed to
    teal and highlights to orange, saturation a little down. Red varies fastest."""
    lines = ["TITLE \"tessera bench grade\"", f"LUT_3D_SIZE {size}"]
    for b in range(size):
        for g in range(size):
            for r in range(size):
                rgb = [v / (size - 1) for v in (r, g, b)]
                luma = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]
                s_curve = [0.5 + (v - 0.5) * (1.15 - 0.6 * (v - 0.5) ** 2) for v in rgb]
                tone = [(-0.04, 0.02, 0.05), (0.06, 0.02, -0.05)][luma > 0.5]
                weight = abs(luma - 0.5) * 2
                out = [luma + 0.9 * (v - luma) + t * weight for v, t in zip(s_curve, tone)]
                lines.append(" ".join(f"{min(max(v, 0.0), 1.0):.6f}" for v in out))
    path.write_text("\n".join(lines) + "\n")


def build_cases(tess, clip, frames, tiff, tiff_size, run_dir, photo=None, huge=None,
                batch=None, pyvips=None):
    t = rel(tess)
    c = rel(clip)
    cases = []

    def video(cid, title, short, chain, vf, note=""):
        cases.append(Case(
            cid, title, short,
            [t, "process", c, "--discard", "--backend", "cpu", "--chain", chain],
            ["ffmpeg", "-v", "error", "-i", c, "-vf", vf, "-f", "null", "-"],
            "ffmpeg", frames, note))

    cases.append(Case(
        "decode", f"Decode only, 1080p H.264, {frames} frames: no filter, discard", "decode only",
        [t, "process", c, "--discard", "--backend", "cpu"],
        ["ffmpeg", "-v", "error", "-i", c, "-f", "null", "-"],
        "ffmpeg", frames,
        "The baseline of the other video cases: what each tool spends before any filter."))

    video("gblur", f"Gaussian blur σ=3, 1080p H.264, {frames} frames, decode → filter → discard",
          "gblur σ=3", "gblur(sigma=3)", "gblur=sigma=3")
    video("unsharp", f"Unsharp mask, 1080p H.264, {frames} frames, discard", "unsharp",
          "unsharp(sigma=1, amount=1)", "unsharp=5:5:1.0")
    video("eq", f"eq (brightness, contrast, saturation), 1080p H.264, {frames} frames, discard",
          "eq", "eq(brightness=0.05, contrast=1.2, saturation=1.3)",
          "eq=brightness=0.05:contrast=1.2:saturation=1.3")
    video("sharpen", f"3×3 sharpen kernel, 1080p H.264, {frames} frames, discard", "3×3 sharpen",
          "convolve([[0,-1,0],[-1,5,-1],[0,-1,0]])",
          "convolution=" + ":".join(f"{p}m={SHARPEN_3X3}:{p}rdiv=1:{p}bias=0" for p in range(4)))
    video("lanczos", f"Lanczos scale to 1280×720, 1080p H.264, {frames} frames, discard",
          "lanczos → 1280×720", "scale(1280, 720, lanczos3)", "scale=1280:720:flags=lanczos")
    video("colour5", f"Five colour filters chained, 1080p H.264, {frames} frames, discard",
          "5 colour filters",
          "eq(brightness=0.05) | eq(contrast=1.2) | grayscale | invert | eq(saturation=1.3)",
          "eq=brightness=0.05,eq=contrast=1.2,hue=s=0,negate,eq=saturation=1.3")

    cube = run_dir / "grade33.cube"
    write_grade_cube(cube, 33)
    video("lut3d", f"3D LUT (33³ .cube, tetrahedral), 1080p H.264, {frames} frames, discard",
          "lut3d 33³", f"lut3d(file=\"{rel(cube)}\")",
          f"lut3d=file={rel(cube)}:interp=tetrahedral,format=yuv420p",
          "FFmpeg's lut3d takes RGB only: it converts the yuv420p frames to RGB before and "
          "(`format=yuv420p`) back after, as tessera does inside its pass.")
    video("transpose", f"Transpose (90° clockwise), 1080p H.264, {frames} frames, discard",
          "transpose", "transpose(dir=\"clock\")", "transpose=clock")
    video("tmix", f"tmix of 5 frames (weights 1 2 3 2 1), 1080p H.264, {frames} frames, discard",
          "tmix 5 frames", "tmix(frames=5, weights=\"1 2 3 2 1\")", "tmix=frames=5:weights=1 2 3 2 1",
          "Both keep the past frames: tessera as copies of their 8-bit codes, FFmpeg as "
          "references to the decoder's frames.")
    video("hqdn3d", f"hqdn3d (FFmpeg's defaults, 4:3:6:4.5), 1080p H.264, {frames} frames, discard",
          "hqdn3d", "hqdn3d", "hqdn3d",
          "The same fixed-point arithmetic on both sides (tessera's output is FFmpeg's, code "
          "for code). FFmpeg runs rows, columns and time in one pass per plane, its planes on "
          "separate threads; tessera runs the row walk on strips of rows, then the column and "
          "time walk on bands of columns, on the one core its video path gives the filter "
          "stage: 3.4× FFmpeg's filter time at the first run (docs/benchmarks.md says where "
          "it goes).")
    video("denoise", f"Non-local means (s=4, p=3, r=7), 1080p H.264, {frames} frames, discard",
          "denoise vs nlmeans", "denoise(4, p=3, r=7)", "nlmeans=s=4:p=3:r=7:pc=3:rc=5",
          "The same maths: FFmpeg's nlmeans is given the chroma sizes tessera takes on 4:2:0 "
          "(`pc`, `rc`).")
    video("denoise_hqdn3d", f"denoise (s=4, p=3, r=7) against hqdn3d (FFmpeg's defaults), 1080p "
          f"H.264, {frames} frames, discard",
          "denoise vs hqdn3d", "denoise(4, p=3, r=7)", "hqdn3d",
          "Not the same filter: hqdn3d is FFmpeg's fast spatio-temporal low-pass denoiser, the "
          "speed a user gives up by choosing non-local means.")

    eq_chain = "eq(brightness=0.05, contrast=1.2, saturation=1.3)"
    eq_vf = "eq=brightness=0.05:contrast=1.2:saturation=1.3"
    t_mp4 = rel(run_dir / "tessera-eq.mp4")
    p_mp4 = rel(run_dir / "ffmpeg-eq.mp4")
    cases.append(Case(
        "x264", f"End to end: eq, then libx264 medium CRF 18 yuv420p to MP4, {frames} frames",
        "eq + libx264 encode",
        [t, "process", c, "-o", t_mp4, "--overwrite", "--backend", "cpu", "--chain", eq_chain],
        ["ffmpeg", "-v", "error", "-y", "-i", c, "-vf", eq_vf, "-c:v", "libx264", "-crf", "18",
         "-preset", "medium", "-pix_fmt", "yuv420p", p_mp4],
        "ffmpeg", frames))

    inner = tiff_size - 200
    shrunk = round(inner * 0.9)
    tif = rel(tiff)
    t_tif = rel(run_dir / "tessera-out.tif")
    vdir = run_dir / "vips"
    vdir.mkdir(parents=True, exist_ok=True)
    mat = vdir / "sharpen.mat"
    mat.write_text("3 3 8 0\n-1 -1 -1\n-1 16 -1\n-1 -1 -1\n")
    v1, v2, vout, vmat = (rel(vdir / "crop.v"), rel(vdir / "resize.v"),
                          rel(run_dir / "vips-out.tif"), rel(mat))
    script = " && ".join([
        show(["vips", "crop", tif, v1, 100, 100, inner, inner]),
        show(["vips", "resize", v1, v2, "0.9", "--kernel", "linear"]),
        show(["vips", "conv", v2, vout, vmat, "--precision", "integer"]),
    ])
    cases.append(Case(
        "vips",
        f"vips-bench: {tiff_size}×{tiff_size} RGB TIFF, crop 100 px from each edge, shrink 10% "
        f"(bilinear), 3×3 sharpen /8, save TIFF",
        "vips-bench TIFF",
        [t, "process", tif, "-o", t_tif, "--overwrite", "--backend", "cpu", "--chain",
         f"crop(100, 100, {inner}, {inner}) | scale({shrunk}, {shrunk}, bilinear) | "
         "convolve([[-1,-1,-1],[-1,16,-1],[-1,-1,-1]], 8)"],
        ["sh", "-c", script],
        "vips", 1,
        note=f"`{vmat}` holds the mask `3 3 8 0` / `-1 -1 -1` / `-1 16 -1` / `-1 -1 -1` "
             "(width, height, scale, offset, then the rows); the intermediate `.v` files are "
             "vips's native format."))

    if pyvips is not None:
        script = run_dir / "vips-bench.py"
        script.write_text(
            "import sys\n"
            "import pyvips\n"
            "image = pyvips.Image.new_from_file(sys.argv[1], access='sequential')\n"
            "mask = pyvips.Image.new_from_array([[-1, -1, -1], [-1, 16, -1], [-1, -1, -1]], "
            "scale=8)\n"
            f"image = image.crop(100, 100, {inner}, {inner}).resize(0.9, kernel='linear')\n"
            "image.conv(mask, precision='integer').write_to_file(sys.argv[2])\n")
        cases.append(Case(
            "vips_py",
            f"vips-bench in one pipeline: the same steps through pyvips, {tiff_size}×{tiff_size} "
            "RGB TIFF in, TIFF out",
            "vips-bench TIFF",
            [t, "process", tif, "-o", rel(run_dir / "tessera-out-py.tif"), "--overwrite",
             "--backend", "cpu", "--chain",
             f"crop(100, 100, {inner}, {inner}) | scale({shrunk}, {shrunk}, bilinear) | "
             "convolve([[-1,-1,-1],[-1,16,-1],[-1,-1,-1]], 8)"],
            [rel(pyvips), rel(script), tif, rel(run_dir / "pyvips-out.tif")],
            "pyvips", 1,
            note="One libvips pipeline, demand-driven from the TIFF reader to the writer (no "
                 "intermediate files), as a Python user of libvips runs it."))

    if huge is not None:
        side = image_info(huge)[0]
        cases.append(Case(
            "huge",
            f"A {side}×{side} 8-bit RGB TIFF in strips (uncompressed, "
            f"{side * side * 3 / 2**30:.1f} GiB) → gblur σ=2 → TIFF",
            f"{side}² TIFF gblur",
            [t, "process", rel(huge), "-o", rel(run_dir / "tessera-huge.tif"), "--overwrite",
             "--backend", "cpu", "--chain", "gblur(2)"],
            ["vips", "gaussblur", rel(huge), rel(run_dir / "vips-huge.tif"), "2"],
            "vips", 1,
            note="The target is tessera's peak memory, 256 MiB, whatever the picture's size; "
                 "that the bands give the whole picture's samples is tests/streaming.rs's. "
                 "vips' gaussblur cuts its kernel where it falls below 0.2 of its peak (min_ampl), "
                 "tessera's at 3σ."))

    if batch is not None:
        count = len(list(batch.iterdir()))
        t_out, v_out = run_dir / "tessera-batch", run_dir / "vips-batch"
        for d in (t_out, v_out):
            d.mkdir(parents=True, exist_ok=True)
        cases.append(Case(
            "batch",
            f"A folder of {count} {PHOTO[0]}×{PHOTO[1]} JPEGs → {THUMB_WIDTH} px wide WebP, two at "
            "a time",
            f"{count} JPEG → WebP, 2 at a time",
            [t, "process", rel(batch), "-o", rel(t_out) + "/{stem}.webp", "--overwrite", "-j", "2",
             "--backend", "cpu", "--chain", f"scale(width={THUMB_WIDTH})"],
            ["sh", "-c", f"ls {shlex.quote(rel(batch))}/*.jpg | xargs -P 2 -I{{}} vipsthumbnail "
                         f"{{}} --size {THUMB_WIDTH} -o {shlex.quote(str(v_out))}/%s.webp"],
            "vips", None,
            note="vipsthumbnail runs once a file, two at once through xargs; its peak memory is "
                 "one of those processes', tessera's that of its one process running two jobs."))

    if photo is not None:
        jpg = rel(photo)
        cases.append(Case(
            "thumbnail",
            f"Thumbnail: a {PHOTO[0]}×{PHOTO[1]} JPEG to {THUMB_WIDTH} px wide, JPEG at quality 75",
            "thumbnail JPEG",
            [t, "process", jpg, "-o", rel(run_dir / "tessera-thumb.jpg"), "--overwrite",
             "--backend", "cpu", "--quality", "75", "--chain", f"scale(width={THUMB_WIDTH})"],
            # vipsthumbnail writes a relative -o beside its input: the path is absolute.
            ["vipsthumbnail", jpg, "--size", str(THUMB_WIDTH), "-o",
             str(run_dir / "vips-thumb.jpg") + "[Q=75]"],
            "vips", 1,
            note="Both shrink on load (libjpeg's DCT scaling) and resize the rest; tessera keeps "
                 "the shrunk picture at least twice the asked size, vips at least the size."))
    return cases


# --------------------------------------------------------------------------------------------
# measuring


def measure(argv, side, expect_frames=None):
    """Runs argv under GNU time; returns (wall seconds, max RSS KiB). Raises on any failure."""
    with tempfile.NamedTemporaryFile(prefix="time-", suffix=".txt", dir=WORK, delete=False) as f:
        time_file = f.name
    try:
        full = [GNU_TIME, "-f", "%e %M", "-o", time_file] + [str(a) for a in argv]
        start = time.perf_counter()
        proc = subprocess.run(full, cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, errors="replace")
        wall = time.perf_counter() - start
        with open(time_file, errors="replace") as f:
            time_out = f.read()
    finally:
        os.unlink(time_file)
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout or "(nothing on stderr)")
        notes = [ln for ln in time_out.strip().splitlines() if not re.match(r"^[\d.]+ \d+$", ln)]
        extra = ("\n--- /usr/bin/time ---\n" + "\n".join(notes)) if notes else ""
        raise BenchError(f"a benchmarked command failed (exit status {proc.returncode}):\n"
                         f"  $ {show(argv)}\n  (run in {ROOT})\n--- stderr ---\n{tail(detail)}{extra}")
    match = re.search(r"^([\d.]+) (\d+)\s*$", time_out.strip().splitlines()[-1] if time_out.strip() else "")
    if not match:
        raise BenchError(f"could not read /usr/bin/time's output for\n  $ {show(argv)}\n{time_out}")
    rss_kib = int(match.group(2))
    if side == "tessera":
        check_tessera_report(argv, proc.stderr + proc.stdout, expect_frames)
    return wall, rss_kib


def check_tessera_report(argv, text, expect_frames):
    """tessera says which backend it used and how many frames it did: both must be as asked.
    A batch (no frame count asked) says instead how many files it processed, none failed."""
    if expect_frames is None:
        if not re.search(r"tessera: \d+ processed, 0 skipped, 0 failed", text):
            raise BenchError(f"the tessera batch did not process every file:\n  $ {show(argv)}\n"
                             f"--- its output ---\n{tail(text)}")
        return
    backend = re.search(r"backend (\w+)", text)
    if not backend or backend.group(1) != "cpu":
        raise BenchError(f"tessera did not report running on the CPU backend:\n  $ {show(argv)}\n"
                         f"--- its output ---\n{tail(text)}")
    frames = re.search(r"tessera: (\d+) frames? ", text)
    if expect_frames is not None and (not frames or int(frames.group(1)) != expect_frames):
        raise BenchError(f"tessera did not report {expect_frames} frames:\n  $ {show(argv)}\n"
                         f"--- its output ---\n{tail(text)}")


def warm_up(cases, inputs):
    """Untimed: reads the inputs into the page cache and starts each program once."""
    for path in inputs:
        with open(path, "rb") as f:
            while f.read(1 << 22):
                pass
    for case in cases:
        if case.id in IMAGE_CASES:  # short: run once for real; first vips runs are slow
            log("warm-up: vips case, both sides (untimed)")
            measure(case.tessera, "tessera", case.frames)
            measure(case.peer, "peer")


def psnr(a, b):
    """Average PSNR (dB) between two files of the same size, by FFmpeg's psnr filter."""
    argv = ["ffmpeg", "-hide_banner", "-nostats", "-nostdin", "-i", a, "-i", b,
            "-lavfi", "[0:v][1:v]psnr", "-f", "null", "-"]
    proc = subprocess.run(argv, cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, errors="replace")
    if proc.returncode != 0:
        raise BenchError(f"PSNR check failed:\n  $ {show(argv)}\n{tail(proc.stderr)}")
    m = re.search(r"PSNR .*average:([\d.]+|inf)", proc.stderr)
    if not m:
        return "?"
    return m.group(1) if m.group(1) == "inf" else f"{float(m.group(1)):.1f}"


def same_images(t, v, what, peer):
    """The size, bands and format both images have; an error when they differ."""
    it, iv = image_info(t), image_info(v)
    if it != iv:
        raise BenchError(f"the {what} outputs differ: tessera {it}, {peer} {iv}")
    return it


def raw_rgb(path):
    """A picture's samples as packed 8-bit RGB, decoded by FFmpeg."""
    argv = ["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-f", "rawvideo",
            "-pix_fmt", "rgb24", "-"]
    proc = subprocess.run(argv, cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True)
    if proc.returncode != 0:
        raise BenchError(f"decoding {rel(path)} failed:\n  $ {show(argv)}\n"
                         f"{tail(proc.stderr.decode(errors='replace'))}")
    return proc.stdout


def huge_against_whole(case, banded, side, run_dir, size=600, margin=16):
    """The huge case's output, made in bands, against tessera's whole-picture path on crops:
    one at the top edge, one in the middle, each crossing several bands. The whole path runs on
    a crop of the input wider by `margin` than the blur reaches (σ=2: 6 rows), forced whole by
    `--on-error accept`, then cut to the crop; the banded output is cut the same. Equal sample
    for sample, or an error. Returns the crops, described."""
    t, source = case.tessera[0], case.tessera[2]
    chain = case.tessera[case.tessera.index("--chain") + 1]
    work = run_dir / "huge-crops"
    work.mkdir(parents=True, exist_ok=True)
    done = []
    for x, y in ((1000, 0), (side // 2 - size // 2, side // 2 - size // 2)):
        x0, y0 = max(0, x - margin), max(0, y - margin)
        x1, y1 = min(side, x + size + margin), min(side, y + size + margin)
        around, whole, cut = work / "around.tif", work / "whole.tif", work / "banded.tif"
        run_checked([t, "process", source, "-o", around, "--overwrite", "--backend", "cpu",
                     "--chain", f"crop({x0}, {y0}, {x1 - x0}, {y1 - y0})"], "cropping the input")
        run_checked([t, "process", around, "-o", whole, "--overwrite", "--backend", "cpu",
                     "--on-error", "accept", "--chain",
                     f"{chain} | crop({x - x0}, {y - y0}, {size}, {size})"],
                    "the whole-picture path on the crop")
        run_checked([t, "process", banded, "-o", cut, "--overwrite", "--backend", "cpu",
                     "--chain", f"crop({x}, {y}, {size}, {size})"], "cropping the output")
        if raw_rgb(whole) != raw_rgb(cut):
            raise BenchError(f"the huge case's output differs from the whole-picture path on "
                             f"the {size}×{size} crop at ({x}, {y})")
        done.append(f"({x}, {y})")
    shutil.rmtree(work)
    return f"{size}×{size} crops at " + " and ".join(done)


def check_outputs(cases, run_dir, frames, tiff_size):
    """After the rounds: the written outputs of both sides must agree in size; reports PSNR."""
    lines = []
    by_id = {c.id: c for c in cases}
    if "x264" in by_id:
        t_mp4, p_mp4 = run_dir / "tessera-eq.mp4", run_dir / "ffmpeg-eq.mp4"
        pt, pp = probe_clip(t_mp4), probe_clip(p_mp4)
        if pt != pp or pt[2] != frames:
            raise BenchError(f"the end-to-end outputs differ: tessera {pt}, ffmpeg {pp} "
                             f"(width, height, frames); expected {frames} frames")
        lines.append(f"End to end: both MP4s are {pt[0]}×{pt[1]}, {pt[2]} frames; "
                     f"PSNR tessera vs ffmpeg output {psnr(t_mp4, p_mp4)} dB (the psnr filter's average over the planes).")
    if "vips" in by_id:
        t_tif, v_tif = run_dir / "tessera-out.tif", run_dir / "vips-out.tif"
        it = same_images(t_tif, v_tif, "vips-bench", "vips")
        lines.append(f"vips-bench: both TIFFs are {it[0]}×{it[1]}, {it[2]} bands, {it[3]}; "
                     f"PSNR tessera vs vips output {psnr(t_tif, v_tif)} dB.")
    if "vips_py" in by_id:
        t_tif, v_tif = run_dir / "tessera-out-py.tif", run_dir / "pyvips-out.tif"
        it = same_images(t_tif, v_tif, "vips-bench", "pyvips")
        lines.append(f"vips-bench through pyvips: both TIFFs are {it[0]}×{it[1]}; PSNR tessera vs "
                     f"pyvips output {psnr(t_tif, v_tif)} dB.")
    if "huge" in by_id:
        t_tif, v_tif = run_dir / "tessera-huge.tif", run_dir / "vips-huge.tif"
        it = same_images(t_tif, v_tif, "huge", "vips")
        lines.append(f"Huge TIFF: both outputs are {it[0]}×{it[1]}, {it[2]} bands, {it[3]}.")
        crops = huge_against_whole(by_id["huge"], t_tif, it[0], run_dir)
        lines.append(f"Huge TIFF: tessera's output (in bands) equals its whole-picture path on "
                     f"{crops}, sample for sample.")
    if "batch" in by_id:
        t_dir, v_dir = run_dir / "tessera-batch", run_dir / "vips-batch"
        tn, vn = len(list(t_dir.glob("*.webp"))), len(list(v_dir.glob("*.webp")))
        if tn != vn or tn == 0:
            raise BenchError(f"the batch outputs differ: tessera wrote {tn} WebPs, vips {vn}")
        name = sorted(t_dir.glob("*.webp"))[0].name
        it, iv = image_info(t_dir / name), image_info(v_dir / name)
        if it[:2] != iv[:2]:
            raise BenchError(f"the batch outputs differ: tessera {it}, vips {iv}")
        lines.append(f"Batch: both wrote {tn} WebPs of {it[0]}×{it[1]}; PSNR of {name}, tessera "
                     f"vs vips {psnr(t_dir / name, v_dir / name)} dB.")
    if "thumbnail" in by_id:
        t_jpg, v_jpg = run_dir / "tessera-thumb.jpg", run_dir / "vips-thumb.jpg"
        it, iv = image_info(t_jpg), image_info(v_jpg)
        if it[:3] != iv[:3]:
            raise BenchError(f"the thumbnails differ: tessera {it}, vips {iv}")
        lines.append(f"Thumbnail: both JPEGs are {it[0]}×{it[1]}; PSNR tessera vs vips output "
                     f"{psnr(t_jpg, v_jpg)} dB; {t_jpg.stat().st_size} and "
                     f"{v_jpg.stat().st_size} bytes.")
    return lines


def added_rows(cases):
    """The time each filter case adds over its own tool's decode-only run (medians)."""
    by_id = {c.id: c for c in cases}
    base = by_id.get("decode")
    if base is None:
        return []
    rows = []
    for c in cases:
        if c.id in ("decode", "x264") + IMAGE_CASES:
            continue
        ta = c.median("tessera", 0) - base.median("tessera", 0)
        pa = c.median("peer", 0) - base.median("peer", 0)
        ratio = f"{ta / pa:.2f}" if pa > 0.005 else "n/a"
        rows.append([c.short, f"{ta:.2f}", f"{pa:.2f}", ratio])
    return rows


def fidelity(tess, clip, run_dir):
    """gblur σ=3 of both tools against the exact Gaussian (luma σ, chroma σ/2), per plane."""
    t, c = rel(tess), rel(clip)
    n = str(FIDELITY_FRAMES)
    src, t_out, f_out = run_dir / "fid-source.yuv", run_dir / "fid-tessera.yuv", run_dir / "fid-ffmpeg.yuv"
    t_mkv = run_dir / "fid-tessera.mkv"
    steps = [
        ["ffmpeg", "-v", "error", "-y", "-i", c, "-frames:v", n, "-f", "rawvideo", "-pix_fmt",
         "yuv420p", rel(src)],
        [t, "process", c, "-o", rel(t_mkv), "--overwrite", "--frames", n, "--codec", "ffv1",
         "--backend", "cpu", "--chain", "gblur(sigma=3)"],
        ["ffmpeg", "-v", "error", "-y", "-i", rel(t_mkv), "-f", "rawvideo", "-pix_fmt", "yuv420p",
         rel(t_out)],
        ["ffmpeg", "-v", "error", "-y", "-i", c, "-frames:v", n, "-vf", "gblur=sigma=3", "-f",
         "rawvideo", "-pix_fmt", "yuv420p", rel(f_out)],
    ]
    for argv in steps:
        run_checked(argv, "the fidelity check")
    w, h, _ = probe_clip(clip)
    argv = ["cargo", "bench", "--quiet", "--bench", "fidelity", "--", rel(src), str(w), str(h), "3",
            f"tessera={rel(t_out)}", f"ffmpeg={rel(f_out)}"]
    out = run_checked(argv, "the fidelity check")
    result = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[0] in ("tessera", "ffmpeg"):
            result[parts[0]] = dict(p.split("=") for p in parts[1:])
    if set(result) != {"tessera", "ffmpeg"}:
        raise BenchError(f"the fidelity check printed no figures:\n  $ {show(argv)}\n{tail(out)}")
    return result, steps + [argv]


def run_rounds(cases, rounds):
    for r in range(rounds):
        for ci, case in enumerate(cases):
            order = ("tessera", "peer") if (r + ci) % 2 == 0 else ("peer", "tessera")
            for side in order:
                name = "tessera" if side == "tessera" else case.peer_name
                wall, rss = measure(case.argv(side), side, case.frames)
                case.samples[side].append((wall, rss))
                log(f"[round {r + 1}/{rounds}] {case.id:<8} {name:<8} {wall:8.2f} s "
                    f"{rss / 1024:8.1f} MiB")


def flatness(tess, clips):
    """The eq case on each clip, once per tool. Returns rows (tool, [(frames, wall, KiB)])."""
    t = rel(tess)
    chain = "eq(brightness=0.05, contrast=1.2, saturation=1.3)"
    vf = "eq=brightness=0.05:contrast=1.2:saturation=1.3"
    rows = {"tessera": [], "ffmpeg": []}
    commands = []
    for frames, clip in clips:
        c = rel(clip)
        tv = [t, "process", c, "--discard", "--backend", "cpu", "--chain", chain]
        fv = ["ffmpeg", "-v", "error", "-i", c, "-vf", vf, "-f", "null", "-"]
        commands += [tv, fv]
        for tool, argv in (("tessera", tv), ("ffmpeg", fv)):
            wall, rss = measure(argv, "tessera" if tool == "tessera" else "peer", frames)
            rows[tool].append((frames, wall, rss))
            log(f"[flatness] {tool:<8} {frames:5d} frames {wall:8.2f} s {rss / 1024:8.1f} MiB")
    return rows, commands


# --------------------------------------------------------------------------------------------
# machine and versions


def machine_info():
    model = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    if not model and shutil.which("lscpu"):
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        m = re.search(r"^Model name:\s*(.+)$", out, re.M)
        model = m.group(1).strip() if m else None
    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                    break
    except OSError:
        pass
    os_name = platform.system()
    try:
        with open("/etc/os-release") as f:
            m = re.search(r'^PRETTY_NAME="?([^"\n]+)"?', f.read(), re.M)
            if m:
                os_name = m.group(1)
    except OSError:
        pass
    return {"cpu": model or platform.processor() or "unknown", "cores": cores, "usable": usable,
            "memory": mem, "os": f"{os_name}, kernel {platform.release()}"}


def first_line(argv):
    try:
        out = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, errors="replace")
        text = (out.stdout or out.stderr).strip()
        return text.splitlines()[0] if text else "?"
    except OSError:
        return "?"


def package_version(name):
    if not shutil.which("dpkg-query"):
        return ""
    out = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", name], capture_output=True,
                         text=True)
    return f", Debian package {name} {out.stdout.strip()}" if out.returncode == 0 else ""


def versions(tess):
    commit = first_line(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    built = datetime.datetime.fromtimestamp(tess.stat().st_mtime).astimezone()
    return {
        "tessera": first_line([str(tess), "--version"]),
        "commit": commit + (" (the work tree had uncommitted changes)" if dirty else ""),
        "built": built.strftime("%Y-%m-%d %H:%M %Z"),
        "ffmpeg": first_line(["ffmpeg", "-version"]),
        "vips": first_line(["vips", "--version"]),
        "time": first_line([GNU_TIME, "--version"]) + package_version("time"),
    }


# --------------------------------------------------------------------------------------------
# report


HEADER = ["case", "tessera median s", "peer median s", "time ratio", "tessera peak MiB",
          "peer peak MiB", "memory ratio", "target (time, memory)", "met"]
ADDED_HEADER = ["case", "tessera adds s", "ffmpeg adds s", "ratio"]


def table_rows(cases):
    rows = []
    for c in cases:
        tw, pw = c.median("tessera", 0), c.median("peer", 0)
        tm, pm = c.median("tessera", 1) / 1024, c.median("peer", 1) / 1024
        tt, tmem = TARGETS[c.id]
        parts, met = [], True
        if tt is not None:
            parts.append(f"≤ {tt:.2f}")
            met = met and tw / pw <= tt
        if tmem is not None:
            parts.append(f"≤ {tmem:.2f}")
            met = met and tm / pm <= tmem
        if c.id in MEMORY_MIB:
            parts.append(f"≤ {MEMORY_MIB[c.id]} MiB")
            met = met and tm <= MEMORY_MIB[c.id]
        rows.append([f"{c.short} (vs {c.peer_name})", f"{tw:.2f}", f"{pw:.2f}", f"{tw / pw:.2f}",
                     f"{tm:.0f}", f"{pm:.0f}", f"{tm / pm:.2f}", ", ".join(parts),
                     "yes" if met else "no"])
    return rows


def text_table(header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    out = []
    for n, r in enumerate([header] + rows):
        out.append("  ".join(str(v).ljust(w) if i == 0 else str(v).rjust(w)
                             for i, (v, w) in enumerate(zip(r, widths))))
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def md_table(header, rows, numeric=True):
    align = "---:" if numeric else "---"
    out = ["| " + " | ".join(header) + " |",
           "| " + " | ".join(["---"] + [align] * (len(header) - 1)) + " |"]
    out += ["| " + " | ".join(str(v) for v in r) + " |" for r in rows]
    return "\n".join(out)


def flat_rows(flat):
    rows = []
    for tool, runs in flat.items():
        (f1, w1, m1), (f2, w2, m2) = runs
        rows.append([tool, f"{m1 / 1024:.0f}", f"{m2 / 1024:.0f}", f"{m2 / m1:.2f}",
                     f"{w1:.2f}", f"{w2:.2f}"])
    return rows


def flat_header(flat):
    f1, f2 = flat["tessera"][0][0], flat["tessera"][1][0]
    return ["tool", f"peak MiB, {f1} frames", f"peak MiB, {f2} frames", "memory growth",
            f"wall s, {f1} frames", f"wall s, {f2} frames"]


CAVEATS = """\
- Both tools filter the decoded yuv420p planes as they are (tessera reads the decoder's pictures
  in place), but the filters are not all defined alike:
- `gblur`: FFmpeg's is a recursive (IIR) approximation of the Gaussian (`steps=1`), applied to
  the half-size chroma planes with the same σ (so chroma is blurred twice as much as luma);
  tessera's is the exact kernel of radius ceil(3σ) in fixed point, σ/2 on 4:2:0 chroma (the same
  picture as blurring RGB). The fidelity section measures both against the exact Gaussian.
- `unsharp=5:5:1.0` sharpens luma only (FFmpeg's chroma amount defaults to 0) with a 5×5 box-like
  mask; tessera sharpens the three planes with a Gaussian mask (σ/2 on chroma).
- `eq` is FFmpeg's eq in both, code for code (tessera keeps the fractions when eqs are chained).
- `5 colour filters`: tessera composes the five into one lookup table per plane (one pass);
  FFmpeg runs five filters, each a pass over the planes. FFmpeg's `negate` clips to the nominal
  range, tessera's `invert` mirrors every code.
- 3×3 sharpen: FFmpeg's `convolution` mirrors at the edges, tessera clamps.
- lanczos: swscale and tessera place 4:2:0 chroma alike (left-sited) and use 3-lobe kernels;
  their fixed-point details differ.
- vips-bench: `vips conv --precision integer` convolves 8-bit pixels in integer arithmetic (the
  vips-bench setting); tessera in fixed point. vips streams the image through each step and
  writes the two intermediates to disk; tessera holds the whole frame in memory.
"""


GPU_NOTE = """\
## GPU backend

The figures above are the CPU backend's. The GPU backend's, on an NVIDIA H200 (2026-11-27,
`benches/gpu.sh`), are in `docs/benchmarks-gpu.md`: it runs at 92–102% of its own transfer bound
(upload and read-back through wgpu, about 7 GB/s each way), which is 6.8× below what PyTorch's
pinned-memory copies reach on the same card, so it reaches 0.23–0.66× of PyTorch's speed on the
same filters with the same pictures (PSNR 97 dB or more). On that machine's 16 cores the CPU
backend was as fast or faster for yuv420p. Without a GPU the GPU backend runs on Mesa's lavapipe,
a software driver, whose timings say nothing about a GPU; `cargo bench --bench filters` times
every filter on both backends on whatever adapter wgpu finds.
"""


def write_svg(path, cases, rounds, stamp):
    ratios = [(c.short + f" (vs {c.peer_name})", c.median("tessera", 0) / c.median("peer", 0))
              for c in cases]
    lo = min([r for _, r in ratios] + [1.0]) / 1.3
    hi = max([r for _, r in ratios] + [1.0]) * 1.3
    lo_p, hi_p = math.floor(math.log2(lo)), math.ceil(math.log2(hi))
    lo, hi = 2.0 ** lo_p, 2.0 ** hi_p
    left, plot_w, right = 250, 520, 30
    top, row_h, bar_h = 108, 36, 22
    width = left + plot_w + right
    height = top + row_h * len(ratios) + 70

    def x(r):
        return left + (math.log(r) - math.log(lo)) / (math.log(hi) - math.log(lo)) * plot_w

    def esc(s):
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def tick_label(v):
        return f"{v:g}×" if v >= 1 else f"{v:.3g}×"

    faster, slower = "#2b8a3e", "#d9480f"
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">',
           f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
           f'<text x="{width / 2}" y="26" text-anchor="middle" font-size="17" font-weight="bold">'
           f'tessera wall time relative to FFmpeg / libvips</text>',
           f'<text x="{width / 2}" y="46" text-anchor="middle" font-size="12" fill="#555">'
           f'ratio tessera ÷ peer, median of {rounds} interleaved round{"s" if rounds != 1 else ""}'
           f', log scale; {esc(stamp)}</text>',
           f'<rect x="{left}" y="58" width="12" height="12" fill="{faster}"/>'
           f'<text x="{left + 18}" y="69" font-size="12">tessera faster (ratio &lt; 1)</text>',
           f'<rect x="{left + 220}" y="58" width="12" height="12" fill="{slower}"/>'
           f'<text x="{left + 238}" y="69" font-size="12">tessera slower (ratio &gt; 1)</text>']
    axis_y = top + row_h * len(ratios)
    for p in range(lo_p, hi_p + 1):
        v = 2.0 ** p
        xv = x(v)
        if p != 0:
            out.append(f'<line x1="{xv:.1f}" y1="{top - 6}" x2="{xv:.1f}" y2="{axis_y}" '
                       f'stroke="#e3e3e3" stroke-width="1"/>')
        out.append(f'<text x="{xv:.1f}" y="{axis_y + 16}" text-anchor="middle" font-size="11" '
                   f'fill="#555">{tick_label(v)}</text>')
    for i, (label, r) in enumerate(ratios):
        yc = top + row_h * i + row_h / 2
        x0, x1 = sorted((x(1.0), x(r)))
        colour = faster if r < 1 else slower
        out.append(f'<text x="{left - 10}" y="{yc + 4:.1f}" text-anchor="end" font-size="13">'
                   f'{esc(label)}</text>')
        out.append(f'<rect x="{x0:.1f}" y="{yc - bar_h / 2:.1f}" width="{max(x1 - x0, 1.5):.1f}" '
                   f'height="{bar_h}" fill="{colour}"/>')
        if r < 1:
            out.append(f'<text x="{x0 - 5:.1f}" y="{yc + 4:.1f}" text-anchor="end" font-size="12" '
                       f'font-weight="bold" fill="{colour}">{r:.2f}×</text>')
        else:
            out.append(f'<text x="{x1 + 5:.1f}" y="{yc + 4:.1f}" font-size="12" '
                       f'font-weight="bold" fill="{colour}">{r:.2f}×</text>')
    x_one = x(1.0)
    out.append(f'<line x1="{x_one:.1f}" y1="{top - 10}" x2="{x_one:.1f}" y2="{axis_y}" '
               f'stroke="#222" stroke-width="2"/>')
    out.append(f'<text x="{x_one:.1f}" y="{top - 14}" text-anchor="middle" font-size="12" '
               f'font-weight="bold">peer (1.0)</text>')
    out.append(f'<line x1="{left}" y1="{axis_y}" x2="{left + plot_w}" y2="{axis_y}" '
               f'stroke="#888" stroke-width="1"/>')
    out.append(f'<text x="{left + plot_w / 2}" y="{axis_y + 40}" text-anchor="middle" '
               f'font-size="12" fill="#333">time ratio tessera ÷ peer (lower is faster for '
               f'tessera)</text>')
    out.append("</svg>")
    path.write_text("\n".join(out) + "\n")


def write_markdown(path, svg_name, ctx):
    cases, rounds = ctx["cases"], ctx["rounds"]
    m, v = ctx["machine"], ctx["versions"]
    lines = [
        "# tessera against FFmpeg and libvips",
        "",
        f"Generated by `benches/compare.sh{(' ' + ctx['args']) if ctx['args'] else ''}` on "
        f"{ctx['date']}; this file and `{svg_name}` are overwritten by each run.",
        "",
        "## Machine",
        "",
        f"- CPU: {m['cpu']}; {m['cores']} logical cores ({m['usable']} usable by this run)",
        f"- Memory: {m['memory']}",
        f"- OS: {m['os']}",
        f"- Load average (1, 5, 15 min): {fmt_load(ctx['load_start'])} at the start of the script, "
        f"{fmt_load(ctx['load_timed'])} when timing began, {fmt_load(ctx['load_end'])} at the end "
        "(the benchmarked commands themselves keep the cores busy, so the later figures include "
        "them)",
        "",
        "## Versions",
        "",
        f"- tessera: `{v['tessera']}`, commit {v['commit']}, binary `{ctx['tessera']}` built "
        f"{v['built']}",
        f"- FFmpeg: `{v['ffmpeg']}`",
        f"- libvips: `{v['vips']}`",
        f"- GNU time: {v['time']}",
        "",
        "## Method",
        "",
        f"- {rounds} round{'s' if rounds != 1 else ''}, interleaved: in each round every case runs "
        "its tessera command and its peer command back to back; which of the two goes first "
        "alternates from case to case and from round to round. The figures are medians over the "
        "rounds.",
        "- Wall time: measured around the whole process (Python's `time.perf_counter`). Peak "
        "memory: the maximum resident set size from GNU time (`/usr/bin/time -f '%e %M'`); for the "
        "vips case, whose peer is one `sh -c` running three `vips` commands, it is the largest of "
        "the steps.",
        "- Ratios are tessera ÷ peer: below 1 tessera is faster (or uses less memory).",
        "- tessera always runs with `--backend cpu`; each run must report the CPU backend and the "
        "expected frame count, and any command exiting non-zero stops the script before a table "
        "is written.",
        f"- Inputs (cached under `target/compare/`): `{ctx['clip']}`, 1920×1080 at 30 fps, "
        f"{ctx['frames']} frames of FFmpeg's `testsrc2`, libx264 (default settings) yuv420p; "
        f"`{ctx['tiff']}`, {ctx['tiff_size']}×{ctx['tiff_size']} 8-bit RGB uncompressed TIFF "
        "of `testsrc2`.",
        "- Before the first round the inputs are read once into the page cache and the vips case "
        "runs once on both sides, untimed (the first `vips` start on a cold machine took seconds).",
        "",
    ]
    if cases:
        lines += [
            "## Results",
            "",
            md_table(HEADER, ctx["rows"]),
            "",
            f"![time ratios per case]({svg_name})",
            "",
            f"Chart: [{svg_name}]({svg_name}).",
            "",
        ]
    if ctx["added"]:
        lines += [
            "## Time the filters add over decoding",
            "",
            "Each case's median less its own tool's decode-only median (tessera `--discard` with no "
            "chain; `ffmpeg … -f null -` with no filter): the cost of the filtering itself. The "
            "target for the five colour filters is a ratio ≤ 0.5 (fusion must show).",
            "",
            md_table(ADDED_HEADER, ctx["added"]),
            "",
        ]
    if ctx["fidelity"]:
        fid = ctx["fidelity"]
        lines += [
            "## Fidelity: gblur σ=3 against the exact Gaussian",
            "",
            f"The first {FIDELITY_FRAMES} frames of the clip, blurred by each tool, against the "
            "same frames blurred in f64 by the exact Gaussian (radius ceil(3σ), edges clamped), σ on "
            "luma and σ/2 on the half-size chroma, unrounded (`benches/fidelity.rs`). PSNR per "
            "plane, peak 255; the target for tessera is ≥ 50 dB on every plane.",
            "",
            md_table(["tool", "Y dB", "Cb dB", "Cr dB"],
                     [[k, fid[k]["y"], fid[k]["u"], fid[k]["v"]] for k in ("tessera", "ffmpeg")]),
            "",
            f"Clip: `{rel(fid['clip'])}`, {describe_clip(fid['clip'])}.",
            "",
            "Commands:",
            "",
            "```sh",
        ] + [show(a) for a in ctx["fidelity_commands"]] + ["```", ""]
    if ctx["checks"]:
        lines += ["Outputs of the cases that write files, compared after the last round:", ""]
        lines += [f"- {c}" for c in ctx["checks"]] + [""]
    if ctx["flat"]:
        lines += [
            "## Memory flatness",
            "",
            "The `eq` case (decode → filter → discard), run once per tool (not interleaved) on the "
            f"{ctx['flat']['tessera'][0][0]}-frame clip and on a clip ten times longer (the same "
            "`testsrc2` content, continued). Flat memory means a growth near 1.00.",
            "",
            md_table(flat_header(ctx["flat"]), flat_rows(ctx["flat"])),
            "",
            "Commands:",
            "",
            "```sh",
        ] + [show(a) for a in ctx["flat_commands"]] + ["```", ""]
    lines += ["## Commands", "", "Run from the repository root.", ""]
    for c in cases:
        lines += [f"### {c.short}", "", c.title + ".", "", "```sh",
                  "# tessera", show(c.tessera), f"# {c.peer_name}", show(c.peer), "```", ""]
        if c.note:
            lines += [c.note, ""]
    lines += [GPU_NOTE, "## Caveats: how far the peers are equivalent", "", CAVEATS,
              "## Raw samples", "",
              "Wall seconds / peak MiB of each run, in round order.", "",
              md_table(["case", "tessera", "peer"],
                       [[c.short, ", ".join(f"{w:.2f} s / {k / 1024:.0f}" for w, k in c.samples["tessera"]),
                         ", ".join(f"{w:.2f} s / {k / 1024:.0f}" for w, k in c.samples["peer"])]
                        for c in cases], numeric=False),
              ""]
    text = "\n".join(lines)
    path.write_text(text + kept_sections(path, text))


def sections(text):
    """The `## ` sections of a Markdown text as (heading, text) pairs, in order."""
    found = []
    for part in re.split(r"(?m)^(?=## )", text):
        if part.startswith("## "):
            found.append((part.split("\n", 1)[0], part))
    return found


def kept_sections(path, text):
    """The sections of the report already at `path` that this run does not write (those added
    by hand, and partial runs' figures), to go after the new report: a full run replaces the
    generated sections and keeps the rest."""
    if not path.exists():
        return ""
    made = {heading for heading, _ in sections(text)}
    kept = [part for heading, part in sections(path.read_text()) if heading not in made]
    return "".join("\n" + part.rstrip("\n") + "\n" for part in kept)


# --------------------------------------------------------------------------------------------


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Benchmark tessera against ffmpeg and vips, interleaved, on this machine.",
        epilog="cases: " + ", ".join(CASE_IDS) + f"; '{FLAT_ID}' is the memory-flatness check, "
               f"'{FIDELITY_ID}' the gblur fidelity check.")
    p.add_argument("--rounds", type=int, help="interleaved rounds (default 3; 1 with --quick)")
    p.add_argument("--quick", action="store_true",
                   help="small inputs (30- and 300-frame clips, 1000×1000 TIFF), 1 round: for "
                        "testing the script itself")
    p.add_argument("--tessera", metavar="PATH",
                   help="tessera binary (default: target/release/tessera in the repository, built "
                        "when missing)")
    p.add_argument("--only", metavar="CASE", action="append",
                   help="run only these cases (repeat or comma-separate); include "
                        f"'{FLAT_ID}' for the flatness check")
    p.add_argument("--out", metavar="DIR",
                   help="where benchmarks.md and benchmarks.svg go (default docs/ for a full run, "
                        "target/compare/report/ with --quick or --only)")
    p.add_argument("--fidelity-clip", metavar="PATH",
                   help="the clip the fidelity check blurs (default: the testsrc2 clip); a real "
                        "one says more, since FFmpeg's error depends on the picture")
    p.add_argument("--prepare", action="store_true",
                   help="make the cached inputs and exit")
    args = p.parse_args(argv)
    if args.rounds is not None and args.rounds < 1:
        p.error("--rounds must be at least 1")
    if args.only:
        wanted = [x.strip() for item in args.only for x in item.split(",") if x.strip()]
        known = CASE_IDS + [FLAT_ID, FIDELITY_ID]
        unknown = [x for x in wanted if x not in known]
        if unknown:
            p.error(f"unknown case {', '.join(unknown)}; cases: {', '.join(known)}")
        args.only = wanted
    return args


def main(argv):
    args = parse_args(argv)
    load_start = loadavg()
    cfg = dict(QUICK if args.quick else FULL)
    rounds = args.rounds or cfg["rounds"]
    selected = [c for c in CASE_IDS if not args.only or c in args.only]
    do_flat = not args.only or FLAT_ID in args.only
    do_fidelity = not args.only or FIDELITY_ID in args.only
    partial = args.quick or bool(args.only)
    out_dir = Path(args.out).resolve() if args.out else (
        WORK / "report" if partial else ROOT / "docs")
    default_tess = ROOT / "target" / "release" / "tessera"
    tess = Path(args.tessera).resolve() if args.tessera else default_tess

    WORK.mkdir(parents=True, exist_ok=True)
    ensure_tools()
    ensure_tessera(tess, args.tessera is None)

    fid_clip = None
    if args.fidelity_clip and do_fidelity:
        fid_clip = Path(args.fidelity_clip).resolve()
        if not fid_clip.is_file():
            raise BenchError(f"--fidelity-clip {args.fidelity_clip}: no such file")
        if describe_clip(fid_clip).split()[-1] not in ("yuv420p", "yuvj420p"):
            raise BenchError(f"--fidelity-clip {args.fidelity_clip}: the check needs an 8-bit "
                             f"4:2:0 clip; this one is {describe_clip(fid_clip)}")
    need_video = (any(c not in IMAGE_CASES for c in selected) or do_flat
                  or (do_fidelity and not fid_clip))
    clip = make_clip(cfg["frames"]) if need_video or args.prepare else None
    long_clip = make_clip(cfg["long_frames"]) if do_flat or args.prepare else None
    tiff = make_tiff(cfg["tiff"]) if "vips" in selected or args.prepare else None
    photo = make_photo(PHOTO) if "thumbnail" in selected or args.prepare else None
    huge = make_huge_tiff(cfg["huge"]) if "huge" in selected or args.prepare else None
    batch = make_batch(cfg["batch"]) if "batch" in selected or args.prepare else None
    pyvips = ensure_pyvips() if "vips_py" in selected else None
    if pyvips is not None and tiff is None:
        tiff = make_tiff(cfg["tiff"])
    if args.prepare:
        log("inputs ready")
        return 0
    if clip is None:
        clip = WORK / f"testsrc2-1080p30-{cfg['frames']}f.mp4"  # named in commands only
    if tiff is None:
        tiff = WORK / f"testsrc2-{cfg['tiff']}x{cfg['tiff']}-rgb24.tif"

    run_dir = WORK / "run"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)
    cases = [c for c in build_cases(tess, clip, cfg["frames"], tiff, cfg["tiff"], run_dir, photo,
                                    huge, batch, pyvips)
             if c.id in selected]

    inputs = (([clip] if need_video else [])
              + ([tiff] if "vips" in selected or "vips_py" in selected else [])
              + ([photo] if photo else [])
              + [p for p in (batch.iterdir() if batch else [])])
    warm_up(cases, inputs)
    load_timed = loadavg()
    if load_timed[0] > 1.5:
        log(f"warning: load average {fmt_load(load_timed)}: the machine is not quiet; "
            "timings will be noisy")
    log(f"timing {len(cases)} case(s), {rounds} round(s); load average {fmt_load(load_timed)}")
    run_rounds(cases, rounds)
    checks = check_outputs(cases, run_dir, cfg["frames"], cfg["tiff"])
    flat, flat_commands = (None, [])
    if do_flat:
        flat, flat_commands = flatness(tess, [(cfg["frames"], clip), (cfg["long_frames"], long_clip)])
    fid, fid_commands = (None, [])
    if do_fidelity:
        log("fidelity check: gblur σ=3 of both tools against the exact Gaussian")
        fid_clip = fid_clip or clip
        fid, fid_commands = fidelity(tess, fid_clip, run_dir)
        fid["clip"] = fid_clip
    load_end = loadavg()

    rows = table_rows(cases)
    added = added_rows(cases)
    print(f"\ntessera vs peers, median of {rounds} round(s); ratios are tessera / peer")
    if rows:
        print(text_table(HEADER, rows))
    if added:
        print("\ntime the filters add over each tool's decode-only run (s)")
        print(text_table(ADDED_HEADER, added))
    if flat:
        print("\nmemory flatness (eq, discard)")
        print(text_table(flat_header(flat), flat_rows(flat)))
    if fid:
        print("\ngblur σ=3 against the exact Gaussian, PSNR per plane (dB)")
        print(text_table(["tool", "Y", "Cb", "Cr"],
                         [[k, fid[k]["y"], fid[k]["u"], fid[k]["v"]] for k in ("tessera", "ffmpeg")]))
    for c in checks:
        print(c)
    print(f"load average: {fmt_load(load_start)} at start, {fmt_load(load_timed)} when timing "
          f"began, {fmt_load(load_end)} at end")

    out_dir.mkdir(parents=True, exist_ok=True)
    md_path, svg_path = out_dir / "benchmarks.md", out_dir / "benchmarks.svg"
    now = datetime.datetime.now().astimezone()
    machine = machine_info()
    ctx = {
        "cases": cases, "rounds": rounds, "rows": rows, "checks": checks, "flat": flat,
        "added": added, "fidelity": fid, "fidelity_commands": fid_commands,
        "flat_commands": flat_commands, "machine": machine, "versions": versions(tess),
        "date": now.strftime("%Y-%m-%d %H:%M %Z"), "args": show(argv),
        "load_start": load_start, "load_timed": load_timed, "load_end": load_end,
        "tessera": rel(tess), "clip": rel(clip), "tiff": rel(tiff), "frames": cfg["frames"],
        "tiff_size": cfg["tiff"],
    }
    if cases:
        write_svg(svg_path, cases, rounds,
                  f"{machine['cpu']}, {machine['usable']} cores, {now.strftime('%Y-%m-%d')}")
    write_markdown(md_path, svg_path.name, ctx)
    print(f"\nwrote {rel(md_path)}" + (f" and {rel(svg_path)}" if cases else ""))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BenchError as err:
        print(f"\ncompare.py: error: {err}\nno table written.", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("\ncompare.py: interrupted; no table written.", file=sys.stderr)
        sys.exit(130)
