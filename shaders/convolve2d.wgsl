// convolve2d.wgsl: a direct 2-D convolution of the colour channels plus a bias; alpha is kept.
//   out.rgb(x, y) = sum_{j,i} w[j * taps + i] * in(x + i - taps / 2, y + j - rows / 2).rgb + bias
//
// Bindings: common.wgsl's src, dst, info (taps = kernel width, rows = height, scalar = bias),
// data (row-major weights). Workgroup size 16x16, one invocation per pixel.

@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    if (outside(id)) {
        return;
    }
    let size = info.in_size;
    let x = i32(id.x) - i32(info.taps / 2u);
    let y = i32(id.y) - i32(info.rows / 2u);
    var acc = vec3<f32>(0.0);
    for (var j = 0u; j < info.rows; j++) {
        for (var i = 0u; i < info.taps; i++) {
            let p = load_src(pixel_at(x + i32(i), y + i32(j), size));
            acc += weight(j * info.taps + i) * p.rgb;
        }
    }
    let i = id.y * size.x + id.x;
    store_dst(i, vec4<f32>(acc + info.scalar, load_src(i).a));
}
