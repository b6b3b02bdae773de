#!/usr/bin/env python3
"""Renders the gallery's test scene: a landscape with the things filters are judged on.

A sky from deep blue to a warm horizon with a sun and soft clouds (smooth gradients: banding,
posterize, curves), snowy mountains in haze (fine detail and low contrast: sharpen, edges), a
lake that mirrors them (blur, denoise), a house with straight edges (rotate, transpose, emboss),
trees, a meadow of saturated flowers (hue, vibrance, chroma keys) and a little film grain.
Deterministic: the same picture on every machine (Python's own generator, seeded).

Pure Python, no packages: it writes a PNG with zlib.

    python3 scripts/scene.py out.png [--width 640] [--height 427]
"""

import argparse
import math
import random
import struct
import sys
import zlib


class Noise:
    """Smooth value noise on a lattice, summed over octaves (fractal Brownian motion)."""

    def __init__(self, seed, size=256):
        rng = random.Random(seed)
        self.size = size
        self.values = [rng.random() for _ in range(size * size)]

    def value(self, x, y):
        s = self.size
        xi, yi = math.floor(x), math.floor(y)
        fx, fy = x - xi, y - yi
        fx = fx * fx * (3 - 2 * fx)
        fy = fy * fy * (3 - 2 * fy)
        v = self.values
        x0, x1 = xi % s, (xi + 1) % s
        y0, y1 = (yi % s) * s, ((yi + 1) % s) * s
        a = v[y0 + x0] + (v[y0 + x1] - v[y0 + x0]) * fx
        b = v[y1 + x0] + (v[y1 + x1] - v[y1 + x0]) * fx
        return a + (b - a) * fy

    def fbm(self, x, y, octaves=4):
        total, amp, norm = 0.0, 0.5, 0.0
        for _ in range(octaves):
            total += amp * self.value(x, y)
            norm += amp
            x, y, amp = x * 2.03, y * 2.03, amp * 0.5
        return total / norm


def mix(a, b, t):
    return tuple(p + (q - p) * t for p, q in zip(a, b))


def smoothstep(e0, e1, x):
    t = min(max((x - e0) / (e1 - e0), 0.0), 1.0)
    return t * t * (3 - 2 * t)


def render(w, h):
    clouds, ridge, grass, water, grain_noise = (Noise(s) for s in (1, 2, 3, 4, 5))
    rng = random.Random(6)
    horizon = 0.60 * h  # where the lake begins
    shore = 0.74 * h  # where the meadow begins
    sun = (0.73 * w, 0.20 * h)

    def far_ridge(x):
        return 0.30 * h + 0.16 * h * (ridge.fbm(x / w * 5.0, 0.5, 5) - 0.5) * 2.2

    def near_hill(x):
        return 0.50 * h + 0.05 * h * math.sin(x / w * 5.0 + 1.0) + 0.04 * h * ridge.fbm(x / w * 3, 7.5)

    def sky(x, y):
        t = y / horizon
        c = mix((34, 78, 160), (236, 206, 170), t ** 1.6)
        d = math.hypot(x - sun[0], y - sun[1])
        glow = math.exp(-d / (0.09 * w)) * 0.85
        c = mix(c, (255, 236, 190), glow)
        if d < 0.028 * w:
            c = (255, 250, 232)
        cl = smoothstep(0.52, 0.75, clouds.fbm(x / w * 4.0, y / h * 9.0, 5)) * (1 - t) ** 0.5
        shade = 0.78 + 0.22 * clouds.fbm(x / w * 8.0 + 3, y / h * 16.0)
        return mix(c, (248 * shade, 246 * shade, 244 * shade), cl)

    def land(x, y):
        """The landscape above the lake at (x, y), or None where it is sky."""
        if y >= near_hill(x):
            depth = (y - near_hill(x)) / (0.12 * h)
            n = grass.fbm(x / w * 30, y / h * 30)
            c = (52 + 40 * n, 98 + 45 * n - 20 * depth, 40 + 18 * n)
            return mix(c, (150, 170, 180), 0.15)
        top = far_ridge(x)
        if y >= top:
            height = (y - top) / (0.25 * h)
            n = ridge.fbm(x / w * 40, y / h * 40, 3)
            rock = (92 + 50 * n, 100 + 45 * n, 118 + 40 * n)
            # Light from the sun's side: the slope of the rock's noise across x.
            slope = ridge.fbm(x / w * 14 + 0.02, y / h * 6, 3) - ridge.fbm(x / w * 14 - 0.02, y / h * 6, 3)
            rock = tuple(ch * (1.0 + 6.0 * slope) for ch in rock)
            snow_y = 0.27 * h + 0.05 * h * ridge.fbm(x / w * 12, y / h * 8 + 3.3)
            c = mix((236, 240, 246), rock, smoothstep(snow_y - 0.02 * h, snow_y + 0.02 * h, y))
            haze = 0.35 + 0.25 * min(height, 1.0)
            return mix(c, (170, 180, 200), haze)
        return None

    def scene_above(x, y):
        c = land(x, y)
        return c if c is not None else sky(x, y)

    # The house, trees and flowers, drawn over the landscape.
    house = (0.16 * w, 0.50 * h, 0.10 * w, 0.075 * h)  # left, bottom, width, wall height
    trees = [(0.30 * w, 0.53 * h, 0.05 * w), (0.34 * w, 0.535 * h, 0.038 * w),
             (0.08 * w, 0.52 * h, 0.045 * w), (0.88 * w, 0.545 * h, 0.06 * w),
             (0.93 * w, 0.55 * h, 0.045 * w)]
    flowers = []
    palette = [(220, 30, 40), (250, 210, 40), (200, 40, 160), (250, 250, 245), (250, 120, 20),
               (120, 60, 200)]
    for _ in range(int(w * h / 420)):
        fx = rng.random() * w
        fy = shore + 4 + (h - shore - 4) * rng.random() ** 0.8
        size = 1.2 + 3.2 * (fy - shore) / (h - shore)
        flowers.append((fx, fy, size, rng.choice(palette)))
    flower_grid = {}
    for f in flowers:
        for gx in range(int((f[0] - 6) // 8), int((f[0] + 6) // 8) + 1):
            for gy in range(int((f[1] - 6) // 8), int((f[1] + 6) // 8) + 1):
                flower_grid.setdefault((gx, gy), []).append(f)

    def objects(x, y, c):
        left, bottom, width, wall = house
        if left <= x <= left + width and bottom - wall <= y <= bottom:
            c = (232, 226, 214)
            if x > left + 0.62 * width:
                c = (190, 184, 175)  # the side in shade
            wx = (x - left) / width
            wy = (bottom - y) / wall
            if 0.15 < wx < 0.35 and 0.35 < wy < 0.75 or 0.72 < wx < 0.88 and 0.4 < wy < 0.72:
                c = (58, 72, 96)
            if 0.45 < wx < 0.58 and wy < 0.6:
                c = (110, 62, 38)
        roof_top = bottom - wall - 0.06 * h
        if bottom - wall >= y >= roof_top:
            half = (y - roof_top) / (0.06 * h) * (width * 0.62)
            cx = left + width / 2
            if abs(x - cx) <= half:
                c = (176, 52, 38) if x < cx + half * 0.2 else (140, 40, 30)
        for tx, ty, ts in trees:
            if ty - 2.2 * ts <= y <= ty and abs(x - tx) <= ts * (y - (ty - 2.2 * ts)) / (2.2 * ts) * 0.55:
                n = grass.fbm(x / 3.0, y / 3.0, 2)
                side = 0.75 if x > tx else 1.0
                c = (22 * side + 20 * n, 62 * side + 30 * n, 30 * side + 10 * n)
            if ty <= y <= ty + 0.2 * ts and abs(x - tx) < 0.08 * ts + 0.5:
                c = (70, 48, 30)
        for fx, fy, size, colour in flower_grid.get((int(x // 8), int(y // 8)), ()):
            d = math.hypot(x - fx, (y - fy) * 1.3)
            if d < size:
                edge = smoothstep(size, size * 0.6, d)
                centre = 1.0 - smoothstep(0.0, size * 0.35, d)
                petal = mix(colour, (250, 220, 60), centre * 0.8)
                c = mix(c, petal, edge)
        return c

    rows = []
    for j in range(h):
        y = j + 0.5
        row = bytearray()
        for i in range(w):
            x = i + 0.5
            if y < horizon:
                c = scene_above(x, y)
            elif y < shore:
                # The lake mirrors what is above its edge, rippled, darker and bluer, with the
                # ripples stronger near the viewer.
                k = (y - horizon) / (shore - horizon)
                ripple = math.sin(y * 0.9 + 2.0 * water.fbm(x / w * 8, y / h * 40)) * (1.0 + 3.0 * k)
                my = max(0.0, 2 * horizon - y - 1)
                c = scene_above(min(max(x + ripple, 0), w - 1), my)
                c = mix(c, (30, 60, 90), 0.30 + 0.25 * k)
                glint = water.fbm(x / w * 60, y / h * 90)
                c = mix(c, (250, 240, 220), smoothstep(0.78, 0.9, glint) * 0.5)
            else:
                k = (y - shore) / (h - shore)
                n = grass.fbm(x / w * 70, y / h * 45, 3)
                c = (70 + 60 * n - 20 * k, 112 + 50 * n - 30 * k, 34 + 20 * n)
            c = objects(x, y, c)
            # Vignetting of a real lens and film grain.
            v = 1.0 - 0.18 * ((x / w - 0.5) ** 2 + (y / h - 0.5) ** 2) * 2
            g = (grain_noise.value(i * 0.9, j * 0.9) - 0.5) * 10
            row += bytes(max(0, min(255, round(ch * v + g))) for ch in c)
        rows.append(bytes(row))
    return rows


def write_png(path, w, h, rows):
    raw = b"".join(b"\0" + r for r in rows)

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 9)))
        f.write(chunk(b"IEND", b""))


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    p.add_argument("--width", type=int, default=640)
    p.add_argument("--height", type=int, default=427)
    a = p.parse_args(argv)
    write_png(a.out, a.width, a.height, render(a.width, a.height))


if __name__ == "__main__":
    main(sys.argv[1:])
