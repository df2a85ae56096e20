//! Guides: the long form of the README, one page a subject. Their Rust examples run as
//! doctests, so they cannot drift from the API.

#[doc = include_str!("../docs/guide/attestation.md")]
pub mod attestation_jwts {}

#[doc = include_str!("../docs/guide/kyc-paths.md")]
pub mod two_kyc_paths {}

#[doc = include_str!("../docs/guide/keys.md")]
pub mod where_the_key_lives {}

#[doc = include_str!("../docs/guide/client.md")]
pub mod the_client {}

#[doc = include_str!("../docs/guide/book.md")]
pub mod attesting_a_book {}

#[doc = include_str!("../docs/guide/networks.md")]
pub mod networks {}

#[doc = include_str!("../docs/guide/emulator.md")]
pub mod the_emulator {}

#[doc = include_str!("../docs/guide/cli.md")]
pub mod the_command_line {}

#[doc = include_str!("../docs/guide/reliability.md")]
pub mod reliability {}

#[doc = include_str!("../docs/guide/security.md")]
pub mod security {}
