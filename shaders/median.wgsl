// median.wgsl: the k-th smallest sample (from 0) of the (2·rx + 1)x(2·ry + 1) window around each
// sample of a plane (op::RankOf::Nth: median and percentiles), edges replicated. Without a copy
// of the window: a binary search over the samples' values in an order-preserving u32 form for
// the smallest value that more than k samples do not exceed, which is the k-th sample exactly
// (at most 32 counts of the window).
//
// Bindings: common.wgsl's info (in_size, taps = rx, rows = ry, flags = k), in0, out0. Workgroup
// size 16x16 (per_sample.wgsl's entry point, which this file's `value` serves).

// f32 as u32 in the same order (negative values below positive ones), and back.
fn order_key(v: f32) -> u32 {
    let b = bitcast<u32>(v);
    return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

fn from_key(k: u32) -> f32 {
    return bitcast<f32>(select(~k, k & 0x7fffffffu, (k & 0x80000000u) != 0u));
}

fn window_sample(x: u32, y: u32, i: i32, j: i32) -> f32 {
    let size = info.in_size;
    return load_in0(clamp_coord(i32(x) + i, size.x), clamp_coord(i32(y) + j, size.y), size.x);
}

fn value(x: u32, y: u32) -> f32 {
    let rx = i32(info.taps);
    let ry = i32(info.rows);
    let n = u32((2 * rx + 1) * (2 * ry + 1));
    let k = min(info.flags, n - 1u);
    var lo = 0xffffffffu;
    var hi = 0u;
    for (var j = -ry; j <= ry; j++) {
        for (var i = -rx; i <= rx; i++) {
            let key = order_key(window_sample(x, y, i, j));
            lo = min(lo, key);
            hi = max(hi, key);
        }
    }
    while (lo < hi) {
        let mid = lo + (hi - lo) / 2u;
        var count = 0u;
        for (var j = -ry; j <= ry; j++) {
            for (var i = -rx; i <= rx; i++) {
                count += select(0u, 1u, order_key(window_sample(x, y, i, j)) <= mid);
            }
        }
        if (count > k) {
            hi = mid;
        } else {
            lo = mid + 1u;
        }
    }
    return from_key(lo);
}
