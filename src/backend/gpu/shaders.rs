//! WGSL assembly: one shader per (kernel, plane stores) from the files in `shaders/`.
//!
//! A kernel's source is `common.wgsl`, then the generated pieces (a binding and an accessor for
//! each plane it reads and writes, in the stores the pass's planes have; the kernel's
//! constants; for pointwise kernels the pixel's loads, the fused ops and the block's stores),
//! then the kernel family's file and its entry point. Stencils small enough for a workgroup
//! tile get the `*_tiled.wgsl` entry point of their family, larger ones `per_sample.wgsl`.
//! Nothing here touches wgpu; the executor compiles and caches what this returns.

use std::fmt::Write;
use std::sync::Arc;

use super::pixel;
use crate::frame::{Family, Format};
use crate::op::{CubeInterp, PointOp};
use crate::pixel::PixelProgram;

const COMMON: &str = include_str!("../../../shaders/common.wgsl");
const PER_SAMPLE: &str = include_str!("../../../shaders/per_sample.wgsl");
const CURVES: &str = include_str!("../../../shaders/curves.wgsl");
const POINTWISE: &str = include_str!("../../../shaders/pointwise.wgsl");
const LUT: &str = include_str!("../../../shaders/lut.wgsl");
const OVERLAY: &str = include_str!("../../../shaders/overlay.wgsl");
const STENCIL_1D: &str = include_str!("../../../shaders/stencil1d.wgsl");
const STENCIL_1D_TILED: &str = include_str!("../../../shaders/stencil1d_tiled.wgsl");
const CONVOLVE_2D: &str = include_str!("../../../shaders/convolve2d.wgsl");
const CONVOLVE_2D_TILED: &str = include_str!("../../../shaders/convolve2d_tiled.wgsl");
const RESAMPLE: &str = include_str!("../../../shaders/resample.wgsl");
const GRADIENT: &str = include_str!("../../../shaders/gradient.wgsl");
const RANK: &str = include_str!("../../../shaders/rank.wgsl");
const MEDIAN: &str = include_str!("../../../shaders/median.wgsl");
const BILATERAL: &str = include_str!("../../../shaders/bilateral.wgsl");
const DENOISE: &str = include_str!("../../../shaders/denoise.wgsl");
const REMAP: &str = include_str!("../../../shaders/remap.wgsl");
const WARP: &str = include_str!("../../../shaders/warp.wgsl");
const MIX: &str = include_str!("../../../shaders/tmix.wgsl");
const DENOISE_3D: &str = include_str!("../../../shaders/hqdn3d.wgsl");
const DENOISE_3D_ROWS: &str = include_str!("../../../shaders/hqdn3d_rows.wgsl");
const DENOISE_3D_COLUMNS: &str = include_str!("../../../shaders/hqdn3d_columns.wgsl");

/// Workgroup memory a tile may take: the smallest any wgpu adapter offers (Metal's 16352
/// bytes; WebGPU's floor is 16384).
pub(crate) const TILE_BYTES: u32 = 16352;
/// The largest radius the tiled 1-D stencils hold, where the workgroup memory allows it: longer
/// kernels read their taps straight from the plane.
const TILE_RADIUS_1D: u32 = 32;
/// The largest horizontal and vertical radius of the tiled 2-D convolution: enough for every
/// kernel `convolve` accepts (15x15).
pub(crate) const TILE_RADIUS_2D: u32 = 7;

/// How a plane's samples lie in a storage buffer of `u32` (see `shaders/common.wgsl`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Store {
    /// 8-bit codes, four a word.
    U8,
    /// Codes of 9 to 16 bits, two a word.
    U16,
    /// Work samples between passes: code values with their fraction.
    F32,
}

impl Store {
    /// The store of a format's codes.
    pub(crate) fn codes(format: &Format) -> Store {
        if format.is_wide() {
            Store::U16
        } else {
            Store::U8
        }
    }

    /// Samples in one word.
    pub(crate) fn lanes(self) -> u32 {
        match self {
            Store::U8 => 4,
            Store::U16 => 2,
            Store::F32 => 1,
        }
    }

    /// Samples from one row to the next: the width rounded up to a whole word.
    pub(crate) fn stride(self, width: u32) -> u32 {
        width.div_ceil(self.lanes()) * self.lanes()
    }

    /// Bytes of one row.
    pub(crate) fn row_bytes(self, width: u32) -> u64 {
        self.stride(width) as u64 * 4 / self.lanes() as u64
    }

    /// Bytes of a `width`×`height` plane: a whole number of words.
    pub(crate) fn bytes(self, (width, height): (u32, u32)) -> u64 {
        self.row_bytes(width) * height as u64
    }

    /// `fn load_{name}(x: u32, y: u32, width: u32) -> f32`, sample (x, y) of the binding
    /// `name`.
    fn loader(self, name: &str) -> String {
        let body = match self {
            Store::U8 => format!(
                "let i = y * ((width + 3u) & ~3u) + x;\n    \
                 return f32(({name}[i >> 2u] >> ((i & 3u) * 8u)) & 0xffu);"
            ),
            Store::U16 => format!(
                "let i = y * ((width + 1u) & ~1u) + x;\n    \
                 return f32(({name}[i >> 1u] >> ((i & 1u) * 16u)) & 0xffffu);"
            ),
            Store::F32 => format!("return bitcast<f32>({name}[y * width + x]);"),
        };
        format!("fn load_{name}(x: u32, y: u32, width: u32) -> f32 {{\n    {body}\n}}\n")
    }

    /// `LANES_{NAME}` and `fn store_{name}(x: u32, y: u32, width: u32, v: vec4<f32>)`, writing
    /// the word of the binding `name` that holds samples x .. x + lanes of row y.
    fn storer(self, name: &str) -> String {
        let body = match self {
            Store::U8 => format!(
                "let c = vec4<u32>(to_code(v.x), to_code(v.y), to_code(v.z), to_code(v.w));\n    \
                 {name}[(y * ((width + 3u) & ~3u) + x) >> 2u] = \
                 c.x | (c.y << 8u) | (c.z << 16u) | (c.w << 24u);"
            ),
            Store::U16 => format!(
                "{name}[(y * ((width + 1u) & ~1u) + x) >> 1u] = to_code(v.x) | (to_code(v.y) << 16u);"
            ),
            Store::F32 => format!("{name}[y * width + x] = bitcast<u32>(to_work(v.x));"),
        };
        format!(
            "const LANES_{}: u32 = {}u;\n\
             fn store_{name}(x: u32, y: u32, width: u32, v: vec4<f32>) {{\n    {body}\n}}\n",
            name.to_uppercase(),
            self.lanes()
        )
    }
}

/// What applies one op of a pointwise kernel on whole pixels: curves of the pixel's Y′CbCr, or
/// a function generated from a pixel program. Parameter values are not part of it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum PointFn {
    Curves,
    /// Equal when the programs' shapes are: their uniforms are parameters.
    Pixel(Arc<PixelProgram>),
    /// A table of `size` entries per R′G′B′ channel (`shaders/lut.wgsl`).
    Channels {
        size: u32,
        nearest: bool,
    },
    /// A 3-D table of `size`³ entries (`shaders/lut.wgsl`).
    Cube {
        size: u32,
        interp: CubeInterp,
    },
    /// Alpha onto a colour (its R′G′B′ in the op's words).
    Flatten,
    /// A picture of `pixels` pixels over the frame (`shaders/overlay.wgsl`).
    Overlay {
        pixels: u32,
        blend: u32,
        tile: bool,
    },
}

/// Words of `data` before a table op's entries: its domain (and a cube's strength).
pub(crate) const TABLE_HEADER_WORDS: usize = 8;

/// Words of `data` one curve takes: its kind, four parameters, and padding to two vec4 slots.
pub(crate) const CURVE_WORDS: usize = 8;

impl PointFn {
    pub(crate) fn of(op: &PointOp) -> PointFn {
        match op {
            PointOp::Curves(_) => PointFn::Curves,
            PointOp::Pixel { program, .. } => PointFn::Pixel(program.clone()),
            PointOp::Channels(t) => PointFn::Channels {
                size: t.size as u32,
                nearest: t.nearest,
            },
            PointOp::Cube { cube, interp, .. } => PointFn::Cube {
                size: cube.size as u32,
                interp: *interp,
            },
            PointOp::Flatten(_) => PointFn::Flatten,
            PointOp::Overlay { picture, at } => PointFn::Overlay {
                pixels: picture.pixels.len() as u32,
                blend: at.blend.index(),
                tile: at.tile,
            },
        }
    }

    /// True for table ops, whose entries go to `data` only when another table takes their
    /// place.
    pub(crate) fn is_table(&self) -> bool {
        matches!(
            self,
            PointFn::Channels { .. } | PointFn::Cube { .. } | PointFn::Overlay { .. }
        )
    }

    /// Words of `data` the op's parameters take: three curves, or a pixel op's uniforms in
    /// whole vec4 slots.
    pub(crate) fn words(&self) -> usize {
        match self {
            PointFn::Curves => 3 * CURVE_WORDS,
            PointFn::Pixel(p) => 4 * p.param_slots(),
            PointFn::Channels { size, .. } => {
                TABLE_HEADER_WORDS + (3 * *size as usize).next_multiple_of(4)
            }
            PointFn::Cube { size, .. } => {
                TABLE_HEADER_WORDS + (3 * (*size as usize).pow(3)).next_multiple_of(4)
            }
            PointFn::Overlay { pixels, .. } => {
                TABLE_HEADER_WORDS + (*pixels as usize).next_multiple_of(4)
            }
            PointFn::Flatten => 4,
        }
    }

    fn label(&self) -> String {
        match self {
            PointFn::Curves => "curves".into(),
            PointFn::Pixel(p) => format!("pixel:{:016x}", p.fingerprint()),
            PointFn::Channels { size, nearest } => format!("channels:{size}:{nearest}"),
            PointFn::Cube { size, interp } => format!("cube:{size}:{interp:?}"),
            PointFn::Overlay {
                pixels,
                blend,
                tile,
            } => format!("overlay:{pixels}:{blend}:{tile}"),
            PointFn::Flatten => "flatten".into(),
        }
    }
}

/// What a compute pipeline does, independent of its parameters and of its planes' stores.
///
/// `tiled` stencils read their taps from a workgroup-shared tile (the `*_tiled.wgsl` files),
/// the others straight from the plane; both compute the same sums. The constructors below pick
/// per dispatch.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Kernel {
    /// A plane through its curves (per-plane pointwise passes): a table of every code for a
    /// plane of codes, the curves themselves for work samples.
    Curves,
    /// Whole pixels through `ops` (joint pointwise passes) on a frame of `family` with chroma
    /// subsampled by 2^`shift`. Inputs: the colour planes, then alpha if the input has it;
    /// outputs: the colour planes, then alpha if the pass writes it.
    Pointwise {
        ops: Vec<PointFn>,
        family: Family,
        shift: (u8, u8),
    },
    /// One axis of a separable stencil; `unsharp` combines the result with the pass's input.
    Stencil1D {
        vertical: bool,
        unsharp: bool,
        tiled: bool,
    },
    Convolve2D {
        tiled: bool,
    },
    /// One axis of a resample.
    Resample {
        vertical: bool,
    },
    Remap,
    /// The gradient magnitude of a plane (`gradient.wgsl`).
    Gradient,
    /// One axis of a min or max over a window (`rank.wgsl`).
    Rank {
        vertical: bool,
    },
    /// A plane interpolated at the positions of an affine map.
    Warp {
        bicubic: bool,
    },
    /// The k-th smallest sample of a window (`median.wgsl`).
    Nth,
    /// An edge-preserving average (`bilateral.wgsl`).
    Bilateral,
    /// A plane mixed with past ones, which it then joins (`tmix.wgsl`).
    Mix,
    /// hqdn3d's walk along each row, or down each column and through time (`hqdn3d.wgsl`).
    Denoise3d {
        columns: bool,
    },
    /// Non-local means (`denoise.wgsl`).
    Denoise,
}

/// The largest radius of a 1-D stencil whose tile fits [`TILE_BYTES`] for a workgroup writing
/// `lanes` samples an invocation along rows, up to [`TILE_RADIUS_1D`].
pub(crate) fn tile_radius_1d(vertical: bool, lanes: u32) -> u32 {
    // Lines across the axis and outputs along it, as stencil1d_tiled.wgsl lays them out.
    let (lines, wide) = if vertical {
        (16 * lanes, 16)
    } else {
        (16, 16 * lanes)
    };
    let span = TILE_BYTES / (4 * lines);
    ((span - wide) / 2).min(TILE_RADIUS_1D)
}

impl Kernel {
    /// One axis of a separable stencil of `taps` weights (odd) writing `out` samples: tiled
    /// while the radius fits [`tile_radius_1d`].
    pub(crate) fn stencil_1d(vertical: bool, unsharp: bool, taps: usize, out: Store) -> Kernel {
        Kernel::Stencil1D {
            vertical,
            unsharp,
            tiled: taps / 2 <= tile_radius_1d(vertical, out.lanes()) as usize,
        }
    }

    /// A `width`×`height` convolution: tiled while both radii fit [`TILE_RADIUS_2D`].
    pub(crate) fn convolve_2d(width: u32, height: u32) -> Kernel {
        Kernel::Convolve2D {
            tiled: width / 2 <= TILE_RADIUS_2D && height / 2 <= TILE_RADIUS_2D,
        }
    }
}

/// Everything a pipeline's WGSL depends on.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct KernelKey {
    pub kernel: Kernel,
    /// The store of each plane it reads (bindings `in0` …) and writes (`out0` …).
    pub inputs: Vec<Store>,
    pub outputs: Vec<Store>,
}

impl KernelKey {
    pub(crate) fn label(&self) -> String {
        let kernel = match &self.kernel {
            Kernel::Pointwise { ops, family, shift } => {
                let ops: Vec<String> = ops.iter().map(PointFn::label).collect();
                format!("pointwise[{}] {family:?} {shift:?}", ops.join(","))
            }
            other => format!("{other:?}"),
        };
        format!("{kernel} {:?}->{:?}", self.inputs, self.outputs)
    }

    /// Samples of the first output a per-sample or tiled kernel writes per invocation; blocks
    /// of a row a pointwise kernel computes per invocation.
    pub(crate) fn lanes(&self) -> u32 {
        self.outputs.iter().map(|s| s.lanes()).max().unwrap_or(1)
    }
}

/// The complete WGSL of `key`'s kernel, entry point `main`.
pub(crate) fn assemble(key: &KernelKey) -> String {
    let mut s = String::with_capacity(12 * 1024);
    s.push_str(COMMON);
    s.push_str("\n// ---- generated for this pipeline ----\n");
    let n_in = key.inputs.len() as u32;
    for (i, store) in key.inputs.iter().enumerate() {
        let name = format!("in{i}");
        let _ = writeln!(
            s,
            "@group(0) @binding({}) var<storage, read> {name}: array<u32>;",
            2 + i
        );
        s.push_str(&store.loader(&name));
    }
    for (j, store) in key.outputs.iter().enumerate() {
        let name = format!("out{j}");
        let _ = writeln!(
            s,
            "@group(0) @binding({}) var<storage, read_write> {name}: array<u32>;",
            2 + n_in + j as u32
        );
        s.push_str(&store.storer(&name));
    }
    let lanes = key.lanes();
    let _ = writeln!(s, "const LANES: u32 = {lanes}u;");
    let files: &[&str] = match &key.kernel {
        Kernel::Curves => {
            let lut = key.inputs.first().is_some_and(|s| *s != Store::F32);
            let _ = writeln!(s, "const LUT: bool = {lut};");
            &[CURVES, PER_SAMPLE]
        }
        Kernel::Pointwise { ops, family, shift } => {
            pointwise_pieces(&mut s, key, ops, *family, *shift);
            if ops.iter().any(PointFn::is_table) {
                &[LUT, OVERLAY, POINTWISE]
            } else {
                &[POINTWISE]
            }
        }
        Kernel::Stencil1D {
            vertical,
            unsharp,
            tiled,
        } => {
            let _ = writeln!(s, "const VERTICAL: bool = {vertical};");
            let _ = writeln!(s, "const UNSHARP: bool = {unsharp};");
            if *tiled {
                let radius = tile_radius_1d(*vertical, lanes);
                let _ = writeln!(s, "const TILE_RADIUS: u32 = {radius}u;");
                &[STENCIL_1D, STENCIL_1D_TILED]
            } else {
                &[STENCIL_1D, PER_SAMPLE]
            }
        }
        Kernel::Convolve2D { tiled: false } => &[CONVOLVE_2D, PER_SAMPLE],
        Kernel::Convolve2D { tiled: true } => {
            let _ = writeln!(s, "const TILE_RADIUS: u32 = {TILE_RADIUS_2D}u;");
            &[CONVOLVE_2D_TILED]
        }
        Kernel::Resample { vertical } => {
            let _ = writeln!(s, "const VERTICAL: bool = {vertical};");
            &[RESAMPLE, PER_SAMPLE]
        }
        Kernel::Remap => &[REMAP, PER_SAMPLE],
        Kernel::Gradient => &[GRADIENT, PER_SAMPLE],
        Kernel::Rank { vertical } => {
            let _ = writeln!(s, "const VERTICAL: bool = {vertical};");
            &[RANK, PER_SAMPLE]
        }
        Kernel::Warp { bicubic } => {
            let _ = writeln!(s, "const BICUBIC: bool = {bicubic};");
            &[WARP, PER_SAMPLE]
        }
        Kernel::Nth => &[MEDIAN, PER_SAMPLE],
        Kernel::Bilateral => &[BILATERAL, PER_SAMPLE],
        Kernel::Mix => {
            let codes = key.outputs.first().is_some_and(|s| *s != Store::F32);
            let _ = writeln!(s, "const CODES_OUT: bool = {codes};");
            &[MIX]
        }
        Kernel::Denoise3d { columns } => {
            let codes = key.outputs.first().is_some_and(|s| *s != Store::F32);
            let _ = writeln!(s, "const CODES_OUT: bool = {codes};");
            if *columns {
                &[DENOISE_3D, DENOISE_3D_COLUMNS]
            } else {
                &[DENOISE_3D, DENOISE_3D_ROWS]
            }
        }
        Kernel::Denoise => &[DENOISE, PER_SAMPLE],
    };
    for file in files {
        s.push_str("// ---- kernel ----\n");
        s.push_str(file);
    }
    s
}

/// A pointwise kernel's constants, `load_pixel`, `apply_ops` and `store_block` (see
/// `shaders/pointwise.wgsl`).
fn pointwise_pieces(
    s: &mut String,
    key: &KernelKey,
    ops: &[PointFn],
    family: Family,
    shift: (u8, u8),
) {
    let colour = match family {
        Family::Gray => 1,
        Family::Rgb | Family::Yuv => 3,
    };
    let family_const = match family {
        Family::Rgb => "FAMILY_RGB",
        Family::Gray => "FAMILY_GRAY",
        Family::Yuv => "FAMILY_YUV",
    };
    let (bw, bh) = (1u32 << shift.0, 1u32 << shift.1);
    let k = key.lanes();
    let _ = writeln!(s, "const FAMILY: u32 = {family_const};");
    let _ = writeln!(
        s,
        "const SH: u32 = {}u;\nconst SV: u32 = {}u;",
        shift.0, shift.1
    );
    let _ = writeln!(s, "const BW: u32 = {bw}u;\nconst BH: u32 = {bh}u;");
    let _ = writeln!(
        s,
        "const K: u32 = {k}u;\nconst NPIX: u32 = {}u;",
        k * bw * bh
    );

    // Plane p of the frame: its load at pixel (x, y), full resolution or chroma.
    let subsampled = |p: usize| family == Family::Yuv && (1..3).contains(&p) && shift != (0, 0);
    let load = |p: usize| {
        if subsampled(p) {
            format!("load_in{p}(x >> SH, y >> SV, chroma.x)")
        } else {
            format!("load_in{p}(x, y, size.x)")
        }
    };
    s.push_str(
        "fn load_pixel(x: u32, y: u32) -> vec4<f32> {\n    let size = info.out_size;\n    \
         let chroma = (size + vec2<u32>(BW - 1u, BH - 1u)) / vec2<u32>(BW, BH);\n",
    );
    let c: Vec<String> = (0..3)
        .map(|p| if p < colour { load(p) } else { "0.0".into() })
        .collect();
    let alpha = if key.inputs.len() > colour {
        format!("load_in{colour}(x, y, size.x)")
    } else {
        "info.max_code".into()
    };
    let _ = writeln!(
        s,
        "    return vec4<f32>({}, {}, {}, {alpha});\n}}",
        c[0], c[1], c[2]
    );

    // Each op's parameters start at a whole vec4 slot of `data`.
    let mut calls = String::new();
    let mut at = 0;
    for (i, f) in ops.iter().enumerate() {
        match f {
            PointFn::Curves => {
                let _ = writeln!(calls, "    p = op_curves(p, {at}u);");
            }
            PointFn::Pixel(program) => {
                let name = format!("op_pixel{i}");
                s.push_str(&pixel::function(program, &name, at as u32));
                let _ = writeln!(calls, "    p = {name}(p, xy);");
            }
            PointFn::Channels { size, nearest } => {
                let _ = writeln!(calls, "    p = op_channels(p, {at}u, {size}u, {nearest});");
            }
            PointFn::Cube { size, interp } => {
                let i = interp.index();
                let _ = writeln!(calls, "    p = op_cube(p, {at}u, {size}u, {i}u);");
            }
            PointFn::Flatten => {
                // op::flatten: c + (v − c)·a.
                let c = format!(
                    "vec3<f32>(data_f32({at}u), data_f32({}u), data_f32({}u))",
                    at + 1,
                    at + 2
                );
                let _ = writeln!(calls, "    p = vec4<f32>({c} + (p.rgb - {c}) * p.a, 1.0);");
            }
            PointFn::Overlay { blend, tile, .. } => {
                let _ = writeln!(calls, "    p = op_overlay(p, {at}u, xy, {blend}u, {tile});");
            }
        }
        at += f.words();
    }
    s.push_str("fn apply_ops(p0: vec4<f32>, xy: vec2<f32>) -> vec4<f32> {\n    var p = p0;\n");
    s.push_str(&calls);
    s.push_str("    return p;\n}\n");

    // Stores: full-resolution planes from each pixel, subsampled chroma from each block's mean.
    s.push_str(
        "fn store_block(bx: u32, by: u32, px: ptr<function, array<vec4<f32>, NPIX>>, \
         mean: ptr<function, array<vec4<f32>, K>>) {\n    let size = info.out_size;\n    \
         let chroma = (size + vec2<u32>(BW - 1u, BH - 1u)) / vec2<u32>(BW, BH);\n",
    );
    for j in 0..key.outputs.len() {
        // Outputs are the colour planes, then alpha (the pixel's last component).
        let component = if j < colour { j } else { 3 };
        let lanes = format!("LANES_OUT{j}");
        if subsampled(j) {
            let _ = write!(
                s,
                "    for (var w = 0u; w < K; w += {lanes}) {{\n        \
                 if (bx + w < chroma.x) {{\n            var v = vec4<f32>(0.0);\n            \
                 for (var l = 0u; l < {lanes}; l++) {{\n                \
                 v[l] = (*mean)[w + l][{component}];\n            }}\n            \
                 store_out{j}(bx + w, by, chroma.x, v);\n        }}\n    }}\n"
            );
        } else {
            let _ = write!(
                s,
                "    for (var r = 0u; r < BH; r++) {{\n        let y = by * BH + r;\n        \
                 for (var w = 0u; w < K * BW; w += {lanes}) {{\n            \
                 let x = bx * BW + w;\n            if (y < size.y && x < size.x) {{\n                \
                 var v = vec4<f32>(0.0);\n                \
                 for (var l = 0u; l < {lanes}; l++) {{\n                    \
                 v[l] = (*px)[r * K * BW + w + l][{component}];\n                }}\n                \
                 store_out{j}(x, y, size.x, v);\n            }}\n        }}\n    }}\n"
            );
        }
    }
    s.push_str("}\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pixel programs that use every operation and function between them, uniforms and
    /// constant channels included.
    fn pixel_programs() -> Vec<Arc<PixelProgram>> {
        use crate::chain::expr::{FRAME_VARIABLES, PIXEL_VARIABLES};
        let names: Vec<&str> = PIXEL_VARIABLES
            .iter()
            .chain(FRAME_VARIABLES)
            .map(|(n, _)| *n)
            .collect();
        let programs = [
            [
                "(r + g - b * a / (x + 1)) % (y + 2) + r ^ g + pow(g, 2.2) + -r + r^-2",
                "(r < g) + (r <= g) + (r > g) + (r >= g) + (r == g) + (r != g) \
                 + (r > 0.5 && g < 0.5) + (r > 0.5 || !(g < 0.5))",
                "abs(r - 0.5) + min(r, g) + max(g, b) + clamp(r, 0.2, t) + floor(x / 2) \
                 + ceil(y / 3) + round(r * 4) + sqrt(g) + exp(b) + log(r + 1) + sin(x) \
                 + cos(y) + tan(r)",
                "lerp(r, g, t) + smoothstep(t, n + 1, r) + if(r > 0.5, g, b) \
                 + between(r, 0.2, 0.8) + linear(r, 0, 0, 1, 1) + smooth(g, 0, 1, 1, 0.5) \
                 + r * w + g * h + b * fps + a * duration + noise(x, y * 3 + n)",
            ],
            ["t", "0.5", "1 - w / h * r", "-a"],
        ];
        programs
            .iter()
            .map(|texts| {
                let exprs = texts.map(|t| {
                    let e = crate::chain::parse_expr(t, 0).unwrap();
                    e.check(&names, "").unwrap();
                    e.fold((0, t.len())).unwrap()
                });
                let [r, g, b, a] = &exprs;
                Arc::new(PixelProgram::compile([Some(r), Some(g), Some(b), Some(a)]).unwrap())
            })
            .collect()
    }

    #[test]
    fn the_pixel_programs_use_every_operation() {
        use crate::pixel::{BinOp, Scalar, Step, UnOp};
        let programs = pixel_programs();
        let steps = || programs.iter().flat_map(|p| p.steps().iter().copied());
        for op in UnOp::ALL {
            let in_scalars = programs.iter().any(|p| {
                p.scalars()
                    .iter()
                    .any(|s| matches!(s, Scalar::Un(o, _) if *o == op))
            });
            assert!(
                in_scalars || steps().any(|s| matches!(s, Step::Un(o, _) if o == op)),
                "{op:?}"
            );
        }
        for op in BinOp::ALL {
            assert!(
                steps().any(|s| matches!(s, Step::Bin(o, ..) if o == op)),
                "{op:?}"
            );
        }
        assert!(steps().any(|s| matches!(s, Step::Select(..))));
        assert!(programs.iter().any(|p| p.uniform_count() > 4));
    }

    const STORES: [Store; 3] = [Store::U8, Store::U16, Store::F32];

    /// A kernel key for every kernel, every combination of stores its planes can have, and
    /// pointwise kernels for every family, subsampling and alpha.
    fn keys() -> Vec<KernelKey> {
        let pixel = pixel_programs();
        let mut keys = Vec::new();
        let mut plane_kernels = vec![
            Kernel::Curves,
            Kernel::Remap,
            Kernel::Warp { bicubic: false },
            Kernel::Warp { bicubic: true },
        ];
        for tiled in [false, true] {
            for vertical in [false, true] {
                for unsharp in [false, true] {
                    plane_kernels.push(Kernel::Stencil1D {
                        vertical,
                        unsharp,
                        tiled,
                    });
                }
                plane_kernels.push(Kernel::Resample { vertical });
            }
            plane_kernels.push(Kernel::Convolve2D { tiled });
        }
        for kernel in plane_kernels {
            let inputs = if matches!(kernel, Kernel::Stencil1D { .. }) {
                2
            } else {
                1
            };
            for src in STORES {
                for dst in STORES {
                    keys.push(KernelKey {
                        kernel: kernel.clone(),
                        inputs: vec![src; inputs],
                        outputs: vec![dst],
                    });
                }
            }
        }
        let op_lists = [
            vec![PointFn::Curves],
            vec![
                PointFn::Pixel(pixel[0].clone()),
                PointFn::Curves,
                PointFn::Pixel(pixel[1].clone()),
                PointFn::Pixel(pixel[0].clone()),
            ],
            vec![
                PointFn::Curves,
                PointFn::Channels {
                    size: 17,
                    nearest: false,
                },
                PointFn::Cube {
                    size: 3,
                    interp: CubeInterp::Tetrahedral,
                },
                PointFn::Cube {
                    size: 2,
                    interp: CubeInterp::Nearest,
                },
                PointFn::Channels {
                    size: 2,
                    nearest: true,
                },
                PointFn::Pixel(pixel[1].clone()),
            ],
        ];
        for (family, shift) in [
            (Family::Yuv, (1, 1)),
            (Family::Yuv, (1, 0)),
            (Family::Yuv, (0, 0)),
            (Family::Yuv, (0, 1)),
            (Family::Yuv, (2, 2)),
            (Family::Gray, (0, 0)),
            (Family::Rgb, (0, 0)),
        ] {
            let colour = if family == Family::Gray { 1 } else { 3 };
            for ops in &op_lists {
                for (codes, work) in [(Store::U8, Store::F32), (Store::U16, Store::U16)] {
                    for (alpha_in, alpha_out) in
                        [(false, false), (true, false), (false, true), (true, true)]
                    {
                        let inputs = vec![work; colour + alpha_in as usize];
                        // Luma's last change, chroma's not: stores differ between outputs.
                        let mut outputs = vec![work; colour + alpha_out as usize];
                        outputs[0] = codes;
                        keys.push(KernelKey {
                            kernel: Kernel::Pointwise {
                                ops: ops.clone(),
                                family,
                                shift,
                            },
                            inputs,
                            outputs,
                        });
                    }
                }
            }
        }
        keys
    }

    /// Every kernel in every store combination passes naga's validation without a device, and
    /// the tiled ones keep their tile inside the smallest workgroup memory a wgpu adapter
    /// offers. naga's uniformity analysis is laxer than WGSL's (it lets a barrier follow a
    /// non-uniform `return`), so the kernels keep their barriers uniform by construction: loop
    /// bounds from `info`, the output's bounds tested only after the barrier.
    #[test]
    fn every_kernel_validates_and_its_tile_fits_any_device() {
        use wgpu::naga;
        let limit = wgpu::Limits::downlevel_defaults().max_compute_workgroup_storage_size;
        assert!(TILE_BYTES <= limit);
        for key in keys() {
            let wgsl = assemble(&key);
            assert!(
                wgsl.contains("@compute @workgroup_size(16, 16)"),
                "{}",
                key.label()
            );
            let module = naga::front::wgsl::parse_str(&wgsl)
                .unwrap_or_else(|e| panic!("{}: {}", key.label(), e.emit_to_string(&wgsl)));
            naga::valid::Validator::new(
                naga::valid::ValidationFlags::all(),
                naga::valid::Capabilities::empty(),
            )
            .validate(&module)
            .unwrap_or_else(|e| panic!("{}: {}", key.label(), e.emit_to_string(&wgsl)));
            let shared: u32 = module
                .global_variables
                .iter()
                .filter(|(_, g)| g.space == naga::AddressSpace::WorkGroup)
                .map(|(_, g)| module.types[g.ty].inner.size(module.to_ctx()))
                .sum();
            let tiled = matches!(
                key.kernel,
                Kernel::Stencil1D { tiled: true, .. } | Kernel::Convolve2D { tiled: true }
            );
            assert_eq!(shared > 0, tiled, "{}: {shared} bytes", key.label());
            assert!(
                shared <= TILE_BYTES,
                "{}: {shared} > {TILE_BYTES} bytes",
                key.label()
            );
        }
    }

    /// The host picks the tiled kernel exactly up to the radii the tiles hold.
    #[test]
    fn tiled_kernels_are_picked_up_to_the_tile_radius() {
        let taps = |r: u32| 2 * r as usize + 1;
        for vertical in [false, true] {
            for out in STORES {
                let radius = tile_radius_1d(vertical, out.lanes());
                assert!(radius >= 16, "{vertical} {out:?}: {radius}");
                let tiled = |k| matches!(k, Kernel::Stencil1D { tiled, .. } if tiled);
                assert!(tiled(Kernel::stencil_1d(vertical, false, 3, out)));
                assert!(tiled(Kernel::stencil_1d(vertical, true, taps(radius), out)));
                assert!(!tiled(Kernel::stencil_1d(
                    vertical,
                    false,
                    taps(radius + 1),
                    out
                )));
            }
        }
        let side = 2 * TILE_RADIUS_2D + 1;
        assert_eq!(
            Kernel::convolve_2d(side, side),
            Kernel::Convolve2D { tiled: true }
        );
        for (w, h) in [(side + 2, 1), (1, side + 2), (side + 2, side + 2)] {
            assert_eq!(
                Kernel::convolve_2d(w, h),
                Kernel::Convolve2D { tiled: false },
                "{w}x{h}"
            );
        }
    }
}
