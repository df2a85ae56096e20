//! The enums of today's KYC path (banks, customers, identity verifications), each with an
//! `Unknown(String)` for what a later release of Cybrid adds: the verification methods alone
//! grew from 2 to 16 between 2023 and 2026.

server_enum! {
    /// A feature of a bank, set by Cybrid (`GET /api/banks/{bank_guid}` → `features`).
    BankFeature {
        /// The bank creates attested identity verifications (today's published path).
        KycIdentityVerifications => "kyc_identity_verifications",
        /// The bank attests with JWTs signed by its verification key (identity records).
        AttestationIdentityRecords => "attestation_identity_records",
        /// Identity records, second version.
        AttestationIdentityRecordsV2 => "attestation_identity_records_v2",
        /// Identity records, third version.
        AttestationIdentityRecordsV3 => "attestation_identity_records_v3",
        /// Raw routing details.
        RawRoutingDetails => "raw_routing_details",
        /// Individual customers.
        IndividualCustomers => "individual_customers",
        /// Business customers.
        BusinessCustomers => "business_customers",
        /// External accounts of counterparties.
        CounterpartyExternalAccounts => "counterparty_external_accounts",
    }
}

server_enum! {
    /// A customer's type.
    CustomerType {
        /// A person.
        Individual => "individual",
        /// A business.
        Business => "business",
    }
}

server_enum! {
    /// A customer's state.
    CustomerState {
        /// Being stored.
        Storing => "storing",
        /// Not verified yet: it needs a passing identity verification.
        Unverified => "unverified",
        /// Verified: it may transact.
        Verified => "verified",
        /// Rejected by compliance.
        Rejected => "rejected",
        /// Frozen.
        Frozen => "frozen",
    }
}

server_enum! {
    /// What an identity verification verifies.
    IdentityVerificationType {
        /// Know your customer.
        Kyc => "kyc",
        /// A bank account.
        BankAccount => "bank_account",
        /// A counterparty.
        Counterparty => "counterparty",
    }
}

server_enum! {
    /// How an identity verification verifies (this crate creates `attested`).
    IdentityVerificationMethod {
        /// The bank attests the person it checked, sending their personal data.
        Attested => "attested",
        /// Documents submitted.
        DocumentSubmission => "document_submission",
        /// Enhanced due diligence.
        EnhancedDueDiligence => "enhanced_due_diligence",
        /// An identity document and a selfie.
        IdAndSelfie => "id_and_selfie",
        /// A tax id and a selfie.
        TaxIdAndSelfie => "tax_id_and_selfie",
        /// A business registration.
        BusinessRegistration => "business_registration",
        /// Attested, with an identity document and a selfie.
        AttestedIdAndSelfie => "attested_id_and_selfie",
        /// Attested business registration.
        AttestedBusinessRegistration => "attested_business_registration",
        /// Attested business associate.
        AttestedBusinessAssociate => "attested_business_associate",
        /// Attested, with an identity document and a database check.
        AttestedIdAndDatabase => "attested_id_and_database",
        /// Watchlists.
        Watchlists => "watchlists",
        /// Attested ownership of an account.
        AttestedOwnership => "attested_ownership",
        /// Ownership of an account.
        AccountOwnership => "account_ownership",
    }
}

server_enum! {
    /// Where an identity verification stands.
    IdentityVerificationState {
        /// Being stored.
        Storing => "storing",
        /// Waiting for something (a person, a document).
        Waiting => "waiting",
        /// Pending.
        Pending => "pending",
        /// Being reviewed.
        Reviewing => "reviewing",
        /// Expired before it completed. Final.
        Expired => "expired",
        /// Completed, with an outcome. Final.
        Completed => "completed",
    }
}

impl IdentityVerificationState {
    /// `completed` and `expired` are final; an unknown state is not, so a waiting program
    /// keeps polling until its deadline.
    ///
    /// ```
    /// use cybrid_identity::IdentityVerificationState;
    /// assert!(IdentityVerificationState::Expired.is_final());
    /// assert!(!IdentityVerificationState::from("persona_processing").is_final());
    /// ```
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Completed | Self::Expired)
    }
}

server_enum! {
    /// A completed identity verification's outcome.
    IdentityVerificationOutcome {
        /// Passed: the customer is verified.
        Passed => "passed",
        /// Failed; see the failure codes.
        Failed => "failed",
    }
}

server_enum! {
    /// The source of an identification number.
    IdentificationNumberType {
        /// A driver's license.
        DriversLicense => "drivers_license",
        /// A passport.
        Passport => "passport",
        /// A passport card.
        PassportCard => "passport_card",
        /// A residence card.
        ResidenceCard => "residence_card",
        /// A visa.
        Visa => "visa",
        /// A social security number.
        SocialSecurityNumber => "social_security_number",
        /// A tax identification number.
        TaxIdentificationNumber => "tax_identification_number",
        /// An identification card.
        IdentificationCard => "identification_card",
        /// An employer identification number.
        EmployerIdentificationNumber => "employer_identification_number",
        /// A business registration number.
        BusinessRegistrationNumber => "business_registration_number",
    }
}
