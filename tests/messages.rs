//! What the binary tells a user who types what they know from FFmpeg and ImageMagick, names an
//! output it cannot write, or writes into folders that do not exist yet: the truth, in
//! tessera's terms, with no temporary names and nothing left behind.

mod common;

use common::{s, tessera, write_png8};

#[test]
fn ffmpeg_and_imagemagick_flags_get_tessera_spelling() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.png");
    write_png8(&input, 16, 12, 3);
    let out = dir.path().join("out.png");
    let cases: &[(&[&str], &str)] = &[
        (
            &["-i", s(&input), "-o", s(&out)],
            "inputs as plain arguments",
        ),
        (&[s(&input), "-vf", "scale=8:6", "-o", s(&out)], "--chain"),
        (&[s(&input), "-o", s(&out), "-y"], "--overwrite"),
        (&[s(&input), "-r", "10", "-o", s(&out)], "--fps 10"),
        (
            &[s(&input), "-c:v", "libx265", "-o", s(&out)],
            "--codec libx265",
        ),
        (&[s(&input), "-ss", "5", "-o", s(&out)], "--start 5"),
        (&[s(&input), "-resize", "50%", "-o", s(&out)], "scale("),
    ];
    for (args, hint) in cases {
        let mut line = vec!["process"];
        line.extend_from_slice(args);
        let (code, _, err) = tessera(&line);
        assert_eq!(code, 2, "{line:?}: {err}");
        assert!(err.contains(hint), "{line:?} should hint {hint}: {err}");
        assert!(!out.exists(), "{line:?} wrote an output");
    }
    // tessera's own -r (--recursive) before an input stays what it is.
    let (code, _, err) = tessera(&["process", "-r", s(&input), "-o", s(&out), "-q"]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn an_output_without_an_extension_is_refused_by_its_own_name() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.png");
    write_png8(&input, 16, 12, 4);
    let out = dir.path().join("result");
    let (code, _, err) = tessera(&["process", s(&input), "-o", s(&out)]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(s(&out)) && err.contains("no extension"),
        "{err}"
    );
    assert!(!err.contains("partial"), "the temporary name leaked: {err}");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 1, "only the input stays");
}

#[test]
fn missing_output_folders_are_made_and_removed_again_on_failure() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.png");
    write_png8(&input, 16, 12, 5);
    // An image into new folders.
    let out = dir.path().join("new/sub/out.webp");
    let (code, _, err) = tessera(&["process", s(&input), "-o", s(&out), "-q"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.is_file());

    // A video and an image sequence into new folders.
    let clip = dir.path().join("clip.mp4");
    common::h264_clip(&clip, "testsrc2=s=64x48:r=10:d=0.5");
    let out = dir.path().join("videos/day1/out.mkv");
    let (code, _, err) = tessera(&["process", s(&clip), "-o", s(&out), "-q"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.is_file());
    let frames = dir.path().join("frames/%03d.png");
    let (code, _, err) = tessera(&["process", s(&clip), "-o", s(&frames), "-q"]);
    assert_eq!(code, 0, "{err}");
    assert!(dir.path().join("frames/001.png").is_file());

    // A run that fails removes the folders it made, and only those.
    std::fs::create_dir(dir.path().join("kept")).unwrap();
    let out = dir.path().join("kept/a/b/out.mp4");
    let (code, _, err) = tessera(&["process", s(&clip), "-o", s(&out), "--codec", "nosuch"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains(s(&out)), "{err}");
    assert!(dir.path().join("kept").is_dir());
    assert!(!dir.path().join("kept/a").exists(), "a made folder stayed");

    // A file where a folder should be is named.
    let blocker = dir.path().join("blocker");
    std::fs::write(&blocker, b"x").unwrap();
    let out = blocker.join("out.png");
    let (code, _, err) = tessera(&["process", s(&input), "-o", s(&out)]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is a file"), "{err}");
}

/// A dry run refuses what the real run refuses before decoding, with the same message and exit
/// code, and writes nothing either way.
#[test]
fn a_dry_run_makes_the_checks_of_the_real_run() {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("bikes.mp4");
    common::h264_clip(&clip, "testsrc2=s=64x48:r=10:d=0.5");
    let out = dir.path().join("out");
    let cases: &[(&[&str], &str, i32)] = &[
        (&["-o", "out/bikes.webp"], "still-image format", 2),
        (
            &["-o", "out/bikes.webm", "--codec", "libx264"],
            "cannot hold h264",
            1,
        ),
        (
            &["-o", "out/bikes.mp4", "--codec", "nosuch"],
            "encoder 'nosuch' not found",
            1,
        ),
        (
            &["-o", "out/bikes.mp4", "--pix-fmt", "nv99"],
            "not a pixel format",
            1,
        ),
        (
            &["-o", "out/bikes.mp4", "--chain", "crop(0, 0, 500, 500)"],
            "outside",
            2,
        ),
        (
            &["-o", "out/bikes.mp4", "--encoder-opt", "nosuch=1"],
            "nosuch",
            1,
        ),
        (&["-o", "out/bikes.mp4", "--start", "9"], "", 1),
    ];
    let dir_arg = |a: &str| a.replace("out/", &format!("{}/", out.display()));
    for (args, message, code) in cases {
        let mut line = vec!["process".to_string(), s(&clip).to_string()];
        line.extend(args.iter().map(|a| dir_arg(a)));
        let refs: Vec<&str> = line.iter().map(String::as_str).collect();
        let (real, _, real_err) = common::tessera(&refs);
        let mut dry_line = refs.clone();
        dry_line.push("--dry-run");
        let (dry, stdout, dry_err) = common::tessera(&dry_line);
        assert_eq!(real, *code, "{line:?}: {real_err}");
        assert_eq!(
            dry, real,
            "{line:?}: the dry run said {dry_err}, the run {real_err}"
        );
        assert!(real_err.contains(message), "{line:?}: {real_err}");
        assert!(
            dry_err.contains(message) && dry_err.contains("would fail"),
            "{line:?}: {dry_err}"
        );
        assert!(stdout.is_empty(), "{line:?}: listed {stdout}");
        assert!(!out.exists(), "{line:?} left {out:?}");
    }
    // A file that would go through is listed, and nothing is written.
    let target = out.join("bikes.mkv");
    let (code, stdout, err) = common::tessera(&[
        "process",
        s(&clip),
        "-o",
        s(&target),
        "--chain",
        "scale(32, 24)",
        "--dry-run",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        stdout.trim(),
        format!("{} -> {}", clip.display(), target.display())
    );
    assert!(!out.exists());
}

/// A single file run with --report (or --json) writes its output where -o names it, as
/// without, and the report lists it.
#[test]
fn a_single_file_with_a_report_writes_the_named_output() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.png");
    write_png8(&input, 16, 12, 6);
    let out = dir.path().join("out.png");
    let report = dir.path().join("run.json");
    let (code, _, err) = tessera(&[
        "process",
        s(&input),
        "-o",
        s(&out),
        "--report",
        s(&report),
        "-q",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.is_file(), "{out:?} is not the output file");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(r["files"][0]["output"], s(&out));
    assert_eq!(r["files"][0]["status"], "done");
}

/// A clip with AAC sound and English SubRip subtitles, the video marked `default`.
fn clip_with_subtitles(dir: &std::path::Path) -> std::path::PathBuf {
    let srt = dir.join("subs.srt");
    std::fs::write(
        &srt,
        "1\n00:00:00,100 --> 00:00:00,900\nHello there\n\n2\n00:00:01,000 --> 00:00:01,800\nSecond line\n",
    )
    .unwrap();
    let clip = dir.join("subs.mkv");
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=64x48:r=10:d=2",
        "-f",
        "lavfi",
        "-i",
        "sine=d=2",
        "-i",
        s(&srt),
        "-map",
        "0",
        "-map",
        "1",
        "-map",
        "2",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-c:a",
        "aac",
        "-c:s",
        "srt",
        "-metadata:s:s:0",
        "language=eng",
        "-disposition:v:0",
        "default",
        s(&clip),
    ]);
    clip
}

/// The subtitle text FFmpeg reads back from `path`, as SubRip.
fn subtitle_text(path: &std::path::Path) -> String {
    let out = std::process::Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-i",
            s(path),
            "-map",
            "0:s:0",
            "-f",
            "srt",
            "-",
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Subtitles are converted where the container takes another text format, and every stream an
/// output cannot hold is named, on stderr and in the report; dispositions stay.
#[test]
fn subtitles_are_converted_or_named_when_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let clip = clip_with_subtitles(dir.path());

    // MP4 cannot hold SubRip: converted to mov_text, timing and language kept, nothing said.
    let mp4 = dir.path().join("out.mp4");
    let (code, _, err) = tessera(&["process", s(&clip), "-o", s(&mp4), "-q"]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("left out"), "{err}");
    let streams = common::ffprobe(
        &mp4,
        &[
            "-show_entries",
            "stream=codec_name:stream_tags=language",
            "-of",
            "csv=p=0",
        ],
    );
    assert!(streams.contains("mov_text,eng"), "{streams}");
    let text = subtitle_text(&mp4);
    assert!(
        text.contains("Hello there") && text.contains("Second line"),
        "{text}"
    );
    assert!(text.contains("00:00:01,0"), "the second line moved: {text}");

    // WebM takes WebVTT.
    let webm = dir.path().join("out.webm");
    let (code, _, err) = tessera(&[
        "process",
        s(&clip),
        "-o",
        s(&webm),
        "--audio-codec",
        "libopus",
        "-q",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(subtitle_text(&webm).contains("Second line"));

    // Matroska keeps them as they are, and the video's `default` flag with them.
    let mkv = dir.path().join("out.mkv");
    let (code, _, err) = tessera(&["process", s(&clip), "-o", s(&mkv), "-q"]);
    assert_eq!(code, 0, "{err}");
    let video = common::ffprobe(
        &mkv,
        &[
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream_disposition=default",
            "-of",
            "csv=p=0",
        ],
    );
    assert_eq!(video, "1", "the video lost its default flag");
    assert!(subtitle_text(&mkv).contains("Hello there"));

    // A GIF holds neither sound nor subtitles: both named as warnings, and in the report even
    // with -q; a dry run says so before anything runs.
    let gif = dir.path().join("out.gif");
    let report = dir.path().join("run.json");
    let (code, stdout, err) = tessera(&["process", s(&clip), "-o", s(&gif), "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("out.gif"), "{stdout}");
    assert!(err.contains("stream 1 (aac audio) left out"), "{err}");
    let (code, _, err) = tessera(&["process", s(&clip), "-o", s(&gif)]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("stream 1 (aac audio) left out"), "{err}");
    assert!(
        err.contains("stream 2 (subrip subtitles, eng) left out"),
        "{err}"
    );
    let (code, _, err) = tessera(&[
        "process",
        s(&clip),
        "-o",
        s(&gif),
        "-q",
        "--overwrite",
        "--report",
        s(&report),
    ]);
    assert_eq!(code, 0, "{err}");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(
        r["files"][0]["warnings"].as_array().map(Vec::len),
        Some(2),
        "{r}"
    );
}

/// Runs the binary with `stdin` as its standard input; returns the exit code (None when killed
/// by a signal), stdout and stderr.
fn tessera_piped(args: &[&str], stdin: &[u8]) -> (Option<i32>, Vec<u8>, String) {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    (
        out.status.code(),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Pictures and videos in from standard input and out to standard output, in the format
/// --format names; messages stay on stderr and name stdin and stdout.
#[test]
fn pictures_and_videos_go_through_pipes() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("in.png");
    write_png8(&png, 32, 24, 7);
    let png_bytes = std::fs::read(&png).unwrap();

    // A picture in and out: the same pixels as from the file.
    let (code, stdout, err) = tessera_piped(
        &[
            "process",
            "-",
            "-o",
            "-",
            "--format",
            "png",
            "--chain",
            "invert",
            "--backend",
            "cpu",
        ],
        &png_bytes,
    );
    assert_eq!(code, Some(0), "{err}");
    let from_file = dir.path().join("ref.png");
    let (c, _, e) = tessera(&[
        "process",
        s(&png),
        "-o",
        s(&from_file),
        "--chain",
        "invert",
        "--backend",
        "cpu",
        "-q",
    ]);
    assert_eq!(c, 0, "{e}");
    assert_eq!(stdout, std::fs::read(&from_file).unwrap());

    // A video in through a pipe, as it comes (NUT from FFmpeg), out into a file.
    let clip = dir.path().join("clip.mp4");
    common::h264_clip(&clip, "testsrc2=s=64x48:r=10:d=1");
    let nut = std::process::Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-i",
            s(&clip),
            "-c:v",
            "ffv1",
            "-f",
            "nut",
            "-",
        ])
        .output()
        .unwrap()
        .stdout;
    let out = dir.path().join("out.mkv");
    let (code, _, err) = tessera_piped(&["process", "-", "-o", s(&out), "-q"], &nut);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        common::ffprobe(
            &out,
            &[
                "-count_frames",
                "-show_entries",
                "stream=nb_read_frames",
                "-of",
                "csv=p=0"
            ]
        ),
        "10"
    );

    // A video out: fragmented MP4 (a pipe cannot be rewound for the index), readable by FFmpeg.
    let (code, stdout, err) = tessera_piped(
        &["process", s(&clip), "-o", "-", "--format", "mp4", "-q"],
        b"",
    );
    assert_eq!(code, Some(0), "{err}");
    let piped = dir.path().join("piped.mp4");
    std::fs::write(&piped, &stdout).unwrap();
    assert_eq!(
        common::ffprobe(
            &piped,
            &[
                "-count_frames",
                "-show_entries",
                "stream=nb_read_frames",
                "-of",
                "csv=p=0"
            ]
        ),
        "10"
    );

    // What is wrong is said in the user's terms.
    let (code, _, err) = tessera_piped(&["process", s(&clip), "-o", "-"], b"");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("needs --format"), "{err}");
    let (code, _, err) = tessera_piped(&["process", "-", "-o", s(&out), "--overwrite"], b"");
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("stdin: nothing came"), "{err}");
    let (code, _, err) = tessera_piped(
        &["process", "-", "-o", s(&dir.path().join("x.png"))],
        b"hello\n",
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("stdin: not a picture"), "{err}");
    assert!(
        !err.contains("pipe:") && !err.contains(".tessera-"),
        "{err}"
    );
    let (code, _, err) = tessera_piped(
        &["process", s(&clip), "-o", "-", "--format", "nosuchmuxer"],
        b"",
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("stdout: --format nosuchmuxer"), "{err}");

    // --format also names the format of an output without an extension.
    let plain = dir.path().join("result");
    let (code, _, err) = tessera(&[
        "process",
        s(&png),
        "-o",
        s(&plain),
        "--format",
        "webp",
        "-q",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(&std::fs::read(&plain).unwrap()[8..12], b"WEBP");
}

/// A reader that goes away (`| head -c 1000`) ends the run quietly, with SIGPIPE's exit code,
/// and leaves no temporary file.
#[test]
fn a_closed_pipe_ends_the_run_quietly() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("clip.mp4");
    common::h264_clip(&clip, "testsrc2=s=320x240:r=25:d=4");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args([
            "process",
            s(&clip),
            "-o",
            "-",
            "--format",
            "nut",
            "--codec",
            "rawvideo",
            "--backend",
            "cpu",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = vec![0u8; 1000];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // The read end is dropped here: the next writes fail.
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(141), "{err}");
    assert!(!err.contains("error") && !err.contains("panicked"), "{err}");

    // Text commands end as quietly.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["man"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).is_empty());
}
