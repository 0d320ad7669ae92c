#![no_main]
//! The config file: any text is parsed (both as the user's own file and as a file the invoking
//! user could not read, under sudo), merged into the command line and checked as `dpscope` does.
//! Nothing may panic, and an error never echoes more than `config::MAX_ECHO` characters of it.
use dpscope::config::{self, Source};
use libfuzzer_sys::fuzz_target;
use std::path::{Path, PathBuf};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("/home/u/.config/dpscope/config.toml");
    for echo in [true, false] {
        let src = Source {
            echo,
            home: Some(PathBuf::from("/home/u")),
        };
        match config::parse_from(path, text, &src) {
            Ok(c) => {
                if let Ok((g, _)) = dpscope::cli::merge_config(Default::default(), path, c) {
                    let _ = dpscope::cli::check(&g, None);
                }
            }
            Err(e) => {
                // The message: the file name, the line, at most MAX_ECHO characters of the
                // file's line and of the parser's message each, nothing raw.
                assert!(!e.chars().any(dpscope::sanitize::is_unsafe), "{e:?}");
                assert!(
                    e.chars().count() <= path.as_os_str().len() + 2 * config::MAX_ECHO + 200,
                    "{} chars",
                    e.chars().count()
                );
                if !echo {
                    assert!(e.contains("content not shown"), "{e:?}");
                }
            }
        }
    }
});
