// stencil1d.wgsl: one axis of a separable stencil on a plane (symmetric taps, as every blur's
// are), edges replicated, and for unsharp the combination with the pass's input:
//   blur(p) = w[r] · in0(p) + sum_{k=1..r} w[r + k] · (in0(p − k) + in0(p + k)) along the axis,
//             r = taps / 2
//   out     = blur, or in1 + amount · (in1 − blur) for unsharp's last axis
// A blur runs its vertical axis into an unclamped f32 plane, then its horizontal one; a plane
// with taps along one axis only runs that one.
//
// Bindings: common.wgsl's info (in_size, taps, amount), data (the weights, taps of them, odd),
// in0 (the plane the taps read), in1 (the pass's input plane: unsharp's base, bound and unread
// otherwise), out0. Workgroup size 16x16. shaders.rs defines VERTICAL (the axis) and UNSHARP;
// this file's `value` serves per_sample.wgsl, and stencil1d_tiled.wgsl computes the same sums
// from a workgroup tile.

// The output at (x, y) from the blur there.
fn combine(x: u32, y: u32, blur: f32) -> f32 {
    if (UNSHARP) {
        let base = load_in1(x, y, info.out_size.x);
        return base + info.amount * (base - blur);
    }
    return blur;
}

// Sample `d` away from (x, y) along the axis, clamped to the plane.
fn along(x: u32, y: u32, d: i32) -> f32 {
    let size = info.in_size;
    if (VERTICAL) {
        return load_in0(x, clamp_coord(i32(y) + d, size.y), size.x);
    }
    return load_in0(clamp_coord(i32(x) + d, size.x), y, size.x);
}

fn value(x: u32, y: u32) -> f32 {
    let r = info.taps / 2u;
    var acc = weight(r) * along(x, y, 0);
    for (var k = 1u; k <= r; k++) {
        acc += weight(r + k) * (along(x, y, -i32(k)) + along(x, y, i32(k)));
    }
    return combine(x, y, acc);
}
