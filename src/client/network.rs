//! The network a client reaches Cybrid through: the TLS roots it trusts and the proxy it
//! takes, turned into one agent per distinct route (the API and the token endpoint share
//! one unless a proxy treats them differently).

use std::io::Read as _;
use std::sync::Arc;

use ureq::tls::{PemItem, RootCerts, TlsConfig};

use super::proxy::{ProxyChoice, proxy_for, redact_credentials};
use super::transport::{Transport, TransportOptions};
use crate::error::Error;

/// The largest CA bundle read from `CYBRID_CA_BUNDLE` (the system's is about 200 KB).
const MAX_CA_BUNDLE_BYTES: u64 = 16 * 1024 * 1024;

/// The TLS and proxy settings of a builder.
#[derive(Debug, Clone, Default)]
pub(crate) struct Network {
    /// PEM certificates to trust instead of the bundled roots.
    pub(crate) roots_pem: Option<Vec<u8>>,
    pub(crate) proxy: ProxyChoice,
}

/// The agents of a client.
#[derive(Debug)]
pub(crate) struct Routes {
    pub(crate) api: Arc<Transport>,
    pub(crate) token: Arc<Transport>,
}

/// What every agent of a client shares.
pub(crate) struct Limits<'a> {
    pub(crate) timeout: std::time::Duration,
    pub(crate) connect_timeout: std::time::Duration,
    pub(crate) user_agent: &'a str,
    pub(crate) max_body_bytes: u64,
    pub(crate) idle_connections: usize,
}

impl Network {
    /// The agents for `base_url` and `token_url`, with proxies read from the process's
    /// environment when the choice is the environment.
    pub(crate) fn routes(
        &self,
        base_url: &str,
        token_url: &str,
        limits: &Limits<'_>,
    ) -> Result<Routes, Error> {
        let tls = self.tls_config()?;
        let var = |name: &str| std::env::var(name).ok();
        let proxies = [base_url, token_url].map(|url| proxy_for(url, &self.proxy, &var));
        let agent = |proxy: &Option<String>| -> Result<Arc<Transport>, Error> {
            let proxy = proxy.as_deref().map(ureq_proxy).transpose()?;
            Ok(Arc::new(Transport::new(TransportOptions {
                timeout: limits.timeout,
                connect_timeout: limits.connect_timeout,
                user_agent: limits.user_agent,
                max_body_bytes: limits.max_body_bytes,
                idle_connections: limits.idle_connections,
                proxy,
                tls: tls.clone(),
            })))
        };
        let api = agent(&proxies[0])?;
        let token = if proxies[0] == proxies[1] {
            api.clone()
        } else {
            agent(&proxies[1])?
        };
        Ok(Routes { api, token })
    }

    fn tls_config(&self) -> Result<TlsConfig, Error> {
        let roots = match &self.roots_pem {
            Some(pem) => RootCerts::from(parse_certificates(pem)?),
            None => default_roots(),
        };
        Ok(TlsConfig::builder().root_certs(roots).build())
    }
}

/// The bundled webpki roots, or the operating system's with the `platform-verifier` feature.
fn default_roots() -> RootCerts {
    if cfg!(feature = "platform-verifier") {
        RootCerts::PlatformVerifier
    } else {
        RootCerts::WebPki
    }
}

/// Every certificate of a PEM bundle; an error if it holds none.
fn parse_certificates(pem: &[u8]) -> Result<Vec<ureq::tls::Certificate<'static>>, Error> {
    let mut certificates = Vec::new();
    for (index, item) in ureq::tls::parse_pem(pem).enumerate() {
        match item {
            Ok(PemItem::Certificate(c)) => certificates.push(c),
            Ok(_) => {}
            Err(e) => {
                return Err(Error::config(format!(
                    "root_certificates_pem: PEM block {} does not decode ({e})",
                    index + 1
                )));
            }
        }
    }
    if certificates.is_empty() {
        return Err(Error::config(
            "root_certificates_pem: the bundle holds no certificate (expected \
             -----BEGIN CERTIFICATE----- blocks)",
        ));
    }
    Ok(certificates)
}

fn ureq_proxy(url: &str) -> Result<ureq::Proxy, Error> {
    ureq::Proxy::new(url).map_err(|_| {
        Error::config(format!(
            "proxy {}: not a proxy URL (http://, https://, socks4://, socks5://host:port)",
            redact_credentials(url)
        ))
    })
}

/// The PEM bundle at `path` (of `CYBRID_CA_BUNDLE`), read through a limit.
pub(crate) fn read_ca_bundle(path: &str) -> Result<Vec<u8>, Error> {
    let mut pem = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_CA_BUNDLE_BYTES + 1).read_to_end(&mut pem))
        .map_err(|e| Error::config(format!("CYBRID_CA_BUNDLE {path}: {e}")))?;
    if pem.len() as u64 > MAX_CA_BUNDLE_BYTES {
        return Err(Error::config(format!(
            "CYBRID_CA_BUNDLE {path}: over {MAX_CA_BUNDLE_BYTES} bytes: not a CA bundle"
        )));
    }
    Ok(pem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_without_certificates_is_refused_by_name() {
        for pem in [
            &b""[..],
            b"not pem",
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        ] {
            let e = parse_certificates(pem).unwrap_err().to_string();
            assert!(
                e.contains("holds no certificate") || e.contains("does not decode"),
                "{e}"
            );
        }
        let ca = include_bytes!("../../tests/fixtures/tls/ca.pem");
        assert_eq!(parse_certificates(ca).unwrap().len(), 1);
    }

    #[test]
    fn a_bad_proxy_url_is_named_without_its_credentials() {
        let e = ureq_proxy("ftp://user:hunter2@corp:21")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("ftp://[redacted]@corp:21") && !e.contains("hunter2"),
            "{e}"
        );
    }
}
