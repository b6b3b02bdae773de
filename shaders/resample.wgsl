// resample.wgsl: one direction of a resample through a ResampleTable, all four channels:
//   out(i) = sum_k weights[i * taps + k] * in(clamp(starts[i] + k)) along the axis.
//
// Bindings: common.wgsl's src, dst, info (taps; weights_at = output length along the axis),
// data (starts as i32 bits, then the weights). Workgroup size 16x16, one invocation per output
// pixel. shaders.rs defines VERTICAL (the axis).

@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    if (outside(id)) {
        return;
    }
    var i = id.x;
    if (VERTICAL) {
        i = id.y;
    }
    let start = bitcast<i32>(data[i]);
    var acc = vec4<f32>(0.0);
    for (var k = 0u; k < info.taps; k++) {
        let s = start + i32(k);
        var at: u32;
        if (VERTICAL) {
            at = pixel_at(i32(id.x), s, info.in_size);
        } else {
            at = pixel_at(s, i32(id.y), info.in_size);
        }
        acc += weight(i * info.taps + k) * load_src(at);
    }
    store_dst(id.y * info.out_size.x + id.x, acc);
}
