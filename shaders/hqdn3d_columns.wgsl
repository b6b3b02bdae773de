// hqdn3d_columns.wgsl: hqdn3d's walk down LANES columns and through time (see hqdn3d.wgsl),
// put after it.

@compute @workgroup_size(16, 16)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let x = (group.x * 256u + local) * LANES;
    let size = info.out_size;
    if (x >= size.x) {
        return;
    }
    let temporal = info.weights_at;
    let first = (info.flags & 1u) != 0u;
    var above = vec4<i32>(0);
    for (var y = 0u; y < size.y; y++) {
        var v = vec4<f32>(0.0);
        for (var k = 0u; k < LANES; k++) {
            // A word's samples past the row's end repeat its last sample and keep nothing.
            let sx = min(x + k, size.x - 1u);
            let at = y * size.x + sx;
            let across = bitcast<i32>(in0[at]);
            var down = across;
            if (y > 0u) {
                down = table(0u, above[k], across);
            }
            above[k] = down & 0xffff;
            var last = i32(out1[at]);
            if (first) {
                last = fixed(load_in1(sx, y, size.x));
            }
            // The output is the value kept, 16 bits, as FFmpeg's 8-bit output is.
            let now = table(temporal, last, down) & 0xffff;
            if (x + k < size.x) {
                out1[at] = u32(now);
            }
            v[k] = result(now);
        }
        store_out0(x, y, size.x, v);
    }
}
