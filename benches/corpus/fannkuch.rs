//! Fannkuch-redux (the Benchmarks Game's algorithm): permutations of small
//! arrays, byte-sized loads and stores, tight loops.
#![no_std]
include!("common.rs");

/// Returns the checksum for permutations of `n` elements (n <= 12).
#[no_mangle]
pub extern "C" fn run(n: i32) -> i32 {
    let n = n.clamp(3, 12) as usize;
    let mut perm = [0usize; 12];
    let mut perm1 = [0usize; 12];
    let mut count = [0usize; 12];
    for (i, p) in perm1.iter_mut().enumerate() {
        *p = i;
    }
    let (mut max_flips, mut checksum, mut permutation) = (0, 0i32, 0);
    let mut r = n;
    loop {
        while r != 1 {
            count[r - 1] = r;
            r -= 1;
        }
        perm[..n].copy_from_slice(&perm1[..n]);
        let mut flips = 0;
        let mut k = perm[0];
        while k != 0 {
            perm[..=k].reverse();
            flips += 1;
            k = perm[0];
        }
        max_flips = max_flips.max(flips);
        checksum += if permutation % 2 == 0 { flips as i32 } else { -(flips as i32) };
        loop {
            if r == n {
                return checksum * 1000 + max_flips as i32;
            }
            let first = perm1[0];
            for i in 0..r {
                perm1[i] = perm1[i + 1];
            }
            perm1[r] = first;
            count[r] -= 1;
            if count[r] > 0 {
                break;
            }
            r += 1;
        }
        permutation += 1;
    }
}
