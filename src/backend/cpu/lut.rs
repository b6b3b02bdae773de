//! Table ops of a pointwise pass on the CPU (curves, lut1d, lut3d): each pixel of a block's
//! R′G′B′ planes through the op's tables, as [`crate::op::PointOp::apply_table`] defines it.

use crate::op::PointOp;

/// The R′G′B′ planes of a block (normalised, in place) through the table op `op`.
#[inline(always)]
pub(super) fn run(op: &PointOp, r: &mut [f32], g: &mut [f32], b: &mut [f32]) {
    match op {
        PointOp::Channels(t) => {
            for (c, plane) in [r, g, b].into_iter().enumerate() {
                for v in plane.iter_mut() {
                    *v = t.apply(c, *v);
                }
            }
        }
        PointOp::Cube {
            cube,
            interp,
            strength,
        } => {
            for ((r, g), b) in r.iter_mut().zip(g.iter_mut()).zip(b.iter_mut()) {
                let x = [*r, *g, *b];
                let y = cube.apply(*interp, x);
                let mix = |c: usize| x[c] + (y[c] - x[c]) * strength;
                (*r, *g, *b) = (mix(0), mix(1), mix(2));
            }
        }
        _ => unreachable!("only table ops are run here"),
    }
}
