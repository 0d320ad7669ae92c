//! `~/.config/dpscope/config.toml`: defaults for the command line, all optional.
//!
//! ```toml
//! theme = "high-contrast"        # default | high-contrast | colorblind
//! interval = 2.0                 # seconds between live refreshes
//! dump_dir = "~/incidents"       # where Ctrl-s and R write
//! no_color = false
//! record_compact = false         # R writes compact recordings (docs/snapshot.md)
//! pane = "attachments"           # pane to open first
//! probes = ["drops", "retransmits"]   # own probes to load ([] : none)
//! mouse = true                   # like --mouse
//!
//! [keys]                         # rebind actions: one key or a list; [] unbinds
//! quit = "Q"
//! sort = ["s", "f5"]
//! ```
//!
//! A flag on the command line wins over the file. The file is found at `$DPSCOPE_CONFIG`,
//! else `$XDG_CONFIG_HOME/dpscope/config.toml`, else `~/.config/dpscope/config.toml`; under
//! sudo, the invoking user's file when root has none. A file that does not parse is an error
//! (exit 2) naming the file and the line; unknown keys are errors too, so typos do not pass
//! silently.

use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub theme: Option<String>,
    pub interval: Option<f64>,
    pub dump_dir: Option<PathBuf>,
    pub no_color: Option<bool>,
    pub record_compact: Option<bool>,
    pub pane: Option<String>,
    /// Own probes to load by default (like repeated `--probe`); empty: none.
    pub probes: Option<Vec<String>>,
    /// Like `--mouse`.
    pub mouse: Option<bool>,
    /// Key bindings: action name (`app::keys::rebindable_names`) → keys.
    pub keys: Option<std::collections::BTreeMap<String, KeyList>>,
}

/// One key or a list of keys, as written in `[keys]`.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyList(pub Vec<String>);

impl<'de> Deserialize<'de> for KeyList {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<KeyList, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = KeyList;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(r#"a key ("x") or a list of keys (["x", "f5"], [] unbinds)"#)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<KeyList, E> {
                Ok(KeyList(vec![v.to_string()]))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<KeyList, A::Error> {
                let mut v = Vec::new();
                while let Some(k) = a.next_element::<String>()? {
                    v.push(k);
                }
                Ok(KeyList(v))
            }
        }
        d.deserialize_any(V)
    }
}

impl KeyList {
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }
}

/// Where the config file is looked for, most specific first.
pub fn candidates() -> Vec<PathBuf> {
    if let Some(p) = std::env::var_os("DPSCOPE_CONFIG") {
        return vec![PathBuf::from(p)];
    }
    let mut v = Vec::new();
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|x| !x.is_empty()) {
        v.push(PathBuf::from(x).join("dpscope/config.toml"));
    }
    if let Some(h) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        v.push(PathBuf::from(h).join(".config/dpscope/config.toml"));
    }
    // Under sudo, HOME is root's: fall back to the invoking user's file.
    if let Ok(user) = std::env::var("SUDO_USER") {
        if let Ok(Some(u)) = nix::unistd::User::from_name(&user) {
            v.push(u.dir.join(".config/dpscope/config.toml"));
        }
    }
    v
}

/// Largest config file read (a config is a few lines; a device or a huge file is not one).
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;
/// Most characters of a config file's content echoed in an error message.
pub const MAX_ECHO: usize = 200;

/// Who the config file belongs to, as far as echoing its content and expanding `~` go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The invoking user could read this file themselves: its content may be echoed.
    pub echo: bool,
    /// `~` in the file means this directory (the home of the file's owner under sudo).
    pub home: Option<PathBuf>,
}

impl Source {
    /// A file of the user running dpscope (no sudo): `~` is `$HOME`.
    pub fn own() -> Source {
        Source {
            echo: true,
            home: std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(PathBuf::from),
        }
    }
}

/// Parse a config file's text; the error names the file.
pub fn parse(path: &Path, text: &str) -> Result<Config, String> {
    parse_from(path, text, &Source::own())
}

/// Parse a config file's text; errors echo at most [`MAX_ECHO`] characters of it, made safe
/// for the terminal, and none at all when `src.echo` is false.
pub fn parse_from(path: &Path, text: &str, src: &Source) -> Result<Config, String> {
    let shown = crate::sanitize::text(&path.to_string_lossy()).into_owned();
    // One line: the file, the line, and what is wrong there.
    let mut c: Config = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
        if !src.echo {
            // Not even the parser's message: it may quote a key from the file.
            return match line {
                Some(l) => format!(
                    "config {shown} line {l}: not a valid dpscope config (content not shown: the invoking user cannot read this file)"
                ),
                None => format!(
                    "config {shown}: not a valid dpscope config (content not shown: the invoking user cannot read this file)"
                ),
            };
        }
        let msg = crate::sanitize::text_capped(&e.message().trim_end().replace('\n', "; "), MAX_ECHO);
        match line {
            Some(l) => {
                let src_line = text.lines().nth(l - 1).unwrap_or("").trim();
                let src_line = crate::sanitize::text_capped(src_line, MAX_ECHO);
                format!("config {shown} line {l} `{src_line}`: {msg}")
            }
            None => format!("config {shown}: {msg}"),
        }
    })?;
    if let Some(d) = &c.dump_dir {
        c.dump_dir = Some(expand_home(d, src.home.as_deref()));
    }
    Ok(c)
}

/// The first config file that exists, parsed; `Ok(None)` when there is none.
///
/// Under sudo the file is the invoking user's to choose (their `~/.config`, or
/// `$DPSCOPE_CONFIG` kept by `sudo -E`), so it is opened without following a symlink, must
/// belong to that user or to root, is echoed in an error only if that user could read it, and
/// `~` in it is the home of its owner.
pub fn load() -> Result<Option<(PathBuf, Config)>, String> {
    let explicit = std::env::var_os("DPSCOPE_CONFIG").is_some();
    let writer = crate::safe_fs::Writer::current()?;
    for p in candidates() {
        match read(&p, &writer) {
            Ok((text, src)) => return parse_from(&p, &text, &src).map(|c| Some((p, c))),
            // A default place that is absent or not ours to read (an unprivileged user whose
            // HOME is /root) is simply not a config file.
            Err(e)
                if !explicit
                    && matches!(
                        e.kind(),
                        std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied
                    ) =>
            {
                continue
            }
            Err(e) => {
                let shown = crate::sanitize::text(&p.to_string_lossy()).into_owned();
                return Err(format!("config {shown}: {e}"));
            }
        }
    }
    Ok(None)
}

/// Read a config file (at most [`MAX_CONFIG_BYTES`]) and say whose it is.
fn read(p: &Path, w: &crate::safe_fs::Writer) -> std::io::Result<(String, Source)> {
    use std::io::Read;
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    fn other(m: impl Into<String>) -> std::io::Error {
        std::io::Error::other(m.into())
    }
    let mut flags = libc::O_NONBLOCK | libc::O_NOCTTY;
    if w.sudo {
        flags |= libc::O_NOFOLLOW;
    }
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags)
        .open(p)
        .map_err(|e| {
            if w.sudo && e.raw_os_error() == Some(libc::ELOOP) {
                other("it is a symlink, which dpscope does not follow under sudo (it would read the target as root)")
            } else {
                e
            }
        })?;
    let m = f.metadata()?;
    let src = if w.sudo {
        let owner = m.uid();
        if owner != w.uid && owner != 0 {
            return Err(other(format!(
                "it belongs to uid {owner}, not to {} or root: not read under sudo",
                w.describe()
            )));
        }
        if !m.is_file() && p != Path::new("/dev/null") {
            return Err(other("not a regular file: not read under sudo"));
        }
        let mode = m.mode();
        let echo = owner == w.uid
            || mode & 0o004 != 0
            || (mode & 0o040 != 0 && w.groups.contains(&m.gid()));
        let home = if owner == 0 {
            std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(PathBuf::from)
        } else {
            nix::unistd::User::from_uid(owner.into())
                .ok()
                .flatten()
                .map(|u| u.dir)
        };
        Source { echo, home }
    } else {
        Source::own()
    };
    let mut buf = Vec::new();
    f.take(MAX_CONFIG_BYTES + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > MAX_CONFIG_BYTES {
        return Err(other(format!(
            "larger than {MAX_CONFIG_BYTES} bytes: not a config file"
        )));
    }
    let text = String::from_utf8(buf).map_err(|_| other("not UTF-8 text"))?;
    Ok((text, src))
}

fn expand_home(p: &Path, home: Option<&Path>) -> PathBuf {
    match (p.strip_prefix("~"), home) {
        (Ok(rest), Some(home)) => home.join(rest),
        _ => p.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_parses_and_home_is_expanded() {
        let text = r#"
theme = "high-contrast"
interval = 2.5
dump_dir = "~/incidents"
no_color = true
record_compact = true
pane = "conntrack"
probes = ["drops"]
mouse = true

[keys]
quit = "Q"
sort = ["s", "f5"]
presentation = []
"#;
        let c = parse(Path::new("c.toml"), text).unwrap();
        assert_eq!(c.theme.as_deref(), Some("high-contrast"));
        assert_eq!(c.interval, Some(2.5));
        assert_eq!(c.no_color, Some(true));
        assert_eq!(c.record_compact, Some(true));
        assert_eq!(c.pane.as_deref(), Some("conntrack"));
        assert_eq!(c.probes, Some(vec!["drops".to_string()]));
        assert_eq!(c.mouse, Some(true));
        let keys = c.keys.clone().unwrap();
        let list = |n: &str| keys[n].as_slice().to_vec();
        assert_eq!(list("quit"), ["Q"]);
        assert_eq!(list("sort"), ["s", "f5"]);
        assert!(list("presentation").is_empty());
        let d = c.dump_dir.unwrap();
        assert!(d.ends_with("incidents") && !d.starts_with("~"), "{d:?}");
        assert_eq!(parse(Path::new("e.toml"), "").unwrap(), Config::default());
    }

    #[test]
    fn typos_and_bad_values_are_errors_naming_the_file() {
        let e = parse(Path::new("/x/c.toml"), "thme = \"x\"").unwrap_err();
        assert!(e.contains("/x/c.toml") && e.contains("thme"), "{e}");
        let e = parse(Path::new("c.toml"), "interval = \"fast\"").unwrap_err();
        assert!(e.contains("interval"), "{e}");
        assert!(parse(Path::new("c.toml"), "theme = ").is_err());
    }
}
