//! The HTML page at `/`: the Integration Connector List, recent jobs with results, log
//! requests with download links, and the violation count. Server-rendered; every value
//! from a connector or the admin is escaped.

use std::fmt::Write;
use std::time::Instant;

use actix_web::{web, HttpResponse};

use crate::model::rfc3339;
use crate::state::Sim;

/// Jobs shown on the page, newest first.
const RECENT_JOBS: usize = 50;
/// Longest result text shown per job.
const RESULT_CHARS: usize = 300;

/// Escape text for HTML element content and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn row(out: &mut String, cells: &[String]) {
    out.push_str("<tr>");
    for cell in cells {
        let _ = write!(out, "<td>{cell}</td>");
    }
    out.push_str("</tr>\n");
}

fn head(out: &mut String, title: &str, columns: &[&str]) {
    let _ = write!(out, "<h2>{title}</h2>\n<table>\n<tr>");
    for c in columns {
        let _ = write!(out, "<th>{c}</th>");
    }
    out.push_str("</tr>\n");
}

/// `GET /`.
pub async fn index(sim: web::Data<Sim>) -> HttpResponse {
    let state = sim.lock();
    let now = Instant::now();
    let mut out = String::from(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>portal-sim</title>\
         <style>body{font-family:sans-serif}td,th{border:1px solid #ccc;padding:2px 6px;\
         text-align:left;vertical-align:top}table{border-collapse:collapse}</style>\
         </head><body>\n<h1>ServiceOps portal simulator</h1>\n",
    );
    let _ = writeln!(
        out,
        "<p>Jobs: {} &middot; requests: {} &middot; protocol violations: <b>{}</b></p>",
        state.jobs.len(),
        state.requests,
        state.violations.total()
    );
    head(&mut out, "Integration Connector List", &["Name", "Host", "Version", "State", "Last heartbeat", "Queue"]);
    let interval = state.config.heartbeat_interval_s;
    for c in state.connectors.iter() {
        let hb = c.heartbeat.as_ref();
        let online = match (c.archived, c.online(interval, now)) {
            (true, _) => "Archived",
            (false, true) => "Online",
            (false, false) => "Offline",
        };
        row(
            &mut out,
            &[
                escape(&c.name),
                escape(&c.hostname),
                escape(&c.version),
                online.to_owned(),
                hb.map_or_else(|| "never".to_owned(), |h| rfc3339(h.at)),
                hb.map_or_else(String::new, |h| escape(&h.queue.to_string())),
            ],
        );
    }
    out.push_str("</table>\n");
    head(&mut out, "Recent jobs", &["Id", "Type", "State", "Holder", "Offers", "Result"]);
    for job in state.jobs.iter().rev().take(RECENT_JOBS) {
        let result = job.result.as_ref().map_or_else(String::new, |r| {
            let text: String = r.to_string().chars().take(RESULT_CHARS).collect();
            escape(&text)
        });
        row(
            &mut out,
            &[
                escape(&job.id),
                escape(&job.job_type),
                job.state.name().to_owned(),
                escape(job.holder().unwrap_or("")),
                job.offers.to_string(),
                result,
            ],
        );
    }
    out.push_str("</table>\n");
    head(&mut out, "Log requests", &["Id", "Connector", "Received", "Size"]);
    for req in state.logs.requests() {
        let id = escape(&req.id);
        let link = if req.received { format!("<a href=\"/admin/log-requests/{id}/download\">{id}</a>") } else { id };
        row(&mut out, &[link, escape(&req.connector_id), req.received.to_string(), req.size.to_string()]);
    }
    out.push_str("</table>\n");
    head(&mut out, "Log streams", &["Id", "Connector", "Lines"]);
    for s in state.logs.streams() {
        row(&mut out, &[escape(&s.id), escape(&s.connector_id), s.lines.to_string()]);
    }
    out.push_str("</table>\n</body></html>\n");
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(out)
}
