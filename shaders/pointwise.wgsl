// pointwise.wgsl: a fused run of per-pixel colour ops, one read and one write per pixel.
//
// Bindings: common.wgsl's src, dst, info, data; `data` holds each op's parameters in whole vec4
// slots (PointOp::write_params: one for the built-in ops, a pixel op's uniforms four a slot), so
// a parameter change between frames rewrites a buffer, not a pipeline. Workgroup size 16x16, one
// invocation per pixel. shaders.rs generates `apply_ops`, one call per op of the pass in order,
// and a function per pixel op (src/backend/gpu/pixel.rs) that calls the `px_` helpers below.
// Each op mirrors PointOp::apply in src/plan.rs exactly.

const LUMA: vec3<f32> = vec3<f32>(0.2126, 0.7152, 0.0722);

fn op_param(i: u32) -> vec4<f32> {
    let at = 4u * i;
    return bitcast<vec4<f32>>(vec4<u32>(data[at], data[at + 1u], data[at + 2u], data[at + 3u]));
}

fn luma(p: vec4<f32>) -> f32 {
    return LUMA.x * p.r + LUMA.y * p.g + LUMA.z * p.b;
}

// q = (brightness, contrast, saturation, gamma)
fn op_eq(p: vec4<f32>, q: vec4<f32>) -> vec4<f32> {
    let y = luma(p);
    let cb = p.b - y;
    let cr = p.r - y;
    var v = q.y * (y - 0.5) + 0.5 + q.x;
    if (v <= 0.0) {
        v = 0.0;
    } else if (q.w == 1.0) {
        v = min(v, 1.0);
    } else {
        v = min(pow(v, 1.0 / q.w), 1.0);
    }
    let r = v + q.z * cr;
    let b = v + q.z * cb;
    let g = (v - LUMA.x * r - LUMA.z * b) * (1.0 / LUMA.y);
    return vec4<f32>(clamp(vec3<f32>(r, g, b), vec3<f32>(0.0), vec3<f32>(1.0)), p.a);
}

fn op_grayscale(p: vec4<f32>, q: vec4<f32>) -> vec4<f32> {
    let y = luma(p);
    return vec4<f32>(y, y, y, p.a);
}

fn op_invert(p: vec4<f32>, q: vec4<f32>) -> vec4<f32> {
    return vec4<f32>(1.0 - p.rgb, p.a);
}

// ---- pixel expressions: each helper is an operation of src/pixel.rs ----

// NaN is tested on the bits: a compiler may take `v != v` to be false.
fn px_is_nan(v: f32) -> bool {
    return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

// The f32 with bits `bits`; `v`, whose bits are dropped, keeps naga from folding a non-finite
// constant (which it rejects).
fn px_from_bits(bits: u32, v: f32) -> f32 {
    return bitcast<f32>(bits | (bitcast<u32>(v) & 0u));
}

fn px_truth(c: bool) -> f32 {
    return select(0.0, 1.0, c);
}

// Clamped to 0..1, NaN as 0: every channel a pixel op writes.
fn px_sat(v: f32) -> f32 {
    return clamp(select(v, 0.0, px_is_nan(v)), 0.0, 1.0);
}

// IEEE division, by zero included, where a GPU may give anything: ±infinity with the sign of
// a·b (the zero's sign included), NaN for 0/0.
fn px_div(a: f32, b: f32) -> f32 {
    if (b == 0.0) {
        if (a == 0.0 || px_is_nan(a)) {
            return px_from_bits(0x7fc00000u, a);
        }
        let sign = (bitcast<u32>(a) ^ bitcast<u32>(b)) & 0x80000000u;
        return px_from_bits(0x7f800000u | sign, a);
    }
    return a / b;
}

// C's fmod for a zero divisor: NaN (WGSL leaves it undefined).
fn px_rem(a: f32, b: f32) -> f32 {
    if (b == 0.0) {
        return px_from_bits(0x7fc00000u, a);
    }
    return a % b;
}

// Halves away from 0, as Rust's `round` (WGSL's takes them to even).
fn px_round(v: f32) -> f32 {
    let t = trunc(v);
    return t + select(0.0, sign(v), abs(v - t) >= 0.5);
}

// C's pow: 1 for a zero exponent or a base of 1, 0 or infinity for a zero base, and a negative
// base with an integer exponent signed by its parity (WGSL leaves all of these undefined).
fn px_pow(a: f32, b: f32) -> f32 {
    if (b == 0.0 || a == 1.0) {
        return 1.0;
    }
    let m = abs(a);
    var r = pow(m, b);
    if (m == 0.0) {
        r = select(0.0, px_from_bits(0x7f800000u, b), b < 0.0);
    }
    if (a < 0.0) {
        if (trunc(b) != b) {
            return px_from_bits(0x7fc00000u, b);
        }
        if (fract(b * 0.5) != 0.0) {
            r = -r;
        }
    }
    return r;
}

// WGSL bounds the error of sin, cos and tan only within -π..π: arguments are brought there
// first (for a large argument the reduction costs an ulp of the argument).
fn px_sin(v: f32) -> f32 {
    return sin(v - 6.2831855 * round(v * 0.15915494));
}

fn px_cos(v: f32) -> f32 {
    return cos(v - 6.2831855 * round(v * 0.15915494));
}

fn px_tan(v: f32) -> f32 {
    return tan(v - 3.1415927 * round(v * 0.31830987));
}

@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    if (outside(id)) {
        return;
    }
    let i = id.y * info.out_size.x + id.x;
    store_dst(i, apply_ops(load_src(i), vec2<f32>(f32(id.x), f32(id.y))));
}
