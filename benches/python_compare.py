#!/usr/bin/env python3
"""Side-by-side benchmark of the `tessera` Python package against the Python libraries its users
would otherwise reach for, on the same machine, in one run.

Four cases (issue 16):

- read: a 1080p H.264 clip read into RGB numpy frames, against PyAV, OpenCV's VideoCapture and
  decord (when a wheel installs for this Python);
- blur: gblur σ=3 on 100 1080p RGB numpy frames, against OpenCV's and Pillow's GaussianBlur;
- batch: 200 camera-sized JPEGs made into 800 px wide WebPs, two at a time, against pyvips'
  thumbnail and Pillow, each in a pool of two Python threads;
- threads: N calls of `Chain.apply` from one Python thread against two threads doing half each.

Every measurement is a fresh Python process (this file, `--worker`, run by the virtual
environment's interpreter): it loads its inputs, then times only the work (Python's
`time.perf_counter` around the loop, not the interpreter's start or the imports). Its peak
memory is the process's maximum resident set size, read from `os.wait4`'s rusage. Rounds are
interleaved: in each round every case runs each of its sides once, the order of the sides rotated
from case to case and from round to round, so slow drifts of the machine fall on all sides alike.
The report gives medians over the rounds.

The script makes its own virtual environment in target/pybench/venv, installs what is missing
there from PyPI (numpy, av, opencv-python-headless, Pillow, pyvips, decord if it installs), and
tessera itself from a release wheel built once with `maturin build --release` and cached in
target/pybench/wheels (`--rebuild` builds it again). Inputs are made with FFmpeg's testsrc2 and
cached under target/pybench/; the batch's photos are benches/compare.py's, in target/compare/.

Results go to target/pybench/report.md; `--out docs` merges them as the section
"## Python peers (date)" into docs/benchmarks.md, keeping every other section as it is.

Outside its virtual environment the script uses only Python's standard library.
"""

import argparse
import datetime
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compare  # noqa: E402  (benches/compare.py: the batch's photos and the report's helpers)
from compare import BenchError, fmt_load, loadavg, log, md_table, rel, show, tail, text_table  # noqa: E402

ROOT = compare.ROOT
WORK = ROOT / "target" / "pybench"
VENV = WORK / "venv"
PYTHON = VENV / "bin" / "python"
WHEELS = WORK / "wheels"
SAMPLES = WORK / "samples"
DOCS = ROOT / "docs" / "benchmarks.md"
SECTION = "## Python peers"

# PyPI names of the peers, by the module each provides; decord is tried, not required.
REQUIRED = {"numpy": "numpy", "av": "av", "cv2": "opencv-python-headless", "PIL": "Pillow",
            "pyvips": "pyvips"}
OPTIONAL = {"decord": "decord"}

FULL = {"clip_seconds": 10, "blur_frames": 100, "batch": 200, "calls": 96, "rounds": 3}
QUICK = {"clip_seconds": 2, "blur_frames": 10, "batch": 12, "calls": 8, "rounds": 1}
FPS = 25
SIGMA = 3
THUMB_WIDTH = compare.THUMB_WIDTH
WEBP_QUALITY = 75
# The frame each side keeps for the output check (of the read and blur cases).
CHECK_FRAME = 40
# Frames the threads case cycles through.
THREAD_FRAMES = 8

CASE_IDS = ["read", "blur", "batch", "threads"]

# The clip says its colours are BT.709's, as an HD camera's or an encoder's usually do. Untagged,
# its RGB would differ by the choice of matrix, not by a side's work: tessera takes untagged video
# of 720 lines or more as BT.709 (docs/video.md, as players do), swscale (PyAV, OpenCV, decord)
# as BT.601, which on testsrc2 gave 24.3 dB between them. Tagged, all four agree exactly.
TAGS = ["-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709"]


# --------------------------------------------------------------------------------------------
# the cases: what each side runs, and which side the target compares tessera with


class Side:
    def __init__(self, sid, label, env=None, breakdown=False):
        self.id = sid
        self.label = label
        self.env = env or {}
        self.breakdown = breakdown  # a partial measurement that explains another, not a peer
        self.samples = []           # (work seconds, items, peak RSS KiB)

    def median(self, index):
        return statistics.median(s[index] for s in self.samples)

    def rate(self):
        return statistics.median(s[1] / s[0] for s in self.samples)


class Case:
    def __init__(self, cid, title, unit, sides, params, target):
        self.id = cid
        self.title = title
        self.unit = unit          # "frames", "files", "calls"
        self.sides = sides
        self.params = params      # passed to every worker of the case
        self.target = target      # text of the target
        self.checks = []

    def side(self, sid):
        return next((s for s in self.sides if s.id == sid), None)


def build_cases(selected, cfg, clip, frames_npy, batch_files, have_decord):
    cases = []
    if "read" in selected:
        sides = [Side("tessera", "tessera `open` + `to_numpy(\"rgb24\")`"),
                 Side("pyav", "PyAV, thread_type AUTO, `to_ndarray(format=\"rgb24\")`"),
                 Side("opencv", "OpenCV `VideoCapture.read()` (BGR, as it comes)")]
        if have_decord:
            sides.append(Side("decord", "decord `VideoReader.next().asnumpy()`"))
        sides += [Side("opencv_rgb", "OpenCV `read()` + `cvtColor(BGR2RGB)`", breakdown=True),
                  Side("tessera_frames", "tessera `open`, frames not converted", breakdown=True),
                  Side("pyav_frames", "PyAV, frames not converted", breakdown=True)]
        cases.append(Case(
            "read", f"Read a 1080p H.264 clip ({cfg['clip_seconds'] * FPS} frames) into RGB "
            "numpy frames", "frames", sides, {"clip": str(clip)},
            "≥ the fastest peer's frames/s"))
    if "blur" in selected:
        cases.append(Case(
            "blur", f"gblur σ={SIGMA} on {cfg['blur_frames']} 1080p RGB numpy frames", "frames",
            [Side("tessera", f"tessera `Chain(\"gblur(sigma={SIGMA})\").apply(f, backend=\"cpu\")`"),
             Side("opencv", f"OpenCV `GaussianBlur(f, (0, 0), sigmaX={SIGMA})`"),
             Side("pillow", f"Pillow `fromarray(f).filter(GaussianBlur(radius={SIGMA}))` → numpy")],
            {"frames": str(frames_npy), "count": cfg["blur_frames"]}, "≥ OpenCV's frames/s"))
    if "batch" in selected:
        out = WORK / "run" / "batch"
        cases.append(Case(
            "batch", f"{len(batch_files)} photos ({compare.PHOTO[0]}×{compare.PHOTO[1]} JPEG) → "
            f"{THUMB_WIDTH} px wide WebP (quality {WEBP_QUALITY}), two at a time", "files",
            [Side("tessera", "tessera `process_batch(..., jobs=2)`"),
             Side("pyvips", "pyvips `Image.thumbnail` + `webpsave`, 2 Python threads"),
             Side("pillow", "Pillow `thumbnail` + `save(\"WEBP\")`, 2 Python threads")],
            {"files": [str(p) for p in batch_files], "out": str(out)}, "≥ pyvips' files/s"))
    if "threads" in selected:
        calls = cfg["calls"]
        cases.append(Case(
            "threads", f"{calls} calls of `Chain(\"gblur(sigma={SIGMA})\").apply` on 1080p RGB "
            "frames: one Python thread, then two doing half each", "calls",
            [Side("one_t1", "1 Python thread, `apply(..., threads=1)`"),
             Side("two_t1", "2 Python threads, `apply(..., threads=1)`"),
             Side("one", "1 Python thread, `apply(...)` (the shared pool, a thread a core)"),
             Side("two", "2 Python threads, `apply(...)` (the shared pool, a thread a core)")],
            {"frames": str(frames_npy), "calls": calls}, "2 threads ≥ 1.7× 1 thread"))
    return cases


# --------------------------------------------------------------------------------------------
# the worker: one measurement, run by the virtual environment's Python


def worker(spec):
    """Runs one side of one case; prints its result as a JSON line starting with RESULT."""
    case, side, params = spec["case"], spec["side"], spec["params"]
    fn = {"read": work_read, "blur": work_blur, "batch": work_batch,
          "threads": work_threads}[case]
    seconds, items, sample = fn(side, params)
    if sample is not None:
        import numpy as np
        SAMPLES.mkdir(parents=True, exist_ok=True)
        np.save(SAMPLES / f"{case}-{side}.npy", sample)
    print("RESULT " + json.dumps({"seconds": seconds, "items": items}), flush=True)


def work_read(side, p):
    clip = p["clip"]
    sample = None
    n = 0
    if side in ("tessera", "tessera_frames"):
        import tessera
        convert = side == "tessera"
        start = time.perf_counter()
        with tessera.open(clip, backend="cpu") as video:
            for frame in video:
                if convert:
                    rgb = frame.to_numpy("rgb24")
                    if n == CHECK_FRAME:
                        sample = rgb
                n += 1
        seconds = time.perf_counter() - start
    elif side in ("pyav", "pyav_frames"):
        import av
        convert = side == "pyav"
        start = time.perf_counter()
        with av.open(clip) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for frame in container.decode(stream):
                if convert:
                    rgb = frame.to_ndarray(format="rgb24")
                    if n == CHECK_FRAME:
                        sample = rgb
                n += 1
        seconds = time.perf_counter() - start
    elif side in ("opencv", "opencv_rgb"):
        import cv2
        to_rgb = side == "opencv_rgb"
        start = time.perf_counter()
        cap = cv2.VideoCapture(clip)
        while True:
            ok, img = cap.read()
            if not ok:
                break
            if to_rgb:
                img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
            if n == CHECK_FRAME:
                sample = img if to_rgb else img[..., ::-1]  # the check compares RGB
            n += 1
        cap.release()
        seconds = time.perf_counter() - start
    elif side == "decord":
        import decord
        start = time.perf_counter()
        reader = decord.VideoReader(clip, ctx=decord.cpu(0))
        for _ in range(len(reader)):
            rgb = reader.next().asnumpy()
            if n == CHECK_FRAME:
                sample = rgb
            n += 1
        seconds = time.perf_counter() - start
    else:
        raise ValueError(side)
    return seconds, n, sample


def load_frames(path, count):
    """The first `count` frames of the .npy file, read into memory before any timing."""
    import numpy as np
    frames = np.load(path, mmap_mode="r")
    if count < len(frames):
        return [np.array(frames[i]) for i in range(count)]
    # All of them: read, not mapped, so that the peak memory holds them once.
    return list(np.load(path))


def work_blur(side, p):
    frames = load_frames(p["frames"], p["count"])
    if side == "tessera":
        import tessera
        chain = tessera.Chain(f"gblur(sigma={SIGMA})")

        def blur(f):
            return chain.apply(f, backend="cpu")
    elif side == "opencv":
        import cv2

        def blur(f):
            return cv2.GaussianBlur(f, (0, 0), sigmaX=SIGMA)
    elif side == "pillow":
        import numpy as np
        from PIL import Image, ImageFilter
        kernel = ImageFilter.GaussianBlur(radius=SIGMA)

        def blur(f):
            return np.asarray(Image.fromarray(f).filter(kernel))
    else:
        raise ValueError(side)
    sample = None
    start = time.perf_counter()
    for i, f in enumerate(frames):
        out = blur(f)
        if i == min(CHECK_FRAME, len(frames) - 1):
            sample = out
    seconds = time.perf_counter() - start
    return seconds, len(frames), sample


def work_batch(side, p):
    from concurrent.futures import ThreadPoolExecutor
    files = [Path(f) for f in p["files"]]
    out = Path(p["out"]) / side
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    if side == "tessera":
        import tessera
        start = time.perf_counter()
        report = tessera.process_batch([str(f) for f in files], str(out / "{stem}.webp"),
                                       f"scale(width={THUMB_WIDTH})", backend="cpu", jobs=2,
                                       quality=WEBP_QUALITY)
        seconds = time.perf_counter() - start
        if report["processed"] != len(files) or report["failed"]:
            raise RuntimeError(f"tessera's batch: {report['processed']} processed, "
                               f"{report['failed']} failed")
    else:
        if side == "pyvips":
            import pyvips

            def one(f):
                image = pyvips.Image.thumbnail(str(f), THUMB_WIDTH)
                image.webpsave(str(out / (f.stem + ".webp")), Q=WEBP_QUALITY)
        elif side == "pillow":
            from PIL import Image

            def one(f):
                with Image.open(f) as image:
                    image.thumbnail((THUMB_WIDTH, THUMB_WIDTH))
                    image.save(out / (f.stem + ".webp"), "WEBP", quality=WEBP_QUALITY)
        else:
            raise ValueError(side)
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(one, files))
        seconds = time.perf_counter() - start
    written = len(list(out.glob("*.webp")))
    if written != len(files):
        raise RuntimeError(f"{side} wrote {written} WebPs of {len(files)}")
    return seconds, len(files), None


def work_threads(side, p):
    import threading
    import tessera
    frames = load_frames(p["frames"], THREAD_FRAMES)
    chain = tessera.Chain(f"gblur(sigma={SIGMA})")
    calls = p["calls"]
    threads = 2 if side.startswith("two") else 1
    own = 1 if side.endswith("_t1") else None
    outs = [None] * threads

    ready = threading.Barrier(threads + 1)

    def run(k):
        # One untimed call on each thread first, so that every thread's pool and backend are
        # made and their buffers in use before the clock starts.
        chain.apply(frames[k], backend="cpu", threads=own)
        ready.wait()
        for i in range(k, calls, threads):
            out = chain.apply(frames[i % len(frames)], backend="cpu", threads=own)
            if i == k:
                outs[k] = out

    pool = [threading.Thread(target=run, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    ready.wait()
    start = time.perf_counter()
    for t in pool:
        t.join()
    seconds = time.perf_counter() - start
    return seconds, calls, outs[0]


def worker_frames(spec):
    """Decodes the clip's first frames into one (N, H, W, 3) uint8 .npy file, with PyAV."""
    import av
    import numpy as np
    frames = []
    with av.open(spec["clip"]) as container:
        for frame in container.decode(video=0):
            frames.append(frame.to_ndarray(format="rgb24"))
            if len(frames) == spec["count"]:
                break
    part = Path(spec["out"] + ".part.npy")
    np.save(part, np.stack(frames))
    part.replace(spec["out"])
    print("RESULT " + json.dumps({"frames": len(frames)}))


def psnr(a, b):
    import numpy as np
    if a.shape != b.shape:
        return None
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * __import__("math").log10(255.0 ** 2 / mse)


def worker_check(spec):
    """Shapes and PSNR of each side's kept output against tessera's (arrays, or the WebPs of
    one photo); prints them as JSON."""
    import numpy as np
    found = {}
    if spec["case"] == "batch":
        from PIL import Image
        files = {side: sorted(Path(spec["out"], side).glob("*.webp")) for side in spec["sides"]}
        counts = {side: len(f) for side, f in files.items()}
        name = files["tessera"][0].name
        arrays = {side: np.asarray(Image.open(Path(spec["out"], side, name)).convert("RGB"))
                  for side in spec["sides"]}
        sizes = {side: sorted({Image.open(f).size for f in fs}) for side, fs in files.items()}
        found["file"] = name
        for side in spec["sides"]:
            found[side] = {"count": counts[side], "sizes": [list(s) for s in sizes[side]],
                           "shape": list(arrays[side].shape),
                           "psnr": psnr(arrays["tessera"], arrays[side])}
    else:
        arrays = {side: np.load(SAMPLES / f"{spec['case']}-{side}.npy")
                  for side in spec["sides"]}
        ref = spec.get("reference", "tessera")
        for side in spec["sides"]:
            found[side] = {"shape": list(arrays[side].shape),
                           "psnr": psnr(arrays[ref], arrays[side])}
    print("RESULT " + json.dumps(found))


def worker_versions(_spec):
    import platform
    found = {"python": platform.python_version()}
    import numpy
    found["numpy"] = numpy.__version__
    import tessera
    found["tessera"] = tessera.__version__
    import av
    libav = av.library_versions.get("libavcodec")
    found["av"] = av.__version__ + (f" (libavcodec {'.'.join(map(str, libav))})" if libav else "")
    import cv2
    build = cv2.getBuildInformation()
    m = re.search(r"avcodec:\s*YES \(([\d.]+)\)", build)
    found["cv2"] = cv2.__version__ + (f" (its own FFmpeg, libavcodec {m.group(1)})" if m else "")
    found["cv2_threads"] = cv2.getNumThreads()
    import PIL
    found["PIL"] = PIL.__version__
    import pyvips
    found["pyvips"] = (f"{pyvips.__version__} ({'API' if pyvips.API_mode else 'ABI'} mode, "
                       f"libvips {pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)})")
    try:
        import decord
        found["decord"] = decord.__version__
    except ImportError:
        pass
    print("RESULT " + json.dumps(found))


# --------------------------------------------------------------------------------------------
# the virtual environment and its packages


def venv_has(module):
    return subprocess.run([str(PYTHON), "-c", f"import {module}"], capture_output=True,
                          cwd=WORK).returncode == 0


def pip(*args, what):
    return compare.run_checked([PYTHON, "-m", "pip", "--disable-pip-version-check", *args], what)


def wheel_stamp(wheel):
    st = wheel.stat()
    return f"{wheel.name} {st.st_size} {st.st_mtime_ns}"


def ensure_venv(rebuild):
    """The virtual environment with every peer and the release wheel of tessera; returns
    (why decord is missing or None, the wheel's build note)."""
    WORK.mkdir(parents=True, exist_ok=True)
    if not PYTHON.exists():
        log(f"making {rel(VENV)}")
        compare.run_checked([sys.executable, "-m", "venv", VENV], "python3 -m venv")
    missing = [pkg for mod, pkg in REQUIRED.items() if not venv_has(mod)]
    if missing:
        log(f"installing {' '.join(missing)} into {rel(VENV)}")
        pip("install", "--quiet", *missing, what="pip install " + " ".join(missing))
    no_decord = None
    if not venv_has("decord"):
        log("trying to install decord")
        proc = subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet",
                               "--disable-pip-version-check", "decord"],
                              capture_output=True, text=True, errors="replace")
        if proc.returncode != 0:
            last = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
            no_decord = (f"`pip install decord` failed for Python "
                         f"{'.'.join(map(str, sys.version_info[:2]))} on this machine: "
                         + (last[-1].strip() if last else f"exit status {proc.returncode}"))
            log("decord: " + no_decord)

    wheels = sorted(WHEELS.glob("tessera-*.whl"))
    note_file = WHEELS / "built-from.txt"
    if rebuild or not wheels:
        if WHEELS.exists():
            shutil.rmtree(WHEELS)
        WHEELS.mkdir(parents=True)
        commit = git_commit()
        # maturin (the package's build backend, as `pip wheel ./python` runs it) called
        # directly builds in the workspace's target/release, so the library and its
        # dependencies compiled for the CLI's release build are reused: minutes, not the
        # quarter of an hour pip's isolated build takes from nothing.
        if not venv_has("maturin"):
            pip("install", "--quiet", "maturin>=1.9.4,<2", what="pip install maturin")
        log(f"building tessera's release wheel (maturin build --release; minutes) at {commit}")
        started = time.monotonic()
        compare.run_checked([PYTHON, "-m", "maturin", "build", "--release", "--locked",
                             "--quiet", "-m", ROOT / "python" / "Cargo.toml", "-o", WHEELS],
                            "maturin build --release")
        wheels = sorted(WHEELS.glob("tessera-*.whl"))
        if not wheels:
            raise BenchError(f"maturin build --release made no wheel in {rel(WHEELS)}")
        note_file.write_text(f"commit {commit}, release profile, built "
                             f"{datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z} in "
                             f"{(time.monotonic() - started) / 60:.0f} min\n")
    wheel = wheels[-1]
    stamp_file = WORK / "installed-wheel.txt"
    if (not venv_has("tessera") or not stamp_file.exists()
            or stamp_file.read_text().strip() != wheel_stamp(wheel)):
        log(f"installing {rel(wheel)}")
        pip("install", "--quiet", "--force-reinstall", "--no-deps", wheel,
            what="pip install the tessera wheel")
        stamp_file.write_text(wheel_stamp(wheel) + "\n")
    note = note_file.read_text().strip() if note_file.exists() else "built from an unknown commit"
    built = re.match(r"commit ([0-9a-f]+)", note)
    if not built or subprocess.run(
            ["git", "diff", "--quiet", built.group(1), "--", "src", "python", "shaders",
             "Cargo.toml", "Cargo.lock", "build.rs"], cwd=ROOT).returncode != 0:
        log(f"note: the cached wheel is {note}; the sources have changed since (--rebuild "
            "builds it again)")
    return no_decord, f"`{wheel.name}`, {note}"


def git_commit():
    try:
        out = compare.run_checked(["git", "rev-parse", "--short", "HEAD"], "git rev-parse").strip()
        dirty = compare.run_checked(["git", "status", "--porcelain", "--untracked-files=no"],
                                    "git status").strip()
        return out + ("+changes" if dirty else "")
    except BenchError:
        return "unknown"


# --------------------------------------------------------------------------------------------
# inputs (cached under target/pybench/)


def clip_command(path, seconds):
    return ["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi",
            "-i", f"testsrc2=size=1920x1080:rate={FPS}", "-t", str(seconds),
            "-c:v", "libx264", "-pix_fmt", "yuv420p", *TAGS, path]


def make_clip(seconds):
    frames = seconds * FPS
    path = WORK / f"testsrc2-1080p{FPS}-{seconds}s-bt709.mp4"
    if path.exists():
        try:
            if compare.probe_clip(path) == (1920, 1080, frames):
                return path
        except BenchError:
            pass
        log(f"{rel(path)} is not as expected: making it again")
    part = path.with_name(path.stem + ".part.mp4")
    argv = clip_command(part, seconds)
    log(f"making {rel(path)}: {show(argv)}")
    compare.run_checked(argv, "making the test clip")
    part.replace(path)
    if compare.probe_clip(path) != (1920, 1080, frames):
        raise BenchError(f"{rel(path)}: ffprobe does not see 1920x1080, {frames} frames")
    return path


def make_frames(clip, count):
    """The clip's first `count` frames as RGB, decoded once (by PyAV) into a .npy file."""
    path = WORK / f"{clip.stem}-first{count}-rgb24.npy"
    expected = 128 + count * 1080 * 1920 * 3
    if path.exists() and abs(path.stat().st_size - expected) < 4096:
        return path
    log(f"decoding {count} frames of {rel(clip)} into {rel(path)}")
    run_worker({"mode": "frames", "clip": str(clip), "count": count, "out": str(path)})
    return path


# --------------------------------------------------------------------------------------------
# measuring


def run_worker(spec, env=None):
    """Runs this file as a worker in the virtual environment; returns (its RESULT, wall
    seconds, peak RSS in KiB from wait4's rusage)."""
    argv = [str(PYTHON), str(Path(__file__).resolve()), "--worker", json.dumps(spec)]
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=err, env=dict(os.environ, **(env or {})))
        out = proc.stdout.read().decode(errors="replace")
        proc.stdout.close()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        errors = err.read().decode(errors="replace")
    line = next((ln for ln in out.splitlines() if ln.startswith("RESULT ")), None)
    if proc.returncode != 0 or line is None:
        shown = {k: v for k, v in spec.items() if k != "params"}
        raise BenchError(f"a worker failed (exit status {proc.returncode}): {json.dumps(shown)}"
                         f"{' with ' + str(env) if env else ''}\n--- its output ---\n"
                         f"{tail(errors + out)}")
    return json.loads(line[len("RESULT "):]), wall, usage.ru_maxrss


def measure(case, side):
    result, _, rss = run_worker({"mode": "run", "case": case.id, "side": side.id,
                                 "params": case.params}, side.env)
    side.samples.append((result["seconds"], result["items"], rss))
    return result


def run_rounds(cases, rounds):
    for r in range(rounds):
        for i, case in enumerate(cases):
            shift = (r + i) % len(case.sides)
            order = case.sides[shift:] + case.sides[:shift]
            for side in order:
                result = measure(case, side)
                log(f"round {r + 1}/{rounds}: {case.id} {side.id}: {result['items']} "
                    f"{case.unit} in {result['seconds']:.2f} s")


def check_outputs(case):
    """Lines saying how the sides' outputs compare with tessera's."""
    if case.id == "threads":
        spec = {"mode": "check", "case": "threads", "sides": [s.id for s in case.sides],
                "reference": "one"}
        found, _, _ = run_worker(spec)
        same = all(v["psnr"] == float("inf") for v in found.values())
        return [f"threads: the first output of every run is {'identical' if same else 'NOT identical'} "
                f"to the one-thread run's ({found['one']['shape']})"]
    sides = [s.id for s in case.sides if case.id == "batch" or s.id not in
             ("tessera_frames", "pyav_frames")]
    spec = {"mode": "check", "case": case.id, "sides": sides}
    if case.id == "batch":
        spec["out"] = case.params["out"]
    found, _, _ = run_worker(spec)
    lines = []
    if case.id == "batch":
        for sid in sides[1:]:
            t, p = found["tessera"], found[sid]
            lines.append(f"batch: tessera wrote {t['count']} WebPs of {fmt_sizes(t['sizes'])}, "
                         f"{sid} {p['count']} of {fmt_sizes(p['sizes'])}; {found['file']}: "
                         f"PSNR tessera vs {sid} {fmt_db(p['psnr'])}")
    else:
        what = f"frame {CHECK_FRAME}" if case.id == "read" else f"blurred frame {CHECK_FRAME}"
        t = found["tessera"]
        for sid in sides[1:]:
            p = found[sid]
            lines.append(f"{case.id}: {what}, tessera {fmt_shape(t['shape'])}, {sid} "
                         f"{fmt_shape(p['shape'])}"
                         + (f" (compared as RGB)" if sid == "opencv" and case.id == "read" else "")
                         + f": PSNR {fmt_db(p['psnr'])}")
    if case.id == "read" and len(sides) > 2:
        # The peers against one another: whether a difference is tessera's alone.
        found, _, _ = run_worker(dict(spec, sides=sides[1:], reference="pyav"))
        lines.append(f"read: frame {CHECK_FRAME}, the peers against PyAV's: " + ", ".join(
            f"{sid} {fmt_db(found[sid]['psnr'])}" for sid in sides[2:]))
    return lines


def fmt_sizes(sizes):
    return ", ".join(f"{w}×{h}" for w, h in sizes)


def fmt_shape(shape):
    return "×".join(map(str, shape))


def fmt_db(value):
    if value is None:
        return "n/a (shapes differ)"
    return "identical (∞ dB)" if value == float("inf") else f"{value:.1f} dB"


# --------------------------------------------------------------------------------------------
# the report


def case_rows(case):
    tess = case.side("tessera")
    rows = []
    for s in case.sides:
        rate = s.rate()
        ratio = f"{tess.rate() / rate:.2f}" if tess and s is not tess else "–"
        rows.append([s.label + (" *" if s.breakdown else ""), f"{s.median(0):.2f}",
                     f"{rate:.1f}", ratio, f"{s.median(2) / 1024:.0f}"])
    return rows


def case_header(case):
    return ["side", "median s", f"{case.unit}/s", "tessera ÷ side (throughput)", "peak MiB"]


def target_rows(cases):
    rows = []
    for case in cases:
        if case.id == "threads":
            for pool, one, two in (("threads=1", "one_t1", "two_t1"),
                                   ("the shared pool", "one", "two")):
                speedup = case.side(two).rate() / case.side(one).rate()
                met = ("yes" if speedup >= 1.7 else "no") if pool == "threads=1" else \
                    "(not the target)"
                rows.append([f"threads, {pool}", f"{speedup:.2f}× (2 threads ÷ 1)",
                             case.target, met])
            continue
        tess = case.side("tessera")
        if case.id == "read":
            peers = [s for s in case.sides if s is not tess and not s.breakdown]
            peer = max(peers, key=lambda s: s.rate())
        else:
            peer = case.side("opencv" if case.id == "blur" else "pyvips")
        ratio = tess.rate() / peer.rate()
        rows.append([case.id, f"{tess.rate():.1f} {case.unit}/s vs {peer.id} {peer.rate():.1f} "
                     f"({ratio:.2f}×)", case.target, "yes" if ratio >= 1.0 else "no"])
    return rows


NOTES = {
    "read": [
        "Every side reads the whole clip and hands out every frame as a (1080, 1920, 3) uint8 "
        "array; the timed part starts before the file is opened.",
        "PyAV: `stream.thread_type = \"AUTO\"` (frame and slice threads, FFmpeg's count: one a "
        "core); `to_ndarray(format=\"rgb24\")` converts with swscale.",
        "OpenCV: `VideoCapture` with its own FFmpeg build, its default threads; `read()` returns "
        "BGR, timed as it comes (the row marked * adds `cvtColor(BGR2RGB)`, what an RGB user "
        "pays).",
        "decord: `VideoReader(path, ctx=cpu(0))`, its default threads; `next()` in order, "
        "`asnumpy()`; its index of the file is built inside the timed part.",
        "tessera: `tessera.open(path, backend=\"cpu\")` with the default `read_ahead=4`, no chain; "
        "`frame.to_numpy(\"rgb24\")`.",
        "Rows marked * are breakdowns, not peers: the same loops without the conversion to RGB, "
        "to show what decoding alone costs each library.",
    ],
    "blur": [
        f"The frames are decoded once (PyAV, rgb24) into a .npy file; each run loads them into "
        f"memory before the clock starts, so every peak memory includes them (about "
        f"{1080 * 1920 * 3 / 2**20:.1f} MiB a frame).",
        f"OpenCV: `GaussianBlur(f, ksize=(0, 0), sigmaX={SIGMA})`: the kernel's size from σ "
        f"(2·round(3σ)+1 = 19 taps for 8-bit), its edges reflected (BORDER_REFLECT_101), its "
        "default threads (`cv2.getNumThreads()`).",
        f"Pillow: `ImageFilter.GaussianBlur(radius={SIGMA})`, where Pillow's `radius` is the "
        "Gaussian's standard deviation, approximated by three passes of a box blur; one thread. "
        "The array's copy into a Pillow image and back (`fromarray`, `asarray`) is timed with it.",
        f"tessera: `Chain(\"gblur(sigma={SIGMA})\").apply(f, backend=\"cpu\")`: the exact Gaussian "
        "to 3σ (radius 9), edges clamped, on its pool of a worker a core; a new array each call.",
    ],
    "batch": [
        "The photos are benches/compare.py's batch: 8 distinct testsrc2 JPEGs, softened and "
        "grained, at `-q:v 2`, the rest hard links to them (read once into the page cache before "
        "the rounds).",
        f"Each side makes {THUMB_WIDTH} px wide WebPs at quality {WEBP_QUALITY} (libwebp's "
        "method 4 on all three), two files at a time.",
        "tessera: `process_batch(files, 'out/{stem}.webp', 'scale(width=800)', backend='cpu', "
        "jobs=2, quality=75)`: its own two jobs with the GIL released, shrink-on-load for JPEG.",
        f"pyvips: `Image.thumbnail(path, {THUMB_WIDTH}).webpsave(out, Q={WEBP_QUALITY})` in a "
        "`ThreadPoolExecutor(2)`; libvips' own thread pool per pipeline at its default "
        "concurrency (a thread a core); shrink-on-load.",
        f"Pillow: `Image.open`, `thumbnail(({THUMB_WIDTH}, {THUMB_WIDTH}))` (its JPEG `draft` "
        f"shrink-on-load, then its default bicubic resampling), `save(..., \"WEBP\", "
        f"quality={WEBP_QUALITY})`, in a `ThreadPoolExecutor(2)`.",
    ],
    "threads": [
        "The same 8 frames, cycled; the chain made once and shared by both threads (a `Chain` is "
        "immutable); one untimed call on each thread first, so that its pool and buffers are "
        "made before the clock starts.",
        "`threads=1`: each call runs on a thread of its own (a pool of one lent to the call), so "
        "two Python threads can use two cores only if the GIL is released while tessera works: "
        "the target's measure.",
        "The shared pool (no `threads=`): one call already spreads its strips over every core, "
        "so a second Python thread has no idle core to use; shown for what a user sees.",
    ],
}


def render(cases, ctx):
    m, v = ctx["machine"], ctx["versions"]
    date = ctx["now"].strftime("%Y-%m-%d")
    lines = [
        f"{SECTION} ({date})",
        "",
        f"Generated by `python3 benches/python_compare.py{(' ' + ctx['args']) if ctx['args'] else ''}` "
        f"on {ctx['now']:%Y-%m-%d %H:%M %Z}; a run with `--out docs` replaces this section and "
        "keeps the rest of the file.",
        "",
        f"- Machine: {m['cpu']}; {m['cores']} logical cores ({m['usable']} usable); "
        f"{m['memory']}; {m['os']}.",
        f"- Load average (1, 5, 15 min): {fmt_load(ctx['load_start'])} at the start, "
        f"{fmt_load(ctx['load_timed'])} when timing began, {fmt_load(ctx['load_end'])} at the "
        "end. The machine is shared with other builds, and the measured runs themselves keep "
        "the cores busy: figures taken with a load average above the core count are noisy.",
        f"- Python {v['python']}; tessera {v['tessera']}, the release wheel {ctx['wheel']}; "
        f"numpy {v['numpy']}; PyAV {v['av']}; OpenCV (opencv-python-headless) {v['cv2']}, "
        f"{v['cv2_threads']} threads; Pillow {v['PIL']}; pyvips {v['pyvips']}; "
        + (f"decord {v['decord']}." if "decord" in v else f"decord: not run ({ctx['no_decord']})."),
        f"- {ctx['rounds']} round{'s' if ctx['rounds'] != 1 else ''}, interleaved: in each round "
        "every case runs each of its sides once, in an order rotated from case to case and "
        "round to round. Each run is a fresh Python process; only its work is timed (not the "
        "interpreter's start, the imports or the loading of numpy inputs). Figures are medians "
        "over the rounds; peak memory is the process's maximum resident set size (`wait4`'s "
        "rusage), imports and inputs included.",
        "- Ratios are tessera's throughput ÷ the side's: above 1 tessera is faster. tessera "
        "always runs with `backend=\"cpu\"`.",
        f"- Inputs: `{rel(ctx['clip'])}` ({compare.describe_clip(ctx['clip'])}, {FPS} fps), "
        f"made by `{show(clip_command(rel(ctx['clip']), ctx['seconds']))}`"
        + (f"; the batch's photos in `{rel(ctx['batch_dir'])}`." if ctx["batch_dir"] else "."),
    ]
    lines += ["", "### Targets", "",
              md_table(["case", "measured", "target", "met"], target_rows(cases), numeric=False),
              ""]
    for case in cases:
        lines += [f"### {case.id}: {case.title}", "", md_table(case_header(case), case_rows(case)),
                  ""]
        lines += [f"- {n}" for n in NOTES[case.id]]
        lines += [f"- Output check: {c}" for c in case.checks]
        lines += ["- Samples (work s / peak MiB), in round order: "
                  + "; ".join(f"{s.id} " + ", ".join(f"{w:.2f}/{k / 1024:.0f}"
                                                     for w, _, k in s.samples)
                              for s in case.sides), ""]
    return "\n".join(lines) + "\n"


def merge_section(path, text):
    """Writes `text` (one `## ` section) into the Markdown file at `path`: in place of an earlier
    section of the same name, else at the end; every other section is kept as it is."""
    if not path.exists():
        path.write_text("# tessera's Python package against its peers\n\n" + text)
        return
    old = path.read_text()
    parts = re.split(r"(?m)^(?=## )", old)
    out, placed = [], False
    for part in parts:
        if part.startswith(SECTION + " (") or part.startswith(SECTION + "\n"):
            if not placed:
                out.append(text + "\n")
                placed = True
            continue
        out.append(part)
    if not placed:
        if not out[-1].endswith("\n\n"):
            out[-1] = out[-1].rstrip("\n") + "\n\n"
        out.append(text)
    path.write_text("".join(out).rstrip("\n") + "\n")


# --------------------------------------------------------------------------------------------


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Benchmark the tessera Python package against PyAV, OpenCV, decord, "
                    "Pillow and pyvips, interleaved, on this machine.",
        epilog="cases: " + ", ".join(CASE_IDS))
    p.add_argument("--rounds", type=int, help="interleaved rounds (default 3; 1 with --quick)")
    p.add_argument("--quick", action="store_true",
                   help="small inputs (a 2 s clip, 10 frames to blur, 12 photos), 1 round: for "
                        "testing the script itself")
    p.add_argument("--only", metavar="CASE", action="append",
                   help="run only these cases (repeat or comma-separate)")
    p.add_argument("--out", metavar="FILE",
                   help="the Markdown file the section is merged into; 'docs' means "
                        "docs/benchmarks.md (default target/pybench/report.md)")
    p.add_argument("--rebuild", action="store_true",
                   help="build tessera's release wheel again (maturin build --release) and reinstall it")
    p.add_argument("--prepare", action="store_true",
                   help="make the virtual environment and the inputs, then exit")
    p.add_argument("--worker", metavar="JSON", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.rounds is not None and args.rounds < 1:
        p.error("--rounds must be at least 1")
    if args.only:
        wanted = [x.strip() for item in args.only for x in item.split(",") if x.strip()]
        unknown = [x for x in wanted if x not in CASE_IDS]
        if unknown:
            p.error(f"unknown case {', '.join(unknown)}; cases: {', '.join(CASE_IDS)}")
        args.only = wanted
    return args


def main(argv):
    args = parse_args(argv)
    if args.worker:
        spec = json.loads(args.worker)
        {"run": worker, "frames": worker_frames, "check": worker_check,
         "versions": worker_versions}[spec["mode"]](spec)
        return 0
    load_start = loadavg()
    cfg = dict(QUICK if args.quick else FULL)
    rounds = args.rounds or cfg["rounds"]
    selected = [c for c in CASE_IDS if not args.only or c in args.only]
    out = DOCS if args.out == "docs" else Path(args.out).resolve() if args.out else \
        WORK / "report.md"

    no_decord, wheel = ensure_venv(args.rebuild)
    have_decord = no_decord is None
    if not shutil.which("ffmpeg") or not shutil.which("ffprobe"):
        raise BenchError("ffmpeg and ffprobe are needed to make the inputs")
    clip = make_clip(cfg["clip_seconds"])
    frames_npy = make_frames(clip, max(cfg["blur_frames"], THREAD_FRAMES)) \
        if {"blur", "threads"} & set(selected) or args.prepare else None
    batch_dir, batch_files = None, []
    if "batch" in selected or args.prepare:
        batch_dir = compare.make_batch(cfg["batch"])
        batch_files = sorted(batch_dir.glob("*.jpg"))
    if args.prepare:
        log("venv and inputs ready")
        return 0

    cases = build_cases(selected, cfg, clip, frames_npy, batch_files, have_decord)
    versions, _, _ = run_worker({"mode": "versions"})
    # Untimed: the inputs into the page cache.
    for path in [clip] + ([frames_npy] if frames_npy else []) + batch_files:
        with open(path, "rb") as f:
            while f.read(1 << 22):
                pass
    load_timed = loadavg()
    if load_timed[0] > 1.5:
        log(f"warning: load average {fmt_load(load_timed)}: the machine is not quiet; "
            "timings will be noisy")
    log(f"timing {len(cases)} case(s), {rounds} round(s); load average {fmt_load(load_timed)}")
    run_rounds(cases, rounds)
    for case in cases:
        case.checks = check_outputs(case)
    load_end = loadavg()

    print(f"\ntessera's Python package vs peers, median of {rounds} round(s); "
          "ratios are tessera's throughput / the side's")
    for case in cases:
        print(f"\n{case.id}: {case.title}")
        print(text_table(case_header(case), case_rows(case)))
        for c in case.checks:
            print("  " + c)
    print("\ntargets")
    print(text_table(["case", "measured", "target", "met"], target_rows(cases)))
    if not have_decord:
        print(f"decord: not run ({no_decord})")
    print(f"load average: {fmt_load(load_start)} at start, {fmt_load(load_timed)} when timing "
          f"began, {fmt_load(load_end)} at end")

    ctx = {"machine": compare.machine_info(), "versions": versions, "wheel": wheel,
           "now": datetime.datetime.now().astimezone(), "args": show(argv), "rounds": rounds,
           "load_start": load_start, "load_timed": load_timed, "load_end": load_end,
           "clip": clip, "seconds": cfg["clip_seconds"], "batch_dir": batch_dir, "no_decord": no_decord}
    out.parent.mkdir(parents=True, exist_ok=True)
    merge_section(out, render(cases, ctx))
    print(f"\nwrote the section '{SECTION} ({ctx['now']:%Y-%m-%d})' into {rel(out)}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BenchError as err:
        print(f"\npython_compare.py: error: {err}\nno report written.", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("\npython_compare.py: interrupted; no report written.", file=sys.stderr)
        sys.exit(130)
