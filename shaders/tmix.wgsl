// tmix.wgsl: FFmpeg's tmix on one plane (op::Mix): each sample mixed with the same sample of
// the past planes the op keeps, which it then joins in place of the oldest.
//
//   out = (Σ_k weight[k] · past[k] + weight[K − 1] · now) · scale,  past oldest first
// rounded half to even where it is the plane's codes.
//
// Bindings: common.wgsl's info (taps = past planes kept, K − 1; rows = the slot of the oldest;
// flags bit 0: the stream's first frame, whose samples first fill every slot), data (the K
// weights, oldest first, then the scale), in0 (the plane), out0 (the result), out1 (the past
// planes as f32 bits, one whole plane after another). Workgroup size 16x16: each invocation
// writes one word of out0, LANES samples of a row.

@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let x = id.x * LANES;
    let size = info.out_size;
    if (x >= size.x || id.y >= size.y) {
        return;
    }
    let plane = size.x * size.y;
    let slots = info.taps;
    let oldest = info.rows;
    let first = (info.flags & 1u) != 0u;
    let scale = data_f32(slots + 1u);
    var v = vec4<f32>(0.0);
    for (var k = 0u; k < LANES; k++) {
        // A word's samples past the row's end repeat its last sample and keep nothing.
        let sx = min(x + k, size.x - 1u);
        let at = id.y * size.x + sx;
        let now = load_in0(sx, id.y, info.in_size.x);
        let inside = x + k < size.x;
        if (first && inside) {
            for (var s = 0u; s < slots; s++) {
                out1[s * plane + at] = bitcast<u32>(now);
            }
        }
        var sum = 0.0;
        for (var j = 0u; j < slots; j++) {
            let s = (oldest + j) % slots;
            sum += data_f32(j) * bitcast<f32>(out1[s * plane + at]);
        }
        sum += data_f32(slots) * now;
        v[k] = sum * scale;
        if (CODES_OUT) {
            // FFmpeg rounds a mix half to even (lrintf), as WGSL's round does.
            v[k] = round(v[k]);
        }
        if (inside) {
            out1[oldest * plane + at] = bitcast<u32>(now);
        }
    }
    store_out0(x, id.y, size.x, v);
}
