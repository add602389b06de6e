//! A real program of about 1 MB of wasm: the `regex` crate (with its
//! Unicode tables) compiling a handful of patterns and scanning a
//! generated text. `regex-bench N` scans N KiB of text (default 64); it
//! prints one count per pattern, so any runtime's output can be compared.

use regex::Regex;

const PATTERNS: &[&str] = &[
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
    r"\b\d{4}-\d{2}-\d{2}\b",
    r"(?i)\b(error|warn(ing)?|fatal)\b",
    r"\p{Greek}+",
    r"\b\w{12,}\b",
    r"(\d+)\.(\d+)\.(\d+)\.(\d+)",
    r"[aeiou]{3,}",
    r"(?m)^\s*#.*$",
];

const WORDS: &[&str] = &[
    "alpha", "beta", "gamma", "δέλτα", "error", "Warning", "user@example.com", "2026-12-02",
    "10.0.0.1", "queueing", "internationalization", "# comment", "fatal", "λόγος", "x",
    "the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "42", "3.14",
];

fn main() {
    let kib: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(64);
    let mut text = String::with_capacity(kib * 1024 + 64);
    let mut seed = 0x9e37_79b9_u32;
    while text.len() < kib * 1024 {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        text.push_str(WORDS[(seed % WORDS.len() as u32) as usize]);
        text.push(if seed % 11 == 0 { '\n' } else { ' ' });
    }
    for pattern in PATTERNS {
        let re = Regex::new(pattern).expect("pattern compiles");
        let count = re.find_iter(&text).count();
        println!("{count} {pattern}");
    }
}
