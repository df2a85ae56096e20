//! Enums whose values come from the server. Each keeps a value it does not know in
//! `Unknown(String)` and writes it back unchanged, so a server that adds a value breaks nothing.

/// Defines a string enum with an `Unknown(String)` fallback and exact round-tripping.
macro_rules! server_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $wire:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A value this version of the crate does not know, kept as the server sent it.
            Unknown(String),
        }

        impl $name {
            /// The value as it travels on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $wire,)+
                    $name::Unknown(other) => other,
                }
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $($wire => $name::$variant,)+
                    other => $name::Unknown(other.to_owned()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Ok($name::from(value.as_ref()))
            }
        }
    };
}

server_enum! {
    /// The state of an attestation identity record.
    AttestationState {
        /// Cybrid is storing the attestation.
        Storing => "storing",
        /// Cybrid is verifying the attestation's JWT.
        Pending => "pending",
        /// Verified: the customer may transact. Final.
        Verified => "verified",
        /// Not verified; see the failure code. Final.
        Failed => "failed",
        /// Was verified, and its token has since expired. Final.
        Expired => "expired",
    }
}

impl AttestationState {
    /// `verified`, `failed` and `expired` are final: the record will not change again.
    /// An unknown state is not final, so a waiting program keeps polling until its deadline.
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Verified | Self::Failed | Self::Expired)
    }
}

server_enum! {
    /// Why an attestation failed, as Cybrid records it.
    FailureCode {
        /// The `kid` names no usable key of the bank.
        InvalidKey => "invalid_key",
        /// `alg` is not RS512.
        InvalidAlgorithm => "invalid_algorithm",
        /// The signature does not verify with the key.
        InvalidSignature => "invalid_signature",
        /// `iss` is not `http://api.cybrid.app/banks/{bank_guid}`.
        InvalidIssuer => "invalid_issuer",
        /// `aud` is not `http://api.cybrid.app`.
        InvalidAudience => "invalid_audience",
        /// `sub` is not `http://api.cybrid.app/customers/{customer_guid}`.
        InvalidSubject => "invalid_subject",
        /// `exp` has passed.
        JwtExpired => "jwt_expired",
        /// No `jti` claim.
        MissingJti => "missing_jti",
        /// No `kid` header.
        MissingKeyid => "missing_keyid",
    }
}

/// A failure code is also what [`crate::attestation::check`] returns as its error, so `?`
/// takes it into `Box<dyn Error>` or `anyhow`.
impl std::error::Error for FailureCode {}

server_enum! {
    /// The type of an identity record.
    IdentityRecordType {
        /// A bank's signed statement that it checked the customer itself.
        Attestation => "attestation",
    }
}

server_enum! {
    /// The state of a verification key.
    VerificationKeyState {
        /// Cybrid is storing the key.
        Storing => "storing",
        /// Cybrid is checking the key's signature.
        Pending => "pending",
        /// The key can be used. Final.
        Verified => "verified",
        /// The key cannot be used; see its failure code. Final.
        Failed => "failed",
    }
}

impl VerificationKeyState {
    /// `verified` and `failed` are final. An unknown state is not final.
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Verified | Self::Failed)
    }
}

server_enum! {
    /// Why a verification key failed.
    VerificationKeyFailureCode {
        /// The algorithm is not RS512.
        InvalidAlgorithm => "invalid_algorithm",
        /// The nonce was refused.
        InvalidNonce => "invalid_nonce",
        /// The public key is not a usable RSA SubjectPublicKeyInfo.
        InvalidPublicKey => "invalid_public_key",
        /// The signature over the nonce does not verify with the public key.
        InvalidSignature => "invalid_signature",
    }
}

server_enum! {
    /// The type of a verification key.
    VerificationKeyType {
        /// A key that verifies attestation JWTs.
        Attestation => "attestation",
    }
}

server_enum! {
    /// A verification key's signing algorithm.
    VerificationKeyAlgorithm {
        /// RSASSA-PKCS1-v1_5 with SHA-512.
        Rs512 => "RS512",
    }
}
