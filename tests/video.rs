//! Video through the library and the binary: frame count, size, rate, duration and audio kept
//! (audio packet for packet), chains that change the size, `--discard`, 10-bit sources as
//! RGBA16 frames, colours kept with the source's matrix, and errors that stop a run before it
//! writes anything. Clips are made here with the `ffmpeg` CLI: small (160×120, 2 s at 25 fps).
#![cfg(feature = "video")]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use common::{ffmpeg, s};
use tessera::backend::cpu::CpuBackend;
use tessera::backend::BackendError;
use tessera::frame::Layout;
use tessera::media::{EncodeSettings, MediaError};
use tessera::pipeline::{run_video, VideoJob, VideoReport};
use tessera::{Backend, Chain, Error, Frame, Plan};

const FRAMES: u64 = 50;

/// 160×120 testsrc2 at 25 fps for 2 s with a 1 kHz sine, in the given codecs and container.
fn make_clip(dir: &Path, name: &str, video: &[&str], audio: Option<&[&str]>) -> PathBuf {
    let path = dir.join(name);
    let mut args = vec![
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=160x120:rate=25:duration=2",
    ];
    if audio.is_some() {
        args.extend([
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=1000:duration=2:sample_rate=48000",
        ]);
    }
    args.extend(video);
    match audio {
        Some(a) => args.extend(a),
        None => args.push("-an"),
    }
    args.push(s(&path));
    ffmpeg(&args);
    path
}

fn mp4_clip(dir: &Path) -> PathBuf {
    make_clip(
        dir,
        "clip.mp4",
        &["-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "12"],
        Some(&["-c:a", "aac", "-b:a", "64k"]),
    )
}

fn mkv_clip(dir: &Path) -> PathBuf {
    make_clip(
        dir,
        "clip.mkv",
        &[
            "-c:v",
            "libvpx-vp9",
            "-deadline",
            "realtime",
            "-b:v",
            "300k",
            "-pix_fmt",
            "yuv420p",
        ],
        Some(&["-c:a", "libopus", "-b:a", "48k"]),
    )
}

/// `key=value` lines of ffprobe about the first video stream, frames counted by decoding.
fn probe(path: &Path) -> std::collections::HashMap<String, String> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-count_frames", "-show_entries"])
        .arg("stream=nb_read_frames,width,height,r_frame_rate,avg_frame_rate,duration,codec_name,pix_fmt")
        .args(["-of", "default=nw=1", s(path)])
        .output()
        .expect("run ffprobe");
    assert!(
        out.status.success(),
        "ffprobe {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Duration of the first video stream in seconds: the stream's own, else the container's.
fn video_duration(path: &Path) -> f64 {
    let p = probe(path);
    if let Some(d) = p.get("duration").and_then(|d| d.parse::<f64>().ok()) {
        return d;
    }
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "default=nw=1:nk=1",
            s(path),
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

fn audio_stream_count(path: &Path) -> usize {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "a",
            "-show_entries",
            "stream=index",
            "-of",
            "csv=p=0",
            s(path),
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count()
}

/// (size, md5) of every audio packet: what must survive a copy unchanged whatever the
/// container does to timestamps.
fn audio_packets(path: &Path) -> Vec<(String, String)> {
    let out = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-i",
            s(path),
            "-map",
            "0:a",
            "-c",
            "copy",
            "-f",
            "framemd5",
            "-",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let cols: Vec<&str> = l.split(',').map(str::trim).collect();
            (cols[4].to_string(), cols[5].to_string())
        })
        .collect()
}

/// Average PSNR (dB) of `a` against `b`, both decoded by ffmpeg.
fn psnr(a: &Path, b: &Path) -> f64 {
    let out = Command::new("ffmpeg")
        .args([
            "-v",
            "info",
            "-i",
            s(a),
            "-i",
            s(b),
            "-lavfi",
            "[0:v][1:v]psnr",
            "-f",
            "null",
            "-",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    let line = text
        .lines()
        .find(|l| l.contains("PSNR") && l.contains("average:"))
        .unwrap_or_else(|| panic!("{text}"));
    let value = line
        .split("average:")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    if value == "inf" {
        f64::INFINITY
    } else {
        value.parse().unwrap()
    }
}

fn chain(text: &str) -> Chain {
    Chain::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn run(
    input: &Path,
    output: Option<&Path>,
    chain: &Chain,
    encode: EncodeSettings,
) -> Result<VideoReport, Error> {
    let job = VideoJob {
        input,
        output,
        encode,
        chain,
        trim: Default::default(),
        on_error: Default::default(),
        fps: None,
        progress: None,
        limits: Default::default(),
        stop: Default::default(),
    };
    run_video(&job, Box::new(CpuBackend::new()))
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Checks what every faithful transcode of a 2 s 25 fps clip must keep.
fn assert_kept(input: &Path, output: &Path, size: (u32, u32)) {
    let p = probe(output);
    assert_eq!(
        p["nb_read_frames"],
        FRAMES.to_string(),
        "{}: {p:?}",
        output.display()
    );
    assert_eq!(
        (p["width"].as_str(), p["height"].as_str()),
        (size.0.to_string().as_str(), size.1.to_string().as_str())
    );
    assert_eq!(p["r_frame_rate"], "25/1", "{p:?}");
    let (din, dout) = (video_duration(input), video_duration(output));
    assert!(
        (din - dout).abs() <= 1.0 / 25.0 + 1e-6,
        "duration {dout} vs input {din}"
    );
}

#[test]
fn mp4_keeps_frames_rate_duration_and_audio_packets() {
    let dir = tempfile::tempdir().unwrap();
    let input = mp4_clip(dir.path());
    let output = dir.path().join("out.mp4");
    let report = run(
        &input,
        Some(&output),
        &Chain::default(),
        EncodeSettings::default(),
    )
    .unwrap();
    assert_eq!(report.frames, FRAMES);
    assert_eq!(
        (report.input_size, report.output_size),
        ((160, 120), (160, 120))
    );
    assert_eq!(report.frame_rate, 25.0);
    assert_eq!(
        (report.format.layout, report.format.bits),
        (Layout::YUV420, 8)
    );
    assert_eq!(report.encoder.as_deref(), Some("libx264"));
    assert_eq!(report.copied_streams, 1);
    assert_kept(&input, &output, (160, 120));
    let p = probe(&output);
    assert_eq!(
        (p["codec_name"].as_str(), p["pix_fmt"].as_str()),
        ("h264", "yuv420p")
    );
    assert_eq!(audio_stream_count(&output), 1);
    let (a, b) = (audio_packets(&input), audio_packets(&output));
    assert!(!a.is_empty());
    assert_eq!(a, b, "audio packets differ");
}

#[test]
fn mkv_source_with_opus_audio_to_mkv() {
    let dir = tempfile::tempdir().unwrap();
    let input = mkv_clip(dir.path());
    let output = dir.path().join("out.mkv");
    let report = run(
        &input,
        Some(&output),
        &chain("eq(saturation=1.2)"),
        EncodeSettings::default(),
    )
    .unwrap();
    assert_eq!(report.frames, FRAMES);
    assert_kept(&input, &output, (160, 120));
    assert_eq!(audio_packets(&input), audio_packets(&output));
}

#[test]
fn identity_chain_keeps_colours_with_the_source_matrix() {
    let dir = tempfile::tempdir().unwrap();
    // Untagged 120-line video is read as BT.601; a BT.709-tagged one as BT.709, full-range
    // too. A wrong matrix or range shifts colours by far more than x264 at CRF 18 loses.
    let untagged = mp4_clip(dir.path());
    let tagged = make_clip(
        dir.path(),
        "bt709_full.mkv",
        &[
            "-vf",
            "scale=out_color_matrix=bt709:out_range=full",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-colorspace",
            "bt709",
            "-color_range",
            "pc",
        ],
        None,
    );
    for input in [untagged, tagged] {
        let output = dir.path().join(format!(
            "same-{}",
            input.file_name().unwrap().to_string_lossy()
        ));
        run(
            &input,
            Some(&output),
            &Chain::default(),
            EncodeSettings {
                crf: Some(10),
                ..Default::default()
            },
        )
        .unwrap();
        let db = psnr(&output, &input);
        assert!(
            db > 38.0,
            "{}: PSNR {db:.1} dB against the source",
            input.display()
        );
    }
}

#[test]
fn a_chain_that_scales_gives_the_new_size() {
    let dir = tempfile::tempdir().unwrap();
    let input = mp4_clip(dir.path());
    let output = dir.path().join("small.mp4");
    let report = run(
        &input,
        Some(&output),
        &chain("scale(width=80, height=-2) | gblur(sigma=1)"),
        EncodeSettings::default(),
    )
    .unwrap();
    assert_eq!(report.output_size, (80, 60));
    assert_kept(&input, &output, (80, 60));
    assert_eq!(audio_stream_count(&output), 1);
}

#[test]
fn discard_decodes_and_filters_everything_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let input = mp4_clip(dir.path());
    let before = files_in(dir.path());
    let report = run(
        &input,
        None,
        &chain("gblur(sigma=2)"),
        EncodeSettings::default(),
    )
    .unwrap();
    assert_eq!(report.frames, FRAMES);
    assert_eq!(report.encoder, None);
    assert_eq!(files_in(dir.path()), before);
}

/// Index, pts, layout, depth and size of a frame the filter stage saw, and whether it reads the
/// decoder's picture in place.
type Seen = (u64, Option<i64>, Layout, u8, u32, u32, bool);

/// Remembers what the filter stage saw.
#[derive(Clone, Default)]
struct Recorder {
    seen: Arc<Mutex<Vec<Seen>>>,
    fail_at: Option<u64>,
}

impl Backend for Recorder {
    fn describe(&self) -> String {
        "recorder".into()
    }

    fn process(&mut self, _plan: &Plan, frame: Frame) -> Result<Frame, BackendError> {
        if Some(frame.index) == self.fail_at {
            return Err(BackendError::Gpu(format!("refusing frame {}", frame.index)));
        }
        self.seen.lock().unwrap().push((
            frame.index,
            frame.pts,
            frame.format.layout,
            frame.format.bits,
            frame.width(),
            frame.height(),
            frame.is_owned(),
        ));
        Ok(frame)
    }
}

#[test]
fn frames_arrive_in_order_with_increasing_timestamps() {
    let dir = tempfile::tempdir().unwrap();
    let input = mp4_clip(dir.path());
    let recorder = Recorder::default();
    let job = VideoJob {
        input: &input,
        output: None,
        encode: EncodeSettings::default(),
        chain: &Chain::default(),
        trim: Default::default(),
        on_error: Default::default(),
        fps: None,
        progress: None,
        limits: Default::default(),
        stop: Default::default(),
    };
    let report = run_video(&job, Box::new(recorder.clone())).unwrap();
    assert_eq!(report.backend, "recorder");
    let seen = recorder.seen.lock().unwrap();
    assert_eq!(seen.len() as u64, FRAMES);
    for (i, w) in seen.windows(2).enumerate() {
        assert_eq!(w[0].0, i as u64);
        assert!(
            w[1].1.unwrap() > w[0].1.unwrap(),
            "pts must increase: {:?}",
            &seen[..]
        );
    }
    // The decoder's own yuv420p planes, read in place: no conversion, no copy.
    assert!(seen
        .iter()
        .all(|f| (f.2, f.3, f.4, f.5, f.6) == (Layout::YUV420, 8, 160, 120, false)));
}

#[test]
fn ten_bit_sources_stay_ten_bit_and_encode() {
    let dir = tempfile::tempdir().unwrap();
    let input = make_clip(
        dir.path(),
        "deep.mkv",
        &["-c:v", "ffv1", "-pix_fmt", "yuv420p10le"],
        Some(&["-c:a", "aac"]),
    );
    let recorder = Recorder::default();
    let job = VideoJob {
        input: &input,
        output: None,
        encode: EncodeSettings::default(),
        chain: &Chain::default(),
        trim: Default::default(),
        on_error: Default::default(),
        fps: None,
        progress: None,
        limits: Default::default(),
        stop: Default::default(),
    };
    let report = run_video(&job, Box::new(recorder.clone())).unwrap();
    assert_eq!(report.format.bits, 10);
    assert_eq!(report.frames, FRAMES);
    assert!(recorder
        .seen
        .lock()
        .unwrap()
        .iter()
        .all(|f| (f.2, f.3, f.6) == (Layout::YUV420, 10, false)));

    // And through a real chain to an 8-bit encoder, and to a 10-bit-capable one.
    let output = dir.path().join("deep-out.mp4");
    run(
        &input,
        Some(&output),
        &chain("unsharp(amount=0.5)"),
        EncodeSettings::default(),
    )
    .unwrap();
    assert_kept(&input, &output, (160, 120));
    let output = dir.path().join("deep-ffv1.mkv");
    run(
        &input,
        Some(&output),
        &Chain::default(),
        EncodeSettings {
            codec: Some("ffv1".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_kept(&input, &output, (160, 120));
    assert_eq!(audio_packets(&input), audio_packets(&output));
}

#[test]
fn other_encoders_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let input = mp4_clip(dir.path());
    let output = dir.path().join("x265.mkv");
    let settings = EncodeSettings {
        codec: Some("libx265".into()),
        crf: Some(28),
        preset: Some("ultrafast".into()),
        ..Default::default()
    };
    let report = run(&input, Some(&output), &Chain::default(), settings).unwrap();
    assert_eq!(report.encoder.as_deref(), Some("libx265"));
    assert_kept(&input, &output, (160, 120));
    assert_eq!(probe(&output)["codec_name"], "hevc");

    let output = dir.path().join("mpeg4.avi");
    run(
        &input,
        Some(&output),
        &Chain::default(),
        EncodeSettings {
            codec: Some("mpeg4".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(probe(&output)["nb_read_frames"], FRAMES.to_string());
    assert_eq!(audio_packets(&input), audio_packets(&output));
}

#[test]
fn refusals_come_before_any_output_exists() {
    let dir = tempfile::tempdir().unwrap();
    let input = mp4_clip(dir.path());
    let output = dir.path().join("out.mp4");
    let before = files_in(dir.path());

    let err = run(
        &input,
        Some(&output),
        &chain("crop(x=100, y=0, width=100, height=50)"),
        EncodeSettings::default(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Plan(_)), "{err}");

    let foo = EncodeSettings {
        codec: Some("libfoo".into()),
        ..Default::default()
    };
    let err = run(&input, Some(&output), &Chain::default(), foo).unwrap_err();
    assert!(
        matches!(err, Error::Media(MediaError::EncoderNotFound { .. })),
        "{err}"
    );
    assert!(
        err.to_string().contains("encoder 'libfoo' not found"),
        "{err}"
    );

    let x265 = EncodeSettings {
        codec: Some("x265".into()),
        ..Default::default()
    };
    let err = run(&input, Some(&output), &Chain::default(), x265).unwrap_err();
    assert!(err.to_string().contains("did you mean 'libx265'"), "{err}");

    let h264 = EncodeSettings {
        codec: Some("h264".into()),
        ..Default::default()
    };
    let err = run(&input, Some(&output), &Chain::default(), h264).unwrap_err();
    assert!(
        err.to_string().contains("'libx264'"),
        "a codec name should point at its encoder: {err}"
    );

    let audio_encoder = EncodeSettings {
        codec: Some("aac".into()),
        ..Default::default()
    };
    assert!(run(&input, Some(&output), &Chain::default(), audio_encoder).is_err());

    // mpeg4 has no `preset` option; asked for explicitly, that is an error.
    let preset = EncodeSettings {
        codec: Some("mpeg4".into()),
        preset: Some("slow".into()),
        ..Default::default()
    };
    let err = run(&input, Some(&output), &Chain::default(), preset).unwrap_err();
    assert!(
        matches!(err, Error::Media(MediaError::EncoderOption { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("preset=slow"), "{err}");

    let bad_preset = EncodeSettings {
        preset: Some("warp-speed".into()),
        ..Default::default()
    };
    assert!(matches!(
        run(&input, Some(&output), &Chain::default(), bad_preset).unwrap_err(),
        Error::Media(MediaError::Encode { .. })
    ));

    let err = run(
        &input,
        Some(&output),
        &chain("scale(width=81, height=61)"),
        EncodeSettings::default(),
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::Media(MediaError::FrameSize { .. })),
        "{err}"
    );
    assert!(
        err.to_string().contains("81x61") && err.to_string().contains("yuv420p"),
        "{err}"
    );

    // WebM holds neither H.264 (so VP9 is chosen) nor the input's AAC, which is copied.
    let webm = dir.path().join("out.webm");
    let err = run(
        &input,
        Some(&webm),
        &Chain::default(),
        EncodeSettings::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("aac"), "{err}");

    let err = run(
        &input,
        Some(&dir.path().join("out.nosuchformat")),
        &Chain::default(),
        EncodeSettings::default(),
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::Media(MediaError::Unsupported { .. })),
        "{err}"
    );

    assert_eq!(
        files_in(dir.path()),
        before,
        "a refused run must not create its output"
    );
}

#[test]
fn webm_without_audio_defaults_to_vp9() {
    let dir = tempfile::tempdir().unwrap();
    let input = make_clip(dir.path(), "silent.mp4", &["-c:v", "libx264"], None);
    let output = dir.path().join("out.webm");
    let settings = EncodeSettings {
        crf: Some(40),
        ..Default::default()
    };
    let report = run(&input, Some(&output), &Chain::default(), settings).unwrap();
    assert_eq!(report.encoder.as_deref(), Some("libvpx-vp9"));
    assert_eq!(probe(&output)["nb_read_frames"], FRAMES.to_string());
}

#[test]
fn bad_inputs_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.mp4");
    std::fs::write(&garbage, b"not a video, only some words in a file").unwrap();
    let out = dir.path().join("out.mp4");
    let err = run(
        &garbage,
        Some(&out),
        &Chain::default(),
        EncodeSettings::default(),
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::Media(MediaError::Open { .. })),
        "{err}"
    );

    // Neither an image nor a container FFmpeg knows: not taken for a video either.
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, b"just some text\n").unwrap();
    let err = tessera::media::image::is_image_file(&notes).unwrap_err();
    assert!(
        err.to_string().contains("not an image or video file"),
        "{err}"
    );
    assert!(!tessera::media::image::is_image_file(&mp4_clip(dir.path())).unwrap());

    let missing = dir.path().join("missing.mp4");
    let err = run(
        &missing,
        Some(&out),
        &Chain::default(),
        EncodeSettings::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("no such file"), "{err}");

    let sound = dir.path().join("sound.m4a");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=duration=1",
        "-c:a",
        "aac",
        s(&sound),
    ]);
    let err = run(
        &sound,
        Some(&out),
        &Chain::default(),
        EncodeSettings::default(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{}: no video stream", sound.display())
    );

    // A clip cut off in the middle decodes what is there, or fails; never hangs or panics.
    let clip = mp4_clip(dir.path());
    let bytes = std::fs::read(&clip).unwrap();
    let cut = dir.path().join("cut.mkv");
    let mkv = mkv_clip(dir.path());
    let mkv_bytes = std::fs::read(&mkv).unwrap();
    std::fs::write(&cut, &mkv_bytes[..mkv_bytes.len() * 2 / 3]).unwrap();
    if let Ok(report) = run(&cut, None, &Chain::default(), EncodeSettings::default()) {
        assert!(report.frames < FRAMES);
    }
    let cut_mp4 = dir.path().join("cut.mp4");
    std::fs::write(&cut_mp4, &bytes[..bytes.len() / 2]).unwrap();
    let _ = run(
        &cut_mp4,
        Some(&dir.path().join("cut-out.mp4")),
        &Chain::default(),
        EncodeSettings::default(),
    );
}

#[test]
fn a_failing_backend_stops_the_run_with_its_error() {
    let dir = tempfile::tempdir().unwrap();
    let input = mp4_clip(dir.path());
    let output = dir.path().join("out.mp4");
    let recorder = Recorder {
        fail_at: Some(10),
        ..Default::default()
    };
    let job = VideoJob {
        input: &input,
        output: Some(&output),
        encode: EncodeSettings::default(),
        chain: &Chain::default(),
        trim: Default::default(),
        on_error: Default::default(),
        fps: None,
        progress: None,
        limits: Default::default(),
        stop: Default::default(),
    };
    let err = run_video(&job, Box::new(recorder.clone())).unwrap_err();
    assert!(matches!(err, Error::Backend(_)), "{err}");
    assert!(err.to_string().contains("refusing frame 10"), "{err}");
    assert_eq!(recorder.seen.lock().unwrap().len(), 10);
}

#[test]
fn probe_describes_a_clip() {
    let dir = tempfile::tempdir().unwrap();
    let input = mp4_clip(dir.path());
    let info = tessera::media::probe_video(&input).unwrap();
    assert_eq!((info.width, info.height), (160, 120));
    assert_eq!(info.codec, "h264");
    assert_eq!(info.pixel_format, "yuv420p");
    assert_eq!(info.bit_depth, 8);
    assert_eq!(info.frame_rate, Some(25.0));
    assert_eq!(info.frames, Some(FRAMES));
    assert!(
        (info.duration.unwrap() - 2.0).abs() < 0.05,
        "{:?}",
        info.duration
    );
    assert_eq!(info.audio_streams, 1);
    assert_eq!(info.streams.len(), 2);
}

#[test]
fn the_binary_processes_a_video() {
    let dir = tempfile::tempdir().unwrap();
    let input = mp4_clip(dir.path());
    let output = dir.path().join("cli.mp4");
    let out = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args([
            "process",
            s(&input),
            "-o",
            s(&output),
            "--chain",
            "scale(width=80, height=60) | eq(contrast=1.1)",
        ])
        .args([
            "--backend",
            "cpu",
            "--crf",
            "23",
            "--preset",
            "veryfast",
            "--stats",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "tessera failed: {stderr}");
    assert_kept(&input, &output, (80, 60));
    // `--stats`: a line a stage in data-path order, each having handled every frame.
    let frames = stderr
        .lines()
        .find_map(|l| {
            l.strip_prefix("tessera: ")?
                .split_once(" frames ")?
                .0
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no frame count in {stderr}"));
    assert!(frames > 0u64);
    let stages: Vec<(String, u64)> = stderr
        .lines()
        .filter(|l| !l.starts_with("tessera:"))
        .filter_map(|l| {
            let mut cols = l.split_whitespace();
            let name = cols.next()?.to_string();
            Some((name, cols.next()?.parse().ok()?))
        })
        .collect();
    let expected: Vec<(String, u64)> = ["decode", "convert", "filter", "encode"]
        .iter()
        .map(|n| (n.to_string(), frames))
        .collect();
    assert_eq!(stages, expected, "{stderr}");
    assert!(stderr.contains("busiest stage: "), "{stderr}");
    assert_eq!(audio_packets(&input), audio_packets(&output));
    // Written through a temporary file that is gone now.
    assert_eq!(files_in(dir.path()), ["cli.mp4", "clip.mp4"]);

    let discard = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args([
            "process",
            s(&input),
            "--discard",
            "--chain",
            "gblur(sigma=1)",
            "--backend",
            "cpu",
        ])
        .output()
        .unwrap();
    assert!(
        discard.status.success(),
        "{}",
        String::from_utf8_lossy(&discard.stderr)
    );
    assert_eq!(files_in(dir.path()), ["cli.mp4", "clip.mp4"]);
}

/// Ctrl-C on a single file: exit 130, a message that names the output that was not written,
/// no output and no temporary file left, the input untouched.
#[test]
fn an_interrupted_run_names_the_output_it_did_not_write() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("long.mp4");
    common::h264_clip(&input, "testsrc2=size=320x240:rate=25:duration=20");
    let before = std::fs::read(&input).unwrap();
    let out = dir.path().join("out.mp4");
    let child = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args([
            "process",
            s(&input),
            "-o",
            s(&out),
            "--chain",
            "gblur(sigma=8)",
            "--backend",
            "cpu",
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt once the run is writing (its temporary file exists).
    let writing = || std::fs::read_dir(dir.path()).unwrap().count() > 1;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !writing() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let result = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&result.stderr);
    if result.status.code() == Some(0) {
        // The machine finished the run before the signal: nothing left to check.
        return;
    }
    assert_eq!(result.status.code(), Some(130), "{err}");
    assert!(
        err.contains(&format!("interrupted; {} was not written", out.display())),
        "{err}"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from("long.mp4")], "{err}");
    assert_eq!(std::fs::read(&input).unwrap(), before);
}

/// FFmpeg's own log lines about a damaged clip never reach the terminal by themselves: with
/// `-q` stderr holds tessera's error alone (which ends with what FFmpeg said), with `-v` they
/// are logged.
#[test]
fn ffmpeg_speaks_through_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole.mp4");
    common::h264_clip(&whole, "testsrc2=s=160x120:r=25:d=2");
    let fast = dir.path().join("fast.mp4");
    ffmpeg(&[
        "-i",
        s(&whole),
        "-c",
        "copy",
        "-movflags",
        "+faststart",
        s(&fast),
    ]);
    // The index is whole, the frames stop half way.
    let bytes = std::fs::read(&fast).unwrap();
    let damaged = dir.path().join("damaged.mp4");
    std::fs::write(&damaged, &bytes[..bytes.len() / 2]).unwrap();
    let out = dir.path().join("out.mp4");
    let run = |verbosity: &str| {
        let (code, _, err) = common::tessera(&[
            "process",
            verbosity,
            s(&damaged),
            "-o",
            s(&out),
            "--backend",
            "cpu",
        ]);
        assert_eq!(code, 1, "{err}");
        assert!(!out.exists());
        err
    };
    let err = run("-q");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "only tessera's error: {err}");
    assert!(
        lines[0].starts_with(&format!(
            "error: {}: damaged video at frame",
            damaged.display()
        )),
        "{err}"
    );
    assert!(lines[0].contains("(FFmpeg said: "), "{err}");

    let err = run("-v");
    assert!(
        err.lines().any(|l| l.contains(" ffmpeg: [")),
        "FFmpeg's lines, logged: {err}"
    );
    assert!(!err.contains(" @ 0x"), "{err}");
}

/// Frames as [`Frames`] hands them out, until the end or an error.
fn read_all(frames: &mut tessera::pipeline::Frames) -> Result<Vec<Frame>, Error> {
    use tessera::pipeline::Next;
    let mut out = Vec::new();
    loop {
        match frames.next(std::time::Duration::from_secs(10))? {
            Next::Frame(f) => out.push(f),
            Next::NotYet => {}
            Next::End => return Ok(out),
        }
    }
}

fn frames_job(input: &Path, chain_text: &str, ahead: usize) -> tessera::pipeline::FramesJob {
    tessera::pipeline::FramesJob {
        input: input.to_path_buf(),
        chain: chain(chain_text),
        from: None,
        fps: None,
        on_error: tessera::media::OnError::Stop,
        ahead,
        limits: tessera::limits::Limits {
            max_pixels: None,
            max_memory: tessera::limits::default_max_memory(),
        },
        stop: Default::default(),
    }
}

/// The library's frame-at-a-time read (what the Python package's `open` iterates): every
/// frame of an H.264 clip with B-frames, in order, its luma equal to FFmpeg's own decoding; a
/// read that starts at a frame from `seeks` gives that frame and the ones after it, equal to a
/// read from the start; a chain runs on the frames; a requested stop ends the read with
/// `Interrupted`.
#[test]
fn frames_are_read_one_at_a_time() {
    use tessera::frame::PlaneRef;
    use tessera::pipeline::{seeks, Frames};
    let dir = tempfile::tempdir().unwrap();
    let clip = make_clip(
        dir.path(),
        "clip.mp4",
        &[
            "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "12", "-bf", "2",
        ],
        None,
    );
    let raw = dir.path().join("clip.yuv");
    ffmpeg(&[
        "-i",
        s(&clip),
        "-f",
        "rawvideo",
        "-pix_fmt",
        "yuv420p",
        s(&raw),
    ]);
    let raw = std::fs::read(&raw).unwrap();
    let (w, h) = (160usize, 120usize);
    let frame_bytes = w * h * 3 / 2;
    assert_eq!(raw.len(), FRAMES as usize * frame_bytes);
    let luma = |f: &Frame| -> Vec<u8> {
        let PlaneRef::U8(p) = f.plane(0) else {
            panic!("8-bit luma")
        };
        (0..p.height).flat_map(|y| p.row(y).to_vec()).collect()
    };
    let ffmpeg_luma = |i: usize| raw[i * frame_bytes..i * frame_bytes + w * h].to_vec();

    let mut read = Frames::open(frames_job(&clip, "", 2), Box::new(CpuBackend::new())).unwrap();
    let all = read_all(&mut read).unwrap();
    assert_eq!(all.len() as u64, FRAMES);
    for (i, f) in all.iter().enumerate() {
        assert_eq!(f.index, i as u64);
        assert_eq!(luma(f), ffmpeg_luma(i), "frame {i}'s luma");
    }
    let pts: Vec<i64> = all.iter().map(|f| f.pts.unwrap()).collect();
    assert!(
        pts.windows(2).all(|p| p[0] < p[1]),
        "timestamps rise: {pts:?}"
    );

    // From frame 30, between key frames: the read seeks and hands out frame 30 first.
    let at = seeks(&clip, None)
        .unwrap()
        .expect("an mp4 says where its frames are");
    assert_eq!(at.len() as u64, FRAMES);
    let mut job = frames_job(&clip, "", 2);
    job.from = Some(at[30]);
    let mut read = Frames::open(job, Box::new(CpuBackend::new())).unwrap();
    let tail = read_all(&mut read).unwrap();
    assert_eq!(tail.len(), 20);
    for (f, whole) in tail.iter().zip(&all[30..]) {
        assert_eq!((f.index, f.pts), (whole.index, whole.pts));
        assert_eq!(luma(f), luma(whole), "frame {} read from 30", f.index);
    }

    // A chain runs on the frames; the format it hands out is the chain's.
    let mut read = Frames::open(
        frames_job(&clip, "scale(width=80)", 1),
        Box::new(CpuBackend::new()),
    )
    .unwrap();
    assert_eq!((read.output().width, read.output().height), (80, 60));
    let scaled = read_all(&mut read).unwrap();
    assert_eq!(scaled.len() as u64, FRAMES);
    assert!(scaled.iter().all(|f| (f.width(), f.height()) == (80, 60)));

    // A stop requested partway ends the read with Interrupted, at most a few frames later.
    let job = frames_job(&clip, "", 1);
    let stop = job.stop.clone();
    let mut read = Frames::open(job, Box::new(CpuBackend::new())).unwrap();
    let mut taken = 0;
    let outcome = loop {
        match read.next(std::time::Duration::from_secs(10)) {
            Ok(tessera::pipeline::Next::Frame(_)) => {
                taken += 1;
                if taken == 5 {
                    stop.request();
                }
            }
            Ok(tessera::pipeline::Next::NotYet) => {}
            Ok(tessera::pipeline::Next::End) => break None,
            Err(e) => break Some(e),
        }
    };
    assert!(
        matches!(outcome, Some(Error::Interrupted)),
        "a stopped read ends with Interrupted, not {outcome:?} after {taken} frames"
    );
    assert!(taken < FRAMES as usize, "the read stopped before the end");
}
