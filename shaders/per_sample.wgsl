// per_sample.wgsl: the entry point of the kernels that compute each output sample on its own
// (curves.wgsl, stencil1d.wgsl and convolve2d.wgsl untiled, resample.wgsl, remap.wgsl), put
// after the kernel's file by shaders.rs. The kernel's file defines `value(x, y) -> f32`, the
// output sample at (x, y) unclamped.
//
// Bindings: common.wgsl's; the kernel writes out0. Workgroup size 16x16: each invocation
// writes one word of out0, LANES samples of a row (shaders.rs defines LANES = LANES_OUT0); a
// word's samples past the row's end repeat its last sample.

@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let x = id.x * LANES;
    let size = info.out_size;
    if (x >= size.x || id.y >= size.y) {
        return;
    }
    var v = vec4<f32>(0.0);
    for (var k = 0u; k < LANES; k++) {
        v[k] = value(min(x + k, size.x - 1u), id.y);
    }
    store_out0(x, id.y, size.x, v);
}
