// bilateral.wgsl: the edge-preserving average of a plane (op::Bilateral), edges replicated:
//   out(x, y) = sum w · s / sum w over the (2·rx + 1)x(2·ry + 1) window, with
//   w = exp(−(i² · sx + j² · sy)) · exp(−(s − c)² · range) for the sample s at offset (i, j)
//   from the centre sample c (code values).
//
// Bindings: common.wgsl's info (in_size, taps = rx, rows = ry, amount = sx, bias = sy,
// zero = range), in0, out0. Workgroup size 16x16 (per_sample.wgsl's entry point, which this
// file's `value` serves).

fn value(x: u32, y: u32) -> f32 {
    let size = info.in_size;
    let rx = i32(info.taps);
    let ry = i32(info.rows);
    let c = load_in0(x, y, size.x);
    var sum = 0.0;
    var weights = 0.0;
    for (var j = -ry; j <= ry; j++) {
        let sy = clamp_coord(i32(y) + j, size.y);
        let fj = f32(j);
        for (var i = -rx; i <= rx; i++) {
            let s = load_in0(clamp_coord(i32(x) + i, size.x), sy, size.x);
            let fi = f32(i);
            let d = s - c;
            let w = exp(-(fi * fi * info.amount + fj * fj * info.bias)) * exp(-(d * d * info.zero));
            sum += w * s;
            weights += w;
        }
    }
    return sum / weights;
}
