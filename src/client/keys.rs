//! The verification-key calls of [`Client`]: create, get, list, walk, wait.

use super::Client;
use crate::api;
use crate::error::Error;
use crate::models::{
    KeyListParams, ListParams, PostVerificationKey, VerificationKey, VerificationKeyList,
};
use crate::pages::VerificationKeys;
use crate::wait::{WaitOptions, poll_until_final};

impl Client {
    /// Registers a verification key (`POST /api/bank_verification_keys`); build the body with
    /// [`PostVerificationKey::new`]. Never retried once the request may have arrived.
    ///
    /// # Errors
    /// As [`Client::create_identity_record`].
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "emulator")] {
    /// # let emu = cybrid_identity::emulator::Emulator::builder().transition(std::time::Duration::from_millis(10)).start()?;
    /// # let client = emu.client()?;
    /// use cybrid_identity::{PostVerificationKey, SigningKey};
    /// let key = SigningKey::sandbox(); // in production: SigningKey::generate(2048) or from_pem
    /// let created = client.create_verification_key(&PostVerificationKey::new(&key, "a nonce")?)?;
    /// assert!(created.guid.is_some());
    /// # }
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn create_verification_key(
        &self,
        key: &PostVerificationKey,
    ) -> Result<VerificationKey, Error> {
        let request = api::create_verification_key(key)?;
        self.inner.execute(&request)
    }

    /// Reads one verification key.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a malformed guid; [`Error::Api`] with status 404 for an unknown one.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "emulator")] {
    /// # let emu = cybrid_identity::emulator::Emulator::builder().transition(std::time::Duration::from_millis(10)).start()?;
    /// # let client = emu.client()?;
    /// use cybrid_identity::VerificationKeyState;
    /// let key = client.get_verification_key(emu.verification_key_guid())?;
    /// assert_eq!(key.state, Some(VerificationKeyState::Verified));
    /// # }
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn get_verification_key(&self, guid: &str) -> Result<VerificationKey, Error> {
        let request = api::get_verification_key(guid)?;
        self.inner.execute(&request)
    }

    /// Every verification key of the bank, page by page, as [`Client::identity_records`]
    /// walks records.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "emulator")] {
    /// # let emu = cybrid_identity::emulator::Emulator::builder().transition(std::time::Duration::from_millis(10)).start()?;
    /// # let client = emu.client()?;
    /// use cybrid_identity::KeyListParams;
    /// let guids: Vec<_> = client
    ///     .verification_keys(KeyListParams::new())
    ///     .map(|key| key.map(|k| k.guid))
    ///     .collect::<Result<_, _>>()?;
    /// assert_eq!(guids, [Some(emu.verification_key_guid().to_owned())]);
    /// # }
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn verification_keys(&self, params: impl Into<KeyListParams>) -> VerificationKeys {
        self.walk(
            "keys",
            &ListParams::from(params.into()),
            |client, page| {
                let list = client.keys_page(page)?;
                Ok((list.objects, list.total))
            },
            |key| key.guid.clone(),
        )
    }

    /// Polls a verification key until it is `verified` or `failed`, pausing between polls as
    /// `options` says (its `on_change` is for identity records and is not called here).
    ///
    /// # Errors
    /// A key still not final at the deadline is an
    /// [`Error::KeyWaitTimedOut`] carrying the last key seen; any error of
    /// [`Client::get_verification_key`].
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "emulator")] {
    /// # let emu = cybrid_identity::emulator::Emulator::builder().transition(std::time::Duration::from_millis(10)).start()?;
    /// # let client = emu.client()?;
    /// use cybrid_identity::{PostVerificationKey, SigningKey, VerificationKeyState, WaitOptions};
    /// let created = client.create_verification_key(&PostVerificationKey::new(&SigningKey::sandbox(), "n")?)?;
    /// let guid = created.guid.as_deref().unwrap_or_default();
    /// let options = WaitOptions::default().on_key_change(|k| println!("{:?}", k.state));
    /// let key = client.wait_for_verification_key(guid, &options)?;
    /// assert_eq!(key.state, Some(VerificationKeyState::Verified));
    /// # }
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn wait_for_verification_key(
        &self,
        guid: &str,
        options: &WaitOptions,
    ) -> Result<VerificationKey, Error> {
        let sleep = &|wait| self.inner.settings.sleep.pause(wait);
        poll_until_final(
            options,
            sleep,
            || self.get_verification_key(guid),
            |key| key.state.clone(),
            VerificationKey::is_final,
            |key| options.notify_key(key),
            |last| Error::KeyWaitTimedOut {
                last: Box::new(last),
            },
        )
    }

    /// Reads one page of verification keys (in Cybrid's sandbox, the first is the default key).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for bad params (a customer filter, which keys do not take).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "emulator")] {
    /// # let emu = cybrid_identity::emulator::Emulator::builder().transition(std::time::Duration::from_millis(10)).start()?;
    /// # let client = emu.client()?;
    /// use cybrid_identity::KeyListParams;
    /// let page = client.list_verification_keys(KeyListParams::new().per_page(10))?;
    /// assert_eq!(page.objects.len(), 1, "the default key");
    /// # }
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn list_verification_keys(
        &self,
        params: impl Into<KeyListParams>,
    ) -> Result<VerificationKeyList, Error> {
        self.keys_page(&ListParams::from(params.into()))
    }

    /// The bank's newest `verified` verification key whose public key is `signer`'s (by its
    /// SHA-256 fingerprint), every page read; `None` when there is none: register it with
    /// [`Client::create_verification_key`] first. This is the key to name as the `kid` of
    /// the signer's tokens: the first key of the list may be another (the sandbox's own).
    ///
    /// # Errors
    /// Any error of [`Client::verification_keys`].
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "emulator")] {
    /// # let emu = cybrid_identity::emulator::Emulator::start()?;
    /// # let client = emu.client()?;
    /// use cybrid_identity::SigningKey;
    /// let found = client.verification_key_of(&SigningKey::sandbox())?;
    /// assert_eq!(found.and_then(|k| k.guid).as_deref(), Some(emu.verification_key_guid()));
    /// # }
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn verification_key_of(
        &self,
        signer: &dyn crate::signer::Signer,
    ) -> Result<Option<VerificationKey>, Error> {
        let keys: Vec<VerificationKey> = self
            .verification_keys(KeyListParams::new().per_page(100))
            .collect::<Result<_, _>>()?;
        Ok(crate::signer::newest_of_signer(&keys, signer).cloned())
    }

    /// Checks that the verification key `signer`'s tokens name can verify them: it exists,
    /// it is `verified`, its public key is the signer's and its bank is the signer's bank.
    /// One `GET`; a [`crate::Book`] (and [`Client::ensure_attested`]) makes it before its
    /// first create, so a mismatch costs no record.
    ///
    /// A fingerprint this crate cannot read (Cybrid does not document its form; see
    /// [`crate::signer::fingerprint`]) is no evidence either way: the key is taken, with a
    /// warning logged.
    ///
    /// # Errors
    /// [`Error::SignerKey`] saying what is wrong; any other error of
    /// [`Client::get_verification_key`].
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "emulator")] {
    /// # let emu = cybrid_identity::emulator::Emulator::start()?;
    /// # let client = emu.client()?;
    /// use cybrid_identity::signer::SignerKeyProblem;
    /// use cybrid_identity::{AttestationSigner, Error, SigningKey};
    /// let good = AttestationSigner::new(SigningKey::sandbox(), emu.bank_guid(), emu.verification_key_guid())?;
    /// assert!(client.check_signer(&good).is_ok());
    /// let other_bank = AttestationSigner::new(SigningKey::sandbox(), "0f0e0d0c0b0a09080706050403020100", emu.verification_key_guid())?;
    /// let err = client.check_signer(&other_bank).unwrap_err();
    /// assert!(matches!(err, Error::SignerKey { problem: SignerKeyProblem::OtherBank { .. }, .. }));
    /// # }
    /// # Ok::<_, cybrid_identity::Error>(())
    /// ```
    pub fn check_signer(
        &self,
        signer: &crate::signer::AttestationSigner,
    ) -> Result<VerificationKey, Error> {
        let kid = signer.verification_key_guid();
        let found = |problem| Error::SignerKey {
            kid: kid.to_owned(),
            problem,
        };
        let key = match self.get_verification_key(kid) {
            Ok(key) => key,
            Err(e) if e.status() == Some(404) => {
                return Err(found(crate::signer::SignerKeyProblem::NotFound));
            }
            Err(e) => return Err(e),
        };
        signer.check_key(&key)?;
        if let Some(fp) = &key.fingerprint
            && crate::signer::names(fp, signer.signer().verifying_key()).is_none()
        {
            log::warn!(
                target: "cybrid_identity",
                "verification key {kid}: its fingerprint is in a form this crate cannot compare, so whether it is the signer's public key is not known"
            );
        }
        Ok(key)
    }

    /// One page of keys, for the pager (which pages with `ListParams`).
    fn keys_page(&self, params: &ListParams) -> Result<VerificationKeyList, Error> {
        let request = api::list_verification_keys(params)?;
        self.inner.execute(&request)
    }
}
