//! The image for real: built with buildah (scripts/image.sh), run with podman as root with the
//! DaemonSet's options (privileged, host PID and network namespaces, the same mounts).
//!
//! On these machines a plain `podman run` cannot start a container (crun refuses the hybrid
//! cgroup set-up; runc cannot raise rlimits without CAP_SYS_RESOURCE, which the VM lacks). The
//! test adds `--runtime runc --ulimit nofile=N:N --ulimit nproc=4096:4096`, keeping the limits
//! it already has. A normal node needs none of that, so it is here and not in deploy/.

mod common;

use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use std::collections::BTreeSet;
use std::mem::MaybeUninit;
use std::os::fd::AsFd;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

mod fixture {
    include!(concat!(env!("OUT_DIR"), "/fixture.skel.rs"));
}

fn tools_present() -> bool {
    for tool in ["buildah", "podman", "runc", "tmux"] {
        let ok = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            if std::env::var("DPSCOPE_REQUIRE_PRIV").as_deref() == Ok("1") {
                panic!("{tool} not installed (scripts/setup.sh installs it)");
            }
            eprintln!("skipping: {tool} not installed");
            return false;
        }
    }
    true
}

/// The image, built once per test binary; removed when the last test is done with it.
struct Image {
    tag: String,
}

impl Image {
    fn build() -> Image {
        let tag = format!("localhost/{}:test", common::unique_name("dpscope-img"));
        let out = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/image.sh"))
            .args(["--debug", "--tag", &tag])
            .output()
            .expect("scripts/image.sh runs");
        assert!(
            out.status.success(),
            "image.sh: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), tag);
        Image { tag }
    }
}

impl Drop for Image {
    fn drop(&mut self) {
        let _ = Command::new("podman")
            .args(["rmi", "--force", &self.tag])
            .output();
    }
}

fn hard_nofile() -> u64 {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: r is a valid rlimit struct for getrlimit to fill.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) };
    assert_eq!(rc, 0);
    r.rlim_max
}

/// `podman run` with the DaemonSet's privileges and mounts (+ this machine's workaround).
fn podman_run_args(image: &str, bpffs: &Path, tty: bool) -> Vec<String> {
    let n = hard_nofile();
    let mut a: Vec<String> = ["run", "--rm", "--runtime", "runc"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    a.extend([
        "--ulimit".into(),
        format!("nofile={n}:{n}"),
        "--ulimit".into(),
        "nproc=4096:4096".into(),
    ]);
    if tty {
        a.push("-it".into());
    }
    // deploy/daemonset.yaml: privileged, hostPID, hostNetwork, and its hostPath mounts.
    a.extend(["--privileged", "--pid=host", "--network=host"].map(String::from));
    let mut mounts = vec![
        ("/sys/fs/bpf".to_string(), "rslave"),
        ("/sys/kernel/btf".into(), "ro"),
        ("/sys/kernel/security".into(), "ro"),
        ("/sys/kernel/tracing".into(), "rw"),
        // The test's own bpffs instance, where its fixture's objects are pinned.
        (bpffs.display().to_string(), "rslave"),
    ];
    if Path::new("/run/cilium/bpffs").is_dir() {
        mounts.push(("/run/cilium/bpffs".into(), "rslave"));
    }
    for (p, opt) in mounts {
        if Path::new(&p).is_dir() {
            a.extend(["-v".into(), format!("{p}:{p}:{opt}")]);
        }
    }
    a.push(image.into());
    a
}

fn host_snapshot(bpffs: &Path) -> dpscope::model::Snapshot {
    let out = Command::new(env!("CARGO_BIN_EXE_dpscope"))
        .args(["--no-probes", "--bpffs"])
        .arg(bpffs)
        .args(["snapshot", "--duration", "0"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    dpscope::model::io::parse("host", &text)
        .unwrap()
        .snapshots
        .remove(0)
}

/// Ids seen inside must be the host's: everything on the host before and after is inside (but
/// what was unloaded meanwhile), and nothing is inside that the host never had (but what was
/// loaded meanwhile, with a newer id). Other tests load and unload objects on this kernel
/// concurrently; the fixture's own objects are checked exactly.
fn same_ids(what: &str, before: &BTreeSet<u64>, inside: &BTreeSet<u64>, after: &BTreeSet<u64>) {
    let stable: BTreeSet<u64> = before.intersection(after).copied().collect();
    let missing: Vec<&u64> = stable.difference(inside).collect();
    assert!(
        missing.is_empty(),
        "{what}: on the host, not in the container: {missing:?}"
    );
    let newest = before.iter().max().copied().unwrap_or(0);
    let strangers: Vec<&u64> = inside
        .iter()
        .filter(|i| !before.contains(i) && !after.contains(i) && **i <= newest)
        .collect();
    assert!(
        strangers.is_empty(),
        "{what}: in the container only: {strangers:?}"
    );
    assert!(
        stable.len() as f64 >= 0.5 * before.len() as f64,
        "{what}: the host changed too much"
    );
}

#[test]
fn the_image_sees_the_hosts_objects_and_runs_the_live_ui() {
    if !common::require_priv("image podman") || !tools_present() {
        return;
    }
    let image = Image::build();

    // The fixture: programs and maps (one pinned in a private bpffs), a tcx program on a veth.
    let ns = common::Netns::new();
    let veth = common::VethPair::new(&ns);
    let fs = common::Bpffs::new();
    let mut obj = MaybeUninit::uninit();
    let mut skel = fixture::FixtureSkelBuilder::default()
        .open(&mut obj)
        .expect("open")
        .load()
        .expect("load");
    skel.maps
        .fixture_counts
        .pin(fs.join("fixture_counts"))
        .expect("pin");
    let link = common::LinkFd::create(
        skel.progs.fixture_tcx_ingress.as_fd(),
        veth.host_ifindex(),
        libbpf_sys::BPF_TCX_INGRESS,
        0,
    );

    let before = host_snapshot(&fs.path);
    let mut args = podman_run_args(&image.tag, &fs.path, false);
    args.extend(["--no-probes", "--bpffs"].map(String::from));
    args.push(fs.path.display().to_string());
    args.extend(["snapshot", "--duration", "0"].map(String::from));
    let out: Output = Command::new("podman").args(&args).output().unwrap();
    assert!(
        out.status.success(),
        "podman {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let inside = dpscope::model::io::parse("container", &String::from_utf8_lossy(&out.stdout))
        .unwrap()
        .snapshots
        .remove(0);
    let after = host_snapshot(&fs.path);

    let progs = |s: &dpscope::model::Snapshot| -> BTreeSet<u64> {
        s.programs.iter().map(|p| p.id as u64).collect()
    };
    let maps = |s: &dpscope::model::Snapshot| -> BTreeSet<u64> {
        s.maps.iter().map(|m| m.id as u64).collect()
    };
    same_ids("programs", &progs(&before), &progs(&inside), &progs(&after));
    // However busy the kernel, the fixture's own programs are there by id.
    for fd in [
        skel.progs.fixture_tcx_ingress.as_fd(),
        skel.progs.fixture_tc_ingress_first.as_fd(),
        skel.progs.xdp_pass_fixture.as_fd(),
    ] {
        let id = common::prog_info(fd).0 as u64;
        assert!(
            progs(&inside).contains(&id),
            "fixture program {id} not seen inside"
        );
    }
    same_ids("maps", &maps(&before), &maps(&inside), &maps(&after));
    // Attachments: (ifindex, hook, program) on the host's interfaces, seen from the container.
    let att = |s: &dpscope::model::Snapshot| -> BTreeSet<(u32, String, u32)> {
        s.attachments
            .iter()
            .map(|a| (a.ifindex, a.hook.clone(), a.prog_id))
            .collect()
    };
    let stable: BTreeSet<_> = att(&before).intersection(&att(&after)).cloned().collect();
    assert!(
        stable.is_subset(&att(&inside)),
        "{stable:?} vs {:?}",
        att(&inside)
    );
    // The fixture exactly: its tcx program on the veth, its pinned map by path, BTF names.
    let tcx = inside
        .attachments
        .iter()
        .find(|a| a.ifname == veth.host && a.hook == "tcx_ingress")
        .expect("the fixture's tcx program, seen from the container");
    assert_eq!(tcx.prog_name, "fixture_tcx_ingress");
    assert_eq!(Some(tcx.link_id.unwrap()), Some(link.id()));
    let pinned = fs.join("fixture_counts").display().to_string();
    let m = inside
        .maps
        .iter()
        .find(|m| m.pinned.contains(&pinned))
        .expect("the pinned map, through the container's bpffs mount");
    assert_eq!(m.name, "fixture_counts");
    assert!(inside.node.btf, "BTF seen through /sys/kernel/btf");
    assert_eq!(inside.node.kernel_release, before.node.kernel_release);
    // The container's dpscope is a static binary from scratch: nothing else in the image.
    let hist = Command::new("podman")
        .args([
            "image",
            "inspect",
            "--format",
            "{{len .RootFS.Layers}} {{.Config.Entrypoint}}",
            &image.tag,
        ])
        .output()
        .unwrap();
    let hist = String::from_utf8_lossy(&hist.stdout);
    assert_eq!(hist.trim(), "1 [/usr/local/bin/dpscope]", "{hist}");

    // The DaemonSet's own command (deploy/daemonset.yaml's args, for 2 s instead of until stopped: one snapshot), its
    // ring on a host directory as on the node's hostPath: a flight recording the host reads.
    let yaml = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/daemonset.yaml"
    ))
    .unwrap();
    let ds: serde_yaml::Value = serde_yaml::from_str(&yaml).unwrap();
    let ds_args: Vec<String> = ds["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    let ring_host = tempfile::Builder::new()
        .prefix("dpscope-ring-host")
        .tempdir()
        .unwrap();
    let mut rec = podman_run_args(&image.tag, &fs.path, false);
    let img = rec.pop().unwrap();
    rec.extend([
        "-v".into(),
        format!("{}:/var/lib/dpscope", ring_host.path().display()),
        img,
    ]);
    rec.push("--no-probes".into());
    rec.extend(ds_args);
    rec.extend(["--duration".into(), "2".into()]);
    let out = Command::new("podman").args(&rec).output().unwrap();
    assert!(
        out.status.success(),
        "podman {rec:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ring = dpscope::ring::load(&ring_host.path().join("ring")).expect("the ring, on the host");
    assert!(!ring.snapshots.is_empty());
    assert!(ring
        .snapshots
        .iter()
        .all(|s| s.programs.iter().any(|p| p.name == "fixture_tcx_ingress")));

    // The live UI through `podman run -it`, in tmux: the fixture's program on screen, q quits.
    let socket = common::unique_name("dpsk8s");
    let mut run = podman_run_args(&image.tag, &fs.path, true);
    run.extend(["--no-probes", "--interval", "0.5", "--bpffs"].map(String::from));
    run.push(fs.path.display().to_string());
    let cmd = format!("podman {}; echo EXITED:$?; sleep 30", run.join(" "));
    let ok = Command::new("tmux")
        .args(["-L", &socket, "new-session", "-d", "-x", "120", "-y", "40"])
        .args(["bash", "-c", &cmd])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    struct Kill(String);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = Command::new("tmux")
                .args(["-L", &self.0, "kill-server"])
                .status();
        }
    }
    let _kill = Kill(socket.clone());
    let screen = || {
        let o = Command::new("tmux")
            .args(["-L", &socket, "capture-pane", "-p", "-t", "0"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let wait = |what: &str, secs: u64| -> String {
        let t = Instant::now();
        loop {
            let s = screen();
            if s.contains(what) {
                return s;
            }
            assert!(
                t.elapsed() < Duration::from_secs(secs),
                "waiting for {what}:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    let s = wait("fixture_tcx_ingress", 60);
    assert!(s.contains("Programs"), "{s}");
    let keys = |k: &str| {
        Command::new("tmux")
            .args(["-L", &socket, "send-keys", "-t", "0", k])
            .status()
            .unwrap();
    };
    keys("/");
    Command::new("tmux")
        .args(["-L", &socket, "send-keys", "-t", "0", "-l", "fixture_tcx"])
        .status()
        .unwrap();
    keys("Enter");
    let t = Instant::now();
    loop {
        let s = screen();
        if s.contains("fixture_tcx_ingress") && !s.contains("xdp_pass_fixture") {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "filter in the container:\n{s}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    keys("q");
    wait("EXITED:0", 30);
    drop(link);
    drop(skel);
}
