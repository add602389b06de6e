//! Image kernels with 128-bit SIMD, as image and media libraries write
//! them: built with `-C target-feature=+simd128` (see `build.sh`), using
//! `core::arch::wasm32` intrinsics (a horizontal blur with rounding
//! averages, a threshold count through bitmasks, a square-root tone curve
//! in f32x4) and loops the compiler vectorises on its own (a weighted sum,
//! a saturating brightness step). `run(rounds)` returns a checksum;
//! `crates/strata/tests/simd.rs` recomputes it with scalar Rust.
#![no_std]
include!("common.rs");

use core::arch::wasm32::*;

const W: usize = 256;
const H: usize = 256;
static mut IMG: [u8; W * H] = [0; W * H];
static mut OUT: [u8; W * H] = [0; W * H];

#[no_mangle]
pub extern "C" fn run(rounds: i32) -> i32 {
    // SAFETY: the module is single-threaded and `run` is its only entry,
    // so nothing else borrows the images.
    let (img, out) = unsafe {
        (
            &mut *core::ptr::addr_of_mut!(IMG),
            &mut *core::ptr::addr_of_mut!(OUT),
        )
    };
    let mut x: u32 = 1;
    for p in img.iter_mut() {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        *p = (x >> 16) as u8;
    }
    let mut checksum: u32 = 0;
    for r in 0..rounds as u32 {
        // Horizontal blur of the interior columns: avgr(avgr(left, right), centre).
        for row in 0..H {
            let base = row * W;
            let mut i = 16;
            while i + 16 < W {
                // SAFETY: `base + i - 1 .. base + i + 17` is inside the image.
                unsafe {
                    let l = v128_load(img.as_ptr().add(base + i - 1) as *const v128);
                    let c = v128_load(img.as_ptr().add(base + i) as *const v128);
                    let rt = v128_load(img.as_ptr().add(base + i + 1) as *const v128);
                    let v = u8x16_avgr(u8x16_avgr(l, rt), c);
                    v128_store(out.as_mut_ptr().add(base + i) as *mut v128, v);
                }
                i += 16;
            }
        }
        // Pixels above a threshold that moves each round.
        let threshold = u8x16_splat(100 + (r % 64) as u8);
        let mut count = 0u32;
        for chunk in out.chunks_exact(16) {
            // SAFETY: a chunk is 16 bytes.
            let v = unsafe { v128_load(chunk.as_ptr() as *const v128) };
            count += u8x16_bitmask(u8x16_gt(v, threshold)).count_ones();
        }
        // A tone curve on the first row: sqrt(p * 0.5 + 1), truncated.
        let mut tone = 0u32;
        for chunk in out[..W].chunks_exact(16) {
            // SAFETY: a chunk is 16 bytes.
            let v = unsafe { v128_load(chunk.as_ptr() as *const v128) };
            let halves = [u16x8_extend_low_u8x16(v), u16x8_extend_high_u8x16(v)];
            for h in halves {
                for q in [u32x4_extend_low_u16x8(h), u32x4_extend_high_u16x8(h)] {
                    let f = f32x4_convert_u32x4(q);
                    let f = f32x4_sqrt(f32x4_add(f32x4_mul(f, f32x4_splat(0.5)), f32x4_splat(1.0)));
                    let t = u32x4_trunc_sat_f32x4(f);
                    tone = tone
                        .wrapping_add(u32x4_extract_lane::<0>(t))
                        .wrapping_add(u32x4_extract_lane::<1>(t))
                        .wrapping_add(u32x4_extract_lane::<2>(t))
                        .wrapping_add(u32x4_extract_lane::<3>(t));
                }
            }
        }
        // Vectorised by the compiler: a weighted sum and a brightness step.
        let mut dot = 0u32;
        for (i, &p) in out.iter().enumerate() {
            dot = dot.wrapping_add(u32::from(p) * ((i & 7) as u32 + 1));
        }
        for p in img.iter_mut() {
            *p = p.saturating_add(3);
        }
        checksum = checksum.rotate_left(5) ^ count ^ dot ^ (tone << 7);
    }
    checksum as i32
}
