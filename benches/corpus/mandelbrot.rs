//! Mandelbrot set membership on a `size` x `size` grid: an f64 inner loop
//! with an early exit.
#![no_std]
include!("common.rs");

#[no_mangle]
pub extern "C" fn run(size: i32) -> i32 {
    let n = size as f64;
    let mut inside = 0;
    for y in 0..size {
        let ci = 2.0 * y as f64 / n - 1.0;
        for x in 0..size {
            let cr = 2.0 * x as f64 / n - 1.5;
            let (mut zr, mut zi) = (0.0f64, 0.0f64);
            let mut i = 0;
            while i < 50 && zr * zr + zi * zi <= 4.0 {
                let t = zr * zr - zi * zi + cr;
                zi = 2.0 * zr * zi + ci;
                zr = t;
                i += 1;
            }
            if i == 50 {
                inside += 1;
            }
        }
    }
    inside
}
