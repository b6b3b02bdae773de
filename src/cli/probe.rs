//! `tessera probe FILE [--json]`: a short summary of a media file, or its stable JSON document.
//! The description is the library's (`media::probe`); this file only prints it.

#[cfg(feature = "video")]
use std::io::Write;
use std::path::Path;

/// Prints the description of `file`; the exit code: 0, or 1 when it cannot be read.
pub fn run(file: &Path, json: bool) -> i32 {
    #[cfg(feature = "video")]
    {
        match tessera::media::probe(file) {
            Ok(info) => {
                let text = if json {
                    info.to_json() + "\n"
                } else {
                    summary(&info)
                };
                // A closed pipe (`tessera probe clip.mp4 | head -1`) is not an error.
                let _ = std::io::stdout().lock().write_all(text.as_bytes());
                0
            }
            Err(e) => {
                eprintln!("error: {e}");
                1
            }
        }
    }
    #[cfg(not(feature = "video"))]
    {
        let _ = json;
        eprintln!(
            "error: {}: probe needs FFmpeg, and this tessera was built without the `video` feature",
            file.display()
        );
        1
    }
}

/// A header line (container, duration, bit rate), the title where there is one, a line per
/// stream and a line per chapter:
///
/// ```text
/// clip.mp4: mov,mp4,m4a,3gp,3g2,mj2 (QuickTime / MOV), 0:00:02.000, 355 kb/s
///   #0 video: h264 (High), 320x240, yuv420p (tv, bt709), 25 fps, 270 kb/s, 50 frames, default
///   #1 audio: aac (LC), 48000 Hz, mono, fltp, 70 kb/s, language fra, default
/// ```
#[cfg(feature = "video")]
fn summary(info: &tessera::media::MediaInfo) -> String {
    let mut header = vec![match &info.container_long_name {
        Some(long) => format!("{} ({long})", info.container),
        None => info.container.clone(),
    }];
    header.extend(info.duration.map(clock));
    header.extend(info.bit_rate.map(bit_rate));
    let mut text = format!("{}: {}\n", info.file, header.join(", "));
    if let Some(title) = info.tags.get("title") {
        text += &format!("  title: {title}\n");
    }
    for stream in &info.streams {
        text += &format!("  {}\n", stream_line(stream));
    }
    for chapter in &info.chapters {
        text += &format!(
            "  chapter {}: {} - {}{}\n",
            chapter.id,
            clock(chapter.start),
            clock(chapter.end),
            chapter
                .title
                .as_ref()
                .map(|t| format!(" {t}"))
                .unwrap_or_default()
        );
    }
    text
}

#[cfg(feature = "video")]
fn stream_line(stream: &tessera::media::probe::MediaStream) -> String {
    let mut codec = stream.codec.clone();
    if let Some(profile) = &stream.profile {
        codec += &format!(" ({profile})");
    }
    let mut parts = vec![codec];
    if let Some(v) = &stream.video {
        if let (Some(w), Some(h)) = (v.width, v.height) {
            parts.push(format!("{w}x{h}"));
        }
        if let Some([n, d]) = v.sample_aspect_ratio.filter(|[n, d]| n != d) {
            parts.push(format!("SAR {n}:{d}"));
        }
        if let Some(pixel_format) = &v.pixel_format {
            parts.push(pixel_format.clone() + &colour(v));
        }
        parts.extend(v.frame_rate.map(|r| format!("{} fps", number(r))));
        if let Some(order) = v.field_order.as_ref().filter(|o| *o != "progressive") {
            parts.push(format!("interlaced {order}"));
        }
        parts.extend(v.rotation.map(|r| format!("rotation {}", number(r))));
    }
    if let Some(a) = &stream.audio {
        parts.extend(a.sample_rate.map(|r| format!("{r} Hz")));
        match (&a.channel_layout, a.channels) {
            (Some(layout), _) => parts.push(layout.clone()),
            (None, Some(1)) => parts.push("1 channel".into()),
            (None, Some(n)) => parts.push(format!("{n} channels")),
            (None, None) => {}
        }
        parts.extend(a.sample_format.clone());
    }
    parts.extend(stream.bit_rate.map(bit_rate));
    if stream.video.is_some() {
        parts.extend(stream.frames.map(|n| format!("{n} frames")));
    }
    if let Some(name) = stream.tags.get("filename") {
        parts.push(format!("file {name}"));
    }
    // `und` is the tag for "undetermined", which a muxer writes where nobody said.
    let language = stream.language.as_ref().filter(|l| *l != "und");
    parts.extend(language.map(|l| format!("language {l}")));
    parts.extend(stream.title.as_ref().map(|t| format!("title \"{t}\"")));
    parts.extend(stream.disposition.iter().cloned());
    format!(
        "#{} {}: {}",
        stream.index,
        stream.kind.name(),
        parts.join(", ")
    )
}

/// ` (range, matrix)` where matrix, primaries and transfer agree, else
/// ` (range, matrix/primaries/transfer)`; empty when nothing is tagged.
#[cfg(feature = "video")]
fn colour(v: &tessera::media::probe::VideoParams) -> String {
    let mut tags: Vec<String> = v.color_range.iter().cloned().collect();
    let triple = [&v.color_space, &v.color_primaries, &v.color_transfer];
    if triple.iter().all(|t| t.is_some() && *t == triple[0]) {
        tags.extend(v.color_space.clone());
    } else if triple.iter().any(|t| t.is_some()) {
        let names: Vec<&str> = triple
            .iter()
            .map(|t| t.as_deref().unwrap_or("unknown"))
            .collect();
        tags.push(names.join("/"));
    }
    if tags.is_empty() {
        String::new()
    } else {
        format!(" ({})", tags.join(", "))
    }
}

/// `H:MM:SS.mmm`.
#[cfg(feature = "video")]
fn clock(seconds: f64) -> String {
    let ms = (seconds.abs() * 1000.0).round() as u64;
    let sign = if seconds < 0.0 && ms > 0 { "-" } else { "" };
    format!(
        "{sign}{}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// `355 kb/s`, or `156 b/s` below a kilobit.
#[cfg(feature = "video")]
fn bit_rate(bits: u64) -> String {
    if bits < 1000 {
        format!("{bits} b/s")
    } else {
        format!("{} kb/s", (bits + 500) / 1000)
    }
}

/// At most three decimals, without trailing zeros: `25`, `29.97`, `23.976`.
#[cfg(feature = "video")]
fn number(x: f64) -> String {
    let text = format!("{x:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

#[cfg(all(test, feature = "video"))]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_plainly() {
        assert_eq!(clock(2.0), "0:00:02.000");
        assert_eq!(clock(3723.5), "1:02:03.500");
        assert_eq!(bit_rate(355_208), "355 kb/s");
        assert_eq!(bit_rate(156), "156 b/s");
        assert_eq!(number(25.0), "25");
        assert_eq!(number(30000.0 / 1001.0), "29.97");
        assert_eq!(number(24000.0 / 1001.0), "23.976");
        assert_eq!(number(-90.0), "-90");
    }
}
