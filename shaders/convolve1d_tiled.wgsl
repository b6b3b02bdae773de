// convolve1d_tiled.wgsl: convolve1d.wgsl computed from a workgroup-shared tile (tile1d.wgsl), for
// radii up to TILE_RADIUS; shaders.rs picks convolve1d.wgsl for longer kernels. The sums are
// convolve1d.wgsl's, term for term and in the same order, so both give the same bits:
//   out(p) = sum_k w[k] * in(p + (k - taps / 2) along the axis).
//
// Bindings: common.wgsl's src, dst, info, data (the weights, info.taps of them, odd length).
// Workgroup size 16x16, one invocation per pixel. shaders.rs defines VERTICAL, WITH_ALPHA (false
// keeps the input alpha), TILE_RADIUS and the packed texel accessors.

@compute @workgroup_size(16, 16)
fn main(
    @builtin(global_invocation_id) id: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) group: vec3<u32>,
) {
    let r = info.taps / 2u;
    load_tile(group, lid, r);
    workgroupBarrier();
    if (outside(id)) {
        return;
    }
    let along = select(lid.x, lid.y, VERTICAL);
    let across = select(lid.y, lid.x, VERTICAL);
    var acc = vec4<f32>(0.0);
    for (var k = 0u; k < info.taps; k++) {
        acc += weight(k) * unpack_texel(tile[tile_at(along + k, across)]);
    }
    if (!WITH_ALPHA) {
        acc.a = unpack_texel(tile[tile_at(along + r, across)]).a;
    }
    store_dst(id.y * info.in_size.x + id.x, acc);
}
