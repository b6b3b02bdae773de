// median.wgsl: the k-th smallest sample (from 0) of the (2·rx + 1)x(2·ry + 1) window around each
// sample of a plane (op::RankOf::Nth: median and percentiles), edges replicated. The window is
// gathered into private memory and selected in place: a partial selection sort from the nearer
// end, at most half the window's steps.
//
// Bindings: common.wgsl's info (in_size, taps = rx, rows = ry, flags = k), in0, out0. Workgroup
// size 16x16 (per_sample.wgsl's entry point, which this file's `value` serves). Radii up to 7
// (op::NTH_MAX_RADIUS): 225 samples.

const WINDOW: u32 = 225u;

fn value(x: u32, y: u32) -> f32 {
    let size = info.in_size;
    let rx = i32(info.taps);
    let ry = i32(info.rows);
    var w: array<f32, WINDOW>;
    var n = 0u;
    for (var j = -ry; j <= ry; j++) {
        let sy = clamp_coord(i32(y) + j, size.y);
        for (var i = -rx; i <= rx; i++) {
            w[n] = load_in0(clamp_coord(i32(x) + i, size.x), sy, size.x);
            n++;
        }
    }
    let k = min(info.flags, n - 1u);
    // Selects from the nearer end: the k-th smallest, or the (n − 1 − k)-th largest.
    let high = k > (n - 1u) / 2u;
    let steps = select(k, n - 1u - k, high);
    for (var a = 0u; a <= steps; a++) {
        var m = a;
        for (var b = a + 1u; b < n; b++) {
            if (select(w[b] < w[m], w[b] > w[m], high)) {
                m = b;
            }
        }
        let t = w[a];
        w[a] = w[m];
        w[m] = t;
    }
    return w[steps];
}
