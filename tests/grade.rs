//! The pointwise colour filters against independent references: FFmpeg's own filters of the
//! same name and meaning (the `ffmpeg` CLI run on the same frames, compared by PSNR per
//! channel, with the floor each test states), and exact formulas in f64 where FFmpeg has no
//! such filter (sepia, ImageMagick's threshold and posterize, levels with a gamma).
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
        ("posterize(1)", "`levels`"),
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
