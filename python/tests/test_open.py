"""tessera.open: a video read frame by frame, compared with FFmpeg's own decoding and with the
command line's output of the same file; its threads, memory and errors."""

from __future__ import annotations

import gc
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import tessera
from helpers import REPO, cli, read_png

pytestmark = pytest.mark.skipif(not tessera.VIDEO, reason="built without the video feature")

W, H = 64, 48


def make_clip(path: Path, seconds: float, size: str = f"{W}x{H}", codec: str = "libx264") -> Path:
    """testsrc2 at 25 fps; H.264 with B-frames and a key frame every 20 frames, so that a seek
    lands between key frames and pictures come out of decode order."""
    args = ["-c:v", codec]
    if codec == "libx264":
        args += ["-preset", "veryfast", "-g", "20", "-bf", "2"]
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
         f"testsrc2=size={size}:rate=25:duration={seconds}", "-pix_fmt", "yuv420p", *args,
         str(path)],
        check=True,
    )
    return path


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return make_clip(tmp_path_factory.mktemp("open") / "clip.mp4", 3)


def ffmpeg_yuv(path: Path, w: int = W, h: int = H) -> list[list[np.ndarray]]:
    """Every frame as FFmpeg decodes it: yuv420p planes, one frame per picture decoded."""
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-fps_mode", "passthrough", "-f", "rawvideo",
         "-pix_fmt", "yuv420p", "-"],
        capture_output=True, check=True,
    ).stdout
    size = w * h * 3 // 2
    assert len(raw) % size == 0
    frames = []
    for at in range(0, len(raw), size):
        data = np.frombuffer(raw[at : at + size], np.uint8)
        y = data[: w * h].reshape(h, w)
        u = data[w * h : w * h + w * h // 4].reshape(h // 2, w // 2)
        v = data[w * h + w * h // 4 :].reshape(h // 2, w // 2)
        frames.append([y, u, v])
    return frames


def ffprobe_pts(path: Path) -> list[int]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "frame=pts",
         "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout
    return [int(line.split(",")[0]) for line in out.split()]


def task_count() -> int:
    """Threads of this process, Rust's included (`threading` sees only Python's)."""
    return len(os.listdir("/proc/self/task"))


def test_frames_are_ffmpegs_decoding(clip):
    want = ffmpeg_yuv(clip)
    pts = ffprobe_pts(clip)
    with tessera.open(clip, backend="cpu") as video:
        assert video.fps == 25.0
        assert video.duration == pytest.approx(3.0, abs=0.05)
        assert (video.width, video.height, video.format) == (W, H, "yuv420p")
        frames = list(video)
    assert len(frames) == len(want) == len(pts) == 75
    for i, (frame, planes) in enumerate(zip(frames, want)):
        assert frame.index == i
        assert frame.pts == pts[i]
        num, den = frame.time_base
        assert frame.time == pytest.approx(pts[i] * num / den - pts[0] * num / den, abs=1e-9)
        assert (frame.width, frame.height, frame.format, frame.bits) == (W, H, "yuv420p", 8)
        got = frame.planes
        assert [p.shape for p in got] == [(H, W), (H // 2, W // 2), (H // 2, W // 2)]
        for g, w in zip(got, planes):
            assert g.dtype == np.uint8
            assert np.array_equal(g, w), f"frame {i}"


def test_streams_are_what_probe_says(clip):
    probed = json.loads(cli("probe", "--json", str(clip)).stdout)
    with tessera.open(clip, backend="cpu") as video:
        assert video.streams == probed["streams"]
        assert video.streams[0]["kind"] == "video"
        assert video.frame_count == 75
        assert str(clip) in repr(video)


def test_rgb_is_the_command_lines_conversion(clip, tmp_path):
    cli("process", str(clip), "-o", str(tmp_path / "png" / "%03d.png"), "--backend", "cpu")
    pngs = sorted((tmp_path / "png").iterdir())
    with tessera.open(clip, backend="cpu") as video:
        frames = list(video)
    assert len(pngs) == len(frames)
    for frame, png in zip(frames, pngs):
        rgb = frame.to_numpy()
        assert rgb.shape == (H, W, 3) and rgb.dtype == np.uint8
        assert np.array_equal(rgb, read_png(png)), png.name
    frame = frames[10]
    rgb = frame.to_numpy("rgb24")
    rgba = frame.to_numpy("rgba")
    assert rgba.shape == (H, W, 4) and np.array_equal(rgba[..., :3], rgb)
    assert (rgba[..., 3] == 255).all()
    assert np.array_equal(frame.to_numpy("bgr24"), rgb[..., ::-1])
    rgb48 = frame.to_numpy("rgb48")
    assert rgb48.shape == (H, W, 3) and rgb48.dtype == np.uint16
    # The same conversion at 16 bits; swscale's 8-bit output rounds from its own intermediate
    # precision, not from the 16-bit result: within 2 codes of it (measured: 2).
    assert np.abs(rgb48 / 257.0 - rgb).max() <= 2.0
    gray = frame.to_numpy("gray")
    assert gray.shape == (H, W) and gray.dtype == np.uint8
    # The luma, stretched from limited to full range (and clipped), by swscale's fixed point.
    y = frame.planes[0].astype(np.float64)
    assert np.abs(gray - np.clip((y - 16) * 255 / 219, 0, 255)).max() <= 1.0
    with pytest.raises(ValueError, match="rgb24"):
        frame.to_numpy("yuv420p")


def test_a_chain_gives_the_command_lines_frames(clip, tmp_path):
    chain = "gblur(sigma=1.5) | eq(contrast=1.2, saturation=1.3) | hflip"
    out = tmp_path / "out.mkv"
    cli("process", str(clip), "-o", str(out), "--chain", chain, "--codec", "ffv1", "--backend", "cpu")
    want = ffmpeg_yuv(out)
    with tessera.open(clip, chain=tessera.Chain(chain), backend="cpu", read_ahead=2) as video:
        frames = list(video)
    assert len(frames) == len(want) == 75
    for i, (frame, planes) in enumerate(zip(frames, want)):
        for g, w in zip(frame.planes, planes):
            assert np.array_equal(g, w), f"frame {i}"
    # A chain that changes the size and the layout.
    with tessera.open(clip, chain="scale(width=32, height=24) | grayscale", backend="cpu") as video:
        first = next(iter(video))
        assert (video.width, video.height) == (32, 24)
        assert (first.width, first.height) == (32, 24)
        assert first.planes[0].shape == (24, 32)


def test_get_frames_are_the_iterated_frames(clip):
    with tessera.open(clip, "eq(brightness=0.1) | unsharp", backend="cpu") as video:
        frames = list(video)
        n = len(frames)
        # 0, a frame between key frames (every 20th is one), the last, again the first.
        asked = [0, 33, n - 1, 34, 0, -2]
        got = video.get_frames(asked)
    assert [f.index for f in got] == [0, 33, n - 1, 34, 0, n - 2]
    for f in got:
        want = frames[f.index]
        assert (f.pts, f.time) == (want.pts, want.time)
        for g, w in zip(f.planes, want.planes):
            assert np.array_equal(g, w), f"frame {f.index}"


def test_get_frames_seeks_instead_of_reading_from_the_start(tmp_path):
    long = make_clip(tmp_path / "long.mp4", 8, "160x120")
    chain = "median(radius=4)"
    with tessera.open(long, chain, backend="cpu") as video:
        started = time.perf_counter()
        frames = sum(1 for _ in video)
        read = time.perf_counter() - started
        started = time.perf_counter()
        (last,) = video.get_frames([frames - 3])
        seek = time.perf_counter() - started
    assert frames == 200 and last.index == 197
    # A seek decodes from the key frame before (at most 20 frames, none filtered but the few
    # read ahead); a read from the start would filter all 198 (measured: 170 times faster).
    assert seek < read / 5, f"{seek:.3f} s for one frame, {read:.3f} s for all"


def test_get_frames_of_a_temporal_chain_read_from_the_start(clip):
    # Each frame mixes in those before it: only a read from the start gives the same frames.
    with tessera.open(clip, "tmix(frames=3)", backend="cpu") as video:
        frames = list(video)
        got = video.get_frames([45, 2])
    for f in got:
        for g, w in zip(f.planes, frames[f.index].planes):
            assert np.array_equal(g, w), f"frame {f.index}"


def test_indices_outside_the_video(clip):
    with tessera.open(clip, backend="cpu") as video:
        with pytest.raises(IndexError, match="75 frames"):
            video.get_frames([3, 75])
        with pytest.raises(IndexError, match="75 frames"):
            video.get_frames([-76])
        assert video.get_frames([]) == []


def test_planes_are_views_of_the_frame(clip):
    video = tessera.open(clip, backend="cpu")
    frame = next(video)
    y, u, v = frame.planes
    assert y.base is frame and u.base is frame
    assert not y.flags.writeable
    with pytest.raises(ValueError):
        y[0, 0] = 1
    # The same memory every time: no copy is made.
    address = y.__array_interface__["data"][0]
    assert frame.planes[0].__array_interface__["data"][0] == address
    kept = [np.array(p) for p in (y, u, v)]
    del frame
    video.close()
    del video
    gc.collect()
    for p, k in zip((y, u, v), kept):
        assert np.array_equal(p, k)
    assert y.__array_interface__["data"][0] == address


def test_the_gil_is_released_while_waiting(tmp_path):
    big = make_clip(tmp_path / "big.mp4", 1, "640x480")
    stamps: list[float] = []
    stop = threading.Event()

    def count():
        n = 0
        while not stop.is_set():
            n += 1
            if n % 2000 == 0:
                stamps.append(time.perf_counter())

    video = tessera.open(big, "median(radius=4) | gblur(sigma=5)", backend="cpu", read_ahead=1)
    counter = threading.Thread(target=count)
    counter.start()
    try:
        start = time.perf_counter()
        frames = 0
        for _ in video:
            frames += 1
        end = time.perf_counter()
    finally:
        stop.set()
        counter.join()
        video.close()
    assert frames == 25
    assert end - start > 0.3, f"the read took only {end - start:.3f} s; make it longer"
    inside = [t for t in stamps if start + 0.1 < t < end - 0.05]
    assert len(inside) > 10, f"{len(inside)} counts inside a {end - start:.2f} s read"


def settle(baseline: int) -> int:
    """The thread count once it comes back to `baseline`, or after 5 s."""
    deadline = time.monotonic() + 5
    while task_count() > baseline and time.monotonic() < deadline:
        time.sleep(0.02)
    return task_count()


def test_an_abandoned_read_stops_its_threads(clip):
    # Pools made once per process (rayon's) come first.
    with tessera.open(clip, "gblur(sigma=2)", backend="cpu") as video:
        for _ in video:
            pass
    gc.collect()
    baseline = settle(task_count())

    def two_frames(video):
        for i, _ in enumerate(video):
            if i == 1:
                break

    # Left to the garbage collector.
    video = tessera.open(clip, "gblur(sigma=2)", backend="cpu")
    two_frames(video)
    assert task_count() > baseline, "the read runs on threads of its own"
    del video
    gc.collect()
    assert settle(baseline) == baseline
    # Closed.
    video = tessera.open(clip, "gblur(sigma=2)", backend="cpu")
    two_frames(video)
    video.close()
    assert video.closed
    # The stages are joined by close(); a backend's worker pool ends as it is dropped, its
    # threads a moment later.
    assert settle(baseline) == baseline
    with pytest.raises(ValueError, match="closed"):
        next(video)
    video.close()
    # At the end of a with block.
    with tessera.open(clip, "gblur(sigma=2)", backend="cpu") as video:
        two_frames(video)
    assert settle(baseline) == baseline
    # Read to the end: the threads are gone once the loop ends.
    video = tessera.open(clip, backend="cpu")
    assert len(list(video)) == 75
    assert list(video) == []
    assert settle(baseline) == baseline


PEAK = """
import sys, tessera
with tessera.open(sys.argv[1], "gblur(sigma=2)", backend="cpu", read_ahead=8) as video:
    n = sum(int(f.to_numpy()[0, 0, 0] >= 0) for f in video)
status = open("/proc/self/status").read()
print(n, next(int(l.split()[1]) for l in status.splitlines() if l.startswith("VmHWM:")))
"""


def test_memory_does_not_grow_with_the_video(tmp_path):
    def peak(seconds: int) -> tuple[int, int]:
        path = make_clip(tmp_path / f"{seconds}.mp4", seconds, "320x240")
        out = subprocess.run(
            [sys.executable, "-c", PEAK, str(path)], capture_output=True, text=True, check=True,
            cwd=tmp_path,
        ).stdout.split()
        return int(out[0]), int(out[1])

    short_frames, short_kib = peak(4)
    long_frames, long_kib = peak(16)
    assert (short_frames, long_frames) == (100, 400)
    # 300 more frames of 115 KB each (345 KiB as RGB) would be 33 MiB or more if any were kept.
    assert long_kib - short_kib < 6 * 1024, f"{short_kib} KiB then {long_kib} KiB"


def test_errors(clip, tmp_path):
    with pytest.raises(tessera.MediaError, match="missing.mp4"):
        tessera.open(tmp_path / "missing.mp4")
    with pytest.raises(tessera.ChainError) as e:
        tessera.open(clip, "gblr(sigma=2)")
    assert e.value.hint and "gblur" in e.value.hint
    # A chain that cannot run on these frames is refused before any frame is read.
    with pytest.raises(tessera.ChainError, match="crop"):
        tessera.open(clip, "crop(x=100, y=0, width=10, height=10)")
    png = tmp_path / "still.png"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=32x32", "-frames:v", "1",
         str(png)],
        check=True,
    )
    with pytest.raises(tessera.MediaError, match="Chain.apply"):
        tessera.open(png)
    with pytest.raises(ValueError, match="read_ahead"):
        tessera.open(clip, read_ahead=0)
    with pytest.raises(ValueError, match="backend"):
        tessera.open(clip, backend="tpu")


def test_a_damaged_stream_names_the_file_and_the_frame(tmp_path):
    ts = make_clip(tmp_path / "cut.ts", 2)
    data = ts.read_bytes()
    # Cut inside a transport packet, past the middle.
    ts.write_bytes(data[: len(data) * 3 // 4 + 100])
    with tessera.open(ts, backend="cpu") as video:
        with pytest.raises(tessera.MediaError, match=r"cut\.ts.*frame \d+"):
            for _ in video:
                pass


def test_ctrl_c_while_waiting(tmp_path):
    big = make_clip(tmp_path / "slow.mp4", 2, "640x480")
    video = tessera.open(big, "median(radius=6) | gblur(sigma=8)", backend="cpu", read_ahead=1)
    timer = threading.Timer(0.5, signal.raise_signal, args=(signal.SIGINT,))
    started = time.perf_counter()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            for _ in video:
                pass
    finally:
        timer.cancel()
    assert time.perf_counter() - started < 5, "Ctrl-C was not seen while waiting"
    video.close()
