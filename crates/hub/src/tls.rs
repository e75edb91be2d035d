//! TLS for the hub. Counties have no PKI, so `ledger-hub tls init` makes a county CA and a
//! server certificate signed by it ([`init`]); offices trust that CA (given as a file, or pinned
//! by the fingerprint printed beside each enrollment token). [`server_config`] loads a chain
//! and key for `serve`, and [`serve_tls`] serves the router over rustls (ring provider).
//!
//! The files live in `<data>/tls/`: `ca.pem` (the certificate offices trust), `ca.key` (kept to
//! issue the next server certificate under the same CA, so no office has to pin again),
//! `server.pem` (the server certificate followed by the CA: the server sends its chain) and
//! `server.key`. Every file is 0600 in a 0700 directory.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{Datelike, NaiveDate};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::HubState;
use crate::private;

/// Why the county's certificates could not be made or loaded.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A certificate or key file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file holds no usable certificate or key, or a host name is not one.
    #[error("{0}")]
    Pem(String),
    /// rcgen refused the parameters (a bad host name).
    #[error("cannot make the certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// rustls refused the certificate and key (they do not match).
    #[error("the certificate and key cannot be used: {0}")]
    Config(#[from] rustls::Error),
}

/// Where `tls init` keeps the county's files.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The directory (`<data>/tls`).
    pub dir: PathBuf,
}

impl TlsFiles {
    /// The files under a hub's data directory.
    pub fn under(data_dir: &Path) -> Self {
        Self { dir: data_dir.join("tls") }
    }
    /// The county CA's certificate, which offices trust.
    pub fn ca_cert(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }
    /// The county CA's private key.
    pub fn ca_key(&self) -> PathBuf {
        self.dir.join("ca.key")
    }
    /// The server certificate followed by the CA's.
    pub fn chain(&self) -> PathBuf {
        self.dir.join("server.pem")
    }
    /// The server's private key.
    pub fn key(&self) -> PathBuf {
        self.dir.join("server.key")
    }
    /// Whether a server certificate and key are there.
    pub fn exist(&self) -> bool {
        self.chain().is_file() && self.key().is_file()
    }
}

/// What a county CA and its server certificate are made of, as PEM text.
#[derive(Debug, Clone)]
pub struct CountyPki {
    /// The CA certificate.
    pub ca_pem: String,
    /// The CA's private key.
    pub ca_key_pem: String,
    /// The server certificate followed by the CA certificate.
    pub chain_pem: String,
    /// The server's private key.
    pub key_pem: String,
}

impl CountyPki {
    /// The SHA-256 fingerprint of the CA certificate, as printed for offices.
    pub fn fingerprint(&self) -> Result<String, TlsError> {
        ca_fingerprint(&self.ca_pem)
    }
}

/// How long a server certificate is valid. Short enough that a leaked key does not live for
/// ever, long enough that a county does not renew it every few months (`tls init` renews it
/// under the same CA).
pub const SERVER_YEARS: i32 = 3;
/// How long the county CA is valid.
pub const CA_YEARS: i32 = 20;

fn set_validity(params: &mut CertificateParams, from: NaiveDate, until: NaiveDate) {
    let ymd = |d: NaiveDate| rcgen::date_time_ymd(d.year(), d.month() as u8, d.day() as u8);
    params.not_before = ymd(from);
    params.not_after = ymd(until);
}

fn add_years(date: NaiveDate, years: i32) -> NaiveDate {
    date.with_year(date.year() + years).unwrap_or(date + chrono::Duration::days(365 * years as i64))
}

fn ca_params(name: &str, from: NaiveDate) -> Result<CertificateParams, TlsError> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, format!("{name} 信访台账县级根证书"));
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    set_validity(&mut params, from, add_years(from, CA_YEARS));
    Ok(params)
}

/// A server certificate for `hosts` (DNS names or IP addresses), valid from `from` to `until`,
/// signed by the CA; returns the chain (server, then CA) and the server key.
fn server_cert(
    issuer: &Issuer<'_, &KeyPair>,
    ca_pem: &str,
    hosts: &[String],
    from: NaiveDate,
    until: NaiveDate,
) -> Result<(String, String), TlsError> {
    for host in hosts {
        // What an office will type in the hub's address must match a name here.
        if rustls::pki_types::ServerName::try_from(host.as_str()).is_err() {
            return Err(TlsError::Pem(format!("「{host}」不是主机名或 IP 地址")));
        }
    }
    let mut params = CertificateParams::new(hosts.to_vec())?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, hosts.first().cloned().unwrap_or_default());
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    set_validity(&mut params, from, until);
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, issuer)?;
    Ok((format!("{}{ca_pem}", cert.pem()), key.serialize_pem()))
}

/// Makes a county CA named `name` and a server certificate for `hosts`, valid from `from` for
/// [`SERVER_YEARS`] (the CA for [`CA_YEARS`]).
pub fn make_county_pki(
    name: &str,
    hosts: &[String],
    from: NaiveDate,
) -> Result<CountyPki, TlsError> {
    make_county_pki_until(name, hosts, from, add_years(from, SERVER_YEARS))
}

/// As [`make_county_pki`], with the server certificate's last day chosen (tests make expired
/// ones).
pub fn make_county_pki_until(
    name: &str,
    hosts: &[String],
    from: NaiveDate,
    until: NaiveDate,
) -> Result<CountyPki, TlsError> {
    let ca_key = KeyPair::generate()?;
    let params = ca_params(name, from)?;
    let ca = params.self_signed(&ca_key)?;
    let ca_pem = ca.pem();
    let issuer = Issuer::from_params(&params, &ca_key);
    let (chain_pem, key_pem) = server_cert(&issuer, &ca_pem, hosts, from, until)?;
    Ok(CountyPki { ca_pem, ca_key_pem: ca_key.serialize_pem(), chain_pem, key_pem })
}

/// A new server certificate under an existing county CA (its certificate and key as PEM).
pub fn renew_server(
    ca_pem: &str,
    ca_key_pem: &str,
    hosts: &[String],
    from: NaiveDate,
) -> Result<CountyPki, TlsError> {
    let ca_key = KeyPair::from_pem(ca_key_pem)?;
    let issuer = Issuer::from_ca_cert_pem(ca_pem, &ca_key)?;
    let (chain_pem, key_pem) =
        server_cert(&issuer, ca_pem, hosts, from, add_years(from, SERVER_YEARS))?;
    Ok(CountyPki {
        ca_pem: ca_pem.to_owned(),
        ca_key_pem: ca_key_pem.to_owned(),
        chain_pem,
        key_pem,
    })
}

/// The fingerprint of the first certificate in `pem`.
pub fn ca_fingerprint(pem: &str) -> Result<String, TlsError> {
    let der = CertificateDer::from_pem_slice(pem.as_bytes())
        .map_err(|e| TlsError::Pem(format!("no certificate: {e}")))?;
    Ok(ledger_protocol::fingerprint::format(&ledger_protocol::fingerprint::of_der(&der)))
}

fn read(path: &Path) -> Result<String, TlsError> {
    std::fs::read_to_string(path).map_err(|source| TlsError::Io { path: path.to_owned(), source })
}

fn write(path: &Path, text: &str) -> Result<(), TlsError> {
    private::write_file(path, text.as_bytes())
        .map_err(|source| TlsError::Io { path: path.to_owned(), source })
}

/// What `tls init` did.
#[derive(Debug, Clone)]
pub struct Initialised {
    /// The CA's fingerprint.
    pub fingerprint: String,
    /// Whether an existing CA was kept (only the server certificate is new).
    pub kept_ca: bool,
}

/// `ledger-hub tls init`: makes the county CA unless one is there, then a server certificate for
/// `hosts` signed by it, and writes the files. Keeping an existing CA means offices that trust it
/// need nothing when the server certificate is renewed or its host list changes.
pub fn init(
    files: &TlsFiles,
    name: &str,
    hosts: &[String],
    today: NaiveDate,
) -> Result<Initialised, TlsError> {
    private::create_dir(&files.dir)
        .map_err(|source| TlsError::Io { path: files.dir.clone(), source })?;
    let kept_ca = files.ca_cert().is_file() && files.ca_key().is_file();
    let pki = if kept_ca {
        renew_server(&read(&files.ca_cert())?, &read(&files.ca_key())?, hosts, today)?
    } else {
        make_county_pki(name, hosts, today)?
    };
    if !kept_ca {
        write(&files.ca_key(), &pki.ca_key_pem)?;
        write(&files.ca_cert(), &pki.ca_pem)?;
    }
    write(&files.key(), &pki.key_pem)?;
    write(&files.chain(), &pki.chain_pem)?;
    Ok(Initialised { fingerprint: pki.fingerprint()?, kept_ca })
}

/// The CA fingerprint to print beside enrollment tokens, when `tls init` made one here.
pub fn county_fingerprint(data_dir: &Path) -> Option<String> {
    let files = TlsFiles::under(data_dir);
    let pem = std::fs::read_to_string(files.ca_cert()).ok()?;
    ca_fingerprint(&pem).ok()
}

/// A rustls server configuration from a PEM chain (server first) and key.
pub fn server_config(chain_pem: &[u8], key_pem: &[u8]) -> Result<Arc<ServerConfig>, TlsError> {
    let chain = CertificateDer::pem_slice_iter(chain_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem(format!("bad certificate: {e}")))?;
    if chain.is_empty() {
        return Err(TlsError::Pem("no certificate in the file".to_owned()));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|e| TlsError::Pem(format!("bad private key: {e}")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// [`server_config`] from files.
pub fn load_server_config(chain: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let read_bytes = |path: &Path| {
        std::fs::read(path).map_err(|source| TlsError::Io { path: path.to_owned(), source })
    };
    server_config(&read_bytes(chain)?, &read_bytes(key)?)
}

/// How long a client may take over the TLS handshake before the connection is dropped (a
/// half-open connection must not hold a task for ever).
const HANDSHAKE: Duration = Duration::from_secs(15);
/// How long requests in flight get at shutdown.
const DRAIN: Duration = Duration::from_secs(30);

/// Serves the hub over TLS on `listener` until `shutdown` resolves; requests in flight finish
/// first (up to 30 s). Each connection's handshake runs in its own task, so a slow or hostile
/// client delays nobody else.
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    state: Arc<HubState>,
    tls: Arc<ServerConfig>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let mut make = crate::router(state).into_make_service_with_connect_info::<SocketAddr>();
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let shutdown = std::pin::pin!(shutdown);
    let mut shutdown = shutdown;
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = tcp.set_nodelay(true);
        let service = match tower::Service::call(&mut make, peer).await {
            Ok(service) => service,
            Err(never) => match never {},
        };
        let acceptor = acceptor.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let stream = match tokio::time::timeout(HANDSHAKE, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                    return;
                }
            };
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(30))
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
            if let Err(e) = watcher.watch(conn).await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown()).await.is_err() {
        tracing::warn!("requests still in flight after 30 s; stopping anyway");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn init_makes_a_ca_once_and_renews_the_server_certificate_under_it() {
        let dir = tempfile::tempdir().unwrap();
        let files = TlsFiles::under(dir.path());
        let hosts = vec!["county-hub".to_owned(), "10.0.0.5".to_owned()];
        let first = init(&files, "某县", &hosts, day("2026-12-01")).unwrap();
        assert!(!first.kept_ca);
        let chain = std::fs::read_to_string(files.chain()).unwrap();
        assert_eq!(chain.matches("BEGIN CERTIFICATE").count(), 2, "the server sends its chain");
        assert!(server_config(chain.as_bytes(), &std::fs::read(files.key()).unwrap()).is_ok());
        let again = init(&files, "某县", &hosts, day("2027-01-01")).unwrap();
        assert!(again.kept_ca);
        assert_eq!(first.fingerprint, again.fingerprint, "offices keep trusting the same CA");
        assert_ne!(chain, std::fs::read_to_string(files.chain()).unwrap());
        assert_eq!(county_fingerprint(dir.path()), Some(first.fingerprint));
    }

    #[cfg(unix)]
    #[test]
    fn the_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let files = TlsFiles::under(dir.path());
        init(&files, "某县", &["localhost".to_owned()], day("2026-12-01")).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&files.dir), 0o700);
        for f in [files.ca_cert(), files.ca_key(), files.chain(), files.key()] {
            assert_eq!(mode(&f), 0o600, "{}", f.display());
        }
    }

    #[test]
    fn a_mismatched_key_or_garbage_is_refused() {
        let a = make_county_pki("甲", &["localhost".to_owned()], day("2026-12-01")).unwrap();
        let b = make_county_pki("乙", &["localhost".to_owned()], day("2026-12-01")).unwrap();
        assert!(server_config(a.chain_pem.as_bytes(), b.key_pem.as_bytes()).is_err());
        assert!(server_config(b"not pem", a.key_pem.as_bytes()).is_err());
        assert!(server_config(a.chain_pem.as_bytes(), b"").is_err());
        assert!(
            make_county_pki("丙", &["not a host name!".to_owned()], day("2026-12-01")).is_err()
        );
    }
}
