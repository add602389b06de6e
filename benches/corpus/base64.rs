//! Base64 encoding and decoding of a generated buffer, `rounds` times:
//! table lookups, byte loads and stores, shifts and masks.
#![no_std]
include!("common.rs");

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static mut INPUT: [u8; 12288] = [0; 12288];
static mut ENCODED: [u8; 16384] = [0; 16384];
static mut DECODED: [u8; 12288] = [0; 12288];

fn encode(input: &[u8], out: &mut [u8]) -> usize {
    let mut o = 0;
    for chunk in input.chunks_exact(3) {
        let n = u32::from(chunk[0]) << 16 | u32::from(chunk[1]) << 8 | u32::from(chunk[2]);
        out[o] = ALPHABET[(n >> 18) as usize & 63];
        out[o + 1] = ALPHABET[(n >> 12) as usize & 63];
        out[o + 2] = ALPHABET[(n >> 6) as usize & 63];
        out[o + 3] = ALPHABET[n as usize & 63];
        o += 4;
    }
    o
}

fn decode(input: &[u8], table: &[u8; 256], out: &mut [u8]) -> usize {
    let mut o = 0;
    for chunk in input.chunks_exact(4) {
        let n = u32::from(table[chunk[0] as usize]) << 18
            | u32::from(table[chunk[1] as usize]) << 12
            | u32::from(table[chunk[2] as usize]) << 6
            | u32::from(table[chunk[3] as usize]);
        out[o] = (n >> 16) as u8;
        out[o + 1] = (n >> 8) as u8;
        out[o + 2] = n as u8;
        o += 3;
    }
    o
}

/// Encodes a 12 KiB buffer and decodes it back `rounds` times, changing
/// one byte per round; returns a checksum of the last round.
#[no_mangle]
pub extern "C" fn run(rounds: i32) -> i32 {
    // SAFETY: single-threaded wasm; the only accesses to the buffers.
    let (input, encoded, decoded) = unsafe {
        (
            &mut *core::ptr::addr_of_mut!(INPUT),
            &mut *core::ptr::addr_of_mut!(ENCODED),
            &mut *core::ptr::addr_of_mut!(DECODED),
        )
    };
    let mut x = 0x2545_f491u32;
    for b in input.iter_mut() {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    let mut table = [0u8; 256];
    for (i, &c) in ALPHABET.iter().enumerate() {
        table[c as usize] = i as u8;
    }
    let mut sum = 0u32;
    for r in 0..rounds {
        input[r as usize % input.len()] ^= r as u8;
        let n = encode(input, encoded);
        let m = decode(&encoded[..n], &table, decoded);
        sum = sum.wrapping_mul(31).wrapping_add(u32::from(decoded[r as usize % m]));
        sum = sum.wrapping_add(u32::from(encoded[r as usize % n]));
    }
    sum as i32
}
