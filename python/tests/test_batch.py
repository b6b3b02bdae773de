"""tessera.process_batch: the command line's batch from Python, its report the one --report
writes, progress on the caller's thread, Ctrl-C and failures as the command line has them."""

import json
import os
import pickle
import signal
import subprocess
import threading
import time

import numpy as np
import pytest

import tessera
from helpers import cli, picture, write_png

needs_video = pytest.mark.skipif(not tessera.VIDEO, reason="built without the video feature")

CHAIN = "gblur(sigma=1.5) | eq(saturation=1.2)"


@pytest.fixture
def photos(tmp_path):
    """Five photos, a text file (not media: skipped) and a damaged PNG (fails)."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(5):
        write_png(folder / f"p{i}.png", picture(30 + i, 41, 3, np.uint8, seed=i))
    (folder / "notes.txt").write_text("not a picture")
    good = (folder / "p0.png").read_bytes()
    (folder / "torn.png").write_bytes(good[: len(good) // 2])
    return folder


def without_times(report, out_dir=None):
    """The report with its timings left out and the output folder named OUT."""
    text = json.dumps(report)
    if out_dir is not None:
        text = text.replace(str(out_dir), "OUT")
    report = json.loads(text)
    report.pop("seconds")
    for f in report["files"]:
        f.pop("seconds")
    return report


def test_the_report_is_the_command_lines(photos, tmp_path):
    seen = []

    def progress(done, total, entry):
        # Called on this thread, with the GIL: Python objects may be touched freely.
        assert threading.current_thread() is threading.main_thread()
        seen.append((done, total, entry))

    report = tessera.process_batch(
        photos, str(tmp_path / "py" / "{stem}.png"), CHAIN, "cpu", jobs=2, progress=progress
    )
    run = cli("process", str(photos), "-o", str(tmp_path / "cli" / "{stem}.png"), "--chain",
              CHAIN, "--backend", "cpu", "-j", "2", "--report", str(tmp_path / "cli.json"),
              "-q", check=False)
    assert run.returncode == 1, run.stderr  # the damaged file failed
    expected = json.loads((tmp_path / "cli.json").read_text())
    assert without_times(report, tmp_path / "py") == without_times(expected, tmp_path / "cli")
    assert report["processed"] == 5 and report["failed"] == 1 and report["skipped"] == 1
    torn = next(f for f in report["files"] if f["input"].endswith("torn.png"))
    assert torn["status"] == "failed" and "torn.png" in torn["error"] and "output" in torn
    for i in range(5):
        name = f"p{i}.png"
        assert (tmp_path / "py" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes()
    # Every file run is told once, as it finishes; those skipped before any work are not.
    assert [d for d, _, _ in seen] == [1, 2, 3, 4, 5, 6]
    assert {t for _, t, _ in seen} == {6}
    assert sorted(e["input"] for _, _, e in seen) == sorted(
        f["input"] for f in report["files"] if f.get("error") != "not an image or a video tessera reads"
    )
    by_input = {f["input"]: f for f in report["files"]}
    assert all(by_input[e["input"]] == e for _, _, e in seen)


def test_inputs_as_lists_patterns_and_options(photos, tmp_path):
    inputs = [photos / "p1.png", str(photos / "p3.png")]
    report = tessera.process_batch(inputs, tmp_path / "out", "invert", "cpu", compression=9)
    assert [f["output"] for f in report["files"]] == [str(tmp_path / "out" / n) for n in ("p1.png", "p3.png")]
    report = tessera.process_batch(str(photos / "p[0-2].png"), tmp_path / "glob", "invert",
                                   "cpu", exclude="p1*")
    assert [os.path.basename(f["input"]) for f in report["files"]] == ["p0.png", "p2.png"]
    # The outputs exist: refused before any work, as the command line refuses them.
    with pytest.raises(tessera.Error, match="overwrite"):
        tessera.process_batch(inputs, tmp_path / "out", "invert", "cpu")
    again = tessera.process_batch(inputs, tmp_path / "out", "invert", "cpu", skip_existing=True)
    assert [f["status"] for f in again["files"]] == ["skipped", "skipped"]
    tessera.process_batch(inputs, tmp_path / "out", "hflip", "cpu", overwrite=True)
    # Keywords are process()'s, checked the same way.
    with pytest.raises(TypeError, match="qualty"):
        tessera.process_batch(inputs, tmp_path / "x", None, "cpu", qualty=50)
    with pytest.raises(ValueError, match="quality=101"):
        tessera.process_batch(inputs, tmp_path / "x", None, "cpu", quality=101)
    with pytest.raises(tessera.Error, match="quality"):
        tessera.process_batch(inputs, tmp_path / "x", None, "cpu", quality=50)
    with pytest.raises(tessera.Error, match="would both write"):
        tessera.process_batch(inputs, tmp_path / "{ext}.png", None, "cpu")
    with pytest.raises(tessera.ChainError):
        tessera.process_batch(inputs, tmp_path / "x", "gblr", "cpu")
    with pytest.raises(ValueError, match="shard"):
        tessera.process_batch(inputs, tmp_path / "x", None, "cpu", shard="3/2")
    assert not (tmp_path / "x").exists()


def test_shards_and_fail_fast_as_the_command_line(photos, tmp_path):
    taken = []
    for k in (1, 2, 3):
        report = tessera.process_batch(photos, tmp_path / "s", None, "cpu", shard=(k, 3), on_error="skip")
        run = cli("process", str(photos), "-o", str(tmp_path / "c"), "--backend", "cpu",
                  "--shard", f"{k}/3", "--on-error", "skip", "--json", "-q", check=False)
        assert without_times(report, tmp_path / "s") == without_times(json.loads(run.stdout), tmp_path / "c")
        assert report["shard"] == f"{k}/3"
        taken += [f["input"] for f in report["files"]]
    assert sorted(taken) == sorted(str(p) for p in photos.iterdir())
    # The damaged file first, one at a time: the rest are not started.
    inputs = [photos / "torn.png", photos / "p0.png", photos / "p1.png"]
    report = tessera.process_batch(inputs, tmp_path / "ff", None, "cpu", jobs=1, fail_fast=True)
    assert [f["status"] for f in report["files"]] == ["failed", "not started", "not started"]
    run = cli("process", *map(str, inputs), "-o", str(tmp_path / "cff"), "--backend", "cpu", "-j", "1",
              "--fail-fast", "--json", "-q", check=False)
    assert without_times(report, tmp_path / "ff") == without_times(json.loads(run.stdout), tmp_path / "cff")


def test_an_exception_in_progress_stops_the_batch(photos, tmp_path):
    calls = []

    def progress(done, total, entry):
        calls.append(done)
        raise RuntimeError("enough")

    inputs = [photos / f"p{i}.png" for i in range(5)]
    with pytest.raises(RuntimeError, match="enough"):
        tessera.process_batch(inputs, tmp_path / "out", "gblur(sigma=3)", "cpu", jobs=1, progress=progress)
    assert calls == [1]
    left = sorted(os.listdir(tmp_path / "out"))
    assert 1 <= len(left) < 5 and all(n.endswith(".png") and not n.startswith(".") for n in left), left
    # The stop was that call's: the next batch runs whole.
    report = tessera.process_batch(inputs, tmp_path / "out", "gblur(sigma=3)", "cpu", skip_existing=True)
    assert report["processed"] + report["skipped"] == 5 and report["failed"] == 0
    assert len(os.listdir(tmp_path / "out")) == 5


def clip(path, seconds, size="320x240", hue=0):
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
         f"testsrc2=size={size}:rate=25:duration={seconds},hue=h={hue}",
         "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast", str(path)],
        check=True,
    )


@needs_video
def test_ctrl_c_keeps_finished_outputs_and_leaves_no_partial_one(tmp_path):
    folder = tmp_path / "clips"
    folder.mkdir()
    for i in range(4):
        clip(folder / f"clip{i}.mp4", 4, hue=40 * i)
    out = tmp_path / "out"
    # Once the first clip is in place, Ctrl-C.
    def interrupt():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if out.exists() and any(not n.startswith(".") for n in os.listdir(out)):
                signal.raise_signal(signal.SIGINT)
                return
            time.sleep(0.02)

    watcher = threading.Thread(target=interrupt, daemon=True)
    watcher.start()
    chain = "gblur(sigma=6)"
    with pytest.raises(KeyboardInterrupt) as caught:
        tessera.process_batch(folder, out, chain, "cpu", jobs=1, preset="ultrafast")
    watcher.join()
    report = caught.value.report
    left = sorted(os.listdir(out))
    assert all(not n.startswith(".") for n in left), f"partial outputs: {left}"
    statuses = [f["status"] for f in report["files"]]
    assert report["processed"] == len(left) == statuses.count("done") and 1 <= len(left) < 4, report
    assert statuses.count("interrupted") == 1 and report["interrupted"] == 1, report
    assert statuses.count("not started") == report["not_started"] == 3 - len(left)
    # The rest, as the command line's --skip-existing finishes it; the stop is not carried over.
    report = tessera.process_batch(folder, out, chain, "cpu", skip_existing=True, preset="ultrafast")
    assert report["processed"] == 4 - len(left) and report["skipped"] == len(left)
    assert len(os.listdir(out)) == 4


def test_a_chain_pickles_as_its_text():
    chain = tessera.Chain("let soft(s) = gblur(sigma=s)\nsoft(1.5) | eq(saturation=1.2)  # a look")
    again = pickle.loads(pickle.dumps(chain))
    assert type(again) is tessera.Chain and again.text == chain.text
    assert again.resolved == chain.resolved
    img = picture(20, 30, 3, np.uint8)
    assert np.array_equal(again.apply(img, "cpu"), chain.apply(img, "cpu"))
