// hqdn3d.wgsl: FFmpeg's hqdn3d on one plane (op::Denoise3d), in its 16-bit fixed point, in two
// dispatches: each invocation of the first walks a row, each of the second walks LANES columns
// down the plane. With lowpass(prev, cur) = cur + table[(prev − cur) >> (8 − lut bits)] and L a
// sample read into fixed point:
//   rows:     H(0, 0) = lowpass(L, L), H(0, y) = L(0, y) below, H(x, y) = lowpass(H(x − 1, y), L)
//   columns:  V(x, 0) = H(x, 0), V(x, y) = lowpass(V(x, y − 1), H(x, y)) through the spatial
//             table; T = lowpass(T of the last frame, V) through the temporal one; the output
//             is T's top bits (codes) or the value T stands for (work samples).
// Values kept between rows and frames are 16 bits, as FFmpeg keeps them.
//
// Bindings: common.wgsl's info (taps = 16 − bits, rows = lut bits, weights_at = words of one
// table; flags bit 0: the stream's first frame, whose last output is taken to be its own
// samples), data (the spatial table, then the temporal one, as i32). Rows (hqdn3d_rows.wgsl):
// in0 the plane, out0 H as i32 bits. Columns (hqdn3d_columns.wgsl): in0 H, in1 the plane, out0
// the result, out1 the last output as u32. Workgroup size 16x16; the invocations make one line
// (the executor dispatches (n / 256, 1 groups)).

fn table(at: u32, prev: i32, cur: i32) -> i32 {
    let lut_bits = info.rows;
    let middle = 256u << lut_bits;
    let d = (prev - cur) >> (8u - lut_bits);
    return cur + bitcast<i32>(data[at + u32(i32(middle) + d)]);
}

fn fixed(v: f32) -> i32 {
    let shift = info.taps;
    let bias = i32(((1u << shift) - 1u) >> 1u);
    let scaled = i32(floor(v * f32(1u << shift) + 0.5));
    return clamp(scaled + bias, 0, 65535);
}

fn result(v: i32) -> f32 {
    let shift = info.taps;
    if (CODES_OUT) {
        return min(f32(u32(max(v, 0)) >> shift), info.max_code);
    }
    let bias = i32(((1u << shift) - 1u) >> 1u);
    return f32(v - bias) / f32(1u << shift);
}
