"""examples/dask_batch.py on a LocalCluster of two worker processes: twenty photos and clips
graded as the command line grades them, and one report listing every file."""

import json
import subprocess
import sys

import numpy as np
import pytest

import tessera
from helpers import REPO, cli, picture, write_png

pytest.importorskip("dask.distributed")
needs_video = pytest.mark.skipif(not tessera.VIDEO, reason="built without the video feature")

CHAIN = "gblur(sigma=1.5) | eq(saturation=1.2)"


def frames(path):
    """A video's decoded frames, one hash each (FFmpeg's framemd5)."""
    run = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "framemd5", "-"],
                         capture_output=True, text=True, check=True)
    return [line.split(",")[-1].strip() for line in run.stdout.splitlines() if not line.startswith("#")]


@needs_video
def test_a_folder_on_two_dask_workers_as_the_command_line(tmp_path):
    folder = tmp_path / "shoot"
    folder.mkdir()
    for i in range(14):
        write_png(folder / f"photo{i:02}.png", picture(24 + i, 40 + 2 * i, 3, np.uint8, seed=i))
    for i in range(3):
        subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                        f"testsrc2=size={48 + 8 * i}x40:rate=10,hue=h={60 * i}", "-frames:v", "1",
                        "-q:v", "3", str(folder / f"still{i}.jpg")], check=True)
    for i in range(3):
        subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                        f"testsrc2=size=64x48:rate=10:duration=1,hue=h={90 * i}",
                        "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast",
                        str(folder / f"clip{i}.mp4")], check=True)
    assert len(list(folder.iterdir())) == 20
    template = "{stem}_graded.{ext}"

    run = subprocess.run(
        [sys.executable, str(REPO / "examples" / "dask_batch.py"), str(folder),
         str(tmp_path / "dask" / template), CHAIN, "--workers", "2", "--backend", "cpu",
         "--report", str(tmp_path / "dask.json")],
        capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr
    cli("process", str(folder), "-o", str(tmp_path / "cli" / template), "--chain", CHAIN,
        "--backend", "cpu", "--report", str(tmp_path / "cli.json"), "-q")

    report = json.loads((tmp_path / "dask.json").read_text())
    expected = json.loads((tmp_path / "cli.json").read_text())
    assert report["processed"] == 20 and report["failed"] == 0, report
    assert report["chain"] == expected["chain"]

    def by_input(r, out):
        files = {}
        for f in r["files"]:
            f = {k: v for k, v in f.items() if k != "seconds"}
            f["output"] = f["output"].replace(str(out), "OUT")
            files[f["input"]] = f
        return files

    assert by_input(report, tmp_path / "dask") == by_input(expected, tmp_path / "cli")
    assert sorted(by_input(report, tmp_path / "dask")) == sorted(str(p) for p in folder.iterdir())
    for source in folder.iterdir():
        name = f"{source.stem}_graded{source.suffix}"
        ours, theirs = tmp_path / "dask" / name, tmp_path / "cli" / name
        if source.suffix == ".mp4":
            assert frames(ours) == frames(theirs) and len(frames(ours)) == 10, name
        else:
            # PNG is lossless and JPEG's encoder is deterministic: the same bytes.
            assert ours.read_bytes() == theirs.read_bytes(), name
