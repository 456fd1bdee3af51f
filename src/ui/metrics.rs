//! `/metrics` in the Prometheus text format (version 0.0.4).

use std::fmt::Write as _;

use connector_actors::link::Connection;
use connector_actors::metrics::DURATION_BUCKETS;
use connector_actors::protocol::Lane;

use super::UiState;

/// Escapes a label value.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn head(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

pub fn render(s: &UiState) -> String {
    let mut o = String::new();
    let m = s.metrics.snapshot();
    head(&mut o, "ic_build_info", "gauge", "Version of this connector.");
    let _ = writeln!(o, "ic_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION"));
    head(&mut o, "ic_uptime_seconds", "gauge", "Seconds since the process started.");
    let _ = writeln!(o, "ic_uptime_seconds {}", s.started.elapsed().as_secs());
    head(&mut o, "ic_portal_online", "gauge", "1 when the link to the portal is online.");
    let _ = writeln!(o, "ic_portal_online {}", u8::from(s.link.borrow().connection == Connection::Online));
    head(&mut o, "ic_jobs_total", "counter", "Finished job runs by type and outcome.");
    for ((t, outcome), n) in &m.jobs {
        let _ = writeln!(o, "ic_jobs_total{{type=\"{}\",outcome=\"{outcome}\"}} {n}", label(t));
    }
    head(&mut o, "ic_job_duration_seconds", "histogram", "Run time of jobs by type.");
    for (t, h) in &m.durations {
        let t = label(t);
        let mut cumulative = 0;
        for (i, le) in DURATION_BUCKETS.iter().enumerate() {
            cumulative += h.buckets[i];
            let _ = writeln!(o, "ic_job_duration_seconds_bucket{{type=\"{t}\",le=\"{le}\"}} {cumulative}");
        }
        let _ = writeln!(o, "ic_job_duration_seconds_bucket{{type=\"{t}\",le=\"+Inf\"}} {}", h.count);
        let _ = writeln!(o, "ic_job_duration_seconds_sum{{type=\"{t}\"}} {}", h.sum_s);
        let _ = writeln!(o, "ic_job_duration_seconds_count{{type=\"{t}\"}} {}", h.count);
    }
    let q = s.board.queue();
    head(&mut o, "ic_storage_available", "gauge", "0 while the queue cannot write to its storage path, else 1.");
    let _ = writeln!(o, "ic_storage_available {}", u8::from(s.board.storage_problem().is_none()));
    head(&mut o, "ic_queue_jobs", "gauge", "Jobs in the durable queue by state.");
    for (state, n) in
        [("pending", q.pending), ("running", q.running), ("awaiting_delivery", q.awaiting_delivery), ("dead", q.dead)]
    {
        let _ = writeln!(o, "ic_queue_jobs{{state=\"{state}\"}} {n}");
    }
    head(
        &mut o,
        "ic_logins_shed_total",
        "counter",
        "Logins answered timeout without being run because they waited longer than shed_logins_after.",
    );
    let _ = writeln!(o, "ic_logins_shed_total {}", q.logins_shed);
    head(&mut o, "ic_queue_lane_jobs", "gauge", "Waiting and running jobs by priority lane.");
    for l in Lane::ALL {
        let f = q.by_lane[l.index()];
        let _ = writeln!(o, "ic_queue_lane_jobs{{priority=\"{}\",state=\"waiting\"}} {}", l.as_str(), f.waiting);
        let _ = writeln!(o, "ic_queue_lane_jobs{{priority=\"{}\",state=\"running\"}} {}", l.as_str(), f.running);
    }
    let dirs = s.board.directories();
    head(&mut o, "ic_directory_reachable", "gauge", "1 when the directory answers.");
    for d in &dirs {
        let _ = writeln!(o, "ic_directory_reachable{{directory=\"{}\"}} {}", label(&d.name), u8::from(d.reachable));
    }
    head(&mut o, "ic_directory_pool_size", "gauge", "Open service-account connections.");
    for d in &dirs {
        let _ = writeln!(o, "ic_directory_pool_size{{directory=\"{}\"}} {}", label(&d.name), d.pool_size);
    }
    head(&mut o, "ic_directory_pool_in_use", "gauge", "Operations in flight on pooled connections.");
    for d in &dirs {
        let _ = writeln!(o, "ic_directory_pool_in_use{{directory=\"{}\"}} {}", label(&d.name), d.in_use);
    }
    head(&mut o, "ic_portal_http_errors_total", "counter", "Failed requests to the portal by status or kind.");
    for (kind, n) in &m.http_errors {
        let _ = writeln!(o, "ic_portal_http_errors_total{{kind=\"{}\"}} {n}", label(kind));
    }
    let components = s.board.components();
    head(&mut o, "ic_component_restarts_total", "counter", "Restarts of each supervised component.");
    for c in &components {
        let _ = writeln!(o, "ic_component_restarts_total{{component=\"{}\"}} {}", label(&c.name), c.restarts);
    }
    head(&mut o, "ic_component_running", "gauge", "1 when the component is running.");
    for c in &components {
        let running = c.state == connector_actors::status::ComponentState::Running;
        let _ = writeln!(o, "ic_component_running{{component=\"{}\"}} {}", label(&c.name), u8::from(running));
    }
    o
}
