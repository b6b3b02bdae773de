// curves.wgsl: a plane through its curves, for pointwise passes whose ops are all curves of a
// Y′CbCr or grey frame's planes (op::apply_point_ops' per-plane path):
//   out = from_8bit · curve_n(… curve_1(in · to_8bit, top_8bit) …, top_8bit)
// A plane of codes reads that value from a table of every code (LUT, built on the CPU as the CPU
// backend builds its own); a plane of work samples goes through the curves here.
//
// Bindings: common.wgsl's info (taps = the number of curves, to_8bit, from_8bit, top_8bit,
// max_code), data (the table: an f32 for each code 0 ..= max_code; or the curves, eight words
// each: common.wgsl's `curve`), in0 (the plane), out0. Workgroup size 16x16, entry point
// per_sample.wgsl. shaders.rs defines LUT.

fn value(x: u32, y: u32) -> f32 {
    let s = load_in0(x, y, info.in_size.x);
    if (LUT) {
        // Codes past the depth's largest (damaged data) read the largest's entry.
        return data_f32(min(u32(s), u32(info.max_code)));
    }
    var v = s * info.to_8bit;
    for (var i = 0u; i < info.taps; i++) {
        v = curve(8u * i, v, info.top_8bit);
    }
    return v * info.from_8bit;
}
