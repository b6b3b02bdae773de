//! Video fidelity through the binary: trimming exact to the frame with the audio trimmed
//! along, variable-frame-rate timestamps kept, chapters and global metadata kept, audio left out
//! on request.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{decoded_frames, ffmpeg, ffprobe, s, tessera};

/// Every frame of the first video stream as 8-bit grey planes.
fn grey_frames(path: &Path, size: usize) -> Vec<Vec<u8>> {
    decoded_frames(path, "gray", size)
}

fn rgb_frames(path: &Path, size: usize) -> Vec<Vec<u8>> {
    decoded_frames(path, "rgb24", size * 3)
}

/// The presentation times of a stream's packets, in seconds.
fn times(path: &Path, stream: &str) -> Vec<f64> {
    ffprobe(
        path,
        &[
            "-select_streams",
            stream,
            "-show_entries",
            "packet=pts_time",
            "-of",
            "csv=p=0",
        ],
    )
    .lines()
    .filter_map(|l| l.trim().trim_end_matches(',').parse().ok())
    .collect()
}

/// 3 s of 10 fps test pattern with a tone, losslessly coded, with chapters and a title.
fn clip(dir: &Path) -> PathBuf {
    let meta = dir.join("meta.txt");
    std::fs::write(
        &meta,
        ";FFMETADATA1\ntitle=Fidelity\nartist=tessera tests\n\
         [CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1500\ntitle=First\n\
         [CHAPTER]\nTIMEBASE=1/1000\nSTART=1500\nEND=3000\ntitle=Second\n",
    )
    .unwrap();
    let path = dir.join("in.mkv");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=64x48:r=10:d=3",
        "-f",
        "lavfi",
        "-i",
        "sine=f=440:d=3",
        "-i",
        s(&meta),
        "-map",
        "0",
        "-map",
        "1",
        "-map_metadata",
        "2",
        "-map_chapters",
        "2",
        "-c:v",
        "ffv1",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "flac",
        s(&path),
    ]);
    path
}

#[test]
fn trimming_is_exact_to_the_frame_and_takes_the_audio_along() {
    let dir = tempfile::tempdir().unwrap();
    let input = clip(dir.path());
    let whole = dir.path().join("whole.mkv");
    let (code, _, err) = tessera(&[
        "process",
        s(&input),
        "-o",
        s(&whole),
        "--codec",
        "ffv1",
        "--backend",
        "cpu",
    ]);
    assert_eq!(code, 0, "{err}");
    let all = grey_frames(&whole, 64 * 48);
    assert_eq!(all.len(), 30);

    // Frames at 1.1 s .. 2.0 s: the first at or after 1.05 s, none at or after 2.05 s.
    let cut = dir.path().join("cut.mkv");
    let (code, _, err) = tessera(&[
        "process",
        s(&input),
        "-o",
        s(&cut),
        "--codec",
        "ffv1",
        "--backend",
        "cpu",
        "--start",
        "1.05",
        "--duration",
        "1s",
    ]);
    assert_eq!(code, 0, "{err}");
    let kept = grey_frames(&cut, 64 * 48);
    assert_eq!(kept.len(), 10);
    assert!(
        kept == all[11..21],
        "the kept frames are not frames 11 to 20"
    );
    // 1.05 s of the input is 0 in the output, as with FFmpeg's -ss: the first frame, at 1.1 s,
    // is at 0.05 s, and the audio starts with its first packet at or after 1.05 s (a FLAC
    // packet is 4608 samples, 0.1 s).
    let video = times(&cut, "v:0");
    assert!(
        (video[0] - 0.05).abs() < 1e-6,
        "the video starts at {}",
        video[0]
    );
    let audio = times(&cut, "a:0");
    assert!(
        (0.0..0.11).contains(&audio[0]),
        "the audio starts at {}",
        audio[0]
    );
    let audio_end = audio.last().unwrap();
    assert!(
        (0.85..1.0).contains(audio_end),
        "the audio's last packet starts at {audio_end}"
    );
    // The chapters move with the cut: "First" keeps 0.45 s, "Second" starts at 0.45 s.
    let chapters = ffprobe(
        &cut,
        &[
            "-show_chapters",
            "-show_entries",
            "chapter=start_time,end_time:chapter_tags=title",
            "-of",
            "csv=p=0",
        ],
    );
    assert_eq!(
        chapters,
        "0.000000,0.450000,First\n0.450000,1.950000,Second"
    );

    // A number of frames, with the start as minutes and seconds.
    let (code, _, err) = tessera(&[
        "process",
        s(&input),
        "-o",
        s(&cut),
        "--codec",
        "ffv1",
        "--backend",
        "cpu",
        "--start",
        "0:02",
        "--frames",
        "7",
        "--overwrite",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(grey_frames(&cut, 64 * 48) == all[20..27]);

    for (args, message) in [
        (&["--start", "5"][..], "past the end of the video"),
        (&["--start", "x"][..], "'x' is not a time"),
        (&["--frames", "0"][..], "keeps nothing"),
    ] {
        let out = dir.path().join("refused.mkv");
        let mut all_args = vec!["process", s(&input), "-o", s(&out), "--backend", "cpu"];
        all_args.extend_from_slice(args);
        let (code, _, err) = tessera(&all_args);
        assert_ne!(code, 0);
        assert!(err.contains(message), "{args:?}: {err}");
        assert!(!out.exists());
    }
}

#[test]
fn variable_frame_rate_timestamps_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("vfr.mkv");
    // Frame n at n²/100 s: every interval different.
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=64x48:r=25:d=1",
        "-vf",
        "settb=1/1000,setpts=N*N*10",
        "-fps_mode",
        "passthrough",
        "-enc_time_base",
        "1/1000",
        "-c:v",
        "ffv1",
        s(&input),
    ]);
    let before = times(&input, "v:0");
    assert_eq!(before.len(), 25);
    for (ext, codec) in [("mkv", "ffv1"), ("mp4", "libx264")] {
        let out = dir.path().join(format!("out.{ext}"));
        let (code, _, err) = tessera(&[
            "process",
            s(&input),
            "-o",
            s(&out),
            "--codec",
            codec,
            "--backend",
            "cpu",
            "--chain",
            "invert",
        ]);
        assert_eq!(code, 0, "{err}");
        let mut after = times(&out, "v:0");
        after.sort_by(f64::total_cmp);
        assert_eq!(after.len(), before.len(), "{ext}");
        for (a, b) in after.iter().zip(&before) {
            assert!((a - b).abs() < 1e-3, "{ext}: {after:?} against {before:?}");
        }
    }
}

#[test]
fn metadata_is_kept_and_audio_left_out_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let input = clip(dir.path());
    let out = dir.path().join("out.mkv");
    let (code, _, err) = tessera(&[
        "process",
        s(&input),
        "-o",
        s(&out),
        "--backend",
        "cpu",
        "--no-audio",
    ]);
    assert_eq!(code, 0, "{err}");
    let kinds = ffprobe(
        &out,
        &["-show_entries", "stream=codec_type", "-of", "csv=p=0"],
    );
    assert_eq!(kinds, "video");
    let tags = ffprobe(
        &out,
        &[
            "-show_entries",
            "format_tags=title,artist",
            "-of",
            "csv=p=0",
        ],
    );
    assert_eq!(tags, "Fidelity,tessera tests");
    let chapters = ffprobe(&out, &["-show_chapters", "-of", "csv=p=0"]);
    assert_eq!(chapters.lines().count(), 2, "{chapters}");
}

/// A rotation tag (the display matrix) says how players turn the picture; it is kept.
#[test]
fn the_rotation_tag_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=64x48:r=10:d=1",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        s(&plain),
    ]);
    let rotated = dir.path().join("rotated.mp4");
    ffmpeg(&[
        "-i",
        s(&plain),
        "-c",
        "copy",
        "-metadata:s:v:0",
        "rotate=90",
        s(&rotated),
    ]);
    let rotation = |p: &Path| {
        ffprobe(
            p,
            &[
                "-select_streams",
                "v:0",
                "-show_entries",
                "stream_side_data=rotation",
                "-of",
                "csv=p=0",
            ],
        )
    };
    let before = rotation(&rotated);
    assert!(!before.is_empty(), "ffmpeg wrote no rotation");
    for ext in ["mp4", "mov"] {
        let out = dir.path().join(format!("out.{ext}"));
        let (code, _, err) = tessera(&["process", s(&rotated), "-o", s(&out), "--backend", "cpu"]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(rotation(&out), before, "{ext}");
    }
}

/// The audio as 16-bit mono samples.
fn pcm(path: &Path) -> Vec<i16> {
    let out = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-i",
            s(path),
            "-map",
            "0:a:0",
            "-ac",
            "1",
            "-ar",
            "44100",
        ])
        .args(["-f", "s16le", "-"])
        .output()
        .expect("run ffmpeg");
    out.stdout
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

fn rms(samples: &[i16]) -> f64 {
    (samples.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / samples.len() as f64).sqrt()
}

/// Audio an output container cannot hold is re-encoded on request, whole and in time.
#[test]
fn audio_is_re_encoded_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("pcm.mkv");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=64x48:r=10:d=2",
        "-f",
        "lavfi",
        "-i",
        "sine=f=440:d=2",
        "-c:v",
        "ffv1",
        "-c:a",
        "pcm_s16le",
        s(&input),
    ]);
    let out = dir.path().join("out.mp4");
    // MP4 does not take PCM: copying is refused, before any output exists.
    let (code, _, err) = tessera(&["process", s(&input), "-o", s(&out), "--backend", "cpu"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("cannot hold the input's pcm_s16le audio"),
        "{err}"
    );
    assert!(!out.exists());
    let source = pcm(&input);
    for codec in ["aac", "libopus"] {
        let (code, _, err) = tessera(&[
            "process",
            s(&input),
            "-o",
            s(&out),
            "--backend",
            "cpu",
            "--audio-codec",
            codec,
            "--overwrite",
        ]);
        assert_eq!(code, 0, "{codec}: {err}");
        let name = ffprobe(
            &out,
            &[
                "-select_streams",
                "a:0",
                "-show_entries",
                "stream=codec_name",
                "-of",
                "csv=p=0",
            ],
        );
        assert_eq!(name, if codec == "aac" { "aac" } else { "opus" });
        let got = pcm(&out);
        let missing = source.len() as f64 - got.len() as f64;
        assert!(
            missing.abs() < 0.05 * 44100.0,
            "{codec}: {} samples for {}",
            got.len(),
            source.len()
        );
        let (a, b) = (rms(&source), rms(&got[4096..got.len() - 4096]));
        assert!((a - b).abs() < 0.1 * a, "{codec}: level {b:.0} for {a:.0}");
    }
    let (webm, mp4) = (dir.path().join("x.webm"), dir.path().join("x.mp4"));
    for (out, args, message) in [
        (
            &webm,
            &["--audio-codec", "aac"][..],
            "cannot hold aac audio",
        ),
        (
            &mp4,
            &["--audio-codec", "nope"][..],
            "no audio encoder 'nope'",
        ),
        (
            &mp4,
            &["--audio-codec", "libx264"][..],
            "'libx264' is not an audio encoder",
        ),
        (
            &mp4,
            &["--audio-codec", "aac", "--no-audio"][..],
            "cannot be used with",
        ),
    ] {
        let mut all = vec!["process", s(&input), "-o", s(out), "--backend", "cpu"];
        all.extend_from_slice(args);
        let (code, _, err) = tessera(&all);
        assert_ne!(code, 0, "{args:?}");
        assert!(err.contains(message), "{args:?}: {err}");
        assert!(!out.exists(), "{args:?}");
    }
}

/// Damaged clips: 400 bytes garbled in the middle, or the last 40% cut off.
fn damaged_clips(dir: &Path) -> Vec<(PathBuf, &'static str)> {
    let mut clips = Vec::new();
    for (name, args) in [
        ("ffv1.mkv", &["-c:v", "ffv1", "-slicecrc", "1"][..]),
        (
            "h264.ts",
            &["-c:v", "libx264", "-g", "10", "-f", "mpegts"][..],
        ),
    ] {
        let path = dir.join(format!("good-{name}"));
        let mut all = vec!["-f", "lavfi", "-i", "testsrc2=s=96x64:r=10:d=3"];
        all.extend_from_slice(args);
        all.push(s(&path));
        ffmpeg(&all);
        let mut bytes = std::fs::read(&path).unwrap();
        let middle = bytes.len() / 2;
        for b in &mut bytes[middle..middle + 400] {
            *b ^= 0x5a;
        }
        let garbled = dir.join(format!("garbled-{name}"));
        std::fs::write(&garbled, &bytes).unwrap();
        clips.push((garbled, "damaged video at frame"));
        if name.ends_with("mkv") {
            let bytes = std::fs::read(&path).unwrap();
            let cut = dir.join(format!("cut-{name}"));
            std::fs::write(&cut, &bytes[..bytes.len() * 6 / 10]).unwrap();
            clips.push((cut, "the file ends early"));
        }
    }
    clips
}

/// Damage stops the run with where it is and leaves no output; `--on-error skip` leaves the
/// damaged frames out, says how many, and writes the rest; `--on-error accept` keeps the frames
/// the decoder concealed damage in, with a warning.
#[test]
fn damaged_input_stops_or_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    for (input, message) in damaged_clips(dir.path()) {
        let out = dir.path().join("out.mkv");
        let (code, _, err) = tessera(&["process", s(&input), "-o", s(&out), "--backend", "cpu"]);
        assert_eq!(code, 1, "{}: {err}", input.display());
        assert!(err.contains(message), "{}: {err}", input.display());
        assert!(err.contains("(t = "), "{}: {err}", input.display());
        assert!(!out.exists(), "{} left an output", input.display());

        let (code, _, err) = tessera(&[
            "process",
            s(&input),
            "-o",
            s(&out),
            "--backend",
            "cpu",
            "--on-error",
            "skip",
            "--codec",
            "ffv1",
        ]);
        assert_eq!(code, 0, "{}: {err}", input.display());
        let left_out: u64 = err
            .lines()
            .find_map(|l| l.strip_prefix("tessera: left out "))
            .and_then(|l| l.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{}: no count of frames left out: {err}", input.display()));
        let written = grey_frames(&out, 96 * 64).len() as u64;
        assert!(
            left_out >= 1 && written < 30,
            "{}: {written} frames, {left_out} left out",
            input.display()
        );
        if !input.to_string_lossy().contains("h264") {
            // Constant-rate FFV1: every frame is either written or counted as left out.
            assert_eq!(written + left_out, 30, "{}", input.display());
        }
        std::fs::remove_file(&out).unwrap();

        // `accept` keeps what the decoder concealed, with a warning: at least what `skip` kept.
        let (code, _, err) = tessera(&[
            "process",
            s(&input),
            "-o",
            s(&out),
            "--backend",
            "cpu",
            "--on-error",
            "accept",
            "--codec",
            "ffv1",
        ]);
        assert_eq!(code, 0, "{}: {err}", input.display());
        assert!(
            err.contains("WARN") && err.contains("(--on-error accept)"),
            "{}: {err}",
            input.display()
        );
        let kept = grey_frames(&out, 96 * 64).len() as u64;
        assert!(kept >= written, "{}: {kept} < {written}", input.display());
        std::fs::remove_file(&out).unwrap();
    }
}

/// A video out as numbered images and back, at the frame rate asked for; an animated GIF in
/// and out.
#[test]
fn image_sequences_and_gifs() {
    let dir = tempfile::tempdir().unwrap();
    let input = clip(dir.path());
    let frames = dir.path().join("frames");
    std::fs::create_dir(&frames).unwrap();
    let pattern = frames.join("%04d.png");
    let (code, _, err) = tessera(&[
        "process",
        s(&input),
        "-o",
        s(&pattern),
        "--backend",
        "cpu",
        "--frames",
        "12",
        "--chain",
        "invert",
    ]);
    assert_eq!(code, 0, "{err}");
    let mut names: Vec<String> = std::fs::read_dir(&frames)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let expected: Vec<String> = (1..=12).map(|n| format!("{n:04}.png")).collect();
    assert_eq!(names, expected, "one PNG a frame and nothing else");
    // The PNGs hold the filtered frames: the inverse of the input's.
    let first = grey_frames(&frames.join("0001.png"), 64 * 48).remove(0);
    let source = grey_frames(&input, 64 * 48).remove(0);
    // (On average: colours the YUV source holds outside RGB's gamut clip differently.)
    let off = first
        .iter()
        .zip(&source)
        .map(|(a, b)| (*a as f64 + *b as f64 - 255.0).abs())
        .sum::<f64>()
        / first.len() as f64;
    assert!(
        off < 1.5,
        "the first PNG is {off} codes off the inverted first frame"
    );

    // Written again only with --overwrite.
    let (code, _, err) = tessera(&["process", s(&input), "-o", s(&pattern), "--backend", "cpu"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("pass --overwrite"), "{err}");

    // Read back as a video at 12 frames a second.
    let video = dir.path().join("back.mkv");
    let (code, _, err) = tessera(&[
        "process",
        s(&pattern),
        "-o",
        s(&video),
        "--fps",
        "12",
        "--backend",
        "cpu",
        "--codec",
        "ffv1",
        "--pix-fmt",
        "yuv444p",
    ]);
    assert_eq!(code, 0, "{err}");
    let rate = ffprobe(
        &video,
        &["-show_entries", "stream=r_frame_rate", "-of", "csv=p=0"],
    );
    assert_eq!(rate, "12/1");
    // The RGB pictures become limited-range BT.709 video (tagged so), which decodes back to
    // their colours.
    let back = rgb_frames(&video, 64 * 48);
    assert_eq!(back.len(), 12);
    let first_rgb = rgb_frames(&frames.join("0001.png"), 64 * 48).remove(0);
    let off = back[0]
        .iter()
        .zip(&first_rgb)
        .map(|(a, b)| a.abs_diff(*b) as f64)
        .sum::<f64>()
        / first_rgb.len() as f64;
    assert!(off < 1.5, "the sequence read back is {off} codes off");

    // A sequence that is not there, and --fps where there is no sequence.
    let missing = frames.join("%04d.jpg");
    let (code, _, err) = tessera(&["process", s(&missing), "-o", s(&video), "--overwrite"]);
    assert_eq!(code, 1);
    assert!(err.contains("no file of the sequence"), "{err}");
    let (code, _, err) = tessera(&[
        "process",
        s(&input),
        "-o",
        s(&video),
        "--fps",
        "5",
        "--overwrite",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("is not one"), "{err}");

    // A failed run leaves no frames behind.
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    let (code, _, _) = tessera(&[
        "process",
        s(&input),
        "-o",
        s(&other.join("%03d.png")),
        "--chain",
        "crop(width=2000, height=10)",
    ]);
    assert_ne!(code, 0);
    assert_eq!(std::fs::read_dir(&other).unwrap().count(), 0);

    // Video to an animated GIF (the audio left out: GIF has none), and the GIF back in.
    let gif = dir.path().join("anim.gif");
    let (code, _, err) = tessera(&["process", s(&input), "-o", s(&gif), "--backend", "cpu"]);
    assert_eq!(code, 0, "{err}");
    let count = ffprobe(
        &gif,
        &[
            "-count_frames",
            "-show_entries",
            "stream=codec_name,nb_read_frames",
            "-of",
            "csv=p=0",
        ],
    );
    assert_eq!(count, "gif,30");
    let from_gif = dir.path().join("from-gif.mkv");
    let (code, _, err) = tessera(&["process", s(&gif), "-o", s(&from_gif), "--backend", "cpu"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(grey_frames(&from_gif, 64 * 48).len(), 30);
}

/// The YUV samples of the first frame's middle pixel: luma and the two chroma.
fn middle_yuv(path: &Path) -> [u8; 3] {
    let out = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-i",
            s(path),
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
        ])
        .args(["-pix_fmt", "yuv444p", "-"])
        .output()
        .expect("run ffmpeg");
    let plane = 64 * 48;
    let at = 24 * 64 + 32;
    [
        out.stdout[at],
        out.stdout[plane + at],
        out.stdout[2 * plane + at],
    ]
}

/// A flat colour patch in each of BT.601, BT.709 and BT.2020, limited and full range, comes back
/// through an identity chain within one code value, tagged as it came.
#[test]
fn colours_and_their_tags_survive_an_identity_chain() {
    let dir = tempfile::tempdir().unwrap();
    let tags = "stream=color_space,color_primaries,color_transfer,color_range";
    for (space, primaries, transfer, range) in [
        ("smpte170m", "smpte170m", "smpte170m", "tv"),
        ("bt709", "bt709", "bt709", "tv"),
        ("bt709", "bt709", "bt709", "pc"),
        ("bt2020nc", "bt2020", "bt2020-10", "tv"),
    ] {
        let input = dir.path().join(format!("{space}-{range}.mkv"));
        let matrix = if space == "bt2020nc" { "bt2020" } else { space };
        let full = if range == "pc" { "full" } else { "limited" };
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "color=c=0x3080C0:s=64x48:r=10:d=0.5",
            "-vf",
            &format!("scale=out_color_matrix={matrix}:out_range={full},format=yuv420p"),
            "-colorspace",
            space,
            "-color_primaries",
            primaries,
            "-color_trc",
            transfer,
            "-color_range",
            range,
            "-c:v",
            "ffv1",
            s(&input),
        ]);
        let out = dir.path().join(format!("out-{space}-{range}.mkv"));
        let (code, _, err) = tessera(&[
            "process",
            s(&input),
            "-o",
            s(&out),
            "--codec",
            "ffv1",
            "--backend",
            "cpu",
        ]);
        assert_eq!(code, 0, "{err}");
        let (a, b) = (middle_yuv(&input), middle_yuv(&out));
        assert!(
            a.iter().zip(&b).all(|(x, y)| x.abs_diff(*y) <= 1),
            "{space} {range}: {a:?} came back as {b:?}"
        );
        let show = |p: &Path| {
            ffprobe(
                p,
                &[
                    "-select_streams",
                    "v:0",
                    "-show_entries",
                    tags,
                    "-of",
                    "csv=p=0",
                ],
            )
        };
        assert_eq!(show(&out), show(&input), "{space} {range}: tags");
    }
}

/// Subtitles and attached files come along, packets and payload unchanged.
#[test]
fn subtitles_and_attachments_are_copied() {
    let dir = tempfile::tempdir().unwrap();
    let font = dir.path().join("font.ttf");
    std::fs::write(&font, b"not really a font, but carried as one").unwrap();
    let subs = dir.path().join("subs.srt");
    std::fs::write(&subs, "1\n00:00:00,000 --> 00:00:00,500\nHello\n").unwrap();
    let input = dir.path().join("in.mkv");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=64x48:r=10:d=1",
        "-i",
        s(&subs),
        "-map",
        "0",
        "-map",
        "1",
        "-c:v",
        "ffv1",
        "-c:s",
        "srt",
        "-metadata:s:s:0",
        "language=deu",
        "-attach",
        s(&font),
        "-metadata:s:t",
        "mimetype=application/x-truetype-font",
        s(&input),
    ]);
    let out = dir.path().join("out.mkv");
    let (code, _, err) = tessera(&["process", s(&input), "-o", s(&out), "--backend", "cpu"]);
    assert_eq!(code, 0, "{err}");
    let streams = |p: &Path| {
        ffprobe(
            p,
            &[
                "-show_entries",
                "stream=codec_type,codec_name:stream_tags=language,filename,mimetype",
                "-of",
                "csv=p=0",
            ],
        )
    };
    let (before, after) = (streams(&input), streams(&out));
    assert_eq!(after.lines().count(), 3, "{after}");
    assert_eq!(
        after.lines().skip(1).collect::<Vec<_>>(),
        before.lines().skip(1).collect::<Vec<_>>()
    );
    let text = |p: &Path| {
        ffprobe(
            p,
            &[
                "-select_streams",
                "s:0",
                "-show_packets",
                "-show_data",
                "-of",
                "csv=p=0",
            ],
        )
    };
    let hello = |t: String| t.lines().filter(|l| l.contains("Hello")).count();
    let kept = hello(text(&out));
    assert!(kept >= 1, "the subtitle's text is not in the output");
    assert_eq!(kept, hello(text(&input)));
}

/// The frames of an animated WebP as the `image` crate decodes them: RGB samples, and each
/// frame's time in seconds (the sum of the delays before it).
fn webp_frames(path: &Path) -> (Vec<Vec<u8>>, Vec<f64>) {
    use image::AnimationDecoder;
    let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let decoder = image::codecs::webp::WebPDecoder::new(file).unwrap();
    assert!(decoder.has_animation());
    let (mut pictures, mut times, mut t) = (Vec::new(), Vec::new(), 0.0);
    for frame in decoder.into_frames() {
        let frame = frame.unwrap();
        times.push(t);
        let (numer, denom) = frame.delay().numer_denom_ms();
        t += f64::from(numer) / f64::from(denom) / 1000.0;
        let rgb = image::DynamicImage::ImageRgba8(frame.into_buffer()).to_rgb8();
        pictures.push(rgb.into_raw());
    }
    (pictures, times)
}

/// An animated WebP of 64x48 test pattern whose second frame lasts 0.3 s, the others 0.1 s.
fn animated_webp(dir: &Path) -> PathBuf {
    let input = dir.join("anim.webp");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=64x48:r=10:d=0.5",
        "-vf",
        "settb=1/1000,setpts=N*100+if(gte(N\\,2)\\,200\\,0)",
        "-fps_mode",
        "passthrough",
        "-enc_time_base",
        "1/1000",
        "-c:v",
        "libwebp_anim",
        "-lossless",
        "1",
        s(&input),
    ]);
    input
}

/// An animated WebP reads as a video: every frame, at the time its delays give it, with its
/// pixels, filtered per frame (`t` and `n`) on both backends; as video, sequence and GIF out.
#[test]
fn an_animated_webp_is_a_video() {
    let dir = tempfile::tempdir().unwrap();
    let input = animated_webp(dir.path());
    let (want, want_times) = webp_frames(&input);
    assert_eq!(want.len(), 5);
    assert_eq!(want_times, [0.0, 0.1, 0.4, 0.5, 0.6], "the delays vary");
    let backends: &[&str] = if common::gpu().is_some() {
        &["cpu", "gpu"]
    } else {
        &["cpu"]
    };
    let size = 64 * 48;
    for backend in backends {
        let out = dir.path().join(format!("out-{backend}.mkv"));
        // RGB out, so that only the pipeline stands between the WebP's samples and these.
        let args = ["--codec", "ffv1", "--pix-fmt", "bgra", "--backend", backend];
        let (code, _, err) = tessera(&[&["process", s(&input), "-o", s(&out)], &args[..]].concat());
        assert_eq!(code, 0, "{backend}: {err}");
        let mut got_times = times(&out, "v:0");
        got_times.sort_by(f64::total_cmp);
        assert_eq!(got_times.len(), want.len(), "{backend}");
        for (a, b) in got_times.iter().zip(&want_times) {
            assert!(
                (a - b).abs() < 1e-3,
                "{backend}: {got_times:?} against {want_times:?}"
            );
        }
        let got = rgb_frames(&out, size);
        assert_eq!(got.len(), want.len(), "{backend}");
        for (n, (g, w)) in got.iter().zip(&want).enumerate() {
            let off = g
                .iter()
                .zip(w)
                .map(|(a, b)| a.abs_diff(*b) as f64)
                .sum::<f64>()
                / g.len() as f64;
            assert!(
                off < 1.0,
                "{backend}: frame {n} is {off} codes off the WebP's"
            );
        }

        // Each frame sees its own time and number.
        let timed = dir.path().join(format!("timed-{backend}.mkv"));
        let chain = "pixel(r = t, g = n / 10, b = 0)";
        let (code, _, err) = tessera(
            &[
                &["process", s(&input), "-o", s(&timed), "--chain", chain],
                &args[..],
            ]
            .concat(),
        );
        assert_eq!(code, 0, "{backend}: {err}");
        for (n, (frame, t)) in rgb_frames(&timed, size).iter().zip(&want_times).enumerate() {
            let (r, g) = (frame[0] as f64, frame[1] as f64);
            assert!(
                (r - t * 255.0).abs() < 3.0,
                "{backend}: frame {n}: r {r} at t {t}"
            );
            assert!(
                (g - n as f64 * 25.5).abs() < 3.0,
                "{backend}: frame {n}: g {g}"
            );
        }
    }

    // An image sequence and a GIF out, every frame.
    std::fs::create_dir(dir.path().join("frames")).unwrap();
    let pattern = dir.path().join("frames/%04d.png");
    let gif = dir.path().join("out.gif");
    let tmp = tempfile::tempdir().unwrap();
    for out in [&pattern, &gif] {
        let (code, err) = tessera_in(
            tmp.path(),
            &["process", s(&input), "-o", s(out), "--backend", "cpu"],
        );
        assert_eq!(code, 0, "{}: {err}", out.display());
        assert!(
            is_empty(tmp.path()),
            "the temporary copy of the frames is left"
        );
    }
    for n in 1..=5 {
        assert!(dir.path().join(format!("frames/{n:04}.png")).is_file());
    }
    assert_eq!(times(&gif, "v:0").len(), 5);
}

/// Runs the binary with `tmp` as its temporary folder; its exit code and stderr.
fn tessera_in(tmp: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(args)
        .env("TMPDIR", tmp)
        .output()
        .expect("run tessera");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "tessera panicked:\n{stderr}");
    (out.status.code().unwrap(), stderr)
}

fn is_empty(dir: &Path) -> bool {
    std::fs::read_dir(dir).unwrap().next().is_none()
}

/// An animated WebP is a video: an image out is a usage error, a still WebP stays an image,
/// and a damaged animation fails naming the file and leaves no output.
#[test]
fn an_animated_webp_is_refused_where_a_video_would_be() {
    let dir = tempfile::tempdir().unwrap();
    let input = animated_webp(dir.path());

    let still = dir.path().join("still.png");
    let (code, _, err) = tessera(&["process", s(&input), "-o", s(&still), "--backend", "cpu"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is a video but"), "{err}");
    assert!(!still.exists());

    let one = dir.path().join("one.webp");
    common::write_png8(&dir.path().join("one.png"), 16, 8, 3);
    ffmpeg(&[
        "-i",
        s(&dir.path().join("one.png")),
        "-c:v",
        "libwebp",
        "-lossless",
        "1",
        s(&one),
    ]);
    let out = dir.path().join("one-out.png");
    let (code, _, err) = tessera(&["process", s(&one), "-o", s(&out), "--backend", "cpu"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.is_file());

    let bytes = std::fs::read(&input).unwrap();
    let damaged = dir.path().join("damaged.webp");
    std::fs::write(&damaged, &bytes[..bytes.len() - 20]).unwrap();
    let out = dir.path().join("damaged.mkv");
    let tmp = tempfile::tempdir().unwrap();
    let (code, err) = tessera_in(
        tmp.path(),
        &["process", s(&damaged), "-o", s(&out), "--backend", "cpu"],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        is_empty(tmp.path()),
        "the temporary copy of the frames is left"
    );
    assert!(
        err.contains(s(&damaged)) && err.contains("animated WebP"),
        "{err}"
    );
    assert!(!out.exists());
    let partial = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| e.file_name().to_string_lossy().contains("partial"));
    assert!(!partial, "a temporary output is left");
}

/// `--auto-rotate` turns the pictures as the rotation tag says, as FFmpeg's own decoding shows
/// them, and writes no tag; on both backends.
#[test]
fn auto_rotate_turns_the_pictures_upright() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=96x64:r=10:d=0.5",
        "-c:v",
        "libx264",
        "-qp",
        "0",
        "-pix_fmt",
        "yuv444p",
        s(&plain),
    ]);
    let backends: &[&str] = if common::gpu().is_some() {
        &["cpu", "gpu"]
    } else {
        &["cpu"]
    };
    for rotate in ["90", "180", "270"] {
        let rotated = dir.path().join(format!("rotated-{rotate}.mp4"));
        ffmpeg(&[
            "-i",
            s(&plain),
            "-c",
            "copy",
            "-metadata:s:v:0",
            &format!("rotate={rotate}"),
            s(&rotated),
        ]);
        // FFmpeg applies the tag when it decodes (its -autorotate, on by default).
        let upright = dir.path().join(format!("upright-{rotate}.mkv"));
        ffmpeg(&["-i", s(&rotated), "-c:v", "ffv1", s(&upright)]);
        let (w, h) = if rotate == "180" { (96, 64) } else { (64, 96) };
        let want = grey_frames(&upright, w * h);
        for backend in backends {
            let out = dir.path().join(format!("out-{rotate}-{backend}.mkv"));
            let (code, _, err) = tessera(&[
                "process",
                s(&rotated),
                "-o",
                s(&out),
                "--auto-rotate",
                "--codec",
                "ffv1",
                "--backend",
                backend,
            ]);
            assert_eq!(code, 0, "{err}");
            let size = ffprobe(
                &out,
                &["-show_entries", "stream=width,height", "-of", "csv=p=0"],
            );
            assert_eq!(size, format!("{w},{h}"), "{rotate} on {backend}");
            let tag = ffprobe(
                &out,
                &[
                    "-show_entries",
                    "stream_side_data=rotation",
                    "-of",
                    "csv=p=0",
                ],
            );
            assert!(tag.is_empty(), "{rotate}: a rotation tag is left: {tag}");
            let got = grey_frames(&out, w * h);
            assert_eq!(got.len(), want.len());
            let off = got[0]
                .iter()
                .zip(&want[0])
                .map(|(a, b)| a.abs_diff(*b) as f64)
                .sum::<f64>()
                / (w * h) as f64;
            assert!(
                off < 1.0,
                "{rotate} on {backend}: {off} codes off FFmpeg's upright picture"
            );
        }
    }
}
