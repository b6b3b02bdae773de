#!/usr/bin/env python3
"""A markdown section from what benches/gpu.sh measured: benches/gpu.rs's JSON (tessera's GPU
backend, the bus bound, the CPU backend) and, where there is one, benches/gpu_peer.py's
(PyTorch on the same card).

    python3 benches/gpu_report.py bench.json [peer.json] -o docs/gpu-figures.md
"""

import argparse
import json
import sys


def load(path):
    if not path:
        return None
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        print(f"gpu_report: {path}: {e}", file=sys.stderr)
        return None


def num(v, digits=1):
    return "–" if v is None else f"{v:,.{digits}f}"


def fps(part):
    return part.get("fps") if isinstance(part, dict) else None


def cut(part):
    return "*" if isinstance(part, dict) and part.get("cut_by_budget") else ""


def label(c):
    return f"{c['layout']} {c['height']}p {c['case']}"


def report(bench, peer):
    lines = []
    adapter = bench.get("adapter") or {}
    cpu = bench.get("cpu") or {}
    st = bench.get("settings") or {}
    card = adapter.get("name", "no GPU")
    lines.append(f"## GPU backend on {card}")
    lines.append("")
    driver = " ".join(x for x in (adapter.get("driver"), adapter.get("driver_info")) if x)
    lines.append(
        f"Measured {bench.get('date', '?')}. GPU: {card} ({adapter.get('device_type', '?')}, "
        f"{adapter.get('backend', '?')}), driver {driver or '?'}. "
        f"CPU: {cpu.get('model', '?')}, {cpu.get('threads', '?')} threads."
        + (
            f" PyTorch {peer.get('torch')} (CUDA {peer.get('cuda')}) on {peer.get('device')}."
            if peer
            else " No PyTorch figures."
        )
    )
    lines.append("")
    lines.append(
        f"Frames per second, median of {st.get('rounds', '?')} rounds of "
        f"{st.get('frames', '?')} frames (1080p) or {st.get('frames_2160', '?')} (2160p), "
        "streamed with "
        f"{st.get('in_flight', 3)} frames in flight, each counting its upload, compute and "
        "read-back. *Bus* is the same bytes uploaded and read back with no compute, by the "
        "backend's own means (mapped upload buffer, copy, mappable read-back buffer, map_async); "
        "*torch* is the same work in PyTorch from pinned host memory to pinned host memory on "
        "three CUDA streams; *torch bus* is its copies alone. *CPU* is tessera's CPU backend on "
        "every core. *Max diff* is the largest difference between tessera's GPU and CPU "
        "outputs in code values, per plane."
        + " Figures marked * stopped early on their time budget."
    )
    if st.get("quick"):
        lines.append("")
        lines.append("**A quick run (a few frames): a test of the bench, not a measurement.**")
    lines.append("")

    peers = {}
    for c in (peer or {}).get("cases", []):
        peers[(c["layout"], c["height"], c["case"])] = c

    head = (
        "| case | tessera GPU fps | ms/frame | bus fps | GPU % of bus | torch fps | ms/frame "
        f"| tessera / torch | torch bus fps | tessera CPU fps ({cpu.get('threads', '?')} threads) "
        "| max diff GPU–CPU |"
    )
    lines.append(head)
    lines.append("|" + "---|" * (head.count("|") - 1))
    for c in bench.get("cases", []):
        if c.get("skipped"):
            lines.append(f"| {label(c)} | skipped (out of time) |" + " |" * 9)
            continue
        g, b, cp = fps(c.get("gpu")), fps(c.get("bus")), fps(c.get("cpu"))
        p = peers.get((c["layout"], c["height"], c["case"]), {})
        t, tb = fps(p.get("torch")), fps(p.get("bus"))
        diff = c.get("max_diff_per_plane")
        cells = [
            label(c),
            num(g) + cut(c.get("gpu")),
            num(g and 1000 / g, 2),
            num(b) + cut(c.get("bus")),
            num(g and b and 100 * g / b, 0) + ("%" if g and b else ""),
            num(t) + cut(p.get("torch")),
            num(t and 1000 / t, 2),
            num(g and t and g / t, 2) + ("×" if g and t else ""),
            num(tb) + cut(p.get("bus")),
            num(cp) + cut(c.get("cpu")),
            "/".join(str(d) for d in diff) if diff else "–",
        ]
        lines.append("| " + " | ".join(cells) + " |")
        for who in ("gpu", "cpu"):
            err = (c.get(who) or {}).get("error")
            if err:
                lines.append(f"| | {who.upper()}: {err} |" + " |" * 9)

    checked = [c for c in (peer or {}).get("cases", []) if c.get("vs_tessera_gpu") or c.get("error")]
    if checked:
        lines.append("")
        lines.append(
            "PyTorch's output against tessera's, first frame, per plane (Y/Cb/Cr or R/G/B): "
            "largest difference in code values, share of samples that differ, PSNR."
        )
        lines.append("")
        lines.append("| case | vs tessera GPU | vs tessera CPU |")
        lines.append("|---|---|---|")
        for c in checked:
            if c.get("error"):
                lines.append(f"| {label(c)} | failed: {c['error']} | |")
                continue

            def cell(v):
                if not v:
                    return "–"
                d = "/".join(str(x) for x in v["max_abs_diff"])
                share = "/".join(f"{100 * x:.3g}%" for x in v["differing_share"])
                psnr = "/".join("∞" if x is None else f"{x:.1f}" for x in v["psnr_db"])
                return f"max {d}; differ {share}; {psnr} dB"

            lines.append(
                f"| {label(c)} | {cell(c.get('vs_tessera_gpu'))} | {cell(c.get('vs_tessera_cpu'))} |"
            )
    lines.append("")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("bench", help="benches/gpu.rs --json output")
    ap.add_argument("peer", nargs="?", help="benches/gpu_peer.py --json output")
    ap.add_argument("-o", "--output", required=True, help="the markdown file to write")
    args = ap.parse_args()
    bench = load(args.bench)
    if bench is None:
        sys.exit(1)
    text = report(bench, load(args.peer))
    with open(args.output, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
