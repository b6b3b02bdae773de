// lut.wgsl: the table ops of a pointwise kernel (op::table, as the CPU's pointwise blocks run
// them): a table per R′G′B′ channel (curves, lut1d) and a 3-D table (lut3d). Put before
// pointwise.wgsl in the kernels whose ops include one; shaders.rs generates their calls.
//
// An op's words of `data`, from `at`: each channel's first input (3 words; a cube's fourth is
// its strength), each channel's entries per unit of input (3 words and a spare), then the
// entries: a channel table's red entries, then green's, then blue's; a cube's R′G′B′ of each
// entry, red's index varying fastest.

// Where channel `c`'s input `x` falls in a table of `last + 1` entries, clamped to it, NaN as 0
// (ChannelTables::apply, Cube::apply).
fn lut_position(at: u32, c: u32, x: f32, last: f32) -> f32 {
    let v = (x - data_f32(at + c)) * data_f32(at + 4u + c);
    return select(clamp(v, 0.0, last), 0.0, is_nan(v));
}

fn lut_channel(at: u32, n: u32, nearest: bool, c: u32, x: f32) -> f32 {
    let s = lut_position(at, c, x, f32(n - 1u));
    let base = at + 8u + c * n;
    if (nearest) {
        return data_f32(base + u32(s + 0.5));
    }
    let i = min(u32(s), n - 2u);
    let f = s - f32(i);
    let a = data_f32(base + i);
    return a + (data_f32(base + i + 1u) - a) * f;
}

fn op_channels(p: vec4<f32>, at: u32, n: u32, nearest: bool) -> vec4<f32> {
    return vec4<f32>(
        lut_channel(at, n, nearest, 0u, p.r),
        lut_channel(at, n, nearest, 1u, p.g),
        lut_channel(at, n, nearest, 2u, p.b),
        p.a,
    );
}

fn cube_at(at: u32, n: u32, r: u32, g: u32, b: u32) -> vec3<f32> {
    let w = at + 8u + 3u * ((b * n + g) * n + r);
    return vec3<f32>(data_f32(w), data_f32(w + 1u), data_f32(w + 2u));
}

// interp: 0 nearest, 1 trilinear, 2 tetrahedral (CubeInterp::index).
fn op_cube(p: vec4<f32>, at: u32, n: u32, interp: u32) -> vec4<f32> {
    let last = f32(n - 1u);
    let s = vec3<f32>(
        lut_position(at, 0u, p.r, last),
        lut_position(at, 1u, p.g, last),
        lut_position(at, 2u, p.b, last),
    );
    var c: vec3<f32>;
    if (interp == 0u) {
        let i = vec3<u32>(s + 0.5);
        c = cube_at(at, n, i.x, i.y, i.z);
    } else {
        let i0 = vec3<u32>(s);
        let i1 = min(i0 + 1u, vec3<u32>(n - 1u));
        let d = s - vec3<f32>(i0);
        let c000 = cube_at(at, n, i0.x, i0.y, i0.z);
        let c100 = cube_at(at, n, i1.x, i0.y, i0.z);
        let c010 = cube_at(at, n, i0.x, i1.y, i0.z);
        let c110 = cube_at(at, n, i1.x, i1.y, i0.z);
        let c001 = cube_at(at, n, i0.x, i0.y, i1.z);
        let c101 = cube_at(at, n, i1.x, i0.y, i1.z);
        let c011 = cube_at(at, n, i0.x, i1.y, i1.z);
        let c111 = cube_at(at, n, i1.x, i1.y, i1.z);
        if (interp == 1u) {
            // Along red, then green, then blue.
            let c00 = c000 + (c100 - c000) * d.x;
            let c10 = c010 + (c110 - c010) * d.x;
            let c01 = c001 + (c101 - c001) * d.x;
            let c11 = c011 + (c111 - c011) * d.x;
            let c0 = c00 + (c10 - c00) * d.y;
            let c1 = c01 + (c11 - c01) * d.y;
            c = c0 + (c1 - c0) * d.z;
        } else {
            // The tetrahedron from c000 to c111 through the corners that step first along the
            // axes of the largest fractions.
            var a: vec3<f32>;
            var b: vec3<f32>;
            var w: vec3<f32>;
            if (d.x > d.y) {
                if (d.y > d.z) {
                    a = c100; b = c110; w = d.xyz;
                } else if (d.x > d.z) {
                    a = c100; b = c101; w = d.xzy;
                } else {
                    a = c001; b = c101; w = d.zxy;
                }
            } else if (d.z > d.y) {
                a = c001; b = c011; w = d.zyx;
            } else if (d.z > d.x) {
                a = c010; b = c011; w = d.yzx;
            } else {
                a = c010; b = c110; w = d.yxz;
            }
            c = c000 * (1.0 - w.x) + a * (w.x - w.y) + b * (w.y - w.z) + c111 * w.z;
        }
    }
    let x = p.rgb;
    return vec4<f32>(x + (c - x) * data_f32(at + 3u), p.a);
}
