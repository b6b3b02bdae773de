// convolve1d.wgsl: one direction of a separable convolution, edges replicated:
//   out(p) = sum_k w[k] * in(p + (k - taps / 2) along the axis).
//
// Bindings: common.wgsl's src, dst, info, data (the weights, info.taps of them, odd length).
// Workgroup size 16x16, one invocation per pixel. shaders.rs defines two constants:
// VERTICAL (the axis) and WITH_ALPHA (false keeps the input alpha; unsharp's first half uses that).

@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    if (outside(id)) {
        return;
    }
    let size = info.in_size;
    let x = i32(id.x);
    let y = i32(id.y);
    let r = i32(info.taps / 2u);
    var acc = vec4<f32>(0.0);
    for (var k = 0; k < i32(info.taps); k++) {
        var at: u32;
        if (VERTICAL) {
            at = pixel_at(x, y + k - r, size);
        } else {
            at = pixel_at(x + k - r, y, size);
        }
        acc += weight(u32(k)) * load_src(at);
    }
    let i = id.y * size.x + id.x;
    if (!WITH_ALPHA) {
        acc.a = load_src(i).a;
    }
    store_dst(i, acc);
}
