// hqdn3d_rows.wgsl: hqdn3d's walk along each row (see hqdn3d.wgsl), put after it.

@compute @workgroup_size(16, 16)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let y = group.x * 256u + local;
    let size = info.out_size;
    if (y >= size.y) {
        return;
    }
    var before = fixed(load_in0(0u, y, info.in_size.x));
    if (y == 0u) {
        before = table(0u, before, before);
    }
    out0[y * size.x] = bitcast<u32>(before);
    for (var x = 1u; x < size.x; x++) {
        before = table(0u, before, fixed(load_in0(x, y, info.in_size.x)));
        out0[y * size.x + x] = bitcast<u32>(before);
    }
}
