//! Planes as f64 for the reference tests: a stage run on the CPU backend, a plane's code
//! values with clamped edges, and the frame those values round to.

use tessera::backend::cpu::CpuBackend;
use tessera::frame::Format;
use tessera::{plan, Backend, Chain, Frame};

pub fn cpu(text: &str, frame: &Frame) -> Frame {
    let chain = Chain::parse(text).unwrap_or_else(|e| panic!("{}", e.render(text)));
    let plan = plan::compile(&chain, &frame.format).unwrap_or_else(|e| panic!("{text}: {e}"));
    CpuBackend::new().process(&plan, frame.clone()).unwrap()
}

/// One plane's code values as f64, with its size.
#[derive(Clone)]
pub struct Values {
    pub w: usize,
    pub h: usize,
    pub v: Vec<f64>,
}

impl Values {
    pub fn of(frame: &Frame, p: usize) -> Values {
        let plane = frame.plane(p);
        let (w, h) = plane.size();
        let v = (0..h)
            .flat_map(|y| (0..w).map(move |x| (x, y)))
            .map(|(x, y)| plane.get(x, y) as f64)
            .collect();
        Values { w, h, v }
    }

    /// The value at (x, y), the position clamped to the plane (edges replicated).
    pub fn at(&self, x: i64, y: i64) -> f64 {
        let x = x.clamp(0, self.w as i64 - 1) as usize;
        let y = y.clamp(0, self.h as i64 - 1) as usize;
        self.v[y * self.w + x]
    }

    pub fn map(&self, f: impl Fn(i64, i64) -> f64) -> Values {
        let v = (0..self.h as i64)
            .flat_map(|y| (0..self.w as i64).map(move |x| (x, y)))
            .map(|(x, y)| f(x, y))
            .collect();
        Values { v, ..*self }
    }
}

/// The frame `frame` would become with each plane replaced by `planes` (rounded and clamped to
/// the plane's codes).
pub fn quantise(format: Format, planes: &[Values]) -> Frame {
    let mut out = Frame::new(format);
    let max = format.max_code() as f64;
    for (p, values) in planes.iter().enumerate() {
        let code = |v: f64| v.round().clamp(0.0, max);
        if format.is_wide() {
            for (o, &v) in out.plane16_mut(p).data.iter_mut().zip(&values.v) {
                *o = code(v) as u16;
            }
        } else {
            for (o, &v) in out.plane8_mut(p).data.iter_mut().zip(&values.v) {
                *o = code(v) as u8;
            }
        }
    }
    out
}
