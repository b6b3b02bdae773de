// gradient.wgsl: the gradient magnitude of a plane (op::Gradient), edges replicated:
//   gx = (c − a) + w · (f − d) + (i − g),  gy = (g − a) + w · (h − b) + (i − c)
//   out(x, y) = floor(sqrt(gx² + gy²) · scale + delta)
// over the 3x3 neighbourhood a b c / d e f / g h i of (x, y), with w = 2 (Sobel) or 1 (Prewitt).
// Edges replicate, except that with MIRROR row and column −1 are row and column 1 (op::Gradient).
//
// Bindings: common.wgsl's info (in_size, flags: bit 0 Prewitt, bit 1 MIRROR; amount = scale,
// bias = delta in code values), in0, out0. Workgroup size 16x16 (per_sample.wgsl's entry point,
// which this file's `value` serves).

const MIRROR: u32 = 2u;

// The coordinate before `c`: c − 1, or at 0 the mirrored 1 or the replicated 0.
fn before(c: u32, size: u32) -> u32 {
    if (c > 0u) {
        return c - 1u;
    }
    return select(0u, min(1u, size - 1u), (info.flags & MIRROR) != 0u);
}

fn value(x: u32, y: u32) -> f32 {
    let size = info.in_size;
    var n: array<vec3<f32>, 3>;
    let rows = vec3<u32>(before(y, size.y), y, clamp_coord(i32(y) + 1, size.y));
    let left = before(x, size.x);
    let right = clamp_coord(i32(x) + 1, size.x);
    for (var j = 0u; j < 3u; j++) {
        let sy = rows[j];
        n[j] = vec3<f32>(
            load_in0(left, sy, size.x),
            load_in0(x, sy, size.x),
            load_in0(right, sy, size.x),
        );
    }
    let w = select(2.0, 1.0, (info.flags & 1u) != 0u);
    let gx = (n[0].z - n[0].x) + w * (n[1].z - n[1].x) + (n[2].z - n[2].x);
    let gy = (n[2].x - n[0].x) + w * (n[2].y - n[0].y) + (n[2].z - n[0].z);
    return floor(sqrt(gx * gx + gy * gy) * info.amount + info.bias);
}
