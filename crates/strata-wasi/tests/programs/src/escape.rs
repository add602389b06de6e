//! Tries every way out of the pre-opened directory (descriptor 3) and
//! prints `attempt = errno`. The test sets up, inside the pre-open:
//! `sub/`, `out-link -> ../outside/secret.txt`, `abs-link -> /<abs>`,
//! `dir-link -> ../outside`, `inner-link -> sub`; and next to it
//! `outside/secret.txt`.
mod raw_wasi;
use raw_wasi::*;

const DIR: i32 = 3;

fn p(s: &str) -> (i32, i32) {
    (addr(s.as_bytes()), s.len() as i32)
}

fn opened(r: Result<i32, i32>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => e.to_string(),
    }
}

fn main() {
    let show = |name: &str, v: String| println!("{name} = {v}");
    for path in [
        "../outside/secret.txt",
        "sub/../../outside/secret.txt",
        "/etc/passwd",
        "out-link",
        "abs-link",
        "dir-link/secret.txt",
        "inner-link/../../outside/secret.txt",
    ] {
        show(&format!("open {path}"), opened(open(DIR, true, path, 0, RIGHTS_ALL, 0)));
    }
    show("open dir ..", opened(open(DIR, true, "..", 2, RIGHTS_DIR, 0)));
    show("open dir dir-link", opened(open(DIR, true, "dir-link", 2, RIGHTS_DIR, 0)));
    show("create through out-link", opened(open(DIR, true, "dir-link/new.txt", 1, RIGHTS_ALL, 0)));
    // Staying inside is fine, even through `..` and symlinks.
    show("open inside sub/..", opened(open(DIR, true, "sub/../sub", 2, RIGHTS_DIR, 0)));
    show("open inside inner-link", opened(open(DIR, true, "inner-link", 2, RIGHTS_DIR, 0)));
    show("open inside .", opened(open(DIR, true, ".", 2, RIGHTS_DIR, 0)));

    let mut st = [0u8; 64];
    let mut n = 0u32;
    let mut buf = [0u8; 64];
    // SAFETY (every call below): paths are live strings, outputs live locals.
    unsafe {
        let (a, l) = p("out-link");
        show("stat follow out-link", path_filestat_get(DIR, 1, a, l, addr(&mut st)).to_string());
        show("stat nofollow out-link", status(path_filestat_get(DIR, 0, a, l, addr(&mut st))));
        let (a, l) = p("../outside/secret.txt");
        show("stat ../outside", path_filestat_get(DIR, 1, a, l, addr(&mut st)).to_string());
        show("set_times ../outside", path_filestat_set_times(DIR, 1, a, l, 0, 0, 2).to_string());
        show("unlink ../outside", path_unlink_file(DIR, a, l).to_string());
        show("readlink ../outside", path_readlink(DIR, a, l, addr(&mut buf), 64, addr(&mut n)).to_string());
        let (na, nl) = p("stolen");
        show("link from outside", path_link(DIR, 0, a, l, DIR, na, nl).to_string());
        show("rename from outside", path_rename(DIR, a, l, DIR, na, nl).to_string());
        let (sa, sl) = p("sub");
        let (oa, ol) = p("../moved");
        show("rename to outside", path_rename(DIR, sa, sl, DIR, oa, ol).to_string());
        show("link to outside", path_link(DIR, 0, sa, sl, DIR, oa, ol).to_string());
        let (da, dl) = p("../newdir");
        show("mkdir outside", path_create_directory(DIR, da, dl).to_string());
        let (da, dl) = p("../outside");
        show("rmdir outside", path_remove_directory(DIR, da, dl).to_string());
        let (ta, tl) = p("/etc/passwd");
        let (la, ll) = p("my-abs-link");
        show("symlink absolute target", path_symlink(ta, tl, DIR, la, ll).to_string());
        let (ta, tl) = p("../outside");
        let (la, ll) = p("my-up-link");
        show("symlink relative escaping target", status(path_symlink(ta, tl, DIR, la, ll)));
        let (ta, tl) = p("secret.txt");
        let (la, ll) = p("../outside/planted");
        show("symlink placed outside", path_symlink(ta, tl, DIR, la, ll).to_string());
    }
    show("open through my-up-link", opened(open(DIR, true, "my-up-link/secret.txt", 0, RIGHTS_ALL, 0)));
    // A hard link to the escaping symlink is just another name for it.
    unsafe {
        let (a, l) = p("out-link");
        let (na, nl) = p("hard-to-link");
        show("hard link of out-link", status(path_link(DIR, 0, a, l, DIR, na, nl)));
    }
    show("open hard-to-link", opened(open(DIR, true, "hard-to-link", 0, RIGHTS_ALL, 0)));
    // A directory opened inside the pre-open cannot climb out either.
    let sub = open(DIR, true, "sub", 2, RIGHTS_DIR, 0).unwrap();
    show("open ../../outside from sub", opened(open(sub, true, "../../outside/secret.txt", 0, RIGHTS_ALL, 0)));
    show("open .. from sub", opened(open(sub, true, "..", 2, RIGHTS_DIR, 0)));
}
