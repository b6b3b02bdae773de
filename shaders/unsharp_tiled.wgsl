// unsharp_tiled.wgsl: unsharp.wgsl with the vertical blur computed from a workgroup-shared tile
// (tile1d.wgsl, VERTICAL), for radii up to TILE_RADIUS; shaders.rs picks unsharp.wgsl for longer
// kernels. The sums are unsharp.wgsl's, term for term and in the same order:
//   blur = clamp(sum_k w[k] * src(x, y + k - taps / 2).rgb, 0, 1)
//   out  = (clamp(base.rgb + amount * (base.rgb - blur), 0, 1), base.a)
//
// Bindings: as unsharp.wgsl, binding 4 `base` included. Workgroup size 16x16, one invocation per
// pixel. shaders.rs defines VERTICAL (true), TILE_RADIUS and the packed texel accessors.

@group(0) @binding(4) var<storage, read> base: array<u32>;

@compute @workgroup_size(16, 16)
fn main(
    @builtin(global_invocation_id) id: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) group: vec3<u32>,
) {
    load_tile(group, lid, info.taps / 2u);
    workgroupBarrier();
    if (outside(id)) {
        return;
    }
    var blur = vec3<f32>(0.0);
    for (var k = 0u; k < info.taps; k++) {
        blur += weight(k) * unpack_texel(tile[tile_at(lid.y + k, lid.x)]).rgb;
    }
    blur = clamp(blur, vec3<f32>(0.0), vec3<f32>(1.0));
    let i = id.y * info.in_size.x + id.x;
    let p = load_base(i);
    store_dst(i, vec4<f32>(p.rgb + info.scalar * (p.rgb - blur), p.a));
}
