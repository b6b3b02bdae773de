// remap.wgsl: sample moves of a plane (crops, flips, transpositions), no arithmetic:
//   out(x, y) = in0(origin.x + fx(x), origin.y + fy(y)), fx(x) = out_w − 1 − x when flipped,
//   or transposed in0(origin.x + fy(y), origin.y + fx(x)).
//
// Bindings: common.wgsl's info (in_size, out_size, origin in the plane's samples, flags: bit 0
// flips horizontally, bit 1 vertically, bit 2 transposes), in0, out0; data is unread.
// Workgroup size 16x16, entry point per_sample.wgsl.

fn value(x: u32, y: u32) -> f32 {
    var fx = x;
    var fy = y;
    if ((info.flags & 1u) != 0u) {
        fx = info.out_size.x - 1u - x;
    }
    if ((info.flags & 2u) != 0u) {
        fy = info.out_size.y - 1u - y;
    }
    if ((info.flags & 4u) != 0u) {
        let t = fx;
        fx = fy;
        fy = t;
    }
    let sx = clamp_coord(info.origin.x + i32(fx), info.in_size.x);
    let sy = clamp_coord(info.origin.y + i32(fy), info.in_size.y);
    return load_in0(sx, sy, info.in_size.x);
}
