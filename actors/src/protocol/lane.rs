//! The priority lanes of PROTOCOL.md §2.3 (`interactive`, `normal`, `bulk`).

use serde::{Deserialize, Serialize};

/// Priority lanes, highest first. The derive order is the scheduling order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lane {
    Interactive,
    Normal,
    Bulk,
}

impl Lane {
    pub const ALL: [Lane; 3] = [Lane::Interactive, Lane::Normal, Lane::Bulk];

    pub fn as_str(self) -> &'static str {
        match self {
            Lane::Interactive => "interactive",
            Lane::Normal => "normal",
            Lane::Bulk => "bulk",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}
