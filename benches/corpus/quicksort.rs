//! Sorts pseudo-random arrays with a recursive quicksort, then checks the
//! order: recursion, i32 loads and stores, unpredictable branches.
#![no_std]
include!("common.rs");

static mut DATA: [i32; 100_000] = [0; 100_000];

fn sort(a: &mut [i32]) {
    if a.len() < 2 {
        return;
    }
    let last = a.len() - 1;
    a.swap(a.len() / 2, last);
    let pivot = a[last];
    let mut store = 0;
    for i in 0..last {
        if a[i] < pivot {
            a.swap(i, store);
            store += 1;
        }
    }
    a.swap(store, last);
    let (left, right) = a.split_at_mut(store);
    sort(left);
    sort(&mut right[1..]);
}

/// Sorts `rounds` arrays of 100,000 elements; returns a checksum.
#[no_mangle]
pub extern "C" fn run(rounds: i32) -> i32 {
    // SAFETY: single-threaded wasm; the only access to DATA.
    let data = unsafe { &mut *core::ptr::addr_of_mut!(DATA) };
    let mut seed = 42u32;
    let mut sum = 0i32;
    for _ in 0..rounds {
        for v in data.iter_mut() {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            *v = (seed >> 8) as i32;
        }
        sort(data);
        for w in data.windows(2) {
            if w[0] > w[1] {
                return -1;
            }
        }
        sum = sum.wrapping_add(data[data.len() / 3]);
    }
    sum
}
