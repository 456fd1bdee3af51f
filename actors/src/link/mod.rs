//! Server link.

mod settings;

pub use settings::LinkSettings;
