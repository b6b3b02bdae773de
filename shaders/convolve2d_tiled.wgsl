// convolve2d_tiled.wgsl: convolve2d.wgsl's sums computed from a workgroup-shared tile, for
// kernels of radius up to TILE_RADIUS both ways (15x15, the largest `convolve` accepts);
// shaders.rs picks the untiled kernel for larger ones. The sums are convolve2d.wgsl's, term for
// term and in the same order:
//   out(x, y) = sum_{j,i} w[j · taps + i] · (in0(x + i − taps / 2, y + j − rows / 2) − zero)
//               + zero + bias
//
// Bindings: as convolve2d.wgsl (info, data, in0, out0). Workgroup size 16x16: each invocation
// writes one word of out0 (LANES samples of a row), so a workgroup covers 16·LANES samples by
// 16 rows. shaders.rs defines LANES and TILE_RADIUS.
//
// The tile: the workgroup's samples and an apron of the kernel's radii, clamped to the plane as
// convolve2d.wgsl clamps them, rows of SPAN_X values: at most SPAN_X x SPAN_Y f32 values (9 KiB
// for 8-bit output), within the 16 KiB every device offers.

const SPAN_X: u32 = 16u * LANES + 2u * TILE_RADIUS;
const SPAN_Y: u32 = 16u + 2u * TILE_RADIUS;

var<workgroup> tile: array<f32, SPAN_X * SPAN_Y>;

@compute @workgroup_size(16, 16)
fn main(
    @builtin(global_invocation_id) id: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) group: vec3<u32>,
) {
    let size = info.in_size;
    let r = vec2<u32>(info.taps / 2u, info.rows / 2u);
    let span = vec2<u32>(16u * LANES, 16u) + 2u * r;
    let total = span.x * span.y;
    let first = vec2<i32>(group.xy * vec2<u32>(16u * LANES, 16u)) - vec2<i32>(r);
    // A bound the whole workgroup shares keeps the barrier below in uniform control flow.
    for (var k = 0u; k < (total + 255u) / 256u; k++) {
        let t = lid.y * 16u + lid.x + 256u * k;
        if (t < total) {
            let tx = t % span.x;
            let ty = t / span.x;
            let x = clamp_coord(first.x + i32(tx), size.x);
            let y = clamp_coord(first.y + i32(ty), size.y);
            tile[ty * SPAN_X + tx] = load_in0(x, y, size.x);
        }
    }
    workgroupBarrier();
    let x = id.x * LANES;
    if (x >= info.out_size.x || id.y >= info.out_size.y) {
        return;
    }
    var v = vec4<f32>(0.0);
    for (var l = 0u; l < LANES; l++) {
        let tx = lid.x * LANES + l;
        var acc = 0.0;
        for (var j = 0u; j < info.rows; j++) {
            for (var i = 0u; i < info.taps; i++) {
                let s = tile[(lid.y + j) * SPAN_X + tx + i];
                acc += weight(j * info.taps + i) * (s - info.zero);
            }
        }
        v[l] = acc + info.zero + info.bias;
    }
    store_out0(x, id.y, info.out_size.x, v);
}
