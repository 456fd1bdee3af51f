//! The status page: rendered on the server (so it reads without JavaScript), refreshed
//! every 2 s by fetching `/panel`, with the live log tail fed by `/logs/tail`.

use std::fmt::Write as _;

use connector_actors::link::{clock, Connection};
use connector_actors::protocol::Lane;
use connector_actors::time::{now_ms, rfc3339};
use serde_json::{json, Value};

use super::UiState;

use super::html::esc;

fn ago(ms: Option<u64>) -> String {
    match ms {
        Some(t) => format!("{} ({} s ago)", rfc3339(t), now_ms().saturating_sub(t) / 1000),
        None => "never".into(),
    }
}

/// The same figures as JSON (`/api/status`).
pub fn status_value(s: &UiState) -> Value {
    let link = s.link.borrow().clone();
    let q = s.board.queue();
    let m = s.metrics.snapshot();
    json!({
        "connection": {"state": link.connection.as_str(), "reason": link.reason, "connector_id": link.connector_id,
            "last_heartbeat": link.last_heartbeat_ms.map(rfc3339), "server_url": s.server_url,
            "clock_offset_s": link.clock_offset_ms.map(clock::offset_s)},
        "directories": s.board.directories().iter().map(|d| json!({"name": d.name, "reachable": d.reachable,
            "url": d.url, "pool_size": d.pool_size, "in_use": d.in_use, "last_error": d.last_error,
            "credential_warnings": d.credential_warnings})).collect::<Vec<_>>(),
        "queue": {"pending": q.pending, "running": q.running, "awaiting_delivery": q.awaiting_delivery, "dead": q.dead,
            "logins_shed": q.logins_shed, "by_priority": Lane::ALL.iter().map(|l| (l.as_str().to_owned(), json!({"waiting": q.by_lane[l.index()].waiting,
                "running": q.by_lane[l.index()].running}))).collect::<serde_json::Map<_, _>>()},
        "components": s.board.components().iter().map(|c| json!({"name": c.name, "state": c.state.as_str(),
            "restarts": c.restarts, "detail": c.detail})).collect::<Vec<_>>(),
        "imports": s.board.imports(),
        "config": s.config.borrow().clone(),
        "last_jobs": m.recent,
        "uptime_s": s.started.elapsed().as_secs(),
    })
}

/// The part of the page that refreshes.
pub fn panel(s: &UiState) -> String {
    let link = s.link.borrow().clone();
    let mut h = super::charts::section(&s.metrics.history());
    let class = if link.connection == Connection::Online { "ok" } else { "bad" };
    let _ = write!(
        h,
        "<section><h2>Portal connection</h2><table>\
         <tr><th>State</th><td id=\"conn-state\" class=\"{class}\">{}</td></tr>\
         <tr><th>Reason</th><td id=\"conn-reason\">{}</td></tr>\
         <tr><th>Connector id</th><td id=\"connector-id\">{}</td></tr>\
         <tr><th>Last heartbeat</th><td id=\"last-heartbeat\">{}</td></tr>\
         <tr><th>Server</th><td id=\"server-url\">{}</td></tr>\
         <tr><th>Clock offset</th><td id=\"clock-offset\" class=\"{}\">{}</td></tr></table></section>",
        link.connection.as_str(),
        esc(link.reason.as_deref().unwrap_or("—")),
        esc(link.connector_id.as_deref().unwrap_or("not registered yet")),
        esc(&ago(link.last_heartbeat_ms)),
        esc(&s.server_url),
        if link.clock_offset_ms.is_some_and(clock::offset_is_large) { "bad" } else { "ok" },
        esc(&link.clock_offset_ms.map_or_else(|| "not measured yet".to_owned(), clock::describe)),
    );
    h.push_str("<section><h2>Directories</h2><table id=\"directories\"><tr><th>Name</th><th>Reachable</th><th>URL</th><th>Pool in use / size</th><th>Last error</th><th>Credentials</th></tr>");
    let dirs = s.board.directories();
    if dirs.is_empty() {
        h.push_str("<tr><td colspan=\"6\">no directory configured</td></tr>");
    }
    for d in dirs {
        let _ = write!(
            h,
            "<tr class=\"directory\" data-name=\"{0}\"><td>{0}</td><td class=\"{1}\">{2}</td><td>{3}</td><td class=\"pool\">{4} / {5}</td><td>{6}</td><td class=\"credentials {7}\">{8}</td></tr>",
            esc(&d.name),
            if d.reachable { "ok" } else { "bad" },
            if d.reachable { "yes" } else { "no" },
            esc(d.url.as_deref().unwrap_or("—")),
            d.in_use,
            d.pool_size,
            esc(d.last_error.as_deref().unwrap_or("—")),
            if d.credential_warnings.is_empty() { "ok" } else { "bad" },
            esc(&credentials(&d.credential_warnings)),
        );
    }
    h.push_str("</table></section>");
    let q = s.board.queue();
    let _ = write!(
        h,
        "<section><h2>Queue</h2><table id=\"queue\"><tr><th>Pending</th><td id=\"q-pending\">{}</td></tr>\
         <tr><th>Running</th><td id=\"q-running\">{}</td></tr><tr><th>Awaiting delivery</th><td id=\"q-awaiting\">{}</td></tr>\
         <tr><th>Dead</th><td id=\"q-dead\">{}</td></tr>\
         <tr><th>Logins shed (waited too long)</th><td id=\"q-shed\">{}</td></tr></table><table><tr><th>Priority</th><th>Waiting</th><th>Running</th></tr>",
        q.pending, q.running, q.awaiting_delivery, q.dead, q.logins_shed
    );
    for l in Lane::ALL {
        let f = q.by_lane[l.index()];
        let _ = write!(
            h,
            "<tr id=\"lane-{0}\"><td>{0}</td><td>{1}</td><td>{2}</td></tr>",
            l.as_str(),
            f.waiting,
            f.running
        );
    }
    h.push_str("</table></section>");
    h.push_str(&super::imports::section(&s.board.imports()));
    h.push_str(&super::config::section(&s.config.borrow()));
    h.push_str("<section><h2>Components</h2><table id=\"components\"><tr><th>Name</th><th>State</th><th>Restarts</th><th>Detail</th></tr>");
    for c in s.board.components() {
        let _ = write!(
            h,
            "<tr class=\"component\" data-name=\"{0}\"><td>{0}</td><td>{1}</td><td class=\"restarts\">{2}</td><td>{3}</td></tr>",
            esc(&c.name),
            c.state.as_str(),
            c.restarts,
            esc(c.detail.as_deref().unwrap_or("")),
        );
    }
    h.push_str("</table></section><section><h2>Last jobs</h2><table id=\"jobs\"><tr><th>Finished</th><th>Type</th><th>Target</th><th>Outcome</th><th>Duration</th><th>Error code</th></tr>");
    for j in s.metrics.snapshot().recent {
        let _ = write!(
            h,
            "<tr class=\"job {3}\" data-id=\"{6}\"><td>{0}</td><td>{1}</td><td>{2}</td><td>{3}</td><td>{4} ms</td><td>{5}</td></tr>",
            rfc3339(j.finished_ms),
            esc(&j.job_type),
            esc(&j.target),
            j.outcome,
            j.duration_ms,
            j.error_code.unwrap_or(""),
            esc(&j.id),
        );
    }
    h.push_str("</table></section>");
    h
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}h1{font-size:1.4em}\
h2{font-size:1.1em;margin:1.2em 0 .4em}table{border-collapse:collapse;margin-bottom:.5em}\
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;font-size:.9em}.ok{color:#070;font-weight:bold}\
.bad{color:#b00;font-weight:bold}#tail{background:#111;color:#ddd;font:12px monospace;height:18em;overflow:auto;\
padding:.5em;white-space:pre-wrap}#jobs td:first-child{white-space:nowrap}.WARN{color:#fc3}.ERROR{color:#f66}#panel{display:grid;\
grid-template-columns:repeat(auto-fit,minmax(28em,1fr));gap:0 2em}#history{grid-column:1/-1}\
.charts{display:flex;flex-wrap:wrap;gap:.5em 1.5em}figure{margin:0}figcaption{font-size:.85em}";

const SCRIPT: &str = "const panel=document.getElementById('panel'),tail=document.getElementById('tail');\
function line(l){const d=document.createElement('div');d.className='l '+l.level;\
const f=Object.entries(l.fields||{}).map(([k,v])=>k+'='+v).join(' ');\
d.textContent=l.ts+' '+l.level+' '+l.message+(f?' '+f:'');tail.appendChild(d);\
while(tail.childNodes.length>500)tail.removeChild(tail.firstChild);tail.scrollTop=tail.scrollHeight;}\
setInterval(()=>fetch('panel').then(r=>r.ok?r.text():null).then(h=>{if(h)panel.innerHTML=h}).catch(()=>{}),2000);\
const es=new EventSource('logs/tail');es.onmessage=e=>{try{line(JSON.parse(e.data))}catch(_){}};";

/// The whole page.
pub fn document(s: &UiState) -> String {
    let mut tail = String::new();
    for l in s.tap.recent() {
        let fields: Vec<String> =
            l.fields.iter().map(|(k, v)| format!("{k}={}", v.as_str().map_or(v.to_string(), str::to_owned))).collect();
        let _ = write!(
            tail,
            "<div class=\"l {0}\">{1} {0} {2}{3}</div>",
            esc(&l.level),
            esc(&l.ts),
            esc(&l.message),
            esc(&if fields.is_empty() { String::new() } else { format!(" {}", fields.join(" ")) })
        );
    }
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Integration Connector</title>\
         <style>{STYLE}</style></head><body><h1>Integration Connector {}</h1>\
         <div id=\"panel\">{}</div><section><h2>Live log</h2><div id=\"tail\">{tail}</div></section>\
         <p><a href=\"metrics\">metrics</a> · <a href=\"api/status\">status JSON</a> · <a href=\"healthz\">healthz</a> · \
         <a href=\"readyz\">readyz</a></p><script>{SCRIPT}</script></body></html>",
        env!("CARGO_PKG_VERSION"),
        panel(s)
    )
}

/// The credentials cell: each warning's sentence, or that none expires within 14 days.
fn credentials(warnings: &[connector_actors::directory::bind::expiry::Expiry]) -> String {
    if warnings.is_empty() {
        return "no known expiry within 14 days".to_owned();
    }
    warnings.iter().map(|w| w.sentence()).collect::<Vec<_>>().join("; ")
}
