//! [`Pkcs11Signer`]: the bank's key in a hardware security module, over PKCS#11 (feature
//! `pkcs11`). The private key never leaves the token: each signature is one `C_Sign` with
//! `CKM_SHA512_RSA_PKCS` (RSASSA-PKCS1-v1_5 with SHA-512, hashed on the token).
//!
//! A PKCS#11 session must not be used by two threads at once, so the signer keeps a pool:
//! a thread takes a session (opening one when none is free), signs, and gives it back, so a
//! book at concurrency 16 signs on up to 16 sessions in parallel. The login is the
//! application's, shared by every session of the slot.

use std::fmt;
use std::path::Path;
use std::sync::Mutex;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;

use super::Signer;
use crate::error::{Error, KeyErrorKind};
use crate::keys::{MIN_KEY_BITS, VerifyingKey};
use crate::sync::lock;

/// Signs RS512 with an RSA private key held in a PKCS#11 token (an HSM: Thales Luna, Entrust
/// nShield, AWS CloudHSM, YubiHSM, SoftHSM2 for development).
///
/// Its `Debug` shows the token and key labels, never the PIN.
///
/// ```no_run
/// use cybrid_identity::signer::Pkcs11Signer;
/// use cybrid_identity::{AttestationSigner, Signer};
/// let pin = std::env::var("CYBRID_PKCS11_PIN").expect("the PIN");
/// let hsm = Pkcs11Signer::open("/usr/lib/softhsm/libsofthsm2.so", "bank", "attestation", &pin)?;
/// println!("{}", hsm.verifying_key().to_spki_base64()); // register it with Cybrid
/// let signer = AttestationSigner::new(hsm, "bank guid…", "verification key guid…");
/// # Ok::<_, cybrid_identity::Error>(())
/// ```
pub struct Pkcs11Signer {
    pkcs11: Pkcs11,
    slot: Slot,
    private_key: ObjectHandle,
    /// Kept to log each new session in (a token may drop the login with its last session);
    /// wiped on drop by `secrecy`.
    pin: AuthPin,
    sessions: Mutex<Vec<Session>>,
    verifying: VerifyingKey,
    token_label: String,
    key_label: String,
}

/// What the token module, the slot and the login gave.
struct Opened {
    pkcs11: Pkcs11,
    slot: Slot,
    session: Session,
    pin: AuthPin,
}

impl Pkcs11Signer {
    /// Opens the key labelled `key_label` in the token labelled `token_label`, through the
    /// PKCS#11 module at `module`, logging in with `pin`; then signs once and checks the
    /// signature with the key's public half, so a mismatched pair is found before any token.
    ///
    /// # Errors
    /// - [`Error::InvalidInput`] for a module path that is missing or not a PKCS#11 library,
    ///   a token or key label that is not there (naming the labels that are);
    /// - [`Error::Key`] for a key that is not RSA or is shorter than 2048 bits;
    /// - [`Error::Signing`] when the token refuses the PIN (the PIN is never in the message)
    ///   or fails.
    pub fn open(
        module: impl AsRef<Path>,
        token_label: &str,
        key_label: &str,
        pin: &str,
    ) -> Result<Self, Error> {
        let opened = Opened::new(module.as_ref(), token_label, pin, false)?;
        let private_key = find_key(&opened.session, ObjectClass::PRIVATE_KEY, key_label)?;
        let verifying = public_half(&opened.session, private_key, key_label)?;
        let signer = Pkcs11Signer {
            pkcs11: opened.pkcs11,
            slot: opened.slot,
            private_key,
            pin: opened.pin,
            sessions: Mutex::new(vec![opened.session]),
            verifying,
            token_label: token_label.to_owned(),
            key_label: key_label.to_owned(),
        };
        let probe = b"cybrid-identity: does the token's key match its public half?";
        if !signer
            .verifying
            .verify_rs512(probe, &signer.sign_rs512(probe)?)
        {
            return Err(Error::key(
                KeyErrorKind::Malformed,
                format!("the token's key {key_label:?} does not sign for its own public half"),
            ));
        }
        Ok(signer)
    }

    /// Makes a new RSA key pair of `bits` (2048, 3072 or 4096) inside the token, labelled
    /// `key_label`: the private key sensitive, never extractable, for signing only; then
    /// opens it as [`Pkcs11Signer::open`] does.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for another size or a label already in the token; otherwise as
    /// [`Pkcs11Signer::open`].
    pub fn generate(
        module: impl AsRef<Path>,
        token_label: &str,
        key_label: &str,
        pin: &str,
        bits: usize,
    ) -> Result<Self, Error> {
        if ![2048, 3072, 4096].contains(&bits) {
            return Err(Error::invalid(
                "bits",
                format!("a new key is 2048, 3072 or 4096 bits, got {bits}"),
            ));
        }
        let module = module.as_ref();
        {
            let opened = Opened::new(module, token_label, pin, true)?;
            let session = &opened.session;
            let label = Attribute::Label(key_label.as_bytes().to_vec());
            let taken = session
                .find_objects(std::slice::from_ref(&label))
                .map_err(device)?;
            if !taken.is_empty() {
                return Err(Error::invalid(
                    "pkcs11_key",
                    format!(
                        "the token {token_label:?} already holds an object labelled {key_label:?}: choose another label"
                    ),
                ));
            }
            let id = Attribute::Id(key_label.as_bytes().to_vec());
            let public = [
                Attribute::Token(true),
                Attribute::Private(false),
                Attribute::Verify(true),
                Attribute::Encrypt(false),
                Attribute::Wrap(false),
                Attribute::ModulusBits((bits as u64).into()),
                Attribute::PublicExponent(vec![1, 0, 1]),
                label.clone(),
                id.clone(),
            ];
            let private = [
                Attribute::Token(true),
                Attribute::Private(true),
                Attribute::Sensitive(true),
                Attribute::Extractable(false),
                Attribute::Sign(true),
                Attribute::Decrypt(false),
                Attribute::Unwrap(false),
                Attribute::Derive(false),
                label,
                id,
            ];
            session
                .generate_key_pair(&Mechanism::RsaPkcsKeyPairGen, &public, &private)
                .map_err(device)?;
        }
        Self::open(module, token_label, key_label, pin)
    }

    /// The token's label.
    pub fn token_label(&self) -> &str {
        &self.token_label
    }

    /// The key's label.
    pub fn key_label(&self) -> &str {
        &self.key_label
    }

    /// A session of the pool, or a new one (logged in) when every one is busy.
    fn session(&self) -> Result<Session, Error> {
        if let Some(session) = lock(&self.sessions).pop() {
            return Ok(session);
        }
        let session = self.pkcs11.open_ro_session(self.slot).map_err(device)?;
        login(&session, &self.pin)?;
        Ok(session)
    }
}

impl Signer for Pkcs11Signer {
    fn sign_rs512(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let session = self.session()?;
        let signature = session
            .sign(&Mechanism::Sha512RsaPkcs, self.private_key, message)
            .map_err(device)?;
        // Given back only after a success: a session the token failed is dropped (closed).
        lock(&self.sessions).push(session);
        Ok(signature)
    }

    fn verifying_key(&self) -> &VerifyingKey {
        &self.verifying
    }
}

impl fmt::Debug for Pkcs11Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11Signer")
            .field("token", &self.token_label)
            .field("key", &self.key_label)
            .field("bits", &self.verifying.bits())
            .field("pin", &"[redacted]")
            .finish()
    }
}

impl Opened {
    /// Loads the module, finds the token, opens a session (read-write to make keys) and
    /// logs in.
    fn new(module: &Path, token_label: &str, pin: &str, write: bool) -> Result<Opened, Error> {
        let named = module.display();
        if !module.is_file() {
            return Err(Error::invalid(
                "pkcs11_module",
                format!(
                    "{named}: no such file (the PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so)"
                ),
            ));
        }
        let pkcs11 = Pkcs11::new(module).map_err(|e| {
            Error::invalid(
                "pkcs11_module",
                format!("{named} is not a PKCS#11 library ({e})"),
            )
        })?;
        match pkcs11.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            // Another signer of this process opened the same module first.
            Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
            Err(e) => return Err(device(e)),
        }
        let slot = find_token(&pkcs11, token_label)?;
        let session = if write {
            pkcs11.open_rw_session(slot)
        } else {
            pkcs11.open_ro_session(slot)
        }
        .map_err(device)?;
        let pin = AuthPin::from(pin);
        login(&session, &pin)?;
        Ok(Opened {
            pkcs11,
            slot,
            session,
            pin,
        })
    }
}

fn find_token(pkcs11: &Pkcs11, token_label: &str) -> Result<Slot, Error> {
    let mut labels = Vec::new();
    for slot in pkcs11.get_slots_with_initialized_token().map_err(device)? {
        let info = pkcs11.get_token_info(slot).map_err(device)?;
        let label = info.label().trim_end().to_owned();
        if label == token_label {
            return Ok(slot);
        }
        labels.push(format!("{label:?}"));
    }
    Err(Error::invalid(
        "pkcs11_token",
        format!(
            "no token labelled {token_label:?}; the tokens: {}",
            if labels.is_empty() {
                "none (initialise one, e.g. softhsm2-util --init-token)".to_owned()
            } else {
                labels.join(", ")
            }
        ),
    ))
}

fn login(session: &Session, pin: &AuthPin) -> Result<(), Error> {
    match session.login(UserType::User, Some(pin)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(()),
        // Refusals a retry would repeat (and count against the token: it locks after a few).
        Err(CkError::Pkcs11(RvError::PinIncorrect, _)) => Err(Error::key(
            KeyErrorKind::Refused,
            "the token refused the PIN (CKR_PIN_INCORRECT): check CYBRID_PKCS11_PIN",
        )),
        Err(CkError::Pkcs11(RvError::PinLocked, _)) => Err(Error::key(
            KeyErrorKind::Refused,
            "the token's user PIN is locked (CKR_PIN_LOCKED): its security officer must reset it",
        )),
        Err(e) => Err(device(e)),
    }
}

/// The one object of `class` labelled `label`, or an error listing the labels there are.
fn find_key(session: &Session, class: ObjectClass, label: &str) -> Result<ObjectHandle, Error> {
    let wanted = [
        Attribute::Class(class),
        Attribute::Label(label.as_bytes().to_vec()),
    ];
    let found = session.find_objects(&wanted).map_err(device)?;
    match found.as_slice() {
        [one] => Ok(*one),
        [] => {
            let all = session
                .find_objects(&[Attribute::Class(class)])
                .map_err(device)?;
            let mut labels = Vec::new();
            for handle in all {
                let attributes = session
                    .get_attributes(handle, &[AttributeType::Label])
                    .map_err(device)?;
                for attribute in attributes {
                    if let Attribute::Label(bytes) = attribute {
                        labels.push(format!("{:?}", String::from_utf8_lossy(&bytes)));
                    }
                }
            }
            Err(Error::invalid(
                "pkcs11_key",
                format!(
                    "no private key labelled {label:?} in the token; its private keys: {}",
                    if labels.is_empty() {
                        "none".to_owned()
                    } else {
                        labels.join(", ")
                    }
                ),
            ))
        }
        _ => Err(Error::invalid(
            "pkcs11_key",
            format!(
                "{} private keys are labelled {label:?}: give the key a label of its own",
                found.len()
            ),
        )),
    }
}

/// The key's public half, from the private key's public attributes (a token shows the
/// modulus and exponent of a sensitive key): RSA of 2048 bits or more, or refused.
fn public_half(session: &Session, key: ObjectHandle, label: &str) -> Result<VerifyingKey, Error> {
    let wanted = [
        AttributeType::KeyType,
        AttributeType::Modulus,
        AttributeType::PublicExponent,
    ];
    let (mut modulus, mut exponent) = (None, None);
    for attribute in session.get_attributes(key, &wanted).map_err(device)? {
        match attribute {
            Attribute::KeyType(kind) if kind != KeyType::RSA => {
                return Err(Error::key(
                    KeyErrorKind::NotRsa,
                    format!(
                        "the token's key {label:?} is {kind}, not RSA; Cybrid attestations are RS512"
                    ),
                ));
            }
            Attribute::Modulus(bytes) => modulus = Some(bytes),
            Attribute::PublicExponent(bytes) => exponent = Some(bytes),
            _ => {}
        }
    }
    let (Some(modulus), Some(exponent)) = (modulus, exponent) else {
        return Err(Error::key(
            KeyErrorKind::Malformed,
            format!("the token does not show the modulus of key {label:?}"),
        ));
    };
    let bits = modulus.iter().position(|b| *b != 0).map_or(0, |first| {
        (modulus.len() - first) * 8 - modulus[first].leading_zeros() as usize
    });
    if bits < MIN_KEY_BITS {
        return Err(Error::key(
            KeyErrorKind::TooShort,
            format!(
                "the token's key {label:?} has {bits} bits; at least {MIN_KEY_BITS} are required"
            ),
        ));
    }
    VerifyingKey::from_rsa_components(&modulus, &exponent)
}

/// A token's failure, in its words (the return value's name): never a PIN or key material.
fn device(e: CkError) -> Error {
    match e {
        CkError::Pkcs11(rv, function) => {
            Error::Signing(format!("the PKCS#11 token failed: {rv:?} in {function:?}"))
        }
        other => Error::Signing(format!("the PKCS#11 module failed: {other}")),
    }
}
