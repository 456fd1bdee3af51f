//! The "Configuration" section: which file runs (its load time and SHA-256, the first 12
//! hex digits here, all of them in `/api/status`), and the last reload's outcome with
//! every problem of a refused file.

use std::fmt::Write as _;

use super::html::esc;
use crate::reload::ConfigView;

/// Digits of the hash shown on the page (enough to tell two files apart at a glance).
const SHORT_HASH: usize = 12;

pub fn section(c: &ConfigView) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<section><h2>Configuration</h2><table id=\"config\"><tr><th>File</th><td id=\"config-file\">{}</td></tr>\
         <tr><th>Loaded</th><td id=\"config-loaded\">{}</td></tr>\
         <tr><th>SHA-256</th><td id=\"config-hash\" title=\"{}\">{}</td></tr>",
        esc(&c.file),
        esc(&c.loaded_at),
        esc(&c.sha256),
        esc(c.sha256.get(..SHORT_HASH).unwrap_or(&c.sha256)),
    );
    match &c.last_reload {
        None => h.push_str("<tr><th>Last reload</th><td id=\"reload-outcome\">none since start</td></tr>"),
        Some(r) => {
            let class = if r.outcome == "applied" { "ok" } else { "bad" };
            let _ = write!(
                h,
                "<tr><th>Last reload</th><td id=\"reload-outcome\" class=\"{class}\">{} at {}</td></tr>",
                r.outcome,
                esc(&r.at)
            );
            let lists = [
                ("Problems (file refused, running config kept)", "reload-problems", &r.problems),
                ("Applied", "reload-applied", &r.applied),
                ("Needs a restart", "reload-restart", &r.needs_restart),
            ];
            for (title, id, items) in lists.into_iter().filter(|(_, _, items)| !items.is_empty()) {
                let _ = write!(h, "<tr><th>{title}</th><td><ul id=\"{id}\">");
                for item in items.iter() {
                    let _ = write!(h, "<li>{}</li>", esc(item));
                }
                h.push_str("</ul></td></tr>");
            }
        }
    }
    h.push_str("</table></section>");
    h
}
