// stencil1d_tiled.wgsl: stencil1d.wgsl's sums computed from a workgroup-shared tile, for radii
// up to TILE_RADIUS; shaders.rs picks the untiled kernel for longer ones. The sums are
// stencil1d.wgsl's, term for term and in the same order:
//   blur(p) = w[r] · in0(p) + sum_{k=1..r} w[r + k] · (in0(p − k) + in0(p + k)), then `combine`
//
// Bindings: as stencil1d.wgsl (info, data, in0, in1, out0). Workgroup size 16x16: each
// invocation writes one word of out0 (LANES samples of a row), so a workgroup covers 16·LANES
// samples by 16 rows. shaders.rs defines VERTICAL, UNSHARP, LANES and TILE_RADIUS, and puts
// stencil1d.wgsl (for `combine`) before this file.
//
// The tile: LINES lines across the axis (the workgroup's rows, or its columns), each holding
// the workgroup's WIDE samples along the axis and the kernel's radius either side, clamped to
// the plane as stencil1d.wgsl clamps them: at most LINES x SPAN f32 values, which shaders.rs
// keeps within the 16 KiB of workgroup memory every device offers.

const LINES: u32 = select(16u, 16u * LANES, VERTICAL);
const WIDE: u32 = select(16u * LANES, 16u, VERTICAL);
const SPAN: u32 = WIDE + 2u * TILE_RADIUS;

var<workgroup> tile: array<f32, LINES * SPAN>;

// Tile index of the sample `a` along the axis (0 is `radius` before the workgroup's first) on
// line `line` across it; invocations next to each other in x read words next to each other.
fn tile_at(a: u32, line: u32) -> u32 {
    if (VERTICAL) {
        return a * LINES + line;
    }
    return line * SPAN + a;
}

@compute @workgroup_size(16, 16)
fn main(
    @builtin(global_invocation_id) id: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) group: vec3<u32>,
) {
    let size = info.in_size;
    let r = info.taps / 2u;
    let span = WIDE + 2u * r;
    let total = LINES * span;
    let first = vec2<i32>(group.xy * vec2<u32>(16u * LANES, 16u));
    // A bound the whole workgroup shares keeps the barrier below in uniform control flow.
    for (var k = 0u; k < (total + 255u) / 256u; k++) {
        let t = lid.y * 16u + lid.x + 256u * k;
        if (t < total) {
            var a: u32;
            var line: u32;
            var x: u32;
            var y: u32;
            if (VERTICAL) {
                a = t / LINES;
                line = t % LINES;
                x = clamp_coord(first.x + i32(line), size.x);
                y = clamp_coord(first.y + i32(a) - i32(r), size.y);
            } else {
                line = t / span;
                a = t % span;
                x = clamp_coord(first.x + i32(a) - i32(r), size.x);
                y = clamp_coord(first.y + i32(line), size.y);
            }
            tile[tile_at(a, line)] = load_in0(x, y, size.x);
        }
    }
    workgroupBarrier();
    let x = id.x * LANES;
    if (x >= info.out_size.x || id.y >= info.out_size.y) {
        return;
    }
    var v = vec4<f32>(0.0);
    for (var j = 0u; j < LANES; j++) {
        var a = lid.x * LANES + j;
        var line = lid.y;
        if (VERTICAL) {
            a = lid.y;
            line = lid.x * LANES + j;
        }
        // The tile's sample a + r is the output's own.
        var acc = weight(r) * tile[tile_at(a + r, line)];
        for (var k = 1u; k <= r; k++) {
            acc += weight(r + k) * (tile[tile_at(a + r - k, line)] + tile[tile_at(a + r + k, line)]);
        }
        v[j] = combine(min(x + j, info.out_size.x - 1u), id.y, acc);
    }
    store_out0(x, id.y, info.out_size.x, v);
}
