// resample.wgsl: one axis of a plane's resample through an op::ResampleTable, edges replicated:
//   out(i) = sum_k weights[i · taps + k] · in0(starts[i] + k) along the axis.
// A resample runs its vertical axis into an unclamped f32 plane (source width, output height),
// then its horizontal one; nothing is rounded or clamped between the two.
//
// Bindings: common.wgsl's info (in_size, out_size, taps, weights_at = the output's length along
// the axis), data (starts as i32 bits, then the weights), in0, out0. Workgroup size 16x16,
// entry point per_sample.wgsl. shaders.rs defines VERTICAL (the axis).

fn value(x: u32, y: u32) -> f32 {
    let size = info.in_size;
    let i = select(x, y, VERTICAL);
    let start = bitcast<i32>(data[i]);
    var acc = 0.0;
    for (var k = 0u; k < info.taps; k++) {
        let s = start + i32(k);
        var v: f32;
        if (VERTICAL) {
            v = load_in0(x, clamp_coord(s, size.y), size.x);
        } else {
            v = load_in0(clamp_coord(s, size.x), y, size.x);
        }
        acc += weight(i * info.taps + k) * v;
    }
    return acc;
}
