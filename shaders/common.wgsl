// common.wgsl: what every tessera kernel shares, prepended to each kernel by
// src/backend/gpu/shaders.rs (which also generates `load_src`, `store_dst` and, for unsharp,
// `load_base` for the pass's pixel formats).
//
// Bindings (group 0), the same for every kernel:
//   0  src   storage, read        pixels the pass reads
//   1  dst   storage, read_write  pixels the pass writes
//   2  info  uniform              PassInfo below
//   3  data  storage, read        weights, resample tables or pointwise parameters (f32 / i32 bits)
// Every kernel runs one invocation per output pixel in 16x16 workgroups.
//
// Pixel formats in arrays of u32 (the frame's bytes read little-endian):
//   rgba8   one word per pixel:   r | g << 8 | b << 16 | a << 24
//   rgba16  two words per pixel:  r | g << 16, then b | a << 16
// Values are unorm: code / 255 or code / 65535 on load, round(clamp(v, 0, 1) * max) on store, so
// every pass clamps its output to 0..1. Intermediate frames between passes are rgba16.

struct PassInfo {
    in_size: vec2<u32>,
    out_size: vec2<u32>,
    // Remap: source position of output pixel (0, 0) before flipping.
    origin: vec2<i32>,
    // Kernel length (1-D), kernel width (2-D), resample taps, or pointwise op count.
    taps: u32,
    // Kernel height (2-D).
    rows: u32,
    // Remap: bit 0 flips horizontally, bit 1 vertically.
    flags: u32,
    // Index in `data` of the first weight (resample tables keep their starts before it).
    weights_at: u32,
    // Convolve2D: bias; unsharp: amount.
    scalar: f32,
    pad: u32,
}

@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> dst: array<u32>;
@group(0) @binding(2) var<uniform> info: PassInfo;
@group(0) @binding(3) var<storage, read> data: array<u32>;

fn unpack_rgba8(w: u32) -> vec4<f32> {
    return unpack4x8unorm(w);
}

fn pack_rgba8(v: vec4<f32>) -> u32 {
    return pack4x8unorm(clamp(v, vec4<f32>(0.0), vec4<f32>(1.0)));
}

fn unpack_rgba16(lo: u32, hi: u32) -> vec4<f32> {
    return vec4<f32>(unpack2x16unorm(lo), unpack2x16unorm(hi));
}

fn pack_rgba16(v: vec4<f32>) -> vec2<u32> {
    let c = clamp(v, vec4<f32>(0.0), vec4<f32>(1.0));
    return vec2<u32>(pack2x16unorm(c.xy), pack2x16unorm(c.zw));
}

// Edges replicate: a coordinate outside 0..size is moved to the nearest edge sample.
fn clamp_coord(c: i32, size: u32) -> u32 {
    return u32(clamp(c, 0, i32(size) - 1));
}

// Index of pixel (x, y), clamped to the frame, in a frame of `size`.
fn pixel_at(x: i32, y: i32, size: vec2<u32>) -> u32 {
    return clamp_coord(y, size.y) * size.x + clamp_coord(x, size.x);
}

fn weight(k: u32) -> f32 {
    return bitcast<f32>(data[info.weights_at + k]);
}

// True for invocations past the output's right or bottom edge (the last workgroups overhang).
fn outside(id: vec3<u32>) -> bool {
    return id.x >= info.out_size.x || id.y >= info.out_size.y;
}
