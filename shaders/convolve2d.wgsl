// convolve2d.wgsl: a 2-D convolution of a plane, edges replicated, on samples centred on `zero`
// (op::Convolution):
//   out(x, y) = sum_{j,i} w[j · taps + i] · (in0(x + i − taps / 2, y + j − rows / 2) − zero)
//               + zero + bias
//
// Bindings: common.wgsl's info (in_size, taps = kernel width, rows = height, zero, bias), data
// (row-major weights), in0, out0. Workgroup size 16x16. This file's `value` serves
// per_sample.wgsl; convolve2d_tiled.wgsl computes the same sums from a workgroup tile.

fn value(x: u32, y: u32) -> f32 {
    let size = info.in_size;
    let x0 = i32(x) - i32(info.taps / 2u);
    let y0 = i32(y) - i32(info.rows / 2u);
    var acc = 0.0;
    for (var j = 0u; j < info.rows; j++) {
        let sy = clamp_coord(y0 + i32(j), size.y);
        for (var i = 0u; i < info.taps; i++) {
            let s = load_in0(clamp_coord(x0 + i32(i), size.x), sy, size.x);
            acc += weight(j * info.taps + i) * (s - info.zero);
        }
    }
    return acc + info.zero + info.bias;
}
