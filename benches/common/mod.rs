//! Helpers shared by the benchmarks: timing commands with peak RSS, time to first frame.
#![allow(dead_code)]

pub mod cilium_node;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Median wall time, output size and peak RSS (KiB, from `/usr/bin/time -f %M`) of a command.
pub fn time_cmd(cmd: &str, args: &[&str], runs: usize) -> (Duration, usize, u64) {
    let mut times = vec![];
    let mut bytes = 0;
    let mut max_rss_kb = 0u64;
    for _ in 0..runs {
        let t = Instant::now();
        let out = Command::new("/usr/bin/time")
            .args(["-f", "%M", cmd])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run /usr/bin/time (package `time`, installed by scripts/setup.sh)");
        times.push(t.elapsed());
        bytes = out.stdout.len();
        let rss = String::from_utf8_lossy(&out.stderr)
            .lines()
            .last()
            .and_then(|l| l.trim().parse::<u64>().ok())
            .unwrap_or(0);
        max_rss_kb = max_rss_kb.max(rss);
    }
    (median(times), bytes, max_rss_kb)
}

/// Process start → first frame with data, for the live UI in a 120x40 tmux terminal.
/// Start `cmd` in a detached 120x40 tmux session on its own server socket `sock`.
fn tmux_start(sock: &str, cmd: &str) -> bool {
    Command::new("tmux")
        .args([
            "-L",
            sock,
            "new-session",
            "-d",
            "-x",
            "120",
            "-y",
            "40",
            cmd,
        ])
        .env("TERM", "xterm-256color")
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

pub fn first_frame(bin: &str, args: &[&str]) -> Option<Duration> {
    let out = std::env::temp_dir().join(format!("dpscope-ff-{}.txt", std::process::id()));
    let _ = std::fs::remove_file(&out);
    let sock = format!("dpscope-bench-{}", std::process::id());
    let cmd = format!(
        "{bin} {} --bench-first-frame 2> {}",
        args.join(" "),
        out.display()
    );
    let ok = tmux_start(&sock, &cmd);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut ms = None;
    while ok && Instant::now() < deadline {
        if let Ok(t) = std::fs::read_to_string(&out) {
            if let Some(v) = t.split_whitespace().find_map(|w| w.parse::<f64>().ok()) {
                ms = Some(v);
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = Command::new("tmux")
        .args(["-L", &sock, "kill-server"])
        .status();
    let _ = std::fs::remove_file(&out);
    ms.map(|v| Duration::from_secs_f64(v / 1e3))
}

/// Median wall time, output size and peak RSS (KiB) of each command, stdout written to a file
/// (as a user redirects a big dump), the commands run in turn `runs` times so that they share
/// the machine's state in the same run.
pub fn time_to_file(cmds: &[(&str, Vec<&str>)], runs: usize) -> Vec<(Duration, u64, u64)> {
    let out = std::env::temp_dir().join(format!("dpscope-bench-out-{}", std::process::id()));
    let mut times = vec![vec![]; cmds.len()];
    let mut sizes = vec![0u64; cmds.len()];
    let mut rss = vec![0u64; cmds.len()];
    for _ in 0..runs {
        for (i, (cmd, args)) in cmds.iter().enumerate() {
            let file = std::fs::File::create(&out).expect("bench output file");
            let t = Instant::now();
            let o = Command::new("/usr/bin/time")
                .args(["-f", "%M", cmd])
                .args(args)
                .stdin(Stdio::null())
                .stdout(file)
                .output()
                .expect("run /usr/bin/time");
            times[i].push(t.elapsed());
            sizes[i] = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
            let kb = String::from_utf8_lossy(&o.stderr)
                .lines()
                .last()
                .and_then(|l| l.trim().parse::<u64>().ok())
                .unwrap_or(0);
            rss[i] = rss[i].max(kb);
        }
    }
    let _ = std::fs::remove_file(&out);
    times
        .into_iter()
        .zip(sizes)
        .zip(rss)
        .map(|((t, s), r)| (median(t), s, r))
        .collect()
}

/// Run a command with stdout into a file and return the file's bytes (for checking what a
/// timed command wrote).
pub fn output_of(cmd: &str, args: &[&str]) -> Vec<u8> {
    let out = std::env::temp_dir().join(format!("dpscope-bench-chk-{}", std::process::id()));
    let file = std::fs::File::create(&out).expect("bench output file");
    let _ = Command::new(cmd)
        .args(args)
        .stdin(Stdio::null())
        .stdout(file)
        .status();
    let b = std::fs::read(&out).unwrap_or_default();
    let _ = std::fs::remove_file(&out);
    b
}

/// Peak RSS (KiB) and wall time (s) of `bin args` run in a 120x40 tmux terminal under
/// `/usr/bin/time`: with `quit_after`, `q` is sent after that long; else the command ends itself
/// (`--bench-first-frame`). (0, 0.0) when it could not be measured.
pub fn rss_in_tmux(bin: &str, args: &[&str], quit_after: Option<Duration>) -> (u64, f64) {
    let out = std::env::temp_dir().join(format!("dpscope-rss-{}.txt", std::process::id()));
    let _ = std::fs::remove_file(&out);
    let sock = format!("dpscope-rss-{}", std::process::id());
    let cmd = format!(
        "/usr/bin/time -f '%M %e' -o {} {bin} {} 2>/dev/null",
        out.display(),
        args.join(" ")
    );
    let ok = tmux_start(&sock, &cmd);
    if let (true, Some(d)) = (ok, quit_after) {
        std::thread::sleep(d);
        let _ = Command::new("tmux")
            .args(["-L", &sock, "send-keys", "q"])
            .status();
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut res = (0, 0.0);
    while ok && Instant::now() < deadline {
        let t = std::fs::read_to_string(&out).unwrap_or_default();
        let mut w = t.split_whitespace();
        if let (Some(Ok(kb)), Some(Ok(s))) = (w.next().map(str::parse), w.next().map(str::parse)) {
            res = (kb, s);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = Command::new("tmux")
        .args(["-L", &sock, "kill-server"])
        .status();
    let _ = std::fs::remove_file(&out);
    res
}

/// The live UI in a detached 120x40 tmux terminal on a server socket of its own, for measuring
/// its CPU while keys are sent to it; the server is killed on drop.
pub struct LiveUi {
    sock: String,
    pub pid: Option<u32>,
}

impl LiveUi {
    /// Start `bin args` with `env` set (e.g. `DPSCOPE_CONFIG`).
    pub fn start(bin: &str, args: &[&str], env: &[(&str, &str)]) -> LiveUi {
        let sock = format!("dpscope-live-{}", std::process::id());
        let vars: String = env.iter().map(|(k, v)| format!("{k}={v} ")).collect();
        let cmd = format!("exec env {vars}{bin} {}", args.join(" "));
        let pid = tmux_start(&sock, &cmd)
            .then(|| {
                Command::new("tmux")
                    .args(["-L", &sock, "list-panes", "-F", "#{pane_pid}"])
                    .output()
                    .ok()
            })
            .flatten()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok());
        LiveUi { sock, pid }
    }

    pub fn keys(&self, keys: &[&str]) {
        let _ = Command::new("tmux")
            .args(["-L", &self.sock, "send-keys"])
            .args(keys)
            .status();
    }

    /// utime + stime of the process so far, in seconds.
    pub fn cpu_s(&self) -> Option<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid?)).ok()?;
        let rest = &stat[stat.rfind(')')? + 2..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        // Fields 14 and 15 (utime, stime) are at 11 and 12 after the comm.
        let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
        Some(ticks as f64 / hz)
    }

    /// CPU % of one core over the next `secs` seconds.
    pub fn cpu_over(&self, secs: f64) -> Option<f64> {
        let t = Instant::now();
        let a = self.cpu_s()?;
        std::thread::sleep(Duration::from_secs_f64(secs));
        let b = self.cpu_s()?;
        Some((b - a) / t.elapsed().as_secs_f64() * 100.0)
    }
}

impl Drop for LiveUi {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.sock, "kill-server"])
            .status();
    }
}
