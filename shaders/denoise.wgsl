// denoise.wgsl: non-local means of a plane (op::Denoise), as FFmpeg's nlmeans:
//   out(x, y) = (c + sum w · s) / (1 + sum w) over the samples s of the (2·rx + 1)x(2·ry + 1)
//   research window that lie in the plane (the centre c excepted), with
//   w = exp(−d · unit / h²) where d, the sum of squared differences between the
//   (2·px + 1)x(2·py + 1) patches around s and around c (edges replicated, code values), is
//   below the cut-off once scaled to 8-bit units; 0 from there.
//
// Bindings: common.wgsl's info (in_size, origin = (rx, ry), taps = px, rows = py,
// amount = 1 / h², zero = cut-off, bias = unit), in0, out0. Workgroup size 16x16
// (per_sample.wgsl's entry point, which this file's `value` serves).

fn value(x: u32, y: u32) -> f32 {
    let size = info.in_size;
    let rx = info.origin.x;
    let ry = info.origin.y;
    let px = i32(info.taps);
    let py = i32(info.rows);
    var sum = 0.0;
    var weights = 0.0;
    for (var dy = -ry; dy <= ry; dy++) {
        let cy = i32(y) + dy;
        if (cy < 0 || cy >= i32(size.y)) {
            continue;
        }
        for (var dx = -rx; dx <= rx; dx++) {
            let cx = i32(x) + dx;
            if (cx < 0 || cx >= i32(size.x) || (dx == 0 && dy == 0)) {
                continue;
            }
            // Column by column, as the CPU sums them.
            var ssd = 0.0;
            for (var i = -px; i <= px; i++) {
                let ax = clamp_coord(i32(x) + i, size.x);
                let bx = clamp_coord(cx + i, size.x);
                var column = 0.0;
                for (var j = -py; j <= py; j++) {
                    let a = load_in0(ax, clamp_coord(i32(y) + j, size.y), size.x);
                    let b = load_in0(bx, clamp_coord(cy + j, size.y), size.x);
                    column += (a - b) * (a - b);
                }
                ssd += column;
            }
            let d = ssd * info.bias;
            if (d < info.zero) {
                let w = exp(-d * info.amount);
                sum += w * load_in0(u32(cx), u32(cy), size.x);
                weights += w;
            }
        }
    }
    return (sum + load_in0(x, y, size.x)) / (weights + 1.0);
}
