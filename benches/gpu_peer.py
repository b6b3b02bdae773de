#!/usr/bin/env python3
"""The PyTorch peer of benches/gpu.rs: the same chains on the same planes, on the same card.

A frame is streamed as a careful PyTorch user would: one pinned host buffer holding the
frame's planes, copied to the GPU with non_blocking copies, computed, and copied back into a
pinned host buffer, on three CUDA streams in turn (tessera keeps three frames in flight), so
that one frame's transfers overlap another's compute; the host waits for a slot's last frame
before reusing it, and for everything at the end of a round. The transfer bound is the same
ring with the compute left out. The figure is the median round, in frames per second.

The work is tessera's, computed in f32 and rounded once at the end (floor(v + 0.5), clamped):
- gblur(sigma=3): a separable Gaussian per plane, radius ceil(3 sigma), weights exp(-i^2 /
  (2 sigma^2)) normalised, edges replicated; on 4:2:0 chroma sigma / 2 on both axes
  (src/plan.rs gaussian_weights and plane_separable, src/filters/stencil.rs);
- the five colour filters: FFmpeg's eq as tessera lowers it (src/filters/color.rs eq_curve),
  per Y'CbCr plane, each filter's curve clamped to 0..255 and nothing rounded between them
  (src/op.rs Curve::apply).
TF32 is turned off so that the convolutions are f32, as tessera's are.

The input is the frame benches/gpu.rs dumped (`--dump DIR`), or, without one, the same pattern
made here. Its output is compared with tessera's dumped GPU and CPU outputs: per plane, the
largest difference in code values, the share of samples that differ and the PSNR.

Without CUDA it says so and runs a few frames on the CPU, to exercise the code, exit status 0.
Without PyTorch it says so and exits 0.

    python3 benches/gpu_peer.py --dump DIR --frames 300 --rounds 3 --json peer.json
"""

import argparse
import json
import math
import os
import sys
import time

try:
    import numpy as np
except ImportError:
    print("gpu_peer: numpy is not installed; nothing to do")
    sys.exit(0)
try:
    import torch
    import torch.nn.functional as F
except ImportError:
    print("gpu_peer: PyTorch is not installed; nothing to do")
    sys.exit(0)

IN_FLIGHT = 3

# (layout, height, case): the cases of benches/gpu.rs that the peer runs, most wanted first.
CASES = [
    ("yuv420p", 1080, "gblur3"),
    ("yuv420p", 1080, "colour5"),
    ("yuv420p", 2160, "gblur3"),
    ("yuv420p", 2160, "colour5"),
    ("rgb", 1080, "gblur3"),
]


def plane_sizes(layout, width, height):
    """(height, width) of each plane."""
    if layout == "yuv420p":
        c = ((height + 1) // 2, (width + 1) // 2)
        return [(height, width), c, c]
    return [(height, width)] * 3


def test_frame(layout, width, height):
    """benches/gpu.rs test_frame: the same f64 arithmetic, uint32 wrapping, truncation."""
    planes = []
    for p, (h, w) in enumerate(plane_sizes(layout, width, height)):
        x = np.arange(w, dtype=np.int64)
        y = np.arange(h, dtype=np.int64)
        u = x.astype(np.float64) / w
        t = y.astype(np.float64) / h
        smooth = (90.0 + 70.0 * u)[None, :] + (40.0 * np.sin(6.0 * t + p))[:, None]
        edge = np.where(((x[None, :] // 97 + y[:, None] // 61) % 3) == 0, 30.0, 0.0)
        hx = x.astype(np.uint32) * np.uint32(2654435761)
        hy = y.astype(np.uint32) * np.uint32(40503)
        hashed = hx[None, :] ^ hy[:, None]
        texture = ((hashed >> np.uint32(13)) % np.uint32(17)).astype(np.float64) - 8.0
        v = np.clip(smooth + edge + texture, 0.0, 255.0).astype(np.uint8)
        planes.append(v)
    return np.concatenate([p.reshape(-1) for p in planes])


def gaussian_weights(sigma):
    """src/plan.rs gaussian_weights: radius ceil(3 sigma), normalised in f64, stored as f32."""
    radius = math.ceil(3.0 * sigma)
    raw = [math.exp(-(i * i) / (2.0 * sigma * sigma)) for i in range(-radius, radius + 1)]
    total = sum(raw)
    return np.array([w / total for w in raw], dtype=np.float32)


def trunc_div(a, b):
    """Rust's integer division (towards zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def eq_curve(contrast, brightness):
    """src/filters/color.rs eq_curve for gamma 1: FFmpeg eq's integer coefficients, as
    (scale, offset) applied as x * scale + offset, or None for the identity."""
    c32 = float(np.float32(contrast))
    b32 = float(np.float32(brightness))
    if c32 == 1.0 and b32 == 0.0:
        return None
    assert abs(c32) < 7.9
    c = int(c32 * 256.0 * 16.0)
    b = trunc_div(int(100.0 * b32 + 100.0) * 511, 200) - 128 - trunc_div(c, 32)
    return (float(np.float32(c / 4096.0)), float(np.float32(b)) - 0.5)


def colour5_curves():
    """eq(brightness=0.05) | eq(contrast=1.2) | grayscale | invert | eq(saturation=1.3) on
    limited-range 8-bit Y'CbCr: the curves of luma and of chroma, in order."""
    luma, chroma = [], []
    for c, b, s in [(1.0, 0.05, 1.0), (1.2, 0.0, 1.0)]:
        luma.append(eq_curve(c, b))
        chroma.append(eq_curve(s, 0.0))
    chroma.append((0.0, 128.0))  # grayscale
    luma.append((-1.0, 16.0 + 235.0))  # invert, limited range
    chroma.append((-1.0, 256.0))
    luma.append(None)  # eq(saturation=1.3)
    chroma.append(eq_curve(1.3, 0.0))
    return [c for c in luma if c], [c for c in chroma if c]


def codes(v):
    """f32 code values to uint8: rounded to the nearest (halves up), clamped."""
    return torch.floor(v + 0.5).clamp_(0.0, 255.0).to(torch.uint8)


class Work:
    """One case's compute on one device: planes of a flat uint8 frame in, the same out."""

    def __init__(self, layout, width, height, case, device):
        self.sizes = plane_sizes(layout, width, height)
        self.offsets = np.cumsum([0] + [h * w for h, w in self.sizes]).tolist()
        self.layout, self.case, self.device = layout, case, device
        if case == "gblur3":
            sigma = 3.0
            scale = 2.0 if layout == "yuv420p" else 1.0
            self.kernels = [self.kernel(sigma), self.kernel(sigma / scale)]
        elif case == "colour5":
            assert layout == "yuv420p"
            self.curves = colour5_curves()
        else:
            raise ValueError(case)

    def kernel(self, sigma):
        w = torch.from_numpy(gaussian_weights(sigma)).to(self.device)
        n = w.numel()
        return (w.view(1, 1, 1, n), w.view(1, 1, n, 1), n // 2)

    def plane(self, flat, p):
        h, w = self.sizes[p]
        return flat[self.offsets[p] : self.offsets[p + 1]].view(h, w)

    def blur(self, x, kernel):
        """x: (n, 1, h, w) f32; separable, replicated edges, unrounded between the axes."""
        kh, kv, r = kernel
        x = F.conv2d(F.pad(x, (r, r, 0, 0), mode="replicate"), kh)
        return F.conv2d(F.pad(x, (0, 0, r, r), mode="replicate"), kv)

    def run(self, src, dst):
        """src, dst: flat uint8 frames on the device."""
        if self.case == "gblur3":
            if self.layout == "yuv420p":
                y = self.plane(src, 0).float()[None, None]
                self.plane(dst, 0).copy_(codes(self.blur(y, self.kernels[0]))[0, 0])
                uv = src[self.offsets[1] : self.offsets[3]].view(2, 1, *self.sizes[1]).float()
                out = codes(self.blur(uv, self.kernels[1]))
                dst[self.offsets[1] : self.offsets[3]].copy_(out.view(-1))
            else:
                rgb = src.view(3, 1, *self.sizes[0]).float()
                dst.copy_(codes(self.blur(rgb, self.kernels[0])).view(-1))
        else:
            luma, chroma = self.curves
            y = self.plane(src, 0).float()
            for scale, offset in luma:
                y = (y * scale + offset).clamp_(0.0, 255.0)
            self.plane(dst, 0).copy_(codes(y))
            uv = src[self.offsets[1] : self.offsets[3]].float()
            for scale, offset in chroma:
                uv = (uv * scale + offset).clamp_(0.0, 255.0)
            dst[self.offsets[1] : self.offsets[3]].copy_(codes(uv))


class Ring:
    """IN_FLIGHT slots, each a stream, device buffers, a pinned result and an event."""

    def __init__(self, nbytes, device):
        self.cuda = device.type == "cuda"
        pin = self.cuda
        self.slots = []
        for _ in range(IN_FLIGHT):
            self.slots.append(
                {
                    "stream": torch.cuda.Stream() if self.cuda else None,
                    "src": torch.empty(nbytes, dtype=torch.uint8, device=device),
                    "dst": torch.empty(nbytes, dtype=torch.uint8, device=device),
                    "out": torch.empty(nbytes, dtype=torch.uint8, pin_memory=pin),
                    "event": None,
                }
            )

    def stream(self, host, n, work, budget):
        """Up to n frames (fewer if budget seconds run out); frames done and seconds."""
        start = time.perf_counter()
        done = 0
        for k in range(n):
            if time.perf_counter() - start > budget:
                break
            s = self.slots[k % IN_FLIGHT]
            if s["event"] is not None:
                s["event"].synchronize()  # the slot's last frame is back on the host
            if self.cuda:
                with torch.cuda.stream(s["stream"]):
                    self.one(s, host, work)
                    s["event"] = torch.cuda.Event()
                    s["event"].record(s["stream"])
            else:
                self.one(s, host, work)
            done += 1
        if self.cuda:
            torch.cuda.synchronize()
        for s in self.slots:
            s["event"] = None
        return done, time.perf_counter() - start

    @staticmethod
    def one(s, host, work):
        s["src"].copy_(host, non_blocking=True)
        if work is None:
            s["out"].copy_(s["src"], non_blocking=True)
        else:
            work.run(s["src"], s["dst"])
            s["out"].copy_(s["dst"], non_blocking=True)


def timed(ring, host, n, rounds, work, budget):
    started = time.perf_counter()
    ring.stream(host, max(1, min(2 * IN_FLIGHT, n // 10)), work, budget)
    result = {"rounds_fps": [], "rounds_frames": [], "cut_by_budget": False}
    for _ in range(rounds):
        left = budget - (time.perf_counter() - started)
        if left <= 0:
            result["cut_by_budget"] = True
            break
        done, secs = ring.stream(host, n, work, left)
        result["cut_by_budget"] |= done < n
        if done:
            result["rounds_fps"].append(done / secs)
            result["rounds_frames"].append(done)
    fps = sorted(result["rounds_fps"])
    if fps:
        m = len(fps) // 2
        med = fps[m] if len(fps) % 2 else (fps[m - 1] + fps[m]) / 2
        result["fps"], result["ms_per_frame"] = med, 1000.0 / med
    else:
        result["fps"] = result["ms_per_frame"] = None
    return result


def compare(ours, theirs, sizes):
    """Per plane: largest difference, share of samples that differ, PSNR (dB)."""
    out = {"max_abs_diff": [], "differing_share": [], "psnr_db": []}
    at = 0
    for h, w in sizes:
        a = ours[at : at + h * w].astype(np.int32)
        b = theirs[at : at + h * w].astype(np.int32)
        at += h * w
        d = np.abs(a - b)
        mse = float(np.mean(d.astype(np.float64) ** 2))
        out["max_abs_diff"].append(int(d.max()))
        out["differing_share"].append(float(np.mean(d > 0)))
        out["psnr_db"].append(None if mse == 0 else 10 * math.log10(255.0**2 / mse))
    return out


def load_manifest(folder):
    if not folder:
        return []
    try:
        with open(os.path.join(folder, "manifest.json")) as f:
            return json.load(f).get("frames", [])
    except (OSError, ValueError) as e:
        print(f"gpu_peer: no dump read from {folder} ({e}); the input is made here")
        return []


def read_raw(folder, name, nbytes):
    if not folder or not name:
        return None
    try:
        data = np.fromfile(os.path.join(folder, name), dtype=np.uint8)
    except OSError:
        return None
    return data if data.size == nbytes else None


def fmt(v, digits=1):
    return "-" if v is None else f"{v:.{digits}f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dump", help="the folder benches/gpu.rs --dump wrote")
    ap.add_argument("--frames", type=int, default=300, help="frames a round at 1080p")
    ap.add_argument("--frames-2160", type=int, default=0, help="frames a round at 2160p")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--budget", type=float, default=8.0, help="seconds a case may take")
    ap.add_argument("--quick", action="store_true", help="a few frames, one round")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()

    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    if cuda:
        torch.backends.cudnn.benchmark = True
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
        name = torch.cuda.get_device_name(0)
    else:
        print("gpu_peer: CUDA is not available; a few frames on the CPU, to exercise the code")
        args.quick = True
        name = "cpu"
    if args.quick:
        args.frames, args.frames_2160, args.rounds = min(args.frames, 4), 2, 1
    if args.frames_2160 <= 0:
        args.frames_2160 = max(1, args.frames * 2 // 5)
    print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, device {name}")
    print(
        f"frames a round: {args.frames} at 1080p, {args.frames_2160} at 2160p; "
        f"{args.rounds} rounds"
    )
    manifest = load_manifest(args.dump)
    print()
    head = f"{'case':<26} {'torch fps':>9} {'ms/frame':>8} {'bus fps':>9} {'torch/bus':>9}"
    print(head + "  vs tessera GPU: max diff per plane, PSNR dB")

    results = []
    for layout, height, case in CASES:
        width = height * 16 // 9
        label = f"{layout} {height}p {case}"
        sizes = plane_sizes(layout, width, height)
        nbytes = sum(h * w for h, w in sizes)
        entry = next(
            (
                e
                for e in manifest
                if e.get("case") == case
                and e.get("height") == height
                and (e.get("input") or "").startswith(f"input-{layout}-")
            ),
            {},
        )
        frame = read_raw(args.dump, entry.get("input"), nbytes)
        source = "dump"
        if frame is None:
            frame = test_frame(layout, width, height)
            source = "made here"
        n = args.frames_2160 if height == 2160 else args.frames
        row = {
            "layout": layout,
            "width": width,
            "height": height,
            "case": case,
            "input": source,
            "frames_per_round": n,
        }
        try:
            host = torch.from_numpy(frame)
            if cuda:
                host = host.pin_memory()
            work = Work(layout, width, height, case, device)
            ring = Ring(nbytes, device)

            # The first frame, checked against tessera's.
            src = host.to(device)
            dst = torch.empty_like(src)
            work.run(src, dst)
            ours = dst.cpu().numpy()
            for who in ("gpu", "cpu"):
                theirs = read_raw(args.dump, entry.get(who), nbytes)
                if theirs is not None:
                    row[f"vs_tessera_{who}"] = compare(ours, theirs, sizes)

            row["torch"] = timed(ring, host, n, args.rounds, work, args.budget)
            row["bus"] = timed(ring, host, n, args.rounds, None, args.budget)
        except Exception as e:  # one case's failure must not stop the others
            row["error"] = f"{type(e).__name__}: {e}"
            print(f"{label:<26} failed: {row['error']}")
            results.append(row)
            continue
        t, b = row["torch"]["fps"], row["bus"]["fps"]
        row["torch_percent_of_bus"] = 100.0 * t / b if t and b else None
        vs = row.get("vs_tessera_gpu")
        check = "no tessera output to compare"
        if vs:
            diffs = "/".join(str(d) for d in vs["max_abs_diff"])
            psnr = "/".join("inf" if p is None else f"{p:.1f}" for p in vs["psnr_db"])
            check = f"{diffs}, {psnr}"
        print(
            f"{label:<26} {fmt(t):>9} {fmt(t and 1000.0 / t, 2):>8} {fmt(b):>9} "
            f"{fmt(row['torch_percent_of_bus'], 0):>8}%  {check}"
            + ("" if source == "dump" else " (input made here)")
        )
        sys.stdout.flush()
        results.append(row)

    if args.json:
        doc = {
            "bench": "torch peer",
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "torch": torch.__version__,
            "cuda": torch.version.cuda,
            "device": name,
            "settings": {
                "frames": args.frames,
                "frames_2160": args.frames_2160,
                "rounds": args.rounds,
                "in_flight": IN_FLIGHT,
                "tf32": False,
                "cudnn_benchmark": cuda,
            },
            "cases": results,
        }
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
