//! Flags from FFmpeg's and ImageMagick's command lines, answered with tessera's equivalent
//! instead of a confusing parse error: users move from `ffmpeg -i in.mp4 -vf … -y out.mp4` and
//! `magick in.jpg -resize 800x out.jpg` and type what their hands know.

use std::ffi::OsString;

/// What to say about `flag` (and the token after it, `next`), if it is a habit from FFmpeg or
/// ImageMagick that tessera spells otherwise. `None` for anything else.
fn hint(flag: &str, next: Option<&str>) -> Option<String> {
    let value = next.unwrap_or("VALUE");
    let text = match flag {
        "-i" => format!(
            "tessera takes its inputs as plain arguments, without -i: tessera process {value} -o OUT"
        ),
        "-vf" | "-filter:v" | "-lavfi" | "-filter_complex" | "-af" => format!(
            "{flag} is FFmpeg's; tessera's filters go in --chain (-c), with its own names and \
             parameters: --chain \"gblur(sigma=2) | scale(1280, 720)\" (FFmpeg's scale=1280:720 \
             is scale(1280, 720)); `tessera filters` lists them"
        ),
        "-y" => "FFmpeg's -y is --overwrite in tessera".to_string(),
        "-n" => "tessera never replaces an output unless --overwrite is given (FFmpeg's -n is \
                 its default)"
            .to_string(),
        "-c:v" | "-vcodec" | "-codec:v" => format!("the video encoder is --codec {value}"),
        "-c:a" | "-acodec" | "-codec:a" => match value {
            "copy" => "tessera copies the audio by default (FFmpeg's -c:a copy)".to_string(),
            _ => format!("the audio encoder is --audio-codec {value}"),
        },
        "-crf" => format!("the constant rate factor is --crf {value} (two dashes)"),
        "-preset" => format!("the encoder preset is --preset {value} (two dashes)"),
        "-b:v" => format!("the video bit rate is --bitrate {value}"),
        "-pix_fmt" => format!("the output pixel format is --pix-fmt {value}"),
        "-g" => format!("frames between key frames is --gop {value}"),
        "-ss" => format!("the start is --start {value}"),
        "-t" => format!("the length is --duration {value}"),
        "-to" => "tessera has no end time: give --duration (the end less --start)".to_string(),
        "-an" => "FFmpeg's -an is --no-audio in tessera".to_string(),
        "-vframes" | "-frames:v" => format!("the number of frames is --frames {value}"),
        "-s" => format!(
            "the output size is a filter: --chain \"scale({})\"",
            value.replace('x', ", ")
        ),
        "-f" => "tessera chooses the format by the output's extension (out.mkv, out.png, …)"
            .to_string(),
        "-map" => "tessera filters the input's video stream and copies its audio and subtitles; \
                   --no-audio leaves the audio out"
            .to_string(),
        "-resize" | "-thumbnail" | "-scale" => format!(
            "resizing is a filter: --chain \"scale(width=800, height=-1)\" (ImageMagick's {flag} \
             {value})"
        ),
        "-blur" | "-gaussian-blur" => {
            "blurring is a filter: --chain \"gblur(sigma=2)\"".to_string()
        }
        "-unsharp" | "-sharpen" => {
            "sharpening is a filter: --chain \"unsharp(sigma=1, amount=1)\"".to_string()
        }
        "-negate" => "inverting is a filter: --chain \"invert\"".to_string(),
        "-flip" => "ImageMagick's -flip is the filter vflip: --chain \"vflip\"".to_string(),
        "-flop" => "ImageMagick's -flop is the filter hflip: --chain \"hflip\"".to_string(),
        "-crop" => "cropping is a filter: --chain \"crop(x, y, width, height)\"".to_string(),
        _ => return None,
    };
    Some(format!(
        "error: unexpected argument '{flag}'\n  hint: {text}\n  (tessera process --help lists every option)"
    ))
}

/// FFmpeg's `-r RATE` reads as tessera's `-r` (`--recursive`) and an input named RATE: caught
/// when the token after `-r` is a rate and no such file exists.
fn rate_hint(next: &str) -> Option<String> {
    let rate = next
        .split_once('/')
        .map_or(next, |(num, _)| num)
        .parse::<f64>()
        .is_ok();
    if !rate || std::path::Path::new(next).exists() {
        return None;
    }
    Some(format!(
        "error: '-r {next}' looks like FFmpeg's frame rate, but -r is --recursive in tessera\n  \
         hint: a video keeps its frame rate (tessera does not change it); --fps {next} sets the \
         frame rate of an image-sequence input such as frames/%05d.png"
    ))
}

/// The hint for the first FFmpeg or ImageMagick habit in a `process` command line, skipping the
/// values of tessera's own options (`takes_value` says which options take one).
pub fn find(args: &[OsString], takes_value: impl Fn(&str) -> bool) -> Option<String> {
    let args: Vec<&str> = args.iter().map(|a| a.to_str().unwrap_or("")).collect();
    if !args.iter().skip(1).any(|a| *a == "process") {
        return None;
    }
    let mut i = 1;
    while i < args.len() {
        let arg = args[i];
        let next = args.get(i + 1).copied();
        if arg == "--" {
            return None;
        }
        if arg == "-r" {
            if let Some(text) = next.and_then(rate_hint) {
                return Some(text);
            }
        } else if let Some(text) = hint(arg, next) {
            return Some(text);
        }
        // An option of tessera's that takes its value as the next token: that token is a value
        // (a chain, a file name), never a flag.
        if arg.starts_with('-') && !arg.contains('=') && takes_value(arg) {
            i += 1;
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(line: &str) -> Option<String> {
        let args: Vec<OsString> = line.split(' ').map(OsString::from).collect();
        find(&args, |a| matches!(a, "-c" | "--chain" | "-o" | "--output"))
    }

    #[test]
    fn ffmpeg_habits_get_tessera_spelling() {
        assert!(run("tessera process -i in.mp4 -o out.mp4")
            .unwrap()
            .contains("plain arguments"));
        assert!(run("tessera process in.mp4 -vf scale=640:-1 -o out.mp4")
            .unwrap()
            .contains("--chain"));
        assert!(run("tessera process in.mp4 -o out.mp4 -y")
            .unwrap()
            .contains("--overwrite"));
        assert!(run("tessera process in.mp4 -r 10 -o out.mp4")
            .unwrap()
            .contains("--fps 10"));
        assert!(run("tessera process in.mp4 -c:v libx265 -o out.mp4")
            .unwrap()
            .contains("--codec libx265"));
        assert!(run("tessera process in.jpg -resize 800x -o out.jpg")
            .unwrap()
            .contains("scale("));
    }

    #[test]
    fn tessera_lines_are_left_alone() {
        assert_eq!(run("tessera process in.mp4 -o out.mp4 -c gblur"), None);
        assert_eq!(run("tessera process -r shots -o out"), None);
        // A value of tessera's own option is never taken for a flag.
        assert_eq!(run("tessera process in.mp4 -c -y -o out.mp4"), None);
        assert_eq!(run("tessera probe -i"), None);
        assert_eq!(run("tessera process in.mp4 -o out.mp4 -- -y"), None);
    }
}
