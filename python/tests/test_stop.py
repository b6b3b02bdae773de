"""A stop is one call's: Ctrl-C in one thread's `tessera.process`, or a batch stopped by its
progress callback, leaves the runs of other threads going to their full output."""

import os
import signal
import subprocess
import threading
import time

import pytest

import tessera

needs_video = pytest.mark.skipif(not tessera.VIDEO, reason="built without the video feature")

CHAIN = "gblur(sigma=4) | median(2)"
# The other thread's clip: long enough to still be running when the stop comes.
SECONDS = 12
FRAMES = SECONDS * 25


def clip(path, seconds, size="320x240"):
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25:duration={seconds}",
         "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast", str(path)],
        check=True,
    )


def frames_in(path):
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v", "-count_frames", "-show_entries",
         "stream=nb_read_frames", "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, check=True,
    )
    return int(probe.stdout.strip())


class Other:
    """`tessera.process` on a thread of its own, writing `output`; `started()` returns once it is
    writing (its temporary file is there)."""

    def __init__(self, input, output):
        self.output = output
        self.report = None
        self.error = None
        self.thread = threading.Thread(target=self._run, args=(input,))
        self.thread.start()

    def _run(self, input):
        try:
            self.report = tessera.process(input, self.output, CHAIN, "cpu", preset="ultrafast")
        except BaseException as e:  # whatever stopped it, the test says
            self.error = e

    def started(self):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.thread.is_alive():
            folder = self.output.parent
            if folder.exists() and any(".partial" in n for n in os.listdir(folder)):
                return
            time.sleep(0.02)
        raise AssertionError(f"the other run did not start writing: {self.error!r}")

    def finished_whole(self):
        self.thread.join()
        assert self.error is None, f"the other run was stopped too: {self.error!r}"
        assert self.report["status"] == "done" and self.report["frames"] == FRAMES, self.report
        assert frames_in(self.output) == FRAMES
        assert sorted(os.listdir(self.output.parent)) == [self.output.name]


@pytest.fixture
def other(tmp_path):
    clip(tmp_path / "other.mp4", SECONDS)
    run = Other(tmp_path / "other.mp4", tmp_path / "other" / "out.mp4")
    try:
        run.started()
        yield run
    finally:
        run.thread.join()


@needs_video
def test_ctrl_c_in_one_thread_leaves_another_threads_run_going(tmp_path, other):
    clip(tmp_path / "mine.mp4", SECONDS)
    out = tmp_path / "mine" / "out.mp4"
    timer = threading.Timer(0.5, signal.raise_signal, args=(signal.SIGINT,))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            tessera.process(tmp_path / "mine.mp4", out, CHAIN, "cpu", preset="ultrafast")
    finally:
        timer.cancel()
    assert other.thread.is_alive(), "the other run ended before the stop: make its clip longer"
    assert not out.parent.exists(), "the stopped run left something behind"
    other.finished_whole()


@needs_video
def test_a_stopped_batch_leaves_another_threads_run_going(tmp_path, other):
    folder = tmp_path / "batch"
    folder.mkdir()
    clip(folder / "a.mp4", 0.4)
    clip(folder / "b.mp4", SECONDS)

    def progress(done, total, entry):
        raise RuntimeError("enough")

    # a.mp4 is through and b.mp4 is running when the callback stops the batch.
    with pytest.raises(RuntimeError, match="enough"):
        tessera.process_batch(folder, tmp_path / "out", CHAIN, "cpu", jobs=1, progress=progress,
                              preset="ultrafast")
    assert other.thread.is_alive(), "the other run ended before the stop: make its clip longer"
    # The batch's own running file stopped and left nothing.
    assert sorted(os.listdir(tmp_path / "out")) == ["a.mp4"]
    other.finished_whole()
