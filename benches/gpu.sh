#!/usr/bin/env bash
# tessera's GPU benchmark on a machine with a hardware GPU: the GPU backend (benches/gpu.rs,
# built beforehand, since such a machine may have no Rust toolchain) against the bus, the CPU
# backend and PyTorch (benches/gpu_peer.py). Bounded in time: about 4 minutes at most, whatever
# the GPU does; a part that fails is reported and the others still run.
#
# Run from the repository root:
#     OUT=/some/folder bash benches/gpu.sh
# It expects:
#     .devbench/gpu-bench   cargo bench --no-default-features --bench gpu --no-run, copied
#     .gl/*.deb             the Vulkan loader (and vulkan-tools), unpacked into / if present
#     python3 with torch and numpy, for the peer
# It writes to $OUT: env.txt, bench.txt, bench.json, peer.txt, peer.json, report.md.
# FRAMES, FRAMES_2160, ROUNDS and EXTRA (more flags for the bench, e.g. --quick) override the
# defaults.

set -u
cd "$(dirname "$0")/.." || exit 1
OUT=${OUT:-/tmp/tessera-gpu}
BIN=${BIN:-.devbench/gpu-bench}
FRAMES=${FRAMES:-300}
FRAMES_2160=${FRAMES_2160:-120}
ROUNDS=${ROUNDS:-3}
EXTRA=${EXTRA:-}
mkdir -p "$OUT"
DUMP=$(mktemp -d /tmp/tessera-dump.XXXXXX)
trap 'rm -rf "$DUMP"' EXIT
START=$(date +%s)

say() { echo "== $* ($(( $(date +%s) - START )) s)"; }

say "tessera GPU benchmark, output in $OUT"

# Anything the Vulkan loader needs that the machine lacks comes as .deb files.
shopt -s nullglob
debs=(.gl/*.deb)
if [ ${#debs[@]} -gt 0 ]; then
    say "unpacking ${#debs[@]} packages from .gl"
    for f in "${debs[@]}"; do
        dpkg -x "$f" / || echo "could not unpack $f"
    done
    ldconfig || echo "ldconfig failed"
fi

if [ ! -x "$BIN" ]; then
    chmod +x "$BIN" 2>/dev/null || true
fi

# Finds a Vulkan driver wgpu accepts: as it is, else through the NVIDIA ICD files where they
# usually are, else through an ICD file written here for the NVIDIA library the loader can see.
adapters() { timeout 60 "$BIN" --adapters; }
find_driver() {
    if adapters; then
        return 0
    fi
    local candidates=(
        /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
        /usr/share/vulkan/icd.d/nvidia_icd.json
        /etc/vulkan/icd.d/nvidia_icd.json
        /usr/local/share/vulkan/icd.d/nvidia_icd.json
    )
    local more
    more=$(find /usr/local/nvidia /usr/share/vulkan /etc/vulkan /usr/local/share/vulkan \
        -maxdepth 4 -name 'nvidia_icd*.json' 2>/dev/null)
    for f in "${candidates[@]}" $more; do
        [ -f "$f" ] || continue
        echo "trying VK_DRIVER_FILES=$f"
        export VK_DRIVER_FILES="$f" VK_ICD_FILENAMES="$f"
        if adapters; then
            return 0
        fi
    done
    # NVIDIA's Vulkan driver is its GLX (or EGL) library; some containers carry the library
    # without the ICD file that names it.
    local lib libs
    libs=$( (ldconfig -p | awk '/libGLX_nvidia\.so\.0|libEGL_nvidia\.so\.0/ {print $NF}'
        find /usr/local/nvidia /usr/lib /usr/lib64 -maxdepth 3 \
            \( -name 'libGLX_nvidia.so.0' -o -name 'libEGL_nvidia.so.0' \) 2>/dev/null) | sort -u)
    for lib in $libs; do
        local icd=/tmp/tessera_nvidia_icd.json
        printf '{"file_format_version": "1.0.0", "ICD": {"library_path": "%s", "api_version": "1.3.0"}}\n' \
            "$lib" >"$icd"
        echo "trying an ICD file for $lib"
        export VK_DRIVER_FILES="$icd" VK_ICD_FILENAMES="$icd"
        if adapters; then
            return 0
        fi
    done
    unset VK_DRIVER_FILES VK_ICD_FILENAMES
    return 1
}

{
    say "machine"
    date -u
    uname -a
    echo "cores: $(nproc)"
    grep -m1 'model name' /proc/cpuinfo
    free -g | head -2
    if command -v nvidia-smi >/dev/null; then
        nvidia-smi
        nvidia-smi --query-gpu=name,driver_version,pcie.link.gen.current,pcie.link.width.current,clocks.max.sm --format=csv
    else
        echo "no nvidia-smi"
    fi
    say "bench binary"
    ls -l "$BIN"
    ldd "$BIN"
    say "Vulkan adapters"
    if find_driver; then
        echo "a hardware GPU is visible to wgpu${VK_DRIVER_FILES:+ (VK_DRIVER_FILES=$VK_DRIVER_FILES)}"
    else
        echo "NO hardware GPU visible to wgpu: the bench will give CPU figures only"
    fi
    if command -v vulkaninfo >/dev/null; then
        timeout 30 vulkaninfo --summary 2>&1 | head -60
    else
        echo "no vulkaninfo"
    fi
    python3 -c 'import torch, numpy; print("torch", torch.__version__, "CUDA", torch.version.cuda, "available", torch.cuda.is_available())' 2>&1
} >"$OUT/env.txt" 2>&1
# The group above ran in this shell: the driver it found stays exported for the bench.
cat "$OUT/env.txt"

say "tessera: GPU backend, bus bound, CPU backend"
timeout 200 "$BIN" --frames "$FRAMES" --frames-2160 "$FRAMES_2160" --rounds "$ROUNDS" \
    --budget 6 --deadline 140 --json "$OUT/bench.json" --dump "$DUMP" $EXTRA \
    >"$OUT/bench.txt" 2>&1
status=$?
cat "$OUT/bench.txt"
[ $status -eq 0 ] || echo "the bench ended with status $status (124: stopped by timeout)"

say "PyTorch peer"
peer_quick=""
case " $EXTRA " in *" --quick "*) peer_quick="--quick" ;; esac
timeout 75 python3 benches/gpu_peer.py --dump "$DUMP" --frames "$FRAMES" \
    --frames-2160 "$FRAMES_2160" --rounds "$ROUNDS" --budget 4 --json "$OUT/peer.json" \
    $peer_quick >"$OUT/peer.txt" 2>&1
status=$?
cat "$OUT/peer.txt"
[ $status -eq 0 ] || echo "the peer ended with status $status (124: stopped by timeout)"

say "report"
python3 benches/gpu_report.py "$OUT/bench.json" "$OUT/peer.json" -o "$OUT/report.md" \
    && cat "$OUT/report.md" || echo "no report"

say "done"
ls -l "$OUT"
