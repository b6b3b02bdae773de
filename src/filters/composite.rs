//! Pictures over frames: `overlay` (a picture or a video at a position, blended) and
//! `watermark` (a picture in a corner or tiled, scaled to the frame). Both lower into one
//! pointwise op ([`PointOp::Overlay`]) on R′G′B′A, so they fuse with the colour filters around
//! them and run on both backends; Y′CbCr frames convert inside the pass, per chroma block.
//!
//! A still picture is read once per run (again only where its file changed), with its alpha
//! straight; a watermark's is resized once per frame width, in premultiplied alpha so that
//! transparent pixels do not bleed their colour into the edges. An overlay's video is read
//! forward as the stream's frames ask for its pictures (see [`video_frame`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::{Args, Default, FilterKind, FilterSpec, ParamKind, ParamSpec};
use crate::frame::Format;
use crate::op::{Blend, Op, Picture, Placement, PointOp};
use crate::plan::FrameTime;

/// The file `name` as a picture, `width` pixels wide (0: as it is) with `gap` transparent
/// pixels on its right and bottom (for tiles), read and made once.
fn picture(name: &str, width: u32, gap: u32) -> Result<Arc<Picture>, String> {
    type Key = (String, u32, u32);
    type Cache = HashMap<Key, (Stamp, Arc<Picture>)>;
    static CACHE: Mutex<Option<Cache>> = Mutex::new(None);
    let stamp = stamp(name);
    let key = (name.to_string(), width, gap);
    {
        let cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((s, p)) = cache.as_ref().and_then(|c| c.get(&key)) {
            if *s == stamp && stamp.is_some() {
                return Ok(p.clone());
            }
        }
    }
    let image = image::ImageReader::open(name)
        .map_err(|e| format!("{name}: cannot read it: {e}"))?
        .with_guessed_format()
        .map_err(|e| format!("{name}: cannot read it: {e}"))?
        .decode()
        .map_err(|e| format!("{name}: not a picture tessera can read: {e}"))?;
    let mut rgba = image.to_rgba32f();
    if width > 0 && width != rgba.width() {
        let height =
            ((rgba.height() as f64 * width as f64 / rgba.width() as f64).round() as u32).max(1);
        for p in rgba.pixels_mut() {
            let a = p.0[3];
            for c in &mut p.0[..3] {
                *c *= a;
            }
        }
        rgba = image::imageops::resize(&rgba, width, height, image::imageops::FilterType::Lanczos3);
        for p in rgba.pixels_mut() {
            let a = p.0[3].clamp(0.0, 1.0);
            p.0[3] = a;
            for c in &mut p.0[..3] {
                *c = if a > 0.0 {
                    (*c / a).clamp(0.0, 1.0)
                } else {
                    0.0
                };
            }
        }
    }
    let (w, h) = (rgba.width() + gap, rgba.height() + gap);
    let mut bytes = vec![0u8; (w * h * 4) as usize];
    for (x, y, p) in rgba.enumerate_pixels() {
        let at = ((y * w + x) * 4) as usize;
        for c in 0..4 {
            bytes[at + c] = (p.0[c].clamp(0.0, 1.0) * 255.0).round() as u8;
        }
    }
    let picture = Arc::new(Picture::from_rgba8(w, h, &bytes));
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    cache
        .get_or_insert_with(HashMap::new)
        .insert(key, (stamp, picture.clone()));
    Ok(picture)
}

/// A file's size and modification time, which say whether what was read of it still holds.
type Stamp = Option<(u64, std::time::SystemTime)>;

fn stamp(name: &str) -> Stamp {
    std::fs::metadata(name)
        .ok()
        .and_then(|m| Some((m.len(), m.modified().ok()?)))
}

fn check_picture(name: &str) -> Result<(), String> {
    picture(name, 0, 0).map(|_| ())
}

/// What an overlay's file holds.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Source {
    Still,
    /// A video of pictures this size (only where tessera reads video).
    #[cfg_attr(not(feature = "video"), allow(dead_code))]
    Video {
        width: u32,
        height: u32,
    },
}

/// What the file `name` holds, found once per file (again only where it changed): a picture
/// where the `image` crate reads one from its contents, else a video where FFmpeg opens one and
/// decodes its first picture, whatever the file's extension says.
fn source(name: &str) -> Result<Source, String> {
    type Cache = HashMap<String, (Stamp, Source)>;
    static CACHE: Mutex<Option<Cache>> = Mutex::new(None);
    let stamp = stamp(name);
    {
        let cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((s, found)) = cache.as_ref().and_then(|c| c.get(name)) {
            if *s == stamp && stamp.is_some() {
                return Ok(*found);
            }
        }
    }
    let found = match picture(name, 0, 0) {
        Ok(_) => Source::Still,
        // A file that cannot be opened at all says so as it is.
        Err(e) if stamp.is_none() => return Err(e),
        Err(still) => video_source(name, still)?,
    };
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    cache
        .get_or_insert_with(HashMap::new)
        .insert(name.to_string(), (stamp, found));
    Ok(found)
}

#[cfg(feature = "video")]
fn video_source(name: &str, still: String) -> Result<Source, String> {
    let (width, height) = video_frame(name, 0.0)
        .map(|(p, _)| (p.width, p.height))
        .map_err(|video| {
            format!("{name}: neither a picture nor a video tessera can read ({still}; {video})")
        })?;
    Ok(Source::Video { width, height })
}

#[cfg(not(feature = "video"))]
fn video_source(_name: &str, still: String) -> Result<Source, String> {
    Err(still)
}

fn check_source(name: &str) -> Result<(), String> {
    source(name).map(|_| ())
}

/// True for an overlay whose file is a video: its picture changes from frame to frame, so it
/// is lowered for every frame (a still picture's, once per stream).
pub(super) fn follows_video(args: &Args) -> bool {
    matches!(source(args.string("file")), Ok(Source::Video { .. }))
}

/// The overlay's picture at `t` seconds of the stream and whether its video has ended by then.
///
/// Where the decoders live: lowering is a plain function of the stage's values, the format and
/// the frame's time, shared by every stream a chain runs on, so the readers of overlay videos
/// are kept process-wide, keyed by the file, in a pool of at most [`READERS_KEPT`] (the least
/// recently used one is closed). A request takes the reader of that file that is furthest on
/// but not past `t`, which it can move forward by decoding; if there is none, it opens one.
/// Correctness does not depend on which stream asks: streams of a batch each move their own
/// reader forward as their frames advance, and a plan compiled for an earlier time gets a
/// reader of its own (or one read again from the start). Each reader holds its current and
/// next decoded pictures and the current one as R′G′B′A, never the whole video.
#[cfg(feature = "video")]
fn video_frame(name: &str, t: f64) -> Result<(Arc<Picture>, bool), String> {
    use crate::media::clip::Clip;
    use std::sync::atomic::{AtomicU64, Ordering};

    struct Reader {
        name: String,
        stamp: Stamp,
        clip: Clip,
        /// The picture last handed out, by its index in the video.
        shown: Option<(u64, Arc<Picture>)>,
        /// When it was last used, for closing the least recently used.
        used: u64,
    }
    static READERS: Mutex<Vec<Reader>> = Mutex::new(Vec::new());
    static CLOCK: AtomicU64 = AtomicU64::new(0);

    let stamp = stamp(name);
    let taken = {
        let mut readers = READERS.lock().unwrap_or_else(|e| e.into_inner());
        readers.retain(|r| r.name != name || r.stamp == stamp);
        let best = readers
            .iter()
            .enumerate()
            .filter(|(_, r)| r.name == name)
            .filter_map(|(i, r)| match r.clip.position() {
                None => Some((i, f64::NEG_INFINITY)),
                Some(p) if p <= t => Some((i, p)),
                Some(_) => None,
            })
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(i, _)| i);
        best.map(|i| readers.swap_remove(i))
    };
    let mut reader = match taken {
        Some(r) => r,
        None => Reader {
            name: name.to_string(),
            stamp,
            clip: Clip::open(std::path::Path::new(name)).map_err(|e| e.to_string())?,
            shown: None,
            used: 0,
        },
    };
    let shown = reader.clip.seek(t).map_err(|e| e.to_string())?;
    let picture = match &reader.shown {
        Some((index, p)) if *index == shown.index => p.clone(),
        _ => {
            let (w, h, rgba) = reader.clip.rgba().map_err(|e| e.to_string())?;
            let p = Arc::new(Picture::from_rgba8(w, h, &rgba));
            reader.shown = Some((shown.index, p.clone()));
            p
        }
    };
    reader.used = CLOCK.fetch_add(1, Ordering::Relaxed);
    let mut readers = READERS.lock().unwrap_or_else(|e| e.into_inner());
    readers.push(reader);
    if readers.len() > READERS_KEPT {
        if let Some(oldest) = (0..readers.len()).min_by_key(|&i| readers[i].used) {
            readers.swap_remove(oldest);
        }
    }
    Ok((picture, shown.ended))
}

/// Overlay videos read at once, across every stream of a run: enough for a batch's jobs to
/// keep one each, few enough that their decoders' memory stays small.
#[cfg(feature = "video")]
const READERS_KEPT: usize = 8;

/// The names overlay's x and y may use besides the frame's, as FFmpeg's overlay names them
/// (`w` and `h` are the overlay's there, so here too).
pub(super) const OVERLAY_VARIABLES: &[(&str, &str)] = &[
    ("main_w", "the width of the frame under the overlay"),
    ("W", "the width of the frame under the overlay"),
    ("main_h", "the height of the frame under the overlay"),
    ("H", "the height of the frame under the overlay"),
    ("overlay_w", "the overlay's width"),
    ("w", "the overlay's width"),
    ("overlay_h", "the overlay's height"),
    ("h", "the overlay's height"),
];

/// The values of [`OVERLAY_VARIABLES`] for an overlay of `args` on a frame of `format`.
pub(super) fn overlay_values(
    args: &Args,
    format: &Format,
) -> Result<Vec<(&'static str, f64)>, String> {
    let (ow, oh) = match source(args.string("file"))? {
        Source::Still => {
            let p = picture(args.string("file"), 0, 0)?;
            (p.width, p.height)
        }
        Source::Video { width, height } => (width, height),
    };
    let (mw, mh) = (format.width as f64, format.height as f64);
    let (ow, oh) = (ow as f64, oh as f64);
    Ok(vec![
        ("main_w", mw),
        ("W", mw),
        ("main_h", mh),
        ("H", mh),
        ("overlay_w", ow),
        ("w", ow),
        ("overlay_h", oh),
        ("h", oh),
    ])
}

const FILE: ParamSpec = ParamSpec {
    name: "file",
    kind: ParamKind::Text {
        what: "a picture file (PNG, JPEG, WebP, TIFF, BMP)",
        check: check_picture,
    },
    default: Default::Required,
    unit: None,
    doc: "the picture, relative to the working directory; its alpha is kept",
};

const OPACITY: ParamSpec = ParamSpec {
    name: "opacity",
    kind: ParamKind::Float { min: 0.0, max: 1.0 },
    default: Default::Float(1.0),
    unit: None,
    doc: "multiplies the picture's alpha",
};

const MODE: ParamSpec = ParamSpec {
    name: "mode",
    kind: ParamKind::Choice(Blend::NAMES),
    default: Default::Str("normal"),
    unit: None,
    doc: "how its colour combines with the frame's",
};

fn blend(args: &Args) -> Result<Blend, String> {
    let name = args.string("mode");
    Blend::from_name(name).ok_or_else(|| format!("mode: {name:?} is not one of {:?}", Blend::NAMES))
}

const OVERLAY_FILE: ParamSpec = ParamSpec {
    name: "file",
    kind: ParamKind::Text {
        what: "a picture file (PNG, JPEG, WebP, TIFF, BMP) or a video FFmpeg decodes",
        check: check_source,
    },
    default: Default::Required,
    unit: None,
    doc: "the picture or video, relative to the working directory; a picture's alpha is kept, \
          a video shows the frame FFmpeg's overlay would at the stream's time",
};

const EOF: &[&str] = &["repeat", "pass"];

pub static OVERLAY: FilterSpec = FilterSpec {
    name: "overlay",
    kind: FilterKind::Pointwise,
    description: "Lays a picture or a video file over the frame with its top-left pixel at (x, \
                  y), its alpha (times opacity) mixing in its colour or a blend of it \
                  (multiply, screen, overlay, add) on R′G′B′. As FFmpeg's overlay with its \
                  second input named here: a video shows, at each frame's time t, its latest \
                  frame at or before t (both clocks start at 0; a photo gets its first frame), \
                  and after its last frame keeps that one (eof=repeat, FFmpeg's default) or \
                  shows nothing (eof=pass). x and y know FFmpeg's names: main_w or W, main_h or \
                  H (the frame's size), overlay_w or w, overlay_h or h (the overlay's), t, n: \
                  FFmpeg's overlay=W-w-10:H-h-10 is overlay(file, W-w-10, H-h-10)",
    params: &[
        OVERLAY_FILE,
        ParamSpec {
            name: "x",
            kind: ParamKind::Float {
                min: -65536.0,
                max: 65536.0,
            },
            default: Default::Float(0.0),
            unit: Some("pixels"),
            doc: "the frame column under the overlay's left edge (rounded down); may use W, H, \
                  w, h (main_w, main_h, overlay_w, overlay_h), t, n",
        },
        ParamSpec {
            name: "y",
            kind: ParamKind::Float {
                min: -65536.0,
                max: 65536.0,
            },
            default: Default::Float(0.0),
            unit: Some("pixels"),
            doc: "the frame row under the overlay's top edge (rounded down); may use W, H, w, \
                  h, t, n as x does",
        },
        OPACITY,
        MODE,
        ParamSpec {
            name: "eof",
            kind: ParamKind::Choice(EOF),
            default: Default::Str("repeat"),
            unit: None,
            doc: "after a video's last frame: repeat keeps showing it, pass shows none (FFmpeg's \
                  eof_action; a picture never ends)",
        },
    ],
    lower: lower_overlay,
    examples: &[
        "overlay(file=\"assets/overlays/badge.png\", x=W/2 - w/2, y=H/2 - h/2)",
        "overlay(\"assets/overlays/badge.png\", 5, 7, 0.5)",
        "overlay(\"assets/overlays/badge.png\", x=-10, y=main_h - 30, mode=multiply)",
        "overlay(\"assets/overlays/badge.png\", 3, 2, mode=screen) | overlay(\"assets/overlays/badge.png\", 20, 9, 0.8, overlay)",
        "overlay(\"assets/overlays/badge.png\", x=40 * t, y=1, mode=add)",
        "overlay(\"assets/overlays/badge.png\", x=W - overlay_w - 3, y=H - h - 2 * n, eof=pass)",
    ],
};

fn lower_overlay(args: &Args, _format: &Format, time: &FrameTime) -> Result<Vec<Op>, String> {
    let opacity = args.float("opacity") as f32;
    if opacity == 0.0 {
        return Ok(Vec::new());
    }
    let at = Placement {
        x: args.float("x").floor() as i32,
        y: args.float("y").floor() as i32,
        opacity,
        blend: blend(args)?,
        tile: false,
    };
    let name = args.string("file");
    let picture = match source(name)? {
        Source::Still => picture(name, 0, 0)?,
        Source::Video { .. } => match video_picture(name, time.t)? {
            (_, true) if args.string("eof") == "pass" => return Ok(Vec::new()),
            (picture, _) => picture,
        },
    };
    Ok(vec![Op::Point(PointOp::Overlay { picture, at })])
}

/// [`video_frame`], where tessera reads video.
#[cfg(feature = "video")]
fn video_picture(name: &str, t: f64) -> Result<(Arc<Picture>, bool), String> {
    video_frame(name, t)
}

#[cfg(not(feature = "video"))]
fn video_picture(name: &str, _t: f64) -> Result<(Arc<Picture>, bool), String> {
    Err(format!("{name}: this tessera is built without video"))
}

const POSITIONS: &[&str] = &[
    "top-left",
    "top",
    "top-right",
    "left",
    "center",
    "right",
    "bottom-left",
    "bottom",
    "bottom-right",
];

pub static WATERMARK: FilterSpec = FilterSpec {
    name: "watermark",
    kind: FilterKind::Pointwise,
    description: "Marks the frame with a picture file: in a corner, an edge's middle or the \
                  centre, `margin` pixels in, or tiled over the whole frame; scaled to a share \
                  of the frame's width if asked (resized once, alpha premultiplied)",
    params: &[
        FILE,
        ParamSpec {
            name: "position",
            kind: ParamKind::Choice(POSITIONS),
            default: Default::Str("bottom-right"),
            unit: None,
            doc: "where it goes (ignored with tile)",
        },
        ParamSpec {
            name: "margin",
            kind: ParamKind::Int { min: 0, max: 4096 },
            default: Default::Int(16),
            unit: Some("pixels"),
            doc: "from the frame's edges, or between tiles",
        },
        ParamSpec {
            name: "opacity",
            kind: ParamKind::Float { min: 0.0, max: 1.0 },
            default: Default::Float(0.6),
            unit: None,
            doc: "multiplies the picture's alpha",
        },
        ParamSpec {
            name: "scale",
            kind: ParamKind::Float { min: 0.0, max: 1.0 },
            default: Default::Float(0.0),
            unit: None,
            doc: "its width as a share of the frame's; 0 keeps its own size",
        },
        ParamSpec {
            name: "tile",
            kind: ParamKind::Bool,
            default: Default::Bool(false),
            unit: None,
            doc: "repeats it over the whole frame",
        },
        MODE,
    ],
    lower: lower_watermark,
    examples: &[
        "watermark(file=\"assets/overlays/badge.png\", scale=0.15)",
        "watermark(\"assets/overlays/badge.png\", position=\"top-left\", margin=3, opacity=1)",
        "watermark(\"assets/overlays/badge.png\", tile=true, margin=6, opacity=0.3)",
        "watermark(\"assets/overlays/badge.png\", center, 0, 0.8, 0.5, mode=screen)",
    ],
};

fn lower_watermark(args: &Args, format: &Format, _time: &FrameTime) -> Result<Vec<Op>, String> {
    let opacity = args.float("opacity") as f32;
    if opacity == 0.0 {
        return Ok(Vec::new());
    }
    let margin = args.int("margin") as u32;
    let tile = args.boolean("tile");
    let scale = args.float("scale");
    let width = if scale > 0.0 {
        ((format.width as f64 * scale).round() as u32).max(1)
    } else {
        0
    };
    let picture = picture(args.string("file"), width, if tile { margin } else { 0 })?;
    let (fw, fh) = (format.width as i64, format.height as i64);
    let (pw, ph) = (picture.width as i64, picture.height as i64);
    let m = margin as i64;
    let (x, y) = if tile {
        (m, m)
    } else {
        let position = args.string("position");
        let column = match position {
            p if p.ends_with("left") => 0,
            "top" | "center" | "bottom" => 1,
            _ => 2,
        };
        let row = match position {
            p if p.starts_with("top") => 0,
            "left" | "center" | "right" => 1,
            _ => 2,
        };
        let place = |slot: i64, frame: i64, size: i64| match slot {
            0 => m,
            1 => (frame - size) / 2,
            _ => frame - size - m,
        };
        (place(column, fw, pw), place(row, fh, ph))
    };
    Ok(vec![Op::Point(PointOp::Overlay {
        picture,
        at: Placement {
            x: x as i32,
            y: y as i32,
            opacity,
            blend: blend(args)?,
            tile,
        },
    })])
}

pub static FLATTEN: FilterSpec = FilterSpec {
    name: "flatten",
    kind: FilterKind::Pointwise,
    description: "Composites a frame's alpha onto an opaque colour and removes the alpha plane, \
                  as ImageMagick's -flatten and vips' flatten: what a JPEG or a video without \
                  alpha needs; frames without alpha pass through",
    params: &[ParamSpec {
        name: "color",
        kind: ParamKind::Colour,
        default: Default::Auto("white"),
        unit: None,
        doc: "the background (its own alpha is not used)",
    }],
    lower: lower_flatten,
    examples: &[
        "flatten",
        "flatten(#204060)",
        "flatten([0, 0, 0]) | eq(contrast=1.2)",
    ],
};

fn lower_flatten(args: &Args, format: &Format, _time: &FrameTime) -> Result<Vec<Op>, String> {
    if !format.layout.alpha {
        return Ok(Vec::new());
    }
    let [r, g, b, _] = match args.optional("color") {
        None => [1.0; 4],
        Some(_) => args.colour("color"),
    };
    Ok(vec![Op::Point(PointOp::Flatten([
        r as f32, g as f32, b as f32,
    ]))])
}
