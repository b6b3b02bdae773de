// warp.wgsl: a plane interpolated where an affine map (op::Warp) sends each output sample:
//   (sx, sy) = (m0·x + m1·y + m2, m3·x + m4·y + m5) in the input plane's samples, and the
//   output the 2x2 (bilinear) or 4x4 (bicubic, Keys a = −0.5) taps around it, every tap outside
//   the plane taken as the fill code. op::Warp and backend/cpu/warp.rs define the same sums in
//   the same order (bilinear's two outer taps, of weight 0, left out).
//
// Bindings: common.wgsl's info (in_size, out_size), data (m0 … m5 then the fill, as f32 bits),
// in0, out0. Workgroup size 16x16, entry point per_sample.wgsl. shaders.rs defines BICUBIC.

fn warp_weights(t: f32) -> vec4<f32> {
    if (!BICUBIC) {
        return vec4<f32>(0.0, 1.0 - t, t, 0.0);
    }
    return vec4<f32>(cubic(1.0 + t), cubic(t), cubic(1.0 - t), cubic(2.0 - t));
}

fn cubic(v: f32) -> f32 {
    let x = abs(v);
    if (x < 1.0) {
        return (1.5 * x - 2.5) * x * x + 1.0;
    }
    if (x < 2.0) {
        return ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0;
    }
    return 0.0;
}

fn value(x: u32, y: u32) -> f32 {
    let fx = f32(x);
    let fy = f32(y);
    let sx = data_f32(0u) * fx + data_f32(1u) * fy + data_f32(2u);
    let sy = data_f32(3u) * fx + data_f32(4u) * fy + data_f32(5u);
    let fill = data_f32(6u);
    let w = f32(info.in_size.x);
    let h = f32(info.in_size.y);
    if (!(sx > -2.0 && sx < w + 1.0 && sy > -2.0 && sy < h + 1.0)) {
        return fill;
    }
    let x0 = floor(sx);
    let y0 = floor(sy);
    let wx = warp_weights(sx - x0);
    let wy = warp_weights(sy - y0);
    let ix = i32(x0) - 1;
    let iy = i32(y0) - 1;
    // Bilinear's outer taps weigh nothing: they are not read.
    let lo = select(0, 1, !BICUBIC);
    let hi = select(4, 3, !BICUBIC);
    var acc = 0.0;
    for (var j = lo; j < hi; j++) {
        let yy = iy + j;
        var row = 0.0;
        for (var i = lo; i < hi; i++) {
            let xx = ix + i;
            var v = fill;
            if (xx >= 0 && xx < i32(info.in_size.x) && yy >= 0 && yy < i32(info.in_size.y)) {
                v = load_in0(u32(xx), u32(yy), info.in_size.x);
            }
            row += wx[i] * v;
        }
        acc += wy[j] * row;
    }
    return acc;
}
