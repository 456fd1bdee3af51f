//! The admin API under `/admin` (JSON, no auth): the test's and the operator's hand on
//! the simulator. It enqueues jobs, shows their state, records and the violations,
//! sets faults, archives connectors, replaces the token and asks for logs.

mod control;
mod jobs;
mod logs;
mod summary;

use actix_web::web;

/// Largest admin body (job batches for benches can be big).
const MAX_ADMIN_BODY: usize = 64 * 1024 * 1024;

/// Mount the admin API on `cfg` (the caller scopes it under `/admin`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PayloadConfig::new(MAX_ADMIN_BODY))
        .route("/jobs", web::post().to(jobs::submit))
        .route("/jobs/{id}", web::get().to(jobs::show))
        .route("/jobs/{id}/records", web::get().to(jobs::records))
        .route("/jobs/{id}/cancel", web::post().to(jobs::cancel))
        .route("/summary", web::get().to(summary::summary))
        .route("/violations", web::get().to(summary::violations))
        .route("/faults", web::get().to(control::get_faults))
        .route("/faults", web::post().to(control::set_faults))
        .route("/faults", web::delete().to(control::clear_faults))
        .route("/limits", web::get().to(control::get_limits))
        .route("/limits", web::post().to(control::set_limits))
        .route("/token", web::post().to(control::set_token))
        .route("/connectors/{id}", web::get().to(control::connector))
        .route("/connectors/{id}/archive", web::post().to(control::archive))
        .route("/connectors/{id}/unarchive", web::post().to(control::unarchive))
        .route("/log-requests", web::post().to(logs::request_upload))
        .route("/log-requests/{id}", web::get().to(logs::show_upload))
        .route("/log-requests/{id}/download", web::get().to(logs::download))
        .route("/log-streams", web::post().to(logs::request_stream))
        .route("/log-streams/{id}", web::get().to(logs::show_stream));
}
