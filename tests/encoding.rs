//! Encoders under the user's control, through the binary: pixel format, bit rate, key-frame
//! interval and the encoder's own options; deep sources written deep; refusals before any
//! output exists.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{ffmpeg, s, tessera};

/// One entry of ffprobe's description of the first video stream.
fn stream_entry(path: &Path, entry: &str) -> String {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
        .arg(format!("stream={entry}"))
        .args(["-of", "default=noprint_wrappers=1:nokey=1", s(path)])
        .output()
        .expect("run ffprobe");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Which frames of the video are key frames.
fn key_frames(path: &Path) -> Vec<usize> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
        .args(["frame=key_frame", "-of", "csv=p=0", s(path)])
        .output()
        .expect("run ffprobe");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .enumerate()
        .filter(|(_, l)| l.starts_with('1'))
        .map(|(i, _)| i)
        .collect()
}

fn clip(dir: &Path) -> PathBuf {
    let path = dir.join("in.mkv");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=96x64:r=25:d=1",
        "-pix_fmt",
        "yuv420p",
        "-c:v",
        "ffv1",
        s(&path),
    ]);
    path
}

#[test]
fn pixel_format_bit_rate_gop_and_encoder_options_reach_the_encoder() {
    let dir = tempfile::tempdir().unwrap();
    let input = clip(dir.path());
    let out = dir.path().join("out.mp4");
    let (code, _, err) = tessera(&[
        "process",
        s(&input),
        "-o",
        s(&out),
        "--backend",
        "cpu",
        "--pix-fmt",
        "yuv444p",
        "--gop",
        "5",
        "--bitrate",
        "300k",
        "--encoder-opt",
        "tune=film",
        "--encoder-opt",
        "bf=0",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(stream_entry(&out, "codec_name"), "h264");
    assert_eq!(stream_entry(&out, "pix_fmt"), "yuv444p");
    // Key frames every 5 or 6 frames (x264 counts its interval from the frame after the first
    // key frame); by default it would make one in these 25 frames.
    let keys = key_frames(&out);
    assert!(keys.len() >= 5, "key frames {keys:?}");
    assert!(
        keys.windows(2).all(|w| w[1] - w[0] <= 6),
        "key frames {keys:?}"
    );
    // No B-frames (bf=0): the encoder took the option.
    assert_eq!(stream_entry(&out, "has_b_frames"), "0");
    let rate: f64 = stream_entry(&out, "bit_rate").parse().unwrap();
    assert!(rate < 600_000.0, "asked for 300k, got {rate}");
}

/// A 10-bit ramp (every luma code from the clip's 10-bit range) keeps more than 8 bits of
/// levels through an identity chain, into encoders that write 10 bits by default.
#[test]
fn deep_sources_stay_deep() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("ramp.mkv");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "nullsrc=s=1024x64:r=5:d=0.4",
        "-vf",
        "format=yuv420p10le,geq=lum='64+X*876/1023':cb=512:cr=512",
        "-c:v",
        "ffv1",
        s(&input),
    ]);
    for (codec, ext) in [
        ("ffv1", "mkv"),
        ("libx265", "mp4"),
        ("libvpx-vp9", "webm"),
        ("libsvtav1", "mkv"),
    ] {
        let out = dir.path().join(format!("out-{codec}.{ext}"));
        let (code, _, err) = tessera(&[
            "process",
            s(&input),
            "-o",
            s(&out),
            "--codec",
            codec,
            "--backend",
            "cpu",
        ]);
        assert_eq!(code, 0, "{codec}: {err}");
        assert_eq!(stream_entry(&out, "pix_fmt"), "yuv420p10le", "{codec}");
        let raw = Command::new("ffmpeg")
            .args([
                "-v",
                "error",
                "-i",
                s(&out),
                "-frames:v",
                "1",
                "-f",
                "rawvideo",
            ])
            .args(["-pix_fmt", "gray10le", "-"])
            .output()
            .unwrap();
        let row: Vec<u16> = raw.stdout[..2048]
            .chunks(2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .collect();
        let mut levels = row.clone();
        levels.sort_unstable();
        levels.dedup();
        assert!(
            levels.len() > 600,
            "{codec}: {} levels in a 10-bit ramp of 877",
            levels.len()
        );
    }
}

#[test]
fn bad_encoder_settings_are_refused_before_any_output_exists() {
    let dir = tempfile::tempdir().unwrap();
    let input = clip(dir.path());
    let out = dir.path().join("out.mp4");
    for (args, message) in [
        (
            &["--encoder-opt", "nonsense=1"][..],
            "does not accept the option nonsense=1",
        ),
        (
            &["--pix-fmt", "rgb48"][..],
            "does not take the pixel format rgb48",
        ),
        (&["--pix-fmt", "nope"][..], "'nope' is not a pixel format"),
        (&["--bitrate", "5x"][..], "'5x' is not a bit rate"),
        (&["--encoder-opt", "=1"][..], "'=1' is not key=value"),
    ] {
        let mut all = vec!["process", s(&input), "-o", s(&out), "--backend", "cpu"];
        all.extend_from_slice(args);
        let (code, _, err) = tessera(&all);
        assert_ne!(code, 0, "{args:?}");
        assert!(err.contains(message), "{args:?}: {err}");
        assert!(
            err.contains(s(&out)) || code == 2,
            "{args:?} names the output: {err}"
        );
        assert!(!err.contains("partial"), "{args:?}: {err}");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "{args:?} left files behind");
    }
}

/// Every encoder the issue names, by name, into the containers they go in; the codec FFmpeg
/// reads back is the one asked for, with every frame; a codec the container cannot hold is
/// refused before any output exists.
#[test]
fn encoders_by_name_into_their_containers() {
    let dir = tempfile::tempdir().unwrap();
    let input = clip(dir.path());
    for (codec, ext, name, extra) in [
        ("libx264", "mp4", "h264", &[][..]),
        ("libx264", "mov", "h264", &[][..]),
        ("libx265", "mkv", "hevc", &["--preset", "ultrafast"][..]),
        (
            "libvpx-vp9",
            "webm",
            "vp9",
            &["--crf", "40", "--encoder-opt", "deadline=realtime"][..],
        ),
        ("libsvtav1", "mkv", "av1", &["--preset", "12"][..]),
        (
            "libaom-av1",
            "mp4",
            "av1",
            &["--encoder-opt", "cpu-used=8"][..],
        ),
        ("ffv1", "mkv", "ffv1", &[][..]),
    ] {
        let out = dir.path().join(format!("{codec}.{ext}"));
        let mut args = vec![
            "process",
            s(&input),
            "-o",
            s(&out),
            "--backend",
            "cpu",
            "--codec",
            codec,
        ];
        args.extend_from_slice(extra);
        let (code, _, err) = tessera(&args);
        assert_eq!(code, 0, "{codec} in .{ext}: {err}");
        assert_eq!(stream_entry(&out, "codec_name"), name, "{codec} in .{ext}");
        let frames = Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-select_streams",
                "v:0",
                "-count_frames",
                "-show_entries",
            ])
            .args(["stream=nb_read_frames", "-of", "csv=p=0", s(&out)])
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&frames.stdout).trim(),
            "25",
            "{codec} in .{ext}"
        );
    }
    for (codec, ext) in [("ffv1", "mp4"), ("libx264", "webm")] {
        let out = dir.path().join(format!("refused-{codec}.{ext}"));
        let (code, _, err) = tessera(&[
            "process",
            s(&input),
            "-o",
            s(&out),
            "--backend",
            "cpu",
            "--codec",
            codec,
        ]);
        assert_eq!(code, 1, "{codec} in .{ext}: {err}");
        assert!(err.contains("cannot hold"), "{codec} in .{ext}: {err}");
        assert!(!out.exists());
    }
}
