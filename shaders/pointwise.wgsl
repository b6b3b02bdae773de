// pointwise.wgsl: a fused run of per-pixel colour ops, one read and one write per pixel.
//
// Bindings: common.wgsl's src, dst, info, data; `data` holds four f32 parameters per op
// (PointOp::params), so a parameter change between frames rewrites a buffer, not a pipeline.
// Workgroup size 16x16, one invocation per pixel. shaders.rs generates `apply_ops`, one call per
// op of the pass in order. Each op mirrors PointOp::apply in src/plan.rs exactly.

const LUMA: vec3<f32> = vec3<f32>(0.2126, 0.7152, 0.0722);

fn op_param(i: u32) -> vec4<f32> {
    let at = 4u * i;
    return bitcast<vec4<f32>>(vec4<u32>(data[at], data[at + 1u], data[at + 2u], data[at + 3u]));
}

fn luma(p: vec4<f32>) -> f32 {
    return LUMA.x * p.r + LUMA.y * p.g + LUMA.z * p.b;
}

// q = (brightness, contrast, saturation, gamma)
fn op_eq(p: vec4<f32>, q: vec4<f32>) -> vec4<f32> {
    let y = luma(p);
    let cb = p.b - y;
    let cr = p.r - y;
    var v = q.y * (y - 0.5) + 0.5 + q.x;
    if (v <= 0.0) {
        v = 0.0;
    } else if (q.w == 1.0) {
        v = min(v, 1.0);
    } else {
        v = min(pow(v, 1.0 / q.w), 1.0);
    }
    let r = v + q.z * cr;
    let b = v + q.z * cb;
    let g = (v - LUMA.x * r - LUMA.z * b) * (1.0 / LUMA.y);
    return vec4<f32>(clamp(vec3<f32>(r, g, b), vec3<f32>(0.0), vec3<f32>(1.0)), p.a);
}

fn op_grayscale(p: vec4<f32>, q: vec4<f32>) -> vec4<f32> {
    let y = luma(p);
    return vec4<f32>(y, y, y, p.a);
}

fn op_invert(p: vec4<f32>, q: vec4<f32>) -> vec4<f32> {
    return vec4<f32>(1.0 - p.rgb, p.a);
}

@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    if (outside(id)) {
        return;
    }
    let i = id.y * info.out_size.x + id.x;
    store_dst(i, apply_ops(load_src(i)));
}
