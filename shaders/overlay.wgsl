// overlay.wgsl: a picture over the frame in a pointwise kernel (op::picture, as the CPU's
// pointwise blocks run it). Put before pointwise.wgsl in the kernels whose ops include one;
// shaders.rs generates the calls.
//
// An op's words of `data`, from `at`: the frame pixel under the picture's top-left (x, y as
// i32), the opacity (f32), the picture's width and height, three spare words, then its pixels
// row after row, R′G′B′A bytes in each word, red lowest.

// blend: 0 normal, 1 multiply, 2 screen, 3 overlay, 4 add (Blend::index).
fn ov_blend(mode: u32, b: vec3<f32>, s: vec3<f32>) -> vec3<f32> {
    switch mode {
        case 1u: {
            return b * s;
        }
        case 2u: {
            return 1.0 - (1.0 - b) * (1.0 - s);
        }
        case 3u: {
            return select(1.0 - 2.0 * (1.0 - b) * (1.0 - s), 2.0 * b * s, b < vec3<f32>(0.5));
        }
        case 4u: {
            return min(b + s, vec3<f32>(1.0));
        }
        default: {
            return s;
        }
    }
}

fn op_overlay(p: vec4<f32>, at: u32, xy: vec2<f32>, mode: u32, tile: bool) -> vec4<f32> {
    let w = i32(data[at + 3u]);
    let h = i32(data[at + 4u]);
    var u = i32(xy.x) - bitcast<i32>(data[at]);
    var v = i32(xy.y) - bitcast<i32>(data[at + 1u]);
    if (tile) {
        u = ((u % w) + w) % w;
        v = ((v % h) + h) % h;
    } else if (u < 0 || v < 0 || u >= w || v >= h) {
        return p;
    }
    let word = data[at + 8u + u32(v * w + u)];
    let s = vec4<f32>(
        f32(word & 255u) / 255.0,
        f32((word >> 8u) & 255u) / 255.0,
        f32((word >> 16u) & 255u) / 255.0,
        f32(word >> 24u) / 255.0,
    );
    // Source-over with a blend mode, alpha straight (op::picture::over).
    let a = s.a * data_f32(at + 2u);
    let out_a = a + p.a * (1.0 - a);
    if (out_a <= 0.0) {
        return p;
    }
    let shown = s.rgb + (ov_blend(mode, p.rgb, s.rgb) - s.rgb) * p.a;
    return vec4<f32>((shown * a + p.rgb * (p.a * (1.0 - a))) / out_a, out_a);
}
