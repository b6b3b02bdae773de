// common.wgsl: what every tessera kernel shares, put first in each kernel by
// src/backend/gpu/shaders.rs, which then generates the kernel's plane bindings and accessors.
//
// Bindings (group 0), for every kernel:
//   0          info   uniform              Info below: sizes and scalars of one dispatch
//   1          data   storage, read        weights, resample tables, curves or pixel uniforms
//                                          (u32 words holding f32 or i32 bits)
//   2 ..       in0 …  storage, read        the planes the dispatch reads
//   then       out0 … storage, read_write  the planes it writes
// Every kernel runs in 16x16 workgroups.
//
// A plane is an array of u32, each row starting on a word:
//   u8   codes, four a word (byte x & 3 of the word), rows of width rounded up to 4 samples
//   u16  codes, two a word (low half first), rows of width rounded up to 2 samples
//   f32  work samples (code values with their fraction), one a word, rows of width samples
// shaders.rs generates, for input I, `load_inI(x, y, width) -> f32`, the sample at (x, y) as a
// code value; and for output J, LANES_OUTJ (the samples in one of its words) and
// `store_outJ(x, y, width, v)`, which writes samples x .. x + LANES_OUTJ of row y from v (x a
// multiple of LANES_OUTJ): codes rounded to the nearest and clamped to info.lo ..= info.hi, work
// samples clamped to the same range. A word's samples past the row's end are padding, written
// but never read.

struct Info {
    // The plane read (the first input), and the plane written; the frame's luma size for
    // pointwise kernels.
    in_size: vec2<u32>,
    out_size: vec2<u32>,
    // Remap: the source sample of output (0, 0) before flipping.
    origin: vec2<i32>,
    // Remap: bit 0 flips horizontally, bit 1 vertically.
    flags: u32,
    // Taps of a 1-D stencil, width of a 2-D one, taps of a resample table, or curves of a plane.
    taps: u32,
    // Height of a 2-D stencil.
    rows: u32,
    // Index in `data` of the first weight (resample tables keep their starts before it).
    weights_at: u32,
    // What stores clamp to: the plane's codes (0 ..= largest), or nothing for a separable
    // stencil's first axis.
    lo: f32,
    hi: f32,
    // Unsharp's amount.
    amount: f32,
    // 2-D stencils: the code value taken off every sample and added back, and the bias.
    zero: f32,
    bias: f32,
    // Curves: code values to 8-bit units and back, and the largest code in 8-bit units.
    to_8bit: f32,
    from_8bit: f32,
    top_8bit: f32,
    // The largest code value.
    max_code: f32,
    pad: u32,
    // Pointwise kernels: Kr, Kg, Kb of the frame's matrix, and each plane's zero and scale
    // (op::ColourMath).
    k: vec4<f32>,
    zero_of: vec4<f32>,
    scale_of: vec4<f32>,
}

@group(0) @binding(0) var<uniform> info: Info;
@group(0) @binding(1) var<storage, read> data: array<u32>;

// NaN is tested on the bits: a compiler may take `v != v` to be false.
fn is_nan(v: f32) -> bool {
    return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

// The code value nearest `v`, clamped to info.lo ..= info.hi, NaN as 0 (frame::nearest_code).
fn to_code(v: f32) -> u32 {
    let c = clamp(floor(v + 0.5), info.lo, info.hi);
    return u32(select(c, 0.0, is_nan(v)));
}

// A work sample: `v` clamped to info.lo ..= info.hi, NaN as 0 (op::clamp).
fn to_work(v: f32) -> f32 {
    return select(clamp(v, info.lo, info.hi), 0.0, is_nan(v));
}

// Edges replicate: a coordinate outside 0 .. size is moved to the nearest edge sample.
fn clamp_coord(c: i32, size: u32) -> u32 {
    return u32(clamp(c, 0, i32(size) - 1));
}

fn data_f32(i: u32) -> f32 {
    return bitcast<f32>(data[i]);
}

fn weight(k: u32) -> f32 {
    return data_f32(info.weights_at + k);
}

// A curve of op::Curve at word `at` of `data`: its kind (0 none, 1 affine, 2 eq's gamma table),
// then its four parameters; applied to `x` in 8-bit units and clamped to 0 ..= top, as
// Curve::apply.
fn curve(at: u32, x: f32, top: f32) -> f32 {
    let kind = data[at];
    let p = vec4<f32>(data_f32(at + 1u), data_f32(at + 2u), data_f32(at + 3u), data_f32(at + 4u));
    var v = x;
    if (kind == 1u) {
        // scale, offset
        v = x * p.x + p.y;
    } else if (kind == 2u) {
        // contrast, brightness, gamma, weight
        v = p.x * (x * (1.0 / 255.0) - 0.5) + 0.5 + p.y;
        if (v <= 0.0) {
            v = 0.0;
        } else {
            v = 256.0 * (v * (1.0 - p.w) + pow(v, 1.0 / p.z) * p.w) - 0.5;
        }
    } else {
        return x;
    }
    return select(clamp(v, 0.0, top), 0.0, is_nan(v));
}
