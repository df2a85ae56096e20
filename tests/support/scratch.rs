//! A scratch folder under the temporary directory, removed when dropped (a failing test
//! included: unwinding drops it), so that a run of the suite leaves nothing behind.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub struct TempDir(PathBuf);

impl TempDir {
    /// A new, empty folder named after `name` (and a random suffix: tests run in parallel).
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "cybrid-test-{name}-{}",
            cybrid_identity::emulator::new_guid()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
