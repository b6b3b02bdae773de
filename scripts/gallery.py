#!/usr/bin/env python3
"""Writes docs/gallery.md: every filter of the registry, its first example run on one scene.

The filters and their examples come from `tessera filters --json`, so a new filter appears here
without editing anything, and `tests/gallery.rs` fails when the page no longer matches the
registry. The scene is rendered by scripts/scene.py (deterministic, no packages). Each example
runs through the binary on the CPU backend; a chain that depends on time (it names `t` or `n`,
or the filter is one of TIMED) runs on a two-second clip of the scene and is shown at 1 s; a
temporal filter (tmix, hqdn3d) runs on a clip of the scene scrolling sideways under moving grain,
so that what it does with past frames shows.
Thumbnails are JPEG, or PNG where the result has alpha; the picture before is the same for every
filter and stored once.

    python3 scripts/gallery.py                    # builds target/release/tessera if needed
    python3 scripts/gallery.py --tessera PATH     # uses that binary
    python3 scripts/gallery.py --only gblur,eq    # redoes some pictures, keeps the others

A filter whose example fails stops the script with the binary's message: the page is never
written with a hole in it.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PICTURES = DOCS / "gallery"
PAGE = DOCS / "gallery.md"
WORK = ROOT / "target" / "gallery"
THUMB_WIDTH = 256
# Filters whose effect shows only over time, whatever their example says.
TIMED = {"fade"}
# Filters that mix past frames into each one: shown on a moving, grainy clip.
TEMPORAL = {"tmix", "hqdn3d"}
# The moment of the clip that timed chains are shown at, in seconds.
SHOWN_AT = 1.0


def run(argv, what):
    p = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"gallery: {what} failed ({p.returncode}): {' '.join(map(str, argv))}\n{p.stderr.strip()}")
    return p.stdout


def tessera_binary(path):
    if path:
        return Path(path).resolve()
    run(["cargo", "build", "--release", "--locked", "--quiet"], "building tessera")
    meta = json.loads(run(["cargo", "metadata", "--format-version", "1", "--no-deps"], "cargo metadata"))
    return Path(meta["target_directory"]) / "release" / "tessera"


def scene():
    """The scene, rendered again only when scene.py changed."""
    WORK.mkdir(parents=True, exist_ok=True)
    png = WORK / "scene.png"
    stamp = WORK / "scene.stamp"
    source = (ROOT / "scripts" / "scene.py").read_bytes()
    key = hashlib.sha256(source).hexdigest()
    if not png.exists() or not stamp.exists() or stamp.read_text() != key:
        run([sys.executable, "scripts/scene.py", str(png)], "rendering the scene")
        stamp.write_text(key)
    return png


def scene_clip(tess, png):
    """Two seconds of the scene at 10 frames a second, lossless, for chains that follow time."""
    clip = WORK / "scene.mkv"
    if not clip.exists() or clip.stat().st_mtime < png.stat().st_mtime:
        run(["ffmpeg", "-v", "error", "-y", "-loop", "1", "-framerate", "10", "-i", str(png), "-t", "2",
             "-c:v", "ffv1", "-pix_fmt", "yuv444p", str(clip)], "making the clip of the scene")
    return clip


def motion_clip(tess, png):
    """Two seconds of the scene scrolling sideways by 2% of its width a frame, with grain that
    changes every frame, lossless: what temporal filters act on."""
    clip = WORK / "scene-motion.mkv"
    if not clip.exists() or clip.stat().st_mtime < png.stat().st_mtime:
        run(["ffmpeg", "-v", "error", "-y", "-loop", "1", "-framerate", "10", "-i", str(png), "-t", "2",
             "-vf", "scroll=horizontal=0.02,noise=alls=14:allf=t", "-c:v", "ffv1", "-pix_fmt", "yuv444p",
             str(clip)], "making the moving clip of the scene")
    return clip


def has_alpha(png):
    with open(png, "rb") as f:
        head = f.read(26)
    return head[:8] == b"\x89PNG\r\n\x1a\n" and head[25] in (4, 6)


def timed(spec, example):
    return spec["name"] in TIMED | TEMPORAL or re.search(r"\b[tn]\b", example) is not None


def thumbnail(tess, source, chain, out_stem):
    """Runs `chain` on `source` (a still) and writes a thumbnail, JPEG or PNG with alpha."""
    with tempfile.TemporaryDirectory() as tmp:
        full = Path(tmp) / "full.png"
        run([str(tess), "process", str(source), "-o", str(full), "--backend", "cpu", "-q", "--overwrite",
             "--chain", f"{chain} | scale(width={THUMB_WIDTH})" if chain else f"scale(width={THUMB_WIDTH})"],
            f"`{chain}`")
        ext = ".png" if has_alpha(full) else ".jpg"
        out = out_stem.with_suffix(ext)
        for old in (out_stem.with_suffix(".png"), out_stem.with_suffix(".jpg")):
            old.unlink(missing_ok=True)
        if ext == ".png":
            shutil.copyfile(full, out)
        else:
            run([str(tess), "process", str(full), "-o", str(out), "-q", "--overwrite"], f"thumbnail of `{chain}`")
    return out


def timed_thumbnail(tess, clip, chain, out_stem):
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "out.mkv"
        run([str(tess), "process", str(clip), "-o", str(video), "--backend", "cpu", "-q", "--overwrite",
             "--codec", "ffv1", "--chain", chain], f"`{chain}` on the clip")
        frame = Path(tmp) / "frame.png"
        run(["ffmpeg", "-v", "error", "-y", "-ss", str(SHOWN_AT), "-i", str(video), "-frames:v", "1", str(frame)],
            "taking a frame of the clip")
        return thumbnail(tess, frame, "", out_stem)


def cell(text):
    return text.replace("|", "\\|")


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tessera", help="the binary to use (default: build target/release/tessera)")
    p.add_argument("--only", help="comma-separated filters whose pictures are made again")
    a = p.parse_args(argv)
    tess = tessera_binary(a.tessera)
    registry = json.loads(run([str(tess), "filters", "--json"], "tessera filters --json"))["filters"]
    only = set(a.only.split(",")) if a.only else None
    unknown = (only or set()) - {f["name"] for f in registry}
    if unknown:
        sys.exit(f"gallery: no such filter: {', '.join(sorted(unknown))}")
    PICTURES.mkdir(parents=True, exist_ok=True)
    png = scene()
    before = thumbnail(tess, png, "", PICTURES / "scene")
    moving = None
    rows = []
    for spec in registry:
        name, example = spec["name"], spec["examples"][0]
        stem = PICTURES / name
        existing = [s for s in (stem.with_suffix(".jpg"), stem.with_suffix(".png")) if s.exists()]
        if only is not None and name not in only and existing:
            after = existing[0]
        elif name in TEMPORAL:
            after = timed_thumbnail(tess, motion_clip(tess, png), example, stem)
        elif timed(spec, example):
            after = timed_thumbnail(tess, scene_clip(tess, png), example, stem)
        else:
            after = thumbnail(tess, png, example, stem)
        if name in TEMPORAL:
            note = f" (at t = {SHOWN_AT:g} s of a moving, grainy clip)"
        elif timed(spec, example):
            note = f" (at t = {SHOWN_AT:g} s of a clip)"
        else:
            note = ""
        shown_before = before
        if name in TEMPORAL:
            # The same frame of the moving clip, unfiltered.
            if moving is None:
                moving = timed_thumbnail(tess, motion_clip(tess, png), "", PICTURES / "scene-motion")
            shown_before = moving
        print(f"{name}: {example}{note} -> {after.relative_to(ROOT)}")
        rows.append((spec, example, after, note, shown_before))
    known = {r[2].name for r in rows} | {r[4].name for r in rows}
    for stale in PICTURES.iterdir():
        if stale.name not in known:
            stale.unlink()

    lines = [
        "# Gallery",
        "",
        "Every filter of the registry, its first example (`tessera filters` shows it as `e.g.`) run",
        "on the same scene with the CPU backend; the GPU backend gives the same picture to within one",
        "code value. Written by `python3 scripts/gallery.py` from `tessera filters --json`;",
        "`tests/gallery.rs` fails when a filter or an example is missing here. The scene is",
        "rendered by `scripts/scene.py`. Chains that follow time run on a two-second clip of it and",
        f"are shown at {SHOWN_AT:g} s; temporal filters run on a clip of it scrolling sideways under",
        f"moving grain. Pictures are {THUMB_WIDTH} pixels wide.",
        "",
        "| filter | example | before | after |",
        "| --- | --- | --- | --- |",
    ]
    for spec, example, after, note, shown_before in rows:
        lines.append(
            f"| **{spec['name']}**<br>{cell(spec['summary'])} | `{cell(example)}`{note} "
            f"| <img src=\"gallery/{shown_before.name}\" width=\"{THUMB_WIDTH}\" alt=\"the scene\"> "
            f"| <img src=\"gallery/{after.name}\" width=\"{THUMB_WIDTH}\" alt=\"{spec['name']}\"> |")
    lines.append("")
    PAGE.write_text("\n".join(lines))
    total = sum(f.stat().st_size for f in PICTURES.iterdir())
    print(f"wrote {PAGE.relative_to(ROOT)}: {len(rows)} filters, {total / 1024:.0f} KiB of pictures")


if __name__ == "__main__":
    main(sys.argv[1:])
