// tile1d.wgsl: the workgroup tile of a 1-D stencil (convolve1d_tiled.wgsl, unsharp_tiled.wgsl),
// prepended to them by shaders.rs after the generated pieces.
//
// The workgroup's 16 lines across the axis, each holding the 16 pixels of the workgroup along the
// axis plus `radius` on either side, clamped to the frame as pixel_at clamps them. Texels stay
// packed as the source stores them (`Texel`, `fetch_src`, `unpack_texel` from shaders.rs), so
// unpacking a tile texel gives exactly what load_src would. shaders.rs defines VERTICAL (the axis)
// and TILE_RADIUS, the largest radius the tile holds: 16 x 80 texels, 5 KiB of workgroup memory
// for rgba8 sources and 10 KiB for rgba16, inside the 16 KiB every WebGPU device offers.

const SPAN: u32 = 16u + 2u * TILE_RADIUS;

var<workgroup> tile: array<Texel, 16u * SPAN>;

// Tile index of texel `a` along the axis (0 is `radius` before the workgroup's first pixel) on
// line `c` across it. Invocations next to each other in x read words next to each other.
fn tile_at(a: u32, c: u32) -> u32 {
    if (VERTICAL) {
        return a * 16u + c;
    }
    return c * SPAN + a;
}

// Fills the tile for a radius of `r` (at most TILE_RADIUS): every invocation of the workgroup,
// inside the output or not, loads up to five texels. Callers put a workgroupBarrier() after it.
fn load_tile(group: vec3<u32>, lid: vec3<u32>, r: u32) {
    let size = info.in_size;
    let along = select(lid.x, lid.y, VERTICAL);
    let across = select(lid.y, lid.x, VERTICAL);
    let line = i32(select(group.y, group.x, VERTICAL) * 16u + across);
    let start = i32(select(group.x, group.y, VERTICAL) * 16u) - i32(r);
    let span = 16u + 2u * r;
    // A bound the whole workgroup shares keeps the barrier after this in uniform control flow.
    for (var k = 0u; k < (span + 15u) / 16u; k++) {
        let a = along + 16u * k;
        if (a < span) {
            var at: u32;
            if (VERTICAL) {
                at = pixel_at(line, start + i32(a), size);
            } else {
                at = pixel_at(start + i32(a), line, size);
            }
            tile[tile_at(a, across)] = fetch_src(at);
        }
    }
}
