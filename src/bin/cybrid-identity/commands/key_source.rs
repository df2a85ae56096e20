//! Where the signing key comes from: a key file (plain or encrypted, with its passphrase
//! from the environment or a file), the environment, the sandbox key, or a PKCS#11 token.
//! Whatever it is, the commands get a [`Signer`].

use std::io::Read as _;
use std::sync::Arc;

use cybrid_identity::aws::AwsKmsSigner;
use cybrid_identity::signer::Pkcs11Signer;
use cybrid_identity::{Signer, SigningKey};
use zeroize::Zeroizing;

use crate::args::{Args, CliError, Flag, error_chain};

/// The most a key file may hold: a 4096-bit PEM key is about 3.3 KB.
const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;

/// The variable an encrypted key's passphrase may come from.
pub const PASSPHRASE_ENV: &str = "CYBRID_ATTESTATION_KEY_PASSPHRASE";
/// The only place a token's PIN comes from: never a flag, which `ps` and shell history show.
pub const PIN_ENV: &str = "CYBRID_PKCS11_PIN";

pub const KEY: Flag = Flag::value(
    "key",
    "FILE",
    "the signing key: PEM or DER, PKCS#8 (encrypted too) or PKCS#1",
)
.env("CYBRID_ATTESTATION_SIGNING_KEY");
pub const SANDBOX: Flag = Flag::switch("sandbox", "sign with the sandbox key Cybrid publishes");
pub const PASSPHRASE_FILE: Flag = Flag::value(
    "passphrase-file",
    "FILE",
    "the encrypted key's passphrase (its first line)",
)
.env(PASSPHRASE_ENV);
pub const PKCS11_MODULE: Flag = Flag::value(
    "pkcs11-module",
    "PATH",
    "sign in an HSM: its PKCS#11 module (PIN from CYBRID_PKCS11_PIN)",
)
.env("CYBRID_PKCS11_MODULE");
pub const PKCS11_TOKEN: Flag = Flag::value("pkcs11-token", "LABEL", "the HSM token's label");
pub const PKCS11_KEY: Flag = Flag::value("pkcs11-key", "LABEL", "the key's label in the token");
pub const AWS_KMS_KEY: Flag = Flag::value(
    "aws-kms-key",
    "KEY",
    "sign in AWS KMS: the key's id, ARN or alias (region and credentials as the AWS SDKs find them)",
);

/// A command's flags with the signer's between `before` and `after`: `--key`, `--sandbox`,
/// `--passphrase-file`, `--pkcs11-…` and `--aws-kms-key`, declared once for every command
/// that signs (the call site imports them, as it does [`signer`]).
macro_rules! with_signer_flags {
    ([$($before:expr),* $(,)?], [$($after:expr),* $(,)?]) => {
        &[
            $($before,)*
            KEY,
            SANDBOX,
            PASSPHRASE_FILE,
            PKCS11_MODULE,
            PKCS11_TOKEN,
            PKCS11_KEY,
            AWS_KMS_KEY,
            $($after,)*
        ]
    };
}
pub(crate) use with_signer_flags;

/// The signer: a PKCS#11 token (`--pkcs11-…`), else the key of [`signing_key`].
pub fn signer(args: &Args) -> Result<Arc<dyn Signer>, CliError> {
    if let Some(key) = args.value("aws-kms-key") {
        if args.value("key").is_some() || args.has("sandbox") || pkcs11_flags(args)?.is_some() {
            return Err(CliError::usage(
                "--aws-kms-key excludes --key, --sandbox and --pkcs11-…",
            ));
        }
        let kms = AwsKmsSigner::from_env(key)?;
        return Ok(Arc::new(kms));
    }
    if let Some((module, token, key)) = pkcs11_flags(args)? {
        if args.value("key").is_some() || args.has("sandbox") {
            return Err(CliError::usage(
                "--pkcs11-key and --key or --sandbox exclude each other",
            ));
        }
        let pin = pin()?;
        let hsm = Pkcs11Signer::open(&module, &token, &key, &pin)?;
        return Ok(Arc::new(hsm));
    }
    Ok(Arc::new(signing_key(args)?))
}

/// `--pkcs11-module` (or `CYBRID_PKCS11_MODULE`), `--pkcs11-token` and `--pkcs11-key`, when
/// the token or key flag is given; all three, or a usage error naming the missing one.
pub fn pkcs11_flags(args: &Args) -> Result<Option<(String, String, String)>, CliError> {
    let (token, key) = (args.value("pkcs11-token"), args.value("pkcs11-key"));
    if token.is_none() && key.is_none() && args.value("pkcs11-module").is_none() {
        return Ok(None);
    }
    let module = match args.value("pkcs11-module") {
        Some(module) => module.to_owned(),
        None => std::env::var("CYBRID_PKCS11_MODULE").map_err(|_| {
            CliError::usage(
                "--pkcs11-module PATH (or CYBRID_PKCS11_MODULE) names the token's PKCS#11 module",
            )
        })?,
    };
    let needed = |flag: &str, value: Option<&str>| {
        value.map(str::to_owned).ok_or_else(|| {
            CliError::usage(format!("--{flag} LABEL is needed with --pkcs11-module"))
        })
    };
    Ok(Some((
        module,
        needed("pkcs11-token", token)?,
        needed("pkcs11-key", key)?,
    )))
}

/// The token's PIN, from `CYBRID_PKCS11_PIN` only.
pub fn pin() -> Result<Zeroizing<String>, CliError> {
    std::env::var(PIN_ENV).map(Zeroizing::new).map_err(|_| {
        CliError::usage(format!(
            "set {PIN_ENV} to the token's user PIN (it is never taken from a flag)"
        ))
    })
}

/// The signing key: `--key FILE`, `--sandbox`, or `CYBRID_ATTESTATION_SIGNING_KEY`; an
/// encrypted one with the passphrase of [`passphrase`].
pub fn signing_key(args: &Args) -> Result<SigningKey, CliError> {
    match (args.value("key"), args.has("sandbox")) {
        (Some(_), true) => Err(CliError::usage("--key and --sandbox exclude each other")),
        (Some(path), false) => {
            let pass = passphrase(args)?;
            read_key_file(path, pass.as_ref().map(|p| p.as_slice()))
        }
        (None, true) => Ok(SigningKey::sandbox()),
        (None, false) => match std::env::var("CYBRID_ATTESTATION_SIGNING_KEY") {
            Ok(pem) => {
                let pem = Zeroizing::new(pem);
                let key = match passphrase(args)? {
                    Some(pass) => SigningKey::from_pem_with_passphrase(&pem, &pass),
                    None => SigningKey::from_pem(&pem),
                };
                key.map_err(|e| {
                    CliError::input(format!(
                        "CYBRID_ATTESTATION_SIGNING_KEY: {}",
                        error_chain(&e)
                    ))
                })
            }
            Err(_) => Err(CliError::usage(
                "no signing key: pass --key FILE, --sandbox or --pkcs11-…, or set CYBRID_ATTESTATION_SIGNING_KEY",
            )),
        },
    }
}

/// The passphrase of an encrypted key: `--passphrase-file FILE` (its first line, the file
/// read as a key file is), else `CYBRID_ATTESTATION_KEY_PASSPHRASE`; never a flag's value.
pub fn passphrase(args: &Args) -> Result<Option<Zeroizing<Vec<u8>>>, CliError> {
    if let Some(path) = args.value("passphrase-file") {
        let (bytes, meta) = read_secret_file(path, "passphrase")?;
        warn_if_shared(path, &meta);
        let line = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            return Err(CliError::usage(format!("{path}: the passphrase is empty")));
        }
        return Ok(Some(Zeroizing::new(line.to_vec())));
    }
    Ok(std::env::var(PASSPHRASE_ENV)
        .ok()
        .filter(|p| !p.is_empty())
        .map(|p| Zeroizing::new(Zeroizing::new(p).as_bytes().to_vec())))
}

/// Reads at most 64 KiB of `path` (`/dev/zero` and a 5 GB file alike) and takes PEM or DER
/// by content, not by extension; an encrypted key with `passphrase`.
fn read_key_file(path: &str, passphrase: Option<&[u8]>) -> Result<SigningKey, CliError> {
    let (bytes, meta) = read_secret_file(path, "key")?;
    let key = match (std::str::from_utf8(&bytes), passphrase) {
        (Ok(text), Some(pass)) if text.trim_start().starts_with("-----BEGIN") => {
            SigningKey::from_pem_with_passphrase(text, pass)
        }
        (Ok(text), None) if text.trim_start().starts_with("-----BEGIN") => {
            SigningKey::from_pem(text)
        }
        (_, Some(pass)) => SigningKey::from_der(&bytes)
            .or_else(|plain| SigningKey::from_encrypted_der(&bytes, pass).map_err(|_| plain)),
        (_, None) => SigningKey::from_der(&bytes),
    };
    let key = key.map_err(|e| CliError::input(format!("{path}: {e}")))?;
    // Only once it is known to be a key: a wrong file is one error line, not two.
    warn_if_shared(path, &meta);
    Ok(key)
}

/// A key or passphrase file: a regular file of at most 64 KiB, read whole, with its metadata
/// (to warn when others may read it).
fn read_secret_file(
    path: &str,
    what: &str,
) -> Result<(Zeroizing<Vec<u8>>, std::fs::Metadata), CliError> {
    let cannot = |e: std::io::Error| CliError::input(format!("cannot read {path}: {e}"));
    let file = open_key_file(path).map_err(cannot)?;
    // Asked of the open file, not the path: what was checked is what is read.
    let meta = file.metadata().map_err(cannot)?;
    if !meta.is_file() {
        return Err(CliError::usage(format!(
            "{path} is not a regular file (a FIFO, a device or a directory): pass the {what} file itself"
        )));
    }
    let bytes = read_limited(file, MAX_KEY_FILE_BYTES)
        .map_err(cannot)?
        .ok_or_else(|| {
            CliError::input(format!(
                "{path}: more than {MAX_KEY_FILE_BYTES} bytes: not a {what} file"
            ))
        })?;
    Ok((bytes, meta))
}

/// Opens without blocking: a FIFO given as the key would otherwise wait forever for a
/// writer, before its type could be checked.
pub fn open_key_file(path: &str) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(target_os = "linux")]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, 0o4000); // O_NONBLOCK
    #[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd"))]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, 0x0004); // O_NONBLOCK
    options.open(path)
}

/// A key others can read is used, as ssh would not, because Kubernetes mounts secrets 0644
/// by default; but never silently.
fn warn_if_shared(path: &str, meta: &std::fs::Metadata) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            eprintln!(
                "warning: {path} is readable by group or others (mode {mode:04o}): run `chmod 600 {path}`"
            );
        }
    }
    #[cfg(not(unix))]
    let _ = (path, meta);
}

/// All of `reader` if it holds at most `limit` bytes, `None` if it holds more; never reads
/// more than `limit + 1` bytes.
fn read_limited(
    reader: impl std::io::Read,
    limit: u64,
) -> std::io::Result<Option<Zeroizing<Vec<u8>>>> {
    // The whole limit up front: a growing buffer would free copies of the key unwiped.
    let room = usize::try_from(limit.saturating_add(1)).unwrap_or(usize::MAX);
    let mut bytes = Zeroizing::new(Vec::with_capacity(room));
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= limit).then_some(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// An endless source that counts what is taken from it.
    struct Endless(u64);

    impl Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            buf.fill(b'A');
            self.0 += buf.len() as u64;
            Ok(buf.len())
        }
    }

    #[test]
    fn an_endless_key_file_is_cut_off_at_the_limit() {
        let mut source = Endless(0);
        assert!(
            read_limited(&mut source, MAX_KEY_FILE_BYTES)
                .unwrap()
                .is_none()
        );
        assert!(
            source.0 <= MAX_KEY_FILE_BYTES + 1,
            "read {} bytes",
            source.0
        );
        let small = read_limited(&b"-----BEGIN"[..], MAX_KEY_FILE_BYTES).unwrap();
        assert_eq!(
            small.as_ref().map(|b| b.as_slice()),
            Some(&b"-----BEGIN"[..])
        );
        let exact = vec![0u8; 65_536];
        assert_eq!(
            read_limited(&exact[..], MAX_KEY_FILE_BYTES)
                .unwrap()
                .map(|b| b.len()),
            Some(65_536)
        );
    }
}
