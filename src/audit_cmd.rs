//! `integration-connector audit verify|show`: the AD audit journal, read offline.

use clap::Subcommand;
use std::io::BufRead;

use connector_actors::audit::{verify, FILE_NAME};

use crate::config::Settings;
use crate::exit;

#[derive(Subcommand)]
pub enum AuditAction {
    /// Check the hash chain of the AD audit journal.
    Verify,
    /// Print the journal, one line per AD write.
    Show,
}

pub fn run(settings: &Settings, action: AuditAction) -> u8 {
    let path = settings.queue.path.join(FILE_NAME);
    match action {
        AuditAction::Verify => match verify(&path) {
            Ok(v) => {
                println!("OK   {}: {} line(s), chain intact (last hash {})", path.display(), v.lines, v.last_hash);
                if v.torn_tail > 0 {
                    println!(
                        "WARN {} torn byte(s) after line {} (a crash or a full disk during a write): not part of \
                         the chain; the connector moves them aside at its next start",
                        v.torn_tail, v.lines
                    );
                }
                exit::OK
            }
            Err(e) => {
                println!("FAIL {e}");
                exit::FAILURE
            }
        },
        AuditAction::Show => {
            let Ok(file) = std::fs::File::open(&path) else {
                println!("{}: no audit journal yet (no AD write has been made)", path.display());
                return exit::OK;
            };
            for line in std::io::BufReader::new(file).lines().map_while(Result::ok) {
                let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
                let changes: Vec<String> = v["changes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|c| format!("{}: {} -> {}", c["attribute"].as_str().unwrap_or("?"), c["before"], c["after"]))
                    .collect();
                println!(
                    "{} {} {} {} [{}] {}",
                    v["ts"].as_str().unwrap_or("?"),
                    v["job_id"].as_str().unwrap_or("?"),
                    v["operation"].as_str().unwrap_or("?"),
                    v["target_dn"].as_str().unwrap_or("?"),
                    changes.join("; "),
                    v["outcome"].as_str().unwrap_or("?")
                );
            }
            match verify(&path) {
                Ok(_) => exit::OK,
                Err(e) => {
                    println!("WARNING: {e}");
                    exit::FAILURE
                }
            }
        }
    }
}
