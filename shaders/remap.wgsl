// remap.wgsl: pure pixel moves (crops and flips), no arithmetic:
//   out(x, y) = in(origin.x + fx(x), origin.y + fy(y)), fx(x) = out_w - 1 - x when flipped.
//
// Bindings: common.wgsl's src, dst, info (origin, flags: bit 0 flip_h, bit 1 flip_v); data is
// unused. Workgroup size 16x16, one invocation per output pixel.

@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    if (outside(id)) {
        return;
    }
    var fx = id.x;
    var fy = id.y;
    if ((info.flags & 1u) != 0u) {
        fx = info.out_size.x - 1u - id.x;
    }
    if ((info.flags & 2u) != 0u) {
        fy = info.out_size.y - 1u - id.y;
    }
    let at = pixel_at(info.origin.x + i32(fx), info.origin.y + i32(fy), info.in_size);
    store_dst(id.y * info.out_size.x + id.x, load_src(at));
}
