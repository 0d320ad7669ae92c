//! Shared test utilities (temporary: replaced by the attach branch's fuller version).
#![allow(dead_code)]

pub fn require_priv(what: &str) -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    if std::env::var("DPSCOPE_REQUIRE_PRIV").as_deref() == Ok("1") {
        panic!("{what} needs root, and DPSCOPE_REQUIRE_PRIV=1 requires privileged tests to run");
    }
    eprintln!("skipping: {what} needs root");
    false
}
