//! The pointwise colour filters and composites against independent references: FFmpeg's own filters of the
//! same name and meaning (the `ffmpeg` CLI run on the same frames, compared by PSNR per
//! channel, with the floor each test states), and exact formulas in f64 where FFmpeg has no
//! such filter or another meaning (sepia, ImageMagick's threshold and posterize, levels with a
//! gamma, colormatrix's matrix form, drawbox's blend, fade at given times).
//!
//! FFmpeg's 8-bit RGB filters truncate their float results to codes (vibrance,
//! colortemperature) or round each term of a sum (colorchannelmixer): half a code of error on
//! average, about 53 dB, so 45 dB leaves room for nothing else.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{test_frame, yuv};
use tessera::backend::cpu::CpuBackend;
use tessera::frame::{Layout, Samples};
use tessera::{plan, Backend, Chain, Frame};

fn cpu(text: &str, frame: &Frame) -> Frame {
    let chain = Chain::parse(text).unwrap_or_else(|e| panic!("{}", e.render(text)));
    let plan = plan::compile(&chain, &frame.format).unwrap_or_else(|e| panic!("{text}: {e}"));
    CpuBackend::new().process(&plan, frame.clone()).unwrap()
}

/// `filter` run by the `ffmpeg` CLI on one raw frame of `w`×`h` in `pix_fmt`, read back in the
/// same pixel format.
fn ffmpeg_filter(raw: &[u8], (w, h): (u32, u32), pix_fmt: &str, filter: &str) -> Vec<u8> {
    let size = format!("{w}x{h}");
    let mut child = Command::new("ffmpeg")
        .args([
            "-v", "error", "-f", "rawvideo", "-pix_fmt", pix_fmt, "-s", &size,
        ])
        .args([
            "-i", "-", "-vf", filter, "-f", "rawvideo", "-pix_fmt", pix_fmt, "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run ffmpeg");
    let mut stdin = child.stdin.take().unwrap();
    let input = raw.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        out.status.success(),
        "ffmpeg -vf {filter}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        out.stdout.len(),
        raw.len(),
        "ffmpeg -vf {filter}: one frame"
    );
    out.stdout
}

/// An 8-bit frame's samples as FFmpeg's raw layouts hold them: interleaved for RGB(A)
/// (rgb24, rgba), plane after plane for Y′CbCr (yuv420p).
fn raw8(frame: &Frame) -> Vec<u8> {
    if frame.format.layout.shift(1) == (0, 0)
        && frame.format.layout.family == tessera::frame::Family::Rgb
    {
        let Samples::U8(data) = frame.interleaved() else {
            unreachable!()
        };
        return data;
    }
    let mut out = Vec::new();
    for p in 0..frame.format.planes() {
        let plane = frame.plane8(p);
        for y in 0..plane.height {
            out.extend_from_slice(plane.row(y));
        }
    }
    out
}

/// PSNR in dB of the samples `got` against `want`, taking every `stride`-th sample from
/// `first` (one channel of interleaved pixels, or a range of planar samples with stride 1).
fn psnr(got: &[u8], want: &[u8], first: usize, stride: usize, len: usize) -> f64 {
    let mut sum = 0.0;
    let mut n = 0.0;
    for i in (first..first + len).step_by(stride) {
        let d = got[i] as f64 - want[i] as f64;
        sum += d * d;
        n += 1.0;
    }
    let mse: f64 = sum / n;
    10.0 * (255.0 * 255.0 / mse.max(1e-12)).log10()
}

/// An RGB(A) picture with gradients, hard edges and noise (the alpha varying where there is
/// one).
fn picture(w: u32, h: u32, alpha: bool) -> Frame {
    let Samples::U8(rgba) = common::test_image8(w, h, 7).interleaved() else {
        unreachable!()
    };
    if alpha {
        return Frame::from_rgba8(w, h, rgba);
    }
    let rgb = rgba.chunks(4).flat_map(|p| [p[0], p[1], p[2]]).collect();
    Frame::from_rgb8(w, h, rgb)
}

/// tessera's `chain` and FFmpeg's `filter` on the same RGB(A) picture: each channel at least
/// `floor` dB apart from the other's.
fn compare_rgb(chain: &str, filter: &str, alpha: bool, floor: f64) {
    let img = picture(64, 48, alpha);
    let ours = raw8(&cpu(chain, &img));
    let (pix_fmt, channels) = if alpha { ("rgba", 4) } else { ("rgb24", 3) };
    let theirs = ffmpeg_filter(&raw8(&img), (64, 48), pix_fmt, filter);
    for c in 0..channels {
        let db = psnr(&ours, &theirs, c, channels, ours.len() - c);
        assert!(
            db >= floor,
            "{chain} against ffmpeg -vf {filter}, channel {c}: {db:.1} dB (floor {floor} dB)"
        );
        eprintln!("{chain} / {filter}: channel {c} {db:.1} dB");
    }
}

/// 45 dB: FFmpeg's exposure works in float on the same R′G′B′ and rounds once.
#[test]
fn exposure_is_ffmpegs() {
    compare_rgb(
        "exposure(exposure=0.8, black=0.05)",
        "exposure=exposure=0.8:black=0.05",
        false,
        45.0,
    );
    compare_rgb(
        "exposure(exposure=-1.2, black=-0.1)",
        "exposure=exposure=-1.2:black=-0.1",
        false,
        45.0,
    );
}

/// 45 dB: levels with gamma 1 is colorlevels, per channel and all channels at once, alpha
/// included.
#[test]
fn levels_with_gamma_one_is_ffmpegs_colorlevels() {
    compare_rgb(
        "levels(rimin=0.1, gimin=0.05, bimax=0.8, romin=0.1, gomax=0.9)",
        "colorlevels=rimin=0.1:gimin=0.05:bimax=0.8:romin=0.1:gomax=0.9",
        false,
        45.0,
    );
    compare_rgb(
        "levels(in_black=0.1, in_white=0.85, out_black=0.05, out_white=0.95, aimin=0.2, aomax=0.9)",
        "colorlevels=rimin=0.1:gimin=0.1:bimin=0.1:rimax=0.85:gimax=0.85:bimax=0.85:\
         romin=0.05:gomin=0.05:bomin=0.05:romax=0.95:gomax=0.95:bomax=0.95:aimin=0.2:aomax=0.9",
        true,
        45.0,
    );
}

/// The f64 formula of levels: (c − in_black) / (in_white − in_black), raised to 1 / gamma
/// where positive, to out_black .. out_white; within one code.
#[test]
fn levels_with_a_gamma_is_the_formula() {
    let img = picture(40, 30, false);
    let got = raw8(&cpu(
        "levels(in_black=0.08, in_white=0.9, gamma=1.8, out_black=0.1, out_white=0.97, rimin=0.2)",
        &img,
    ));
    let input = raw8(&img);
    for (i, (&g, &x)) in got.iter().zip(&input).enumerate() {
        let imin = if i % 3 == 0 { 0.2 } else { 0.08 };
        let v = (x as f64 / 255.0 - imin) / (0.9 - imin);
        let v = if v > 0.0 { v.powf(1.0 / 1.8) } else { v };
        let want = ((0.1 + v * 0.87) * 255.0).round().clamp(0.0, 255.0);
        assert!((g as f64 - want).abs() <= 1.0, "sample {i}: {g} vs {want}");
    }
}

/// 45 dB on Y′CbCr 4:2:0: hue turns and scales each chroma sample and lifts luma as FFmpeg's
/// hue does (FFmpeg truncates b · 25.5, a constant error below one code).
#[test]
fn hue_is_ffmpegs_on_yuv420p() {
    let format = yuv(64, 48, Layout::YUV420, 8);
    let img = test_frame(format, 9);
    let luma = 64 * 48;
    let chroma = 32 * 24;
    for (chain, filter) in [
        ("hue(h=30, s=1.4, b=0.5)", "hue=h=30:s=1.4:b=0.5"),
        ("hue(h=-120, s=0.6)", "hue=h=-120:s=0.6"),
        ("hue(h=200, s=-1, b=-1.5)", "hue=h=200:s=-1:b=-1.5"),
        ("hue(H=2, s=1.2)", "hue=H=2:s=1.2"),
    ] {
        let ours = raw8(&cpu(chain, &img));
        let theirs = ffmpeg_filter(&raw8(&img), (64, 48), "yuv420p", filter);
        for (p, (first, len)) in [(0, luma), (luma, chroma), (luma + chroma, chroma)]
            .into_iter()
            .enumerate()
        {
            let db = psnr(&ours, &theirs, first, 1, len);
            eprintln!("{chain}: plane {p} {db:.1} dB");
            assert!(db >= 45.0, "{chain} against ffmpeg, plane {p}: {db:.1} dB");
        }
    }
}

/// 45 dB: FFmpeg's colorchannelmixer, on RGB and on RGBA (alpha terms count only there).
#[test]
fn colorchannelmixer_is_ffmpegs() {
    let weights = "rr=0.6:rg=0.3:rb=0.2:gr=-0.2:gg=0.9:gb=0.4:br=0.1:bg=0.2:bb=0.5";
    let stage = format!("colorchannelmixer({})", weights.replace(':', ", "));
    compare_rgb(&stage, &format!("colorchannelmixer={weights}"), false, 45.0);
    let with_alpha = "rr=0.8:ra=0.2:gb=0.5:ga=-0.3:ba=0.4:ar=0.3:ag=0.1:aa=0.5";
    let stage = format!("colorchannelmixer({})", with_alpha.replace(':', ", "));
    compare_rgb(
        &stage,
        &format!("colorchannelmixer={with_alpha}"),
        true,
        45.0,
    );
    // Each way of keeping the input's colour, part of the way.
    for pc in ["lum", "max", "avg", "sum", "nrm", "pwr"] {
        let weights = format!("rr=0.5:rg=0.6:gg=0.3:gb=-0.3:br=0.4:bb=1.3:pc={pc}:pa=0.7");
        let stage = format!("colorchannelmixer({})", weights.replace(':', ", "));
        compare_rgb(&stage, &format!("colorchannelmixer={weights}"), false, 45.0);
    }
    // On RGB the alpha terms add nothing, as in FFmpeg.
    compare_rgb(
        &stage,
        &format!("colorchannelmixer={with_alpha}"),
        false,
        45.0,
    );
}

/// 45 dB: FFmpeg's vibrance, both directions and with its luma weights.
#[test]
fn vibrance_is_ffmpegs() {
    compare_rgb("vibrance(0.8)", "vibrance=intensity=0.8", false, 45.0);
    compare_rgb(
        "vibrance(intensity=-0.6, rbal=2, gbal=-1, alternate=true, rlum=0.3, glum=0.6, blum=0.1)",
        "vibrance=intensity=-0.6:rbal=2:gbal=-1:alternate=1:rlum=0.3:glum=0.6:blum=0.1",
        false,
        45.0,
    );
}

/// 45 dB: FFmpeg's colortemperature, warm and cool, mixed and with lightness kept.
#[test]
fn colortemperature_is_ffmpegs() {
    compare_rgb(
        "colortemperature(3500)",
        "colortemperature=temperature=3500",
        false,
        45.0,
    );
    compare_rgb(
        "colortemperature(temperature=11000, mix=0.7, pl=1)",
        "colortemperature=temperature=11000:mix=0.7:pl=1",
        false,
        45.0,
    );
    compare_rgb(
        "colortemperature(temperature=1500, pl=0.5)",
        "colortemperature=temperature=1500:pl=0.5",
        true,
        45.0,
    );
}

/// Each channel of an 8-bit RGB picture through `f` in f64, against the filter: within one code
/// (`exact`: equal).
fn per_channel(chain: &str, f: &dyn Fn(usize, [f64; 3]) -> f64, exact: bool) {
    let img = picture(45, 31, false);
    let got = raw8(&cpu(chain, &img));
    let input = raw8(&img);
    for (i, px) in input.chunks(3).enumerate() {
        let rgb = [0, 1, 2].map(|c| px[c] as f64 / 255.0);
        for c in 0..3 {
            let want = (f(c, rgb) * 255.0).round().clamp(0.0, 255.0);
            let g = got[i * 3 + c] as f64;
            let tolerance = if exact { 0.0 } else { 1.0 };
            assert!(
                (g - want).abs() <= tolerance,
                "{chain}, pixel {i} channel {c}: {g} vs {want}"
            );
        }
    }
}

#[test]
fn sepia_is_the_classic_matrix_mixed_by_amount() {
    let m = [
        [0.393, 0.769, 0.189],
        [0.349, 0.686, 0.168],
        [0.272, 0.534, 0.131],
    ];
    for amount in [1.0, 0.35] {
        let f = |c: usize, p: [f64; 3]| {
            let toned: f64 = (0..3).map(|k| m[c][k] * p[k]).sum::<f64>().min(1.0);
            p[c] + (toned - p[c]) * amount
        };
        per_channel(&format!("sepia({amount})"), &f, false);
    }
}

#[test]
fn threshold_sets_each_channel_above_the_level_to_white() {
    for level in [0.5, 0.27] {
        let f = |c: usize, p: [f64; 3]| if p[c] > level { 1.0 } else { 0.0 };
        per_channel(&format!("threshold({level})"), &f, true);
    }
}

#[test]
fn posterize_rounds_each_channel_to_its_levels() {
    for levels in [2, 4, 7] {
        let steps = (levels - 1) as f64;
        let f = |c: usize, p: [f64; 3]| (p[c] * steps).round() / steps;
        per_channel(&format!("posterize({levels})"), &f, true);
    }
}

/// Exposure's f64 formula too, where FFmpeg's float path is not in the way.
#[test]
fn exposure_is_the_formula() {
    let f = |c: usize, p: [f64; 3]| (p[c] - 0.1) / (2f64.powf(-0.6) - 0.1);
    per_channel("exposure(0.6, 0.1)", &f, false);
}

/// A bad parameter is named in the error.
#[test]
fn bad_parameters_are_named() {
    let img = picture(8, 6, false);
    for (text, words) in [
        ("levels(in_black=0.6, in_white=0.4)", "in_white"),
        ("levels(gimin=0.5, gimax=0.5)", "gimax"),
        ("exposure(exposure=0, black=1)", "black"),
        ("hue(s=11)", "`s`"),
        ("hue(h=10, H=1)", "H"),
        ("posterize(1)", "`levels`"),
        ("colormatrix(bt601)", "dst"),
        (
            "colormatrix(bt601, bt709, matrix=[[1, 0, 0], [0, 1, 0], [0, 0, 1]])",
            "matrix",
        ),
        ("colormatrix(matrix=[[1, 0], [0, 1]])", "3 rows"),
        ("chromakey(similarity=0.1)", "color"),
        ("fade(nb_frames=0)", "`nb_frames`"),
        ("vignette(angle=2)", "`angle`"),
    ] {
        let err = match Chain::parse(text) {
            Err(e) => e.render(text),
            Ok(chain) => plan::compile(&chain, &img.format)
                .err()
                .unwrap_or_else(|| panic!("{text} was accepted"))
                .to_string(),
        };
        assert!(err.contains(words), "{text}: {err}");
    }
}

/// The planes of a raw 8-bit picture in FFmpeg's planar layout: (offset, length) of each.
fn planar(w: usize, h: usize, planes: usize) -> Vec<(usize, usize)> {
    let (luma, chroma) = (w * h, w.div_ceil(2) * h.div_ceil(2));
    let sizes = [luma, chroma, chroma, luma];
    let mut out = Vec::new();
    let mut offset = 0;
    for size in sizes.iter().take(planes) {
        out.push((offset, *size));
        offset += size;
    }
    out
}

/// 45 dB on Y′CbCr 4:2:0: colormatrix(src, dst) rewrites the frame's Y′CbCr as FFmpeg's
/// colormatrix does (FFmpeg works in 16-bit fixed point and takes luma and chroma codes at one
/// scale, a difference below a third of a code).
#[test]
fn colormatrix_src_dst_is_ffmpegs_on_yuv420p() {
    let img = test_frame(yuv(64, 48, Layout::YUV420, 8), 13);
    for (chain, filter) in [
        ("colormatrix(bt601, bt709)", "colormatrix=bt601:bt709"),
        (
            "colormatrix(src=bt709, dst=smpte240m)",
            "colormatrix=bt709:smpte240m",
        ),
        ("colormatrix(src=fcc, dst=bt2020)", "colormatrix=fcc:bt2020"),
    ] {
        let ours = raw8(&cpu(chain, &img));
        let theirs = ffmpeg_filter(&raw8(&img), (64, 48), "yuv420p", filter);
        for (p, (first, len)) in planar(64, 48, 3).into_iter().enumerate() {
            let db = psnr(&ours, &theirs, first, 1, len);
            eprintln!("{chain}: plane {p} {db:.1} dB");
            assert!(db >= 45.0, "{chain} against ffmpeg, plane {p}: {db:.1} dB");
        }
    }
}

#[test]
fn colormatrix_with_a_matrix_is_the_formula() {
    let m = [
        [1.1, 0.05, -0.05, 0.02],
        [0.02, 0.95, 0.03, 0.0],
        [-0.1, 0.2, 0.9, 0.04],
    ];
    let f = |c: usize, p: [f64; 3]| m[c][0] * p[0] + m[c][1] * p[1] + m[c][2] * p[2] + m[c][3];
    per_channel(
        "colormatrix(matrix=[[1.1, 0.05, -0.05, 0.02], [0.02, 0.95, 0.03, 0], [-0.1, 0.2, 0.9, 0.04]])",
        &f,
        false,
    );
    let swap = |c: usize, p: [f64; 3]| p[2 - c];
    per_channel(
        "colormatrix(matrix=[[0, 0, 1], [0, 1, 0], [1, 0, 0]])",
        &swap,
        true,
    );
}

/// A BT.601 4:2:0 picture of flat chroma patches 8×6 chroma samples large, some near green
/// (#00ff00: Cb 54, Cr 34), with luma from the test content.
fn green_screen() -> Frame {
    let format = tessera::frame::Format::new(
        64,
        48,
        Layout::YUV420,
        8,
        tessera::frame::Colour::video(tessera::frame::Matrix::Bt601, false),
    );
    let mut img = test_frame(format, 17);
    let patches: [(u8, u8); 8] = [
        (54, 34),
        (60, 44),
        (128, 128),
        (70, 50),
        (200, 90),
        (54, 34),
        (80, 30),
        (110, 160),
    ];
    for p in 1..3 {
        let mut plane = img.plane8_mut(p);
        for y in 0..24 {
            for x in 0..32 {
                let (u, v) = patches[(x / 8 + y / 6 * 4) % 8];
                plane.row(y)[x] = if p == 1 { u } else { v };
            }
        }
    }
    img
}

/// Against FFmpeg's chromakey on a BT.601 4:2:0 picture of flat chroma patches, some near the
/// key. FFmpeg averages the distance over each pixel's 3×3 neighbours, tessera takes the
/// pixel's own chroma (its block's): where the neighbours share one chroma they agree within a
/// code (FFmpeg rounds the key's chroma to codes and truncates alpha); across a patch's edge
/// FFmpeg's alpha ramps over a pixel more, up to the whole range between a keyed and an opaque
/// patch. Floor: 12 dB on the whole alpha plane (those edges, measured 13.6 dB); within a code
/// on the rest, which must be most of the picture and include alpha between 0 and 255.
#[test]
fn chromakey_is_ffmpegs_away_from_edges() {
    let img = green_screen();
    let ours = cpu("chromakey(#00ff00, similarity=0.05, blend=0.1)", &img);
    assert_eq!(ours.format.layout, Layout::YUV420.with_alpha(true));
    let theirs = ffmpeg_filter_to(
        &raw8(&img),
        (64, 48),
        "yuv420p",
        "chromakey=color=0x00ff00:similarity=0.05:blend=0.1",
        "yuva420p",
    );
    let ours = raw8(&ours);
    let (first, len) = planar(64, 48, 4)[3];
    let db = psnr(&ours, &theirs, first, 1, len);
    eprintln!("chromakey: alpha {db:.1} dB");

    assert!(db >= 12.0, "chromakey alpha against ffmpeg: {db:.1} dB");
    let (mut flat, mut partial) = (0, 0);
    // FFmpeg leaves neighbours outside the frame out of its average unset (they keep the
    // last pixel's values): the frame's edge is left out here too.
    for y in 1..47usize {
        for x in 1..63usize {
            // The patch of each neighbour's chroma block.
            let patch = |dx: i64, dy: i64| {
                let cx = ((x as i64 + dx) / 2) as usize;
                let cy = ((y as i64 + dy) / 2) as usize;
                (cx / 8 + cy / 6 * 4) % 8
            };
            let own = patch(0, 0);
            if (-1..=1).any(|dy| (-1..=1).any(|dx| patch(dx, dy) != own)) {
                continue;
            }
            let (a, b) = (ours[first + y * 64 + x], theirs[first + y * 64 + x]);
            assert!(
                (a as i32 - b as i32).abs() <= 1,
                "alpha at ({x}, {y}): {a} vs ffmpeg's {b}"
            );
            flat += 1;
            partial += usize::from(a > 0 && a < 255);
        }
    }
    assert!(
        flat > len / 2,
        "only {flat} of {len} samples away from edges"
    );
    assert!(partial > 0, "no patch within the blend");
}

/// [`ffmpeg_filter`] read back in another pixel format.
fn ffmpeg_filter_to(
    raw: &[u8],
    (w, h): (u32, u32),
    pix_fmt: &str,
    filter: &str,
    out_fmt: &str,
) -> Vec<u8> {
    let size = format!("{w}x{h}");
    let mut child = Command::new("ffmpeg")
        .args([
            "-v", "error", "-f", "rawvideo", "-pix_fmt", pix_fmt, "-s", &size,
        ])
        .args([
            "-i", "-", "-vf", filter, "-f", "rawvideo", "-pix_fmt", out_fmt, "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run ffmpeg");
    let mut stdin = child.stdin.take().unwrap();
    let input = raw.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        out.status.success(),
        "ffmpeg -vf {filter}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// 45 dB: FFmpeg's vignette without dither on RGB (its R′G′B′ times the same factor, truncated).
#[test]
fn vignette_is_ffmpegs() {
    compare_rgb("vignette", "vignette=dither=0", false, 45.0);
    compare_rgb(
        "vignette(angle=1.1, x0=20, y0=30)",
        "vignette=angle=1.1:x0=20:y0=30:dither=0",
        false,
        45.0,
    );
    compare_rgb(
        "vignette(angle=0.5, mode=backward)",
        "vignette=angle=0.5:mode=backward:dither=0",
        false,
        45.0,
    );
    compare_rgb(
        "vignette(angle=0.9, aspect=2)",
        "vignette=angle=0.9:aspect=2:dither=0",
        false,
        45.0,
    );
}

/// FFmpeg's drawbox on 4:2:0 with an opaque colour at even positions and sizes, where chroma
/// blocks are wholly in or out: equal to a code (the box colour's Y′CbCr rounds alike).
#[test]
fn drawbox_is_ffmpegs_on_even_positions() {
    let format = tessera::frame::Format::new(
        64,
        48,
        Layout::YUV420,
        8,
        tessera::frame::Colour::video(tessera::frame::Matrix::Bt601, false),
    );
    let img = test_frame(format, 19);
    for (chain, filter) in [
        (
            "drawbox(8, 6, 40, 30, color=#ff8000, thickness=4)",
            "drawbox=x=8:y=6:w=40:h=30:color=0xff8000:t=4",
        ),
        (
            "drawbox(x=10, y=4, width=20, height=12, color=#3060c0, fill=true)",
            "drawbox=x=10:y=4:w=20:h=12:color=0x3060c0:t=fill",
        ),
    ] {
        let ours = raw8(&cpu(chain, &img));
        let theirs = ffmpeg_filter(&raw8(&img), (64, 48), "yuv420p", filter);
        let worst = ours
            .iter()
            .zip(&theirs)
            .map(|(a, b)| (*a as i32 - *b as i32).abs())
            .max()
            .unwrap();
        assert!(
            worst <= 1,
            "{chain} against ffmpeg -vf {filter}: {worst} codes apart"
        );
    }
}

/// drawbox's blend in f64 on RGB: inside the border, c + (colour − c) · alpha.
#[test]
fn drawbox_blends_its_colour_by_alpha() {
    let img = picture(45, 31, false);
    let (x0, y0, w, h, t) = (5i64, 3i64, 30i64, 20i64, 3i64);
    let colour = [0.2, 0.8, 1.0];
    let alpha = 128.0 / 255.0;
    let f = |x: i64, y: i64| {
        let inside = x >= x0 && x < x0 + w && y >= y0 && y < y0 + h;
        let border = y - y0 < t || y0 + h - 1 - y < t || x - x0 < t || x0 + w - 1 - x < t;
        inside && border
    };
    let got = raw8(&cpu(
        "drawbox(5, 3, 30, 20, color=#33ccff80, thickness=3)",
        &img,
    ));
    let input = raw8(&img);
    for (i, px) in input.chunks(3).enumerate() {
        let (x, y) = ((i % 45) as i64, (i / 45) as i64);
        for c in 0..3 {
            let v = px[c] as f64 / 255.0;
            let want = if f(x, y) {
                v + (colour[c] - v) * alpha
            } else {
                v
            };
            let want = (want * 255.0).round();
            let g = got[i * 3 + c] as f64;
            assert!(
                (g - want).abs() <= 1.0,
                "({x}, {y}) channel {c}: {g} vs {want}"
            );
        }
    }
}

/// fade at given times and frames, in f64: the colour mixed with the picture by the time
/// elapsed over the duration (frames over nb_frames), alpha alone with alpha=true.
#[test]
fn fade_mixes_with_its_colour_by_the_time_elapsed() {
    use tessera::plan::FrameTime;
    let img = picture(21, 13, true);
    let input = raw8(&img);
    let colour = [0x40 as f64 / 255.0, 0x20 as f64 / 255.0, 1.0];
    let cases: [(&str, FrameTime, f64, bool); 6] = [
        (
            "fade(in, start=1, duration=2, color=#4020ff)",
            FrameTime {
                t: 0.5,
                ..Default::default()
            },
            0.0,
            false,
        ),
        (
            "fade(in, start=1, duration=2, color=#4020ff)",
            FrameTime {
                t: 1.5,
                ..Default::default()
            },
            0.25,
            false,
        ),
        (
            "fade(out, start=1, duration=2, color=#4020ff)",
            FrameTime {
                t: 2.5,
                ..Default::default()
            },
            0.25,
            false,
        ),
        (
            "fade(in, start=1, duration=2, color=#4020ff)",
            FrameTime {
                t: 4.0,
                ..Default::default()
            },
            1.0,
            false,
        ),
        (
            "fade(in, start_frame=10, nb_frames=8, color=#4020ff)",
            FrameTime {
                n: 16,
                t: 99.0,
                ..Default::default()
            },
            0.75,
            false,
        ),
        (
            "fade(out, start=0, duration=4, alpha=true)",
            FrameTime {
                t: 1.0,
                ..Default::default()
            },
            0.75,
            true,
        ),
    ];
    for (text, time, k, alpha) in cases {
        let chain = Chain::parse(text).unwrap();
        let plan = plan::compile_at(&chain, &img.format, &time).unwrap();
        let got = raw8(&CpuBackend::new().process(&plan, img.clone()).unwrap());
        for (i, px) in input.chunks(4).enumerate() {
            for c in 0..4 {
                let v = px[c] as f64 / 255.0;
                let want = match (alpha, c) {
                    (true, 3) => v * k,
                    (true, _) | (false, 3) => v,
                    (false, _) => colour[c] + (v - colour[c]) * k,
                };
                let want = (want * 255.0).round();
                let g = got[i * 4 + c] as f64;
                assert!(
                    (g - want).abs() <= 1.0,
                    "{text} at {time:?}, pixel {i} channel {c}: {g} vs {want}"
                );
            }
        }
    }
}

/// Parameters that follow `t` (and fade's own time) change uniforms only: a run of these
/// filters is one pass whose programs are the same from frame to frame.
#[test]
fn animated_filters_keep_their_programs_in_one_pass() {
    use tessera::plan::{Compiler, FrameTime, PassKind};
    let text = "exposure(exposure=sin(t)) | hue(h=90*t, s=1.2) | levels(out_black=0.1*t) \
                | vignette(angle=0.3 + 0.2*t) | drawbox(x=10*t, y=2, width=9, height=7) \
                | fade(in, duration=2)";
    let chain = Chain::parse(text).unwrap();
    let format = yuv(32, 24, Layout::YUV420, 8);
    let mut compiler = Compiler::new(&chain);
    let at = |t: f64| FrameTime {
        t,
        ..Default::default()
    };
    let first = compiler.plan_at(&format, &at(0.25)).unwrap();
    let later = compiler.plan_at(&format, &at(0.75)).unwrap();
    assert_eq!(first.passes.len(), 1, "{text}: one fused pass");
    let (PassKind::Pointwise(a), PassKind::Pointwise(b)) =
        (&first.passes[0].kind, &later.passes[0].kind)
    else {
        panic!("{text}: a pointwise pass")
    };
    assert_eq!(a.len(), 6);
    for (a, b) in a.iter().zip(b) {
        assert_eq!(a.pixel_program(), b.pixel_program(), "{text}: one program");
        assert_ne!(a, b, "{text}: uniforms follow t");
    }
}
