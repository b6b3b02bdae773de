// pointwise.wgsl: a fused run of pointwise ops on whole pixels (op::apply_point_ops' joint
// path: RGB frames, and passes with a pixel op): each pixel's codes become normalised R′G′B′A
// through the frame's matrix and range (op::ColourMath), the ops run in order, and the result
// goes back to codes. On subsampled Y′CbCr the pixels of a block (BW x BH: 2x2 at 4:2:0) take
// their block's chroma, and the block's new chroma is the mean of its pixels'.
//
// Bindings: common.wgsl's info (out_size = the frame's size; max_code, k, zero_of, scale_of),
// data (each op's parameters in whole vec4 slots: a curves op three curves of two slots each, a
// pixel op its uniforms), in0 … (the colour planes, then alpha when the frame has it), out0 …
// (the colour planes, then alpha when the pass writes it). Workgroup size 16x16: each
// invocation computes K blocks of a row of blocks, so that each output word has one writer.
//
// shaders.rs generates FAMILY, BW, BH, SH, SV (the chroma shifts), K, NPIX = K·BW·BH,
// `load_pixel` (the codes of a pixel's planes, alpha last), `apply_ops` (one call per op, a
// function per pixel op from src/backend/gpu/pixel.rs, which calls the `px_` helpers below) and
// `store_block`. Each step mirrors op::ColourMath and the CPU's pointwise blocks.

const FAMILY_RGB: u32 = 0u;
const FAMILY_GRAY: u32 = 1u;
const FAMILY_YUV: u32 = 2u;

// A pixel's codes as normalised R′G′B′A, unclamped (ColourMath::to_rgba).
fn to_rgba(px: vec4<f32>) -> vec4<f32> {
    let n = (px - info.zero_of) * (1.0 / info.scale_of);
    let a = px.w * (1.0 / info.max_code);
    if (FAMILY == FAMILY_RGB) {
        return vec4<f32>(n.xyz, a);
    }
    if (FAMILY == FAMILY_GRAY) {
        return vec4<f32>(n.x, n.x, n.x, a);
    }
    let k = info.k;
    let r = n.x + 2.0 * (1.0 - k.x) * n.z;
    let b = n.x + 2.0 * (1.0 - k.z) * n.y;
    let g = (n.x - k.x * r - k.z * b) * (1.0 / k.y);
    return vec4<f32>(r, g, b, a);
}

// Normalised R′G′B′A back to codes, unrounded (ColourMath::from_rgba).
fn from_rgba(c: vec4<f32>) -> vec4<f32> {
    let k = info.k;
    var n = c.xyz;
    if (FAMILY != FAMILY_RGB) {
        let l = k.x * c.x + k.y * c.y + k.z * c.z;
        n = vec3<f32>(l, (c.z - l) * (1.0 / (2.0 * (1.0 - k.z))), (c.x - l) * (1.0 / (2.0 * (1.0 - k.x))));
    }
    let codes = n * info.scale_of.xyz + info.zero_of.xyz;
    return vec4<f32>(codes, c.w * info.max_code);
}

// Curves of full-range 8-bit Y′CbCr made from the pixel's R′G′B′, three curves from word `at`
// of `data` (ColourMath::rgb_to_ycc8, Curve::apply, ColourMath::ycc8_to_rgb).
fn op_curves(p: vec4<f32>, at: u32) -> vec4<f32> {
    let k = info.k;
    let l = k.x * p.r + k.y * p.g + k.z * p.b;
    let y = curve(at, 255.0 * l, 255.0);
    let cb = curve(at + 8u, 128.0 + (255.0 / (2.0 * (1.0 - k.z))) * (p.b - l), 255.0);
    let cr = curve(at + 16u, 128.0 + (255.0 / (2.0 * (1.0 - k.x))) * (p.r - l), 255.0);
    let yl = y * (1.0 / 255.0);
    let r = yl + (2.0 * (1.0 - k.x) / 255.0) * (cr - 128.0);
    let b = yl + (2.0 * (1.0 - k.z) / 255.0) * (cb - 128.0);
    let g = (yl - k.x * r - k.z * b) * (1.0 / k.y);
    return vec4<f32>(clamp(vec3<f32>(r, g, b), vec3<f32>(0.0), vec3<f32>(1.0)), p.a);
}

// ---- pixel expressions: each helper is an operation of src/pixel.rs ----

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
    return clamp(select(v, 0.0, is_nan(v)), 0.0, 1.0);
}

// IEEE division, by zero included, where a GPU may give anything: ±infinity with the sign of
// a·b (the zero's sign included), NaN for 0/0.
fn px_div(a: f32, b: f32) -> f32 {
    if (b == 0.0) {
        if (a == 0.0 || is_nan(a)) {
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
// `pixel::noise`: the same integer hash, so both backends give the same bits.
fn px_whole(v: f32) -> u32 {
    if (v >= 1.0) {
        return u32(min(v, 4294967040.0));
    }
    return 0u;
}

fn px_hash(v: u32) -> u32 {
    var x = v;
    x = x ^ (x >> 16u);
    x = x * 0x7feb352du;
    x = x ^ (x >> 15u);
    x = x * 0x846ca68bu;
    return x ^ (x >> 16u);
}

fn px_noise(a: f32, b: f32) -> f32 {
    let hb = px_hash(px_whole(b));
    let h = px_hash(px_whole(a) ^ ((hb << 16u) | (hb >> 16u)));
    return f32(h >> 8u) * (1.0 / 16777216.0);
}

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
    let size = info.out_size;
    let blocks = (size + vec2<u32>(BW - 1u, BH - 1u)) / vec2<u32>(BW, BH);
    let bx = id.x * K;
    if (bx >= blocks.x || id.y >= blocks.y) {
        return;
    }
    // Each pixel's new codes, row by row, then each block's mean.
    var px: array<vec4<f32>, NPIX>;
    var mean: array<vec4<f32>, K>;
    let rows = min(BH, size.y - id.y * BH);
    for (var r = 0u; r < rows; r++) {
        let y = id.y * BH + r;
        for (var c = 0u; c < K * BW; c++) {
            let x = bx * BW + c;
            if (x < size.x) {
                let p = apply_ops(to_rgba(load_pixel(x, y)), vec2<f32>(f32(x), f32(y)));
                let codes = from_rgba(p);
                px[r * K * BW + c] = codes;
                mean[c / BW] += codes;
            }
        }
    }
    for (var b = 0u; b < K; b++) {
        let first = (bx + b) * BW;
        if (first < size.x) {
            mean[b] /= f32(min(BW, size.x - first) * rows);
        }
    }
    store_block(bx, id.y, &px, &mean);
}
