//! Server link.
