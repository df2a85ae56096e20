//! Scratch folders for the crate's own unit tests: one file in a folder of its own under
//! the temporary directory, the folder removed when dropped, so a test run leaves nothing
//! behind (a panicking test included: unwinding drops it).

use std::path::{Path, PathBuf};

/// A file path in a fresh folder, removed with the folder when dropped.
pub(crate) struct ScratchFile {
    dir: PathBuf,
    file: PathBuf,
}

impl ScratchFile {
    /// `journal.jsonl` (or `file`) in a new folder named after `name`.
    pub(crate) fn new(name: &str, file: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("cybrid-unit-{name}-{}", crate::rand::hex_guid()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join(file);
        ScratchFile { dir, file }
    }
}

impl std::ops::Deref for ScratchFile {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.file
    }
}

impl AsRef<Path> for ScratchFile {
    fn as_ref(&self) -> &Path {
        &self.file
    }
}

impl Drop for ScratchFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_folder_is_gone_once_dropped() {
        let file = super::ScratchFile::new("self", "x.txt");
        std::fs::write(&file, b"x").unwrap();
        let dir = file.parent().unwrap().to_path_buf();
        assert!(dir.is_dir());
        drop(file);
        assert!(!dir.exists());
    }
}
