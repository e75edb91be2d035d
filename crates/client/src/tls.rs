//! How an office recognises its hub: the system's root certificates plus the county CA, given
//! as a PEM file or pinned by the fingerprint `ledger-hub` prints beside each token. A pinned
//! CA is learned from the chain the hub sends (the CA certificate whose SHA-256 matches), then
//! kept by the office as a file would be. TLS runs on rustls with the ring provider.
//!
//! Also the rule for plain HTTP ([`check_hub_url`]): only to this machine, or with an explicit
//! permission the office shows as a warning.

use std::sync::{Arc, Mutex, OnceLock};

use ledger_protocol::fingerprint;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{WebPkiServerVerifier, verify_server_cert_signed_by_trust_anchor};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::ClientError;

/// Which certificates this office trusts for its hub, beyond the system's roots.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HubTrust {
    /// The county CA (PEM), as given at enrollment or learned through the pin.
    pub ca_pem: Option<String>,
    /// The SHA-256 of a CA certificate to trust when the hub's chain carries it.
    pub pin: Option<[u8; 32]>,
}

impl HubTrust {
    /// The system's roots only.
    pub fn system() -> Self {
        Self::default()
    }

    /// The system's roots and the CA in `pem`; refused when `pem` holds no certificate.
    pub fn with_ca_pem(pem: &str) -> Result<Self, ClientError> {
        let certs = parse_pem(pem)?;
        if certs.is_empty() {
            return Err(ClientError::Local("证书文件中没有证书（应为 PEM 格式的 ca.pem）".into()));
        }
        Ok(Self { ca_pem: Some(pem.to_owned()), pin: None })
    }

    /// The system's roots and the CA whose fingerprint is `text` (as `ledger-hub` prints it).
    pub fn pinned(text: &str) -> Result<Self, ClientError> {
        let pin = fingerprint::parse(text).ok_or_else(|| {
            ClientError::Local(
                "证书指纹应为 64 位十六进制数字（可用冒号分隔），请照 ledger-hub 输出的指纹填写"
                    .into(),
            )
        })?;
        Ok(Self { ca_pem: None, pin: Some(pin) })
    }
}

fn parse_pem(pem: &str) -> Result<Vec<CertificateDer<'static>>, ClientError> {
    CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ClientError::Local(format!("证书文件无法读取：{e}")))
}

fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER.get_or_init(|| Arc::new(rustls::crypto::ring::default_provider())).clone()
}

/// The system's root certificates, read once per process (a missing store gives none: the
/// county CA is what matters here).
fn system_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        if !found.errors.is_empty() {
            tracing::debug!(errors = ?found.errors, "some system root certificates unreadable");
        }
        found.certs
    })
}

/// Checks the hub's chain against the roots, and failing that against a pinned CA found in the
/// chain itself. Remembers the CA that matched the pin.
#[derive(Debug)]
struct CountyVerifier {
    roots: Option<Arc<WebPkiServerVerifier>>,
    pin: Option<[u8; 32]>,
    learned: Learned,
    provider: Arc<CryptoProvider>,
}

impl CountyVerifier {
    fn verify_pinned(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        now: UnixTime,
    ) -> Option<Result<ServerCertVerified, rustls::Error>> {
        let pin = self.pin?;
        let ca = intermediates.iter().find(|c| fingerprint::of_der(c) == pin)?;
        let mut roots = RootCertStore::empty();
        if let Err(e) = roots.add(ca.clone().into_owned()) {
            return Some(Err(e));
        }
        let rest: Vec<CertificateDer<'_>> =
            intermediates.iter().filter(|c| *c != ca).cloned().collect();
        let result = ParsedCertificate::try_from(end_entity).and_then(|cert| {
            verify_server_cert_signed_by_trust_anchor(
                &cert,
                &roots,
                &rest,
                now,
                self.provider.signature_verification_algorithms.all,
            )?;
            rustls::client::verify_server_name(&cert, server_name)?;
            Ok(ServerCertVerified::assertion())
        });
        if result.is_ok()
            && let Ok(mut learned) = self.learned.lock()
        {
            *learned = Some(ca.clone().into_owned());
        }
        Some(result)
    }
}

impl ServerCertVerifier for CountyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let by_roots = match &self.roots {
            Some(roots) => {
                roots.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            }
            None => Err(rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)),
        };
        match by_roots {
            Ok(verified) => Ok(verified),
            Err(e) => {
                self.verify_pinned(end_entity, intermediates, server_name, now).unwrap_or(Err(e))
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// A rustls client configuration for `trust`, and where a CA learned through the pin lands.
pub(crate) fn client_config(
    trust: &HubTrust,
) -> Result<(rustls::ClientConfig, Learned), ClientError> {
    let mut roots = RootCertStore::empty();
    let (_, _) = roots.add_parsable_certificates(system_roots().iter().cloned());
    if let Some(pem) = &trust.ca_pem {
        for cert in parse_pem(pem)? {
            roots.add(cert).map_err(|e| ClientError::Local(format!("县局根证书无法使用：{e}")))?;
        }
    }
    let provider = provider();
    // No root at all (no system store, no county CA) leaves only the pin.
    let roots = if roots.is_empty() {
        None
    } else {
        Some(
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| ClientError::Local(e.to_string()))?,
        )
    };
    let learned = Learned::default();
    let verifier = CountyVerifier {
        roots,
        pin: trust.pin,
        learned: learned.clone(),
        provider: provider.clone(),
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::Local(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok((config, learned))
}

/// The CA certificate a pin matched, once a handshake found it.
pub(crate) type Learned = Arc<Mutex<Option<CertificateDer<'static>>>>;

/// The PEM text of a certificate.
pub(crate) fn to_pem(der: &CertificateDer<'_>) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = String::with_capacity(der.len() * 4 / 3 + 4);
    for chunk in der.chunks(3) {
        let n =
            chunk.iter().fold(0u32, |acc, b| acc << 8 | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..4 {
            if i <= chunk.len() {
                b64.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                b64.push('=');
            }
        }
    }
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// What a failed TLS handshake means for the person at the office.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsProblem {
    /// The hub's certificate is not signed by a CA this office trusts (a wrong CA, or a
    /// machine pretending to be the hub).
    Untrusted,
    /// The hub's certificate has expired (or this computer's clock is far ahead).
    Expired,
    /// The hub's certificate is not valid yet (or this computer's clock is behind).
    NotYetValid,
    /// The certificate is for another name than the address the office uses.
    WrongName,
    /// The other side does not speak TLS, or the handshake failed otherwise.
    Failed,
}

impl TlsProblem {
    /// The stable code the UI and the CLI word in Chinese.
    pub fn code(self) -> &'static str {
        match self {
            Self::Untrusted => "tls_untrusted",
            Self::Expired => "tls_expired",
            Self::NotYetValid => "tls_not_yet_valid",
            Self::WrongName => "tls_wrong_name",
            Self::Failed => "tls_failed",
        }
    }

    fn of(error: &rustls::Error) -> Self {
        match error {
            rustls::Error::InvalidCertificate(c) => match c {
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    Self::Expired
                }
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    Self::NotYetValid
                }
                CertificateError::NotValidForName
                | CertificateError::NotValidForNameContext { .. } => Self::WrongName,
                _ => Self::Untrusted,
            },
            _ => Self::Failed,
        }
    }

    /// Finds a rustls error in `error`'s chain of causes. reqwest wraps hyper's error, which
    /// wraps a boxed error, which wraps the `io::Error` tokio-rustls returned, which wraps the
    /// rustls error; a boxed error hides its content from `source()` (it forwards to the
    /// content's own source), so boxes and `io::Error`s are opened here on the way down.
    pub(crate) fn find(error: &(dyn std::error::Error + 'static)) -> Option<Self> {
        if let Some(tls) = error.downcast_ref::<rustls::Error>() {
            return Some(Self::of(tls));
        }
        if let Some(io) = error.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && let Some(found) = Self::find(inner)
        {
            return Some(found);
        }
        error.source().and_then(Self::find)
    }
}

/// How an office reaches its hub, judged from the address alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HubLink {
    /// `https://`.
    Encrypted,
    /// `http://` to this machine (the hub runs here; nothing crosses a network).
    Loopback,
    /// `http://` across a network: petition files would cross it in the clear.
    Plain,
}

/// Why a hub address cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlProblem {
    /// Not an `http://` or `https://` address with a host.
    #[error("县局地址应以 https:// 开头，例如 https://10.0.0.5:8750")]
    Malformed,
    /// Plain HTTP to another machine without the explicit permission.
    #[error(
        "县局地址是不加密的 http://：信访材料会明文经过网络。请改用 https:// 地址（县局运行 ledger-hub tls init 后提供）；确需明文时须明确允许"
    )]
    PlainNotAllowed,
}

/// Judges a hub address: https is always fine; plain http only to a loopback address, or to
/// another machine when `allow_plain` says a person chose it.
pub fn check_hub_url(url: &str, allow_plain: bool) -> Result<HubLink, UrlProblem> {
    let url = url.trim();
    let (scheme, rest) = url.split_once("://").ok_or(UrlProblem::Malformed)?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host_of(authority).ok_or(UrlProblem::Malformed)?;
    match scheme.to_ascii_lowercase().as_str() {
        "https" => Ok(HubLink::Encrypted),
        "http" if is_loopback(host) => Ok(HubLink::Loopback),
        "http" if allow_plain => Ok(HubLink::Plain),
        "http" => Err(UrlProblem::PlainNotAllowed),
        _ => Err(UrlProblem::Malformed),
    }
}

/// The host of `host[:port]` or `[v6]:port`, without user info.
fn host_of(authority: &str) -> Option<&str> {
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        authority.split(':').next()?
    };
    (!host.is_empty()).then_some(host)
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_this_machine_or_when_allowed() {
        assert_eq!(check_hub_url("https://10.0.0.5:8750", false), Ok(HubLink::Encrypted));
        assert_eq!(check_hub_url("HTTPS://hub.example/", false), Ok(HubLink::Encrypted));
        assert_eq!(check_hub_url("http://127.0.0.1:8750", false), Ok(HubLink::Loopback));
        assert_eq!(check_hub_url("http://127.8.0.1", false), Ok(HubLink::Loopback));
        assert_eq!(check_hub_url("http://localhost:8750/", false), Ok(HubLink::Loopback));
        assert_eq!(check_hub_url("http://[::1]:8750", false), Ok(HubLink::Loopback));
        assert_eq!(check_hub_url("http://10.0.0.5:8750", false), Err(UrlProblem::PlainNotAllowed));
        // A user-info part that names the loopback does not make the host local.
        assert_eq!(
            check_hub_url("http://127.0.0.1@10.0.0.5:8750", false),
            Err(UrlProblem::PlainNotAllowed)
        );
        assert_eq!(
            check_hub_url("http://localhost.evil.example", false),
            Err(UrlProblem::PlainNotAllowed)
        );
        assert_eq!(check_hub_url("http://10.0.0.5:8750", true), Ok(HubLink::Plain));
        assert_eq!(check_hub_url("ftp://10.0.0.5", true), Err(UrlProblem::Malformed));
        assert_eq!(check_hub_url("10.0.0.5:8750", true), Err(UrlProblem::Malformed));
        assert_eq!(check_hub_url("https://", true), Err(UrlProblem::Malformed));
    }

    #[test]
    fn pem_round_trips() {
        let der = CertificateDer::from((0u8..=200).collect::<Vec<u8>>());
        let pem = to_pem(&der);
        let back = CertificateDer::from_pem_slice(pem.as_bytes()).unwrap();
        assert_eq!(back.as_ref(), der.as_ref());
        for n in [0usize, 1, 2, 3, 47, 48, 49] {
            let der = CertificateDer::from(vec![0xA5u8; n + 1]);
            let back = CertificateDer::from_pem_slice(to_pem(&der).as_bytes()).unwrap();
            assert_eq!(back.as_ref(), der.as_ref(), "length {}", n + 1);
        }
    }

    #[test]
    fn a_fingerprint_that_is_not_one_is_refused() {
        assert!(HubTrust::pinned("AB:CD").is_err());
        assert!(HubTrust::with_ca_pem("not a certificate").is_err());
    }
}
