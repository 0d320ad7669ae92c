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

/// Parse a config file's text; the error names the file.
pub fn parse(path: &Path, text: &str) -> Result<Config, String> {
    // One line: the file, the line, and what is wrong there.
    let mut c: Config = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
        let msg = e.message().trim_end().replace('\n', "; ");
        match line {
            Some(l) => {
                let src = text.lines().nth(l - 1).unwrap_or("").trim();
                format!("config {} line {l} `{src}`: {msg}", path.display())
            }
            None => format!("config {}: {msg}", path.display()),
        }
    })?;
    if let Some(d) = &c.dump_dir {
        c.dump_dir = Some(expand_home(d));
    }
    Ok(c)
}

/// The first config file that exists, parsed; `Ok(None)` when there is none.
pub fn load() -> Result<Option<(PathBuf, Config)>, String> {
    let explicit = std::env::var_os("DPSCOPE_CONFIG").is_some();
    for p in candidates() {
        match std::fs::read_to_string(&p) {
            Ok(text) => return parse(&p, &text).map(|c| Some((p, c))),
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
            Err(e) => return Err(format!("config {}: {e}", p.display())),
        }
    }
    Ok(None)
}

fn expand_home(p: &Path) -> PathBuf {
    match (p.strip_prefix("~"), std::env::var_os("HOME")) {
        (Ok(rest), Some(home)) => PathBuf::from(home).join(rest),
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
