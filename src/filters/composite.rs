//! Pictures over frames: `overlay` (a picture at a position, blended) and `watermark` (a
//! picture in a corner or tiled, scaled to the frame). Both lower into one pointwise op
//! ([`PointOp::Overlay`]) on R′G′B′A, so they fuse with the colour filters around them and run
//! on both backends; Y′CbCr frames convert inside the pass, per chroma block.
//!
//! The picture is read once per run (again only where its file changed), with its alpha
//! straight; a watermark's is resized once per frame width, in premultiplied alpha so that
//! transparent pixels do not bleed their colour into the edges.

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
    type Stamp = Option<(u64, std::time::SystemTime)>;
    type Cache = HashMap<Key, (Stamp, Arc<Picture>)>;
    static CACHE: Mutex<Option<Cache>> = Mutex::new(None);
    let stamp = std::fs::metadata(name)
        .ok()
        .and_then(|m| Some((m.len(), m.modified().ok()?)));
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

fn check_picture(name: &str) -> Result<(), String> {
    picture(name, 0, 0).map(|_| ())
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

pub static OVERLAY: FilterSpec = FilterSpec {
    name: "overlay",
    kind: FilterKind::Pointwise,
    description: "Lays a picture file over the frame with its top-left pixel at (x, y), its \
                  alpha (times opacity) mixing in its colour or a blend of it (multiply, screen, \
                  overlay, add) on R′G′B′. As FFmpeg's overlay, but the overlay is a still \
                  picture named here, not a second stream, and x, y are expressions of the \
                  frame's w, h, t, n: FFmpeg's W-w-10:H-h-10 is watermark(margin=10)",
    params: &[
        FILE,
        ParamSpec {
            name: "x",
            kind: ParamKind::Float {
                min: -65536.0,
                max: 65536.0,
            },
            default: Default::Float(0.0),
            unit: Some("pixels"),
            doc: "the frame column under the picture's left edge (rounded down)",
        },
        ParamSpec {
            name: "y",
            kind: ParamKind::Float {
                min: -65536.0,
                max: 65536.0,
            },
            default: Default::Float(0.0),
            unit: Some("pixels"),
            doc: "the frame row under the picture's top edge (rounded down)",
        },
        OPACITY,
        MODE,
    ],
    lower: lower_overlay,
    examples: &[
        "overlay(file=\"assets/overlays/badge.png\", x=w/2 - 24, y=h/2 - 24)",
        "overlay(\"assets/overlays/badge.png\", 5, 7, 0.5)",
        "overlay(\"assets/overlays/badge.png\", x=-10, y=h - 30, mode=multiply)",
        "overlay(\"assets/overlays/badge.png\", 3, 2, mode=screen) | overlay(\"assets/overlays/badge.png\", 20, 9, 0.8, overlay)",
        "overlay(\"assets/overlays/badge.png\", x=40 * t, y=1, mode=add)",
    ],
};

fn lower_overlay(args: &Args, _format: &Format, _time: &FrameTime) -> Result<Vec<Op>, String> {
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
    Ok(vec![Op::Point(PointOp::Overlay {
        picture: picture(args.string("file"), 0, 0)?,
        at,
    })])
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
