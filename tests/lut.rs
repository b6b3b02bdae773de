//! The table filters (`lut3d`, `lut1d`, `curves`): against the `ffmpeg` CLI on the same
//! pictures (PSNR floors stated per test), against f64 references of the 3-D interpolations, an
//! identity table giving every layout back, fusion with their neighbours, and the .cube reader's
//! errors through the binary.

mod common;

use std::path::Path;

use common::{psnr, s, tessera, test_frame, yuv, Noise};
use tessera::backend::cpu::CpuBackend;
use tessera::frame::{Format, Layout};
use tessera::{plan, Backend, Chain, Frame};

/// A colour grade as a function of normalised R′G′B′: channels mixed, a gamma and a lift,
/// different on each channel, so that every interpolation has curvature to follow.
fn grade(r: f64, g: f64, b: f64) -> [f64; 3] {
    let l = 0.3 * r + 0.6 * g + 0.1 * b;
    [
        (0.05 + 0.9 * (l + 1.4 * (r - l)).clamp(0.0, 1.0).powf(0.8)).min(1.0),
        (0.92 * (l + 1.2 * (g - l)).clamp(0.0, 1.0).powf(1.1) + 0.04 * b).min(1.0),
        (0.1 + 0.8 * (0.7 * b + 0.3 * r * g).powf(1.3)).min(1.0),
    ]
}

/// A .cube of `f` sampled at `n` points per axis, red fastest.
fn write_cube(path: &Path, n: usize, f: impl Fn(f64, f64, f64) -> [f64; 3]) {
    let mut text = format!("# made by tessera's tests\nTITLE \"grade\"\nLUT_3D_SIZE {n}\n\n");
    let k = (n - 1) as f64;
    for bi in 0..n {
        for gi in 0..n {
            for ri in 0..n {
                let [r, g, b] = f(ri as f64 / k, gi as f64 / k, bi as f64 / k);
                text.push_str(&format!("{r:.6} {g:.6} {b:.6}\n"));
            }
        }
    }
    std::fs::write(path, text).unwrap();
}

/// tessera's picture of `chain` (CPU backend, through the binary) and FFmpeg's of `vf`, on the
/// same RGB PNG, as rgb24 bytes.
fn against_ffmpeg(dir: &Path, chain: &str, vf: &str) -> f64 {
    let input = dir.join("in.png");
    if !input.exists() {
        common::write_png8(&input, 96, 64, 5);
    }
    let ours = dir.join("ours.png");
    let theirs = dir.join("theirs.png");
    let (code, _, err) = tessera(&[
        "process",
        s(&input),
        "-o",
        s(&ours),
        "--overwrite",
        "-q",
        "--chain",
        chain,
        "--backend",
        "cpu",
    ]);
    assert_eq!(code, 0, "{chain}: {err}");
    common::ffmpeg(&["-i", s(&input), "-vf", vf, s(&theirs)]);
    let (a, b) = (
        common::decoded(&ours, "rgb24"),
        common::decoded(&theirs, "rgb24"),
    );
    let v = psnr(&a, &b);
    eprintln!("{chain} against ffmpeg -vf {vf}: {v:.2} dB");
    v
}

/// FFmpeg converts its float results to codes by truncation, tessera rounds to the nearest: that
/// alone costs about half a code value on average (about 51 dB, which every case here measures,
/// 49.6 to 53 dB). 45 dB leaves room for the rest: curves' tables quantised to 8 bits between a
/// channel's curve and the master, and its knots' x quantised to 1/255.
const FFMPEG_FLOOR_DB: f64 = 45.0;

#[test]
fn lut3d_matches_ffmpeg_tetrahedral_and_trilinear() {
    let dir = tempfile::tempdir().unwrap();
    for n in [17, 33] {
        let cube = dir.path().join(format!("grade{n}.cube"));
        write_cube(&cube, n, grade);
        for interp in ["tetrahedral", "trilinear", "nearest"] {
            let db = against_ffmpeg(
                dir.path(),
                &format!("lut3d(file=\"{}\", interp={interp})", s(&cube)),
                &format!("lut3d=file={}:interp={interp}", s(&cube)),
            );
            assert!(
                db >= FFMPEG_FLOOR_DB,
                "lut3d {n} {interp}: {db:.2} dB < {FFMPEG_FLOOR_DB}"
            );
        }
    }
}

#[test]
fn lut1d_matches_ffmpeg() {
    let dir = tempfile::tempdir().unwrap();
    let file = std::fs::canonicalize("assets/luts/film16.cube").unwrap();
    for interp in ["nearest", "linear", "cubic", "cosine", "spline"] {
        let db = against_ffmpeg(
            dir.path(),
            &format!("lut1d(file=\"{}\", interp={interp})", s(&file)),
            &format!("lut1d=file={}:interp={interp}", s(&file)),
        );
        assert!(
            db >= FFMPEG_FLOOR_DB,
            "lut1d {interp}: {db:.2} dB < {FFMPEG_FLOOR_DB}"
        );
    }
}

#[test]
fn curves_natural_matches_ffmpeg_presets_and_points() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("preset=vintage", "curves=preset=vintage"),
        ("preset=strong_contrast", "curves=preset=strong_contrast"),
        ("preset=cross_process", "curves=preset=cross_process"),
        (
            "r=\"0/0 0.5/0.58 1/1\", b=\"0/0.1 0.4/0.3 1/0.9\", master=\"0/0 0.3/0.2 0.7/0.8 1/1\"",
            "curves=r='0/0 0.5/0.58 1/1':b='0/0.1 0.4/0.3 1/0.9':master='0/0 0.3/0.2 0.7/0.8 1/1'",
        ),
        (
            "all=\"0/0.05 0.5/0.6 1/0.95\", g=\"0.2/0 0.8/1\"",
            "curves=all='0/0.05 0.5/0.6 1/0.95':g='0.2/0 0.8/1'",
        ),
    ];
    for (ours, theirs) in cases {
        let db = against_ffmpeg(
            dir.path(),
            &format!("curves({ours}, interp=natural)"),
            theirs,
        );
        assert!(
            db >= FFMPEG_FLOOR_DB,
            "curves {ours}: {db:.2} dB < {FFMPEG_FLOOR_DB}"
        );
    }
}

fn run(backend: &mut dyn Backend, text: &str, frame: &Frame) -> Frame {
    let chain = Chain::parse(text).unwrap_or_else(|e| panic!("{}", e.render(text)));
    let plan = plan::compile(&chain, &frame.format).unwrap_or_else(|e| panic!("{text}: {e}"));
    backend.process(&plan, frame.clone()).unwrap()
}

/// A frame whose colours all lie inside the R′G′B′ cube (away from its faces), on any layout:
/// each chroma block one colour, so that no pixel's Y′CbCr leaves the cube.
fn in_gamut_frame(format: Format, seed: u64) -> Frame {
    let mut noise = Noise::new(seed);
    let mut frame = Frame::new(format);
    let (kr, kb) = format.colour.matrix.kr_kb();
    let (sh, sv) = format.layout.chroma_shift;
    let (w, h) = (format.width as usize, format.height as usize);
    let bw = w.div_ceil(1 << sh);
    let blocks: Vec<[f64; 3]> = (0..bw * h.div_ceil(1 << sv))
        .map(|_| std::array::from_fn(|_| 0.1 + 0.8 * (noise.next() % 1000) as f64 / 999.0))
        .collect();
    let max = format.max_code() as f64;
    for p in 0..format.planes() {
        let (pw, ph) = format.plane_size(p);
        let (psh, psv) = format.layout.shift(p);
        let mut values = Vec::new();
        for y in 0..ph as usize {
            for x in 0..pw as usize {
                // The block of this sample: chroma samples are blocks, others pixels.
                let (bx, by) = if (psh, psv) == (0, 0) {
                    (x >> sh, y >> sv)
                } else {
                    (x, y)
                };
                let [r, g, b] = blocks[by * bw + bx];
                let l = kr * r + (1.0 - kr - kb) * g + kb * b;
                let v = match (format.layout.family, p) {
                    (_, p) if Some(p) == format.layout.alpha_plane() => {
                        ((x * 7 + y * 3) % 10) as f64 / 9.0
                    }
                    (tessera::frame::Family::Rgb, p) => [r, g, b][p],
                    (_, 0) => l,
                    (_, 1) => (b - l) / (2.0 * (1.0 - kb)),
                    _ => (r - l) / (2.0 * (1.0 - kr)),
                };
                let code = if Some(p) == format.layout.alpha_plane() {
                    v * max
                } else {
                    format.zero(p) + v * format.scale(p)
                };
                values.push(code.round().clamp(0.0, max));
            }
        }
        if format.is_wide() {
            for (o, v) in frame.plane16_mut(p).data.iter_mut().zip(&values) {
                *o = *v as u16;
            }
        } else {
            for (o, v) in frame.plane8_mut(p).data.iter_mut().zip(&values) {
                *o = *v as u8;
            }
        }
    }
    frame
}

fn every_layout(w: u32, h: u32) -> Vec<Format> {
    vec![
        Format::rgb(w, h, 8, false),
        Format::rgb(w, h, 8, true),
        Format::rgb(w, h, 16, true),
        yuv(w, h, Layout::YUV420, 8),
        yuv(w, h, Layout::YUV420.with_alpha(true), 8),
        yuv(w, h, Layout::YUV422, 10),
        yuv(w, h, Layout::YUV444, 8),
        yuv(w, h, Layout::YUV444, 10),
        yuv(w, h, Layout::GRAY, 8),
        yuv(w, h, Layout::GRAY.with_alpha(true), 10),
    ]
}

#[test]
fn identity_tables_give_every_layout_back() {
    let dir = tempfile::tempdir().unwrap();
    let id2 = dir.path().join("id2.cube");
    let id17 = dir.path().join("id17.cube");
    write_cube(&id2, 2, |r, g, b| [r, g, b]);
    write_cube(&id17, 17, |r, g, b| [r, g, b]);
    let id1d = dir.path().join("id1d.cube");
    let entries: String = (0..11)
        .map(|i| format!("{0} {0} {0}\n", i as f64 / 10.0))
        .collect();
    std::fs::write(&id1d, format!("LUT_1D_SIZE 11\n{entries}")).unwrap();
    let chains = [
        format!("lut3d(file=\"{}\")", s(&id2)),
        format!("lut3d(file=\"{}\", interp=trilinear)", s(&id17)),
        format!("lut3d(file=\"{}\", interp=tetrahedral)", s(&id17)),
        format!("lut1d(file=\"{}\")", s(&id1d)),
        // (FFmpeg's cubic, cosine and spline do not follow a straight line through the
        // entries everywhere, so a straight-line table is not the identity with them.)
        "curves(all=\"0/0 1/1\", master=\"0/0 0.5/0.5 1/1\")".to_string(),
    ];
    let mut gpu = common::gpu();
    let mut cpu = CpuBackend::new();
    for format in every_layout(21, 13) {
        let frame = in_gamut_frame(format, 3);
        for chain in &chains {
            let mut backends: Vec<&mut dyn Backend> = vec![&mut cpu];
            if let Some(g) = gpu.as_mut() {
                backends.push(g);
            }
            for backend in backends {
                let out = run(backend, chain, &frame);
                let d = out.plane_diffs(&frame).expect("same format");
                assert!(
                    d.iter().all(|&d| d <= 1),
                    "{chain} on {} ({}): {d:?}",
                    format.describe(),
                    backend.describe()
                );
            }
        }
    }
}

/// Trilinear and tetrahedral interpolation in f64, written from their definitions: weights of
/// the cell's 8 corners (products of the fractions), and the barycentric weights of the
/// tetrahedron the sorted fractions pick.
fn cube_ref(entries: &[[f64; 3]], n: usize, tetra: bool, rgb: [f64; 3]) -> [f64; 3] {
    let s: Vec<f64> = rgb
        .iter()
        .map(|v| (v * (n - 1) as f64).clamp(0.0, (n - 1) as f64))
        .collect();
    let i0: Vec<usize> = s.iter().map(|v| (v.floor() as usize).min(n - 2)).collect();
    let f: Vec<f64> = (0..3).map(|c| s[c] - i0[c] as f64).collect();
    let at = |d: [usize; 3]| entries[((i0[2] + d[2]) * n + i0[1] + d[1]) * n + i0[0] + d[0]];
    let mut out = [0.0; 3];
    if !tetra {
        for corner in 0..8 {
            let d = [corner & 1, (corner >> 1) & 1, (corner >> 2) & 1];
            let w: f64 = (0..3)
                .map(|c| if d[c] == 1 { f[c] } else { 1.0 - f[c] })
                .product();
            let e = at(d);
            for c in 0..3 {
                out[c] += w * e[c];
            }
        }
        return out;
    }
    // Walk from corner 000 to 111, one axis at a time in the order of decreasing fraction.
    let mut order = [0usize, 1, 2];
    order.sort_by(|&a, &b| f[b].partial_cmp(&f[a]).unwrap());
    let mut d = [0usize; 3];
    let fr = [f[order[0]], f[order[1]], f[order[2]]];
    let weights = [1.0 - fr[0], fr[0] - fr[1], fr[1] - fr[2], fr[2]];
    for (k, w) in weights.iter().enumerate() {
        if k > 0 {
            d[order[k - 1]] = 1;
        }
        let e = at(d);
        for c in 0..3 {
            out[c] += w * e[c];
        }
    }
    out
}

#[test]
fn lut3d_interpolations_match_f64_references() {
    let dir = tempfile::tempdir().unwrap();
    let n = 5;
    let cube = dir.path().join("grade5.cube");
    write_cube(&cube, n, grade);
    let text = std::fs::read_to_string(&cube).unwrap();
    let entries: Vec<[f64; 3]> = text
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .map(|l| {
            let v: Vec<f64> = l.split_whitespace().map(|w| w.parse().unwrap()).collect();
            [v[0], v[1], v[2]]
        })
        .collect();
    assert_eq!(entries.len(), n * n * n);
    for (interp, tetra) in [("tetrahedral", true), ("trilinear", false)] {
        for frame in [
            common::test_image8(23, 17, 9),
            common::test_image16(23, 17, 10),
        ] {
            let chain = format!(
                "lut3d(file=\"{}\", interp={interp}, strength=0.75)",
                s(&cube)
            );
            let out = run(&mut CpuBackend::new(), &chain, &frame);
            let max = frame.format.max_code() as f64;
            let mut worst = 0.0f64;
            for y in 0..17 {
                for x in 0..23 {
                    let rgb: [f64; 3] =
                        std::array::from_fn(|p| frame.plane(p).get(x, y) as f64 / max);
                    let want = cube_ref(&entries, n, tetra, rgb);
                    for p in 0..3 {
                        let want = (rgb[p] + (want[p] - rgb[p]) * 0.75) * max;
                        let got = out.plane(p).get(x, y) as f64;
                        worst = worst.max((got - want).abs());
                    }
                    assert_eq!(out.plane(3).get(x, y), frame.plane(3).get(x, y), "alpha");
                }
            }
            // Rounding to the nearest code, and f32 arithmetic: a 16-bit code is 1.5e-5.
            assert!(
                worst <= 0.5 + 1e-3 * max / 255.0,
                "{interp} at {} bits: {worst} code values from the f64 reference",
                frame.format.bits
            );
        }
    }
}

#[test]
fn table_filters_fuse_with_their_neighbours_into_one_pass() {
    let chain =
        "eq(contrast=1.2, saturation=1.1) | lut3d(file=\"assets/luts/teal_orange17.cube\") \
                 | tint(#ffb070, 0.3) | curves(preset=vintage) \
                 | lut1d(file=\"assets/luts/film16.cube\")";
    let chain = Chain::parse(chain).unwrap_or_else(|e| panic!("{}", e.render(chain)));
    for format in every_layout(16, 8) {
        let plan = plan::compile(&chain, &format).unwrap();
        assert_eq!(plan.passes.len(), 1, "{}: {plan:?}", format.describe());
    }
    // The file is read once: both plans hold the same table.
    let a = plan::compile(&chain, &every_layout(8, 8)[0]).unwrap();
    let b = plan::compile(&chain, &every_layout(8, 8)[3]).unwrap();
    let cube = |p: &plan::Plan| match &p.passes[0].kind {
        plan::PassKind::Pointwise(ops) => ops
            .iter()
            .find_map(|op| match op {
                tessera::op::PointOp::Cube { cube, .. } => Some(cube.clone()),
                _ => None,
            })
            .unwrap(),
        _ => unreachable!(),
    };
    assert!(std::sync::Arc::ptr_eq(&cube(&a), &cube(&b)));
}

#[test]
fn backends_agree_on_a_graded_chain_on_every_layout() {
    let Some(mut gpu) = common::gpu() else { return };
    let chain = "eq(contrast=1.2) | lut3d(file=\"assets/luts/teal_orange17.cube\", strength=0.8) \
                 | tint(#ffb070, 0.3) | curves(preset=cross_process)";
    for format in every_layout(19, 11) {
        let frame = test_frame(format, 8);
        let a = run(&mut CpuBackend::new(), chain, &frame);
        let b = run(&mut gpu, chain, &frame);
        let d = a.plane_diffs(&b).unwrap();
        assert!(d.iter().all(|&d| d <= 1), "{}: {d:?}", format.describe());
    }
}

/// A bad .cube or bad points stop the run before any frame as a usage error (exit code 2),
/// the message naming the file and line.
#[test]
fn bad_tables_are_usage_errors_naming_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.png");
    common::write_png8(&input, 8, 8, 1);
    let out = dir.path().join("out.png");
    let bad = dir.path().join("looks.cube");
    let mut lines: Vec<String> = vec!["# a grade".into(), "LUT_3D_SIZE 2".into()];
    lines.extend((0..8).map(|i| format!("{} {} {}", i & 1, (i >> 1) & 1, (i >> 2) & 1)));
    let good = lines.join("\n");
    let cases: Vec<(String, String, String)> = vec![
        (
            // Line 9 (the 7th entry) holds two numbers.
            good.replace("0 1 1", "0 1"),
            "lut3d".into(),
            "looks.cube:9: expected 3 numbers, found 2".into(),
        ),
        (
            good.replace("LUT_3D_SIZE 2", "LUT_3D_SIZE 257"),
            "lut3d".into(),
            "looks.cube:2: LUT_3D_SIZE 257 is out of range (expected 2 ..= 256)".into(),
        ),
        (
            good.replace("1 1 1", ""),
            "lut3d".into(),
            "looks.cube:9: the table ends after 7 entries; LUT_3D_SIZE 2 (line 2) needs 8".into(),
        ),
        (
            good.clone(),
            "lut1d".into(),
            "a 3-D LUT (LUT_3D_SIZE), which lut3d applies".into(),
        ),
    ];
    for (text, filter, message) in cases {
        std::fs::write(&bad, text).unwrap();
        let chain = format!("{filter}(file=\"{}\")", s(&bad));
        let (code, _, err) = tessera(&[
            "process",
            s(&input),
            "-o",
            s(&out),
            "--chain",
            &chain,
            "--overwrite",
        ]);
        assert_eq!(code, 2, "{chain}: {err}");
        assert!(err.contains(&message), "{chain}: {err}");
        assert!(!out.exists());
    }
    let missing = dir.path().join("missing.cube");
    let (code, _, err) = tessera(&[
        "process",
        s(&input),
        "-o",
        s(&out),
        "--chain",
        &format!("lut3d(\"{}\")", s(&missing)),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("missing.cube: cannot read it"), "{err}");
    let (code, _, err) = tessera(&[
        "process",
        s(&input),
        "-o",
        s(&out),
        "--chain",
        "curves(r=\"0/0 0.5\")",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("curves: r: \"0/0 0.5\" — each point is x/y in 0..1"),
        "{err}"
    );
    let (code, _, err) = tessera(&[
        "process",
        s(&input),
        "-o",
        s(&out),
        "--chain",
        "curves(master=\"0/0 0.6/0.5 0.4/1\")",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("x must increase"), "{err}");
}
