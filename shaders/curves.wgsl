// curves.wgsl: a plane through its curves, for pointwise passes whose ops are all curves of a
// Y′CbCr or grey frame's planes (op::apply_point_ops' per-plane path):
//   out = from_8bit · curve_n(… curve_1(in · to_8bit, top_8bit) …, top_8bit)
//
// Bindings: common.wgsl's info (taps = the number of curves, to_8bit, from_8bit, top_8bit), data
// (the curves, eight words each: common.wgsl's `curve`), in0 (the plane), out0. Workgroup size
// 16x16, entry point per_sample.wgsl.

fn value(x: u32, y: u32) -> f32 {
    var v = load_in0(x, y, info.in_size.x) * info.to_8bit;
    for (var i = 0u; i < info.taps; i++) {
        v = curve(8u * i, v, info.top_8bit);
    }
    return v * info.from_8bit;
}
