"""tessera.process: the command line's process for one file, options as keywords, a report,
and Ctrl-C that stops a long run leaving nothing behind."""

import os
import shutil
import signal
import subprocess
import threading
import time

import numpy as np
import pytest

import tessera
from helpers import cli, picture, read_png, write_png

needs_video = pytest.mark.skipif(not tessera.VIDEO, reason="built without the video feature")


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.png"
    write_png(path, picture(45, 67, 3, np.uint8))
    return path


def test_an_image_as_the_command_line_writes_it(photo, tmp_path):
    chain = "gblur(sigma=2) | scale(width=40) | eq(saturation=1.2)"
    report = tessera.process(photo, tmp_path / "out.png", chain, backend="cpu")
    assert report["status"] == "done" and report["error"] is None
    assert report["frames"] == 1 and report["pixels"] == 45 * 67
    assert report["input_size"] == (67, 45) and report["output_size"] == (40, 27)
    assert report["backend"].startswith("cpu")
    assert report["output"] == str(tmp_path / "out.png")
    assert [s["name"] for s in report["stages"]] == ["read", "filter", "write"]
    cli("process", str(photo), "-o", str(tmp_path / "cli.png"), "--chain", chain, "--backend", "cpu", "-q")
    assert np.array_equal(read_png(tmp_path / "out.png"), read_png(tmp_path / "cli.png"))
    # A made Chain serves too.
    tessera.process(photo, tmp_path / "again.png", tessera.Chain(chain), "cpu")
    assert np.array_equal(read_png(tmp_path / "again.png"), read_png(tmp_path / "cli.png"))


def test_an_existing_output_needs_overwrite(photo, tmp_path):
    out = tmp_path / "out.png"
    tessera.process(photo, out, "invert", "cpu")
    with pytest.raises(tessera.Error) as caught:
        tessera.process(photo, out, "hflip", "cpu")
    assert type(caught.value) is tessera.Error and "overwrite" in str(caught.value)
    tessera.process(photo, out, "hflip", "cpu", overwrite=True)
    assert np.array_equal(read_png(out), picture(45, 67, 3, np.uint8)[:, ::-1])


def test_image_options_reach_the_encoder(photo, tmp_path):
    sizes = {}
    for quality in (20, 95):
        out = tmp_path / f"q{quality}.jpg"
        tessera.process(photo, out, None, "cpu", quality=quality)
        sizes[quality] = out.stat().st_size
    assert sizes[20] < sizes[95]
    tessera.process(photo, tmp_path / "c0.png", None, "cpu", compression=0)
    tessera.process(photo, tmp_path / "c9.png", None, "cpu", compression=9)
    assert (tmp_path / "c9.png").stat().st_size < (tmp_path / "c0.png").stat().st_size
    # An option for another format is refused as the command line refuses it.
    with pytest.raises(tessera.Error, match="quality"):
        tessera.process(photo, tmp_path / "x.png", None, "cpu", quality=50)
    with pytest.raises(ValueError, match="quality=101"):
        tessera.process(photo, tmp_path / "x.jpg", None, "cpu", quality=101)
    with pytest.raises(ValueError, match="subsampling"):
        tessera.process(photo, tmp_path / "x.jpg", None, "cpu", subsampling="411")
    with pytest.raises(TypeError):
        tessera.process(photo, tmp_path / "x.jpg", None, "cpu", qualty=50)


def test_discard_writes_nothing(photo, tmp_path):
    report = tessera.process(photo, None, "invert", "cpu")
    assert report["output"] is None and report["frames"] == 1
    assert sorted(os.listdir(tmp_path)) == ["photo.png"]


def clip(path, seconds, size="64x48"):
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25:duration={seconds}",
         "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast", str(path)],
        check=True,
    )


@needs_video
def test_a_video_with_encoder_options(tmp_path):
    clip(tmp_path / "in.mp4", 2)
    report = tessera.process(
        tmp_path / "in.mp4", tmp_path / "out.mkv", "hflip | eq(contrast=1.1)", "cpu",
        codec="ffv1", frames=20,
    )
    assert report["frames"] == 20 and report["output_size"] == (64, 48)
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v", "-count_frames", "-show_entries",
         "stream=codec_name,nb_read_frames", "-of", "csv=p=0", str(tmp_path / "out.mkv")],
        capture_output=True, text=True, check=True,
    )
    assert probe.stdout.strip() == "ffv1,20"
    report = tessera.process(
        tmp_path / "in.mp4", tmp_path / "crf.mp4", None, "cpu", crf=40, preset="ultrafast",
        encoder_options={"tune": "zerolatency"},
    )
    assert report["frames"] == 50


@needs_video
def test_ctrl_c_stops_a_video_and_leaves_no_output(tmp_path):
    clip(tmp_path / "long.mp4", 40, "320x240")
    out = tmp_path / "out.mp4"
    timer = threading.Timer(1.0, signal.raise_signal, args=(signal.SIGINT,))
    started = time.perf_counter()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            tessera.process(
                tmp_path / "long.mp4", out, "gblur(sigma=4) | median(2)", "cpu",
                preset="ultrafast",
            )
    finally:
        timer.cancel()
    assert time.perf_counter() - started < 10, "the run did not stop soon after Ctrl-C"
    assert sorted(os.listdir(tmp_path)) == ["long.mp4"], "a partial output was left"
    # The next run is not stopped by the last one's Ctrl-C.
    report = tessera.process(tmp_path / "long.mp4", out, "invert", "cpu", frames=3)
    assert report["frames"] == 3 and out.exists()

