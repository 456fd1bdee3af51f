//! The connector binary as a child process with its own config and storage.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use super::{binary, Sim};

pub struct Connector {
    child: Option<Child>,
    pub dir: PathBuf,
    pub config: PathBuf,
    pub log: PathBuf,
    starts: u32,
    /// Environment variables the process gets besides ours (e.g. `KRB5_CONFIG`).
    env: Vec<(String, String)>,
    /// The program started: the workspace build's unless [`Connector::for_sim_with_program`] names one.
    program: PathBuf,
}

/// A config for `sim`; `extra` is appended (e.g. a `[connector]` table).
pub fn config_for(sim: &Sim, storage: &Path, extra: &str) -> String {
    let (protocol, ca) = if sim.tls {
        ("https", format!("ca_file = \"{}\"\n", sim.ca_file().display()))
    } else {
        ("http", String::new())
    };
    // Every connector's web UI on a port of its own (the default 8086 would collide).
    let ui = if extra.contains("[ui]") { "" } else { "\n[ui]\nlisten = \"127.0.0.1:0\"\n" };
    format!(
        "{extra}\n[server]\nprotocol = \"{protocol}\"\nhost = \"127.0.0.1\"\nport = {}\ntoken = \"{}\"\n{ca}\n[storage]\npath = \"{}\"\n{ui}",
        sim.port(),
        sim.token,
        storage.display()
    )
}

impl Connector {
    /// Writes a config into a fresh dir under `root` and starts the connector.
    pub fn start(root: &Path, config_text: &str) -> Connector {
        Connector::start_with_env(root, config_text, &[])
    }

    /// As [`Connector::start`], the process started with `env` set too.
    pub fn start_with_env(root: &Path, config_text: &str, env: &[(&str, &str)]) -> Connector {
        Connector::launch(root, config_text, env, binary("integration-connector"))
    }

    /// As [`Connector::for_sim`], running `program` (e.g. the shipped static binary).
    pub fn for_sim_with_program(sim: &Sim, name: &str, extra: &str, program: &Path) -> Connector {
        let root = sim.dir.path().join(name);
        let text = config_for(sim, &root.join("data"), extra);
        Connector::launch(&root, &text, &[], program.to_path_buf())
    }

    fn launch(root: &Path, config_text: &str, env: &[(&str, &str)], program: PathBuf) -> Connector {
        let dir = root.to_path_buf();
        std::fs::create_dir_all(&dir).expect("connector dir");
        let config = dir.join("connector.toml");
        std::fs::write(&config, config_text).expect("write config");
        std::fs::set_permissions(&config, std::os::unix::fs::PermissionsExt::from_mode(0o600)).expect("chmod");
        let env = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let mut c = Connector { child: None, log: dir.join("connector.log"), dir, config, starts: 0, env, program };
        c.restart();
        c
    }

    /// As [`Connector::for_sim`], the process started with `env` set too.
    pub fn for_sim_with_env(sim: &Sim, name: &str, extra: &str, env: &[(&str, &str)]) -> Connector {
        let root = sim.dir.path().join(name);
        let text = config_for(sim, &root.join("data"), extra);
        Connector::start_with_env(&root, &text, env)
    }

    pub fn for_sim(sim: &Sim, name: &str, extra: &str) -> Connector {
        let root = sim.dir.path().join(name);
        let text = config_for(sim, &root.join("data"), extra);
        Connector::start(&root, &text)
    }

    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "connector already running");
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).expect("log");
        let child = Command::new(&self.program)
            .args(["run", "--config"])
            .arg(&self.config)
            .env("IC_LOG", std::env::var("IC_TEST_LOG").unwrap_or_else(|_| "info".into()))
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start connector");
        self.child = Some(child);
        self.starts += 1;
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGKILL, and reap it.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM; returns the exit code once it exits (panics after `limit`).
    pub fn terminate(&mut self, limit: Duration) -> Option<i32> {
        let mut c = self.child.take()?;
        unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
        let start = std::time::Instant::now();
        loop {
            if let Ok(Some(status)) = c.try_wait() {
                return status.code();
            }
            if start.elapsed() > limit {
                let _ = c.kill();
                panic!("connector did not exit within {limit:?} of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the process has exited, and its code.
    pub fn exited(&mut self) -> Option<Option<i32>> {
        self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()).map(|s| s.code())
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Runs a CLI subcommand against this connector's config.
    pub fn cli(&self, args: &[&str]) -> Output {
        let (sub, rest) = args.split_first().expect("subcommand");
        Command::new(&self.program)
            .arg(sub)
            .arg("--config")
            .arg(&self.config)
            .args(rest)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .output()
            .expect("run cli")
    }
}

impl Drop for Connector {
    fn drop(&mut self) {
        self.kill9();
    }
}
