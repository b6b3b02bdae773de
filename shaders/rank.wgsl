// rank.wgsl: one axis of a separable order statistic of a plane (op::Rank), edges replicated:
//   out(x, y) = min or max of in0 over x − r ..= x + r (VERTICAL false) or y − r ..= y + r
// Min and max of samples are exact, so the two axes one after the other give the window's.
//
// Bindings: common.wgsl's info (in_size, taps = r, flags = 0 min or 1 max), in0, out0. Workgroup
// size 16x16 (per_sample.wgsl's entry point, which this file's `value` serves). shaders.rs
// defines VERTICAL.

fn value(x: u32, y: u32) -> f32 {
    let size = info.in_size;
    let r = i32(info.taps);
    let is_max = info.flags == 1u;
    var m = load_in0(x, y, size.x);
    for (var k = -r; k <= r; k++) {
        var s: f32;
        if (VERTICAL) {
            s = load_in0(x, clamp_coord(i32(y) + k, size.y), size.x);
        } else {
            s = load_in0(clamp_coord(i32(x) + k, size.x), y, size.x);
        }
        m = select(min(m, s), max(m, s), is_max);
    }
    return m;
}
