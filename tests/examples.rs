//! The programs in `examples/` that run offline, run here against the built-in emulator: an
//! example that stopped compiling or working fails the tests, not a reader.

#[path = "../examples/paginate.rs"]
mod paginate;

#[path = "../examples/emulator_faults.rs"]
mod emulator_faults;

#[test]
fn the_paginate_example_walks_every_record() {
    paginate::main().unwrap();
}

#[test]
fn the_emulator_faults_example_adopts_the_lost_create() {
    emulator_faults::main().unwrap();
}
