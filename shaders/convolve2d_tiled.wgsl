// convolve2d_tiled.wgsl: convolve2d.wgsl computed from a workgroup-shared tile, for kernels of
// radius up to TILE_RADIUS both ways (15x15, the largest `convolve` accepts); shaders.rs picks
// convolve2d.wgsl for larger ones. The sums are convolve2d.wgsl's, term for term and in the same
// order, so both give the same bits:
//   out.rgb(x, y) = sum_{j,i} w[j * taps + i] * in(x + i - taps / 2, y + j - rows / 2).rgb + bias
//
// Bindings: common.wgsl's src, dst, info (taps = kernel width, rows = height, scalar = bias),
// data (row-major weights). Workgroup size 16x16, one invocation per pixel. shaders.rs defines
// TILE_RADIUS and the packed texel accessors (`Texel`, `fetch_src`, `unpack_texel`).
//
// The tile: the workgroup's 16x16 pixels and an apron of the kernel's radii, clamped to the frame
// as pixel_at clamps them, rows of SPAN texels: 30x30 texels, 3.5 KiB of workgroup memory for
// rgba8 sources and 7 KiB for rgba16.

const SPAN: u32 = 16u + 2u * TILE_RADIUS;

var<workgroup> tile: array<Texel, SPAN * SPAN>;

@compute @workgroup_size(16, 16)
fn main(
    @builtin(global_invocation_id) id: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) group: vec3<u32>,
) {
    let size = info.in_size;
    let r = vec2<u32>(info.taps / 2u, info.rows / 2u);
    let span = 16u + 2u * r;
    let start = vec2<i32>(group.xy * 16u) - vec2<i32>(r);
    // Bounds the whole workgroup shares keep the barrier below in uniform control flow.
    for (var ky = 0u; ky < (span.y + 15u) / 16u; ky++) {
        for (var kx = 0u; kx < (span.x + 15u) / 16u; kx++) {
            let t = lid.xy + 16u * vec2<u32>(kx, ky);
            if (all(t < span)) {
                let at = pixel_at(start.x + i32(t.x), start.y + i32(t.y), size);
                tile[t.y * SPAN + t.x] = fetch_src(at);
            }
        }
    }
    workgroupBarrier();
    if (outside(id)) {
        return;
    }
    var acc = vec3<f32>(0.0);
    for (var j = 0u; j < info.rows; j++) {
        for (var i = 0u; i < info.taps; i++) {
            let p = unpack_texel(tile[(lid.y + j) * SPAN + lid.x + i]);
            acc += weight(j * info.taps + i) * p.rgb;
        }
    }
    let alpha = unpack_texel(tile[(lid.y + r.y) * SPAN + lid.x + r.x]).a;
    store_dst(id.y * size.x + id.x, vec4<f32>(acc + info.scalar, alpha));
}
