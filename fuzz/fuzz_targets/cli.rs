#![no_main]
//! The command line: any argument vector is parsed (clap) and, when it parses, every value is
//! checked as `dpscope` checks it before it starts anything (`dpscope::cli::check`). Neither may
//! panic. Arguments are separated by NUL bytes (no argument can hold one).
use libfuzzer_sys::fuzz_target;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

fuzz_target!(|data: &[u8]| {
    let args = std::iter::once(OsString::from("dpscope"))
        .chain(data.split(|&b| b == 0).map(|a| OsString::from_vec(a.to_vec())));
    if let Ok(cli) = dpscope::cli::parse(args) {
        if dpscope::cli::check(&cli.global, cli.command.as_ref()).is_ok() {
            // What `run` derives from checked values.
            let _ = dpscope::cli::interval_secs(&cli.global).map(|i| (i * 1000.0) as u64);
        }
    }
});
