// unsharp.wgsl: the second half of an unsharp mask. The first half is convolve1d.wgsl
// (horizontal, alpha kept) into a scratch frame; this kernel blurs that vertically and combines:
//   blur = clamp(sum_k w[k] * src(x, y + k - taps / 2).rgb, 0, 1)
//   out  = (clamp(base.rgb + amount * (base.rgb - blur), 0, 1), base.a)
//
// Bindings: common.wgsl's src (the horizontal blur), dst, info (scalar = amount), data (weights),
// plus binding 4, `base`: the unsharp pass's own input, read through `load_base`.
// Workgroup size 16x16, one invocation per pixel.

@group(0) @binding(4) var<storage, read> base: array<u32>;

@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    if (outside(id)) {
        return;
    }
    let size = info.in_size;
    let x = i32(id.x);
    let y = i32(id.y);
    let r = i32(info.taps / 2u);
    var blur = vec3<f32>(0.0);
    for (var k = 0; k < i32(info.taps); k++) {
        blur += weight(u32(k)) * load_src(pixel_at(x, y + k - r, size)).rgb;
    }
    blur = clamp(blur, vec3<f32>(0.0), vec3<f32>(1.0));
    let i = id.y * size.x + id.x;
    let p = load_base(i);
    store_dst(i, vec4<f32>(p.rgb + info.scalar * (p.rgb - blur), p.a));
}
