//! Config errors: each names the file, the line, the key, and what is expected.

use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub key: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}: {}", self.file.display(), line, self.key, self.message),
            None => write!(f, "{}: {}: {}", self.file.display(), self.key, self.message),
        }
    }
}

/// Every problem found in one config file, reported together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        writeln!(f, "the configuration has {n} problem{}:", if n == 1 { "" } else { "s" })?;
        for e in &self.0 {
            writeln!(f, "  {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Collects errors while validating, turning byte offsets into line numbers.
pub struct Collector<'a> {
    pub file: &'a Path,
    pub source: &'a str,
    pub errors: Vec<ConfigError>,
}

impl<'a> Collector<'a> {
    pub fn new(file: &'a Path, source: &'a str) -> Self {
        Collector { file, source, errors: Vec::new() }
    }

    pub fn line_of(&self, offset: usize) -> usize {
        self.source.get(..offset).map_or(0, |s| s.matches('\n').count()) + 1
    }

    pub fn at(&mut self, span: Option<std::ops::Range<usize>>, key: &str, message: impl Into<String>) {
        let line = span.map(|s| self.line_of(s.start));
        self.errors.push(ConfigError {
            file: self.file.to_path_buf(),
            line,
            key: key.to_owned(),
            message: message.into(),
        });
    }
}
