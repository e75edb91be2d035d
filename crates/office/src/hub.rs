//! Which hub the office syncs with and how it trusts it: enrollment (one token traded for this
//! device's credential), the county CA kept beside the address, the move from `http://` to
//! `https://` without enrolling again, and the warning an office on plain HTTP shows. The CLI
//! and the desktop app both enroll through [`Office::enroll`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use ledger_client::{HubClient, HubLink, HubTrust, check_hub_url};
use ledger_protocol::EnrollRequest;

use crate::error::{OfficeError, Result};
use crate::sync::{Admission, HUB, HUB_CA, PLAIN_HTTP};
use crate::{Clock, Office, Opened, Unlock};

/// How an office reaches its hub, as a person gives it at enrollment or when the hub moves.
#[derive(Debug, Clone, Default)]
pub struct HubAddress {
    /// `https://host:port` (or `http://` to this machine, or with `allow_plain`).
    pub url: String,
    /// The county CA's certificate (PEM), when given as text.
    pub ca_pem: Option<String>,
    /// A file holding the county CA's certificate (PEM), read when `ca_pem` is not given.
    pub ca_file: Option<PathBuf>,
    /// The county CA's fingerprint, as `ledger-hub` prints it, when pinned instead.
    pub fingerprint: Option<String>,
    /// A person chose plain HTTP to another machine; the office warns about it.
    pub allow_plain: bool,
}

impl HubAddress {
    /// The address without a trailing slash, and how it reaches the hub, checked against the
    /// plain-HTTP rule.
    fn checked_url(&self) -> Result<(String, HubLink)> {
        let url = self.url.trim().trim_end_matches('/').to_owned();
        let link = check_hub_url(&url, self.allow_plain)
            .map_err(|e| OfficeError::invalid("hub", "县局服务器地址", e.to_string()))?;
        Ok((url, link))
    }

    /// The county CA's certificate as given: the text, else the file's.
    fn ca(&self) -> Result<Option<String>> {
        match (&self.ca_pem, &self.ca_file) {
            (Some(pem), _) => Ok(Some(pem.clone())),
            (None, Some(path)) => std::fs::read_to_string(path).map(Some).map_err(|e| {
                OfficeError::invalid(
                    "ca",
                    "县局根证书",
                    format!("无法读取 {}：{e}", path.display()),
                )
            }),
            (None, None) => Ok(None),
        }
    }

    /// The trust this address asks for, and the CA certificate it was given.
    fn trust(&self) -> Result<(HubTrust, Option<String>)> {
        let ca = self.ca()?;
        let mut trust = match &ca {
            Some(pem) => HubTrust::with_ca_pem(pem)
                .map_err(|e| OfficeError::invalid("ca", "县局根证书", e.to_string()))?,
            None => HubTrust::system(),
        };
        if let Some(fp) = self.fingerprint.as_deref().filter(|f| !f.trim().is_empty()) {
            trust.pin = HubTrust::pinned(fp)
                .map_err(|e| OfficeError::invalid("fingerprint", "根证书指纹", e.to_string()))?
                .pin;
        }
        Ok((trust, ca))
    }
}

/// What the hub lists a device as when no name is given: the computer's host name.
fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.trim().is_empty())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "ledger".to_owned())
}

/// What enrollment needs besides the address.
#[derive(Debug, Clone, Default)]
pub struct Enrollment {
    /// The hub.
    pub hub: HubAddress,
    /// The one-time token from `ledger-hub office add/token`.
    pub token: String,
    /// This device's staff list.
    pub staff: Vec<String>,
    /// How the new store's key is protected; `None` makes a plain store (tests, benchmarks).
    pub unlock: Option<Unlock>,
    /// What the hub lists this device as; empty for this computer's host name.
    pub device_name: String,
}

impl Office {
    /// Trades `enrollment.token` for this device's credential and creates the store in `dir`,
    /// bound to the hub and trusting its CA. Nothing is written when the hub refuses.
    pub async fn enroll(dir: &Path, enrollment: &Enrollment, clock: Clock) -> Result<Opened> {
        if crate::ledger_store_exists(dir) {
            return Err(OfficeError::Refused(format!(
                "数据目录 {} 中已有台账，不能再次接入；如需重新接入县局，请换一个数据目录",
                dir.display()
            )));
        }
        let (url, _) = enrollment.hub.checked_url()?;
        if let Some(unlock) = &enrollment.unlock {
            unlock.check()?;
        }
        let token = enrollment.token.trim();
        if token.is_empty() {
            return Err(OfficeError::invalid("token", "接入令牌", "请填写县局给出的接入令牌"));
        }
        // Checked before the token is spent.
        let staff = crate::config::staff_names(&enrollment.staff)?;
        let (trust, ca) = enrollment.hub.trust()?;
        let client = HubClient::new(Duration::from_secs(30), &trust).map_err(OfficeError::Sync)?;
        let actor = Self::new_actor();
        let device_key = Self::new_device_key()?;
        let request = EnrollRequest {
            token: token.to_owned(),
            actor: actor.clone(),
            device_name: match enrollment.device_name.trim() {
                "" => host_name(),
                name => name.to_owned(),
            },
            public_key: device_key.public().to_hex(),
        };
        let enrolled = client.enroll(&url, &request).await.map_err(OfficeError::Sync)?;
        let sealed = enrolled.sealed.as_ref().ok_or_else(|| {
            OfficeError::Refused(
                "县局服务器版本过旧（不支持设备密钥）：请县局先升级服务器".to_owned(),
            )
        })?;
        let credential = device_key.open(sealed).map_err(|e| {
            OfficeError::Refused(format!("县局返回的接入凭据无法解开（{e}）：请重新接入"))
        })?;
        if ledger_protocol::keys::PublicKey::from_hex(&enrolled.hub_key).is_err() {
            return Err(OfficeError::Refused(
                "县局返回的服务器公钥有误：请联系县局技术人员".to_owned(),
            ));
        }
        let address = HubAddress {
            url,
            // The CA given, else the one the pin matched on the connection.
            ca_pem: ca.or_else(|| client.learned_ca()),
            ca_file: None,
            fingerprint: None,
            allow_plain: enrollment.hub.allow_plain,
        };
        let admission = Admission {
            actor: &actor,
            hub: &address,
            enrolled: &enrolled,
            credential: &credential,
            device_key: &device_key,
        };
        // The key slots are written before the store: nothing is ever encrypted under a key
        // that nothing holds.
        let (key, recovery) = match &enrollment.unlock {
            Some(unlock) => {
                let (key, recovery) = Self::new_vault(dir, unlock)?;
                (Some(key), recovery)
            }
            None => (None, None),
        };
        let office = Self::init_enrolled(dir, &admission, staff, key, clock)?;
        Ok(Opened { office, recovery })
    }

    /// The certificates this office trusts for its hub.
    pub fn hub_trust(&self) -> Result<HubTrust> {
        Ok(match self.store.meta(HUB_CA)? {
            Some(pem) => HubTrust::with_ca_pem(&pem).map_err(OfficeError::Sync)?,
            None => HubTrust::system(),
        })
    }

    /// A client for this office's hub whose requests give up after `timeout`, for tests and
    /// benchmarks that drive sync themselves (feature `test-support`): the adapters go through
    /// [`Office::start_sync`], [`Office::sync_once`] and the other sync methods.
    #[cfg(any(test, feature = "test-support"))]
    pub fn hub_client(&self, timeout: Duration) -> Result<HubClient> {
        self.client(timeout)
    }

    /// How the office reaches its hub; `None` when not enrolled. [`HubLink::Plain`] is shown as
    /// a warning by `ledger status` and the app.
    pub fn hub_link(&self) -> Result<Option<HubLink>> {
        let Some(url) = self.hub_url()? else { return Ok(None) };
        let allowed = self.store.meta(PLAIN_HTTP)?.as_deref() == Some("1");
        Ok(Some(check_hub_url(&url, allowed).unwrap_or(HubLink::Plain)))
    }

    /// Moves this office to another address of its hub (from `http://` to `https://`, or a new
    /// server address) without enrolling again: the hub is asked over the new address, with the
    /// new trust, before anything is changed; the credential and everything else stay.
    pub async fn set_hub(&self, address: &HubAddress) -> Result<HubLink> {
        if self.hub_url()?.is_none() {
            return Err(OfficeError::Refused(
                "本机尚未接入县局，没有可更改的地址：请先接入县局".to_owned(),
            ));
        }
        let (url, link) = address.checked_url()?;
        let (mut trust, given) = address.trust()?;
        if trust.ca_pem.is_none() && trust.pin.is_none() {
            // Same CA as before unless a new one is given.
            trust.ca_pem = self.store.meta(HUB_CA)?;
        }
        let client = HubClient::new(Duration::from_secs(15), &trust).map_err(OfficeError::Sync)?;
        client.health(&url, Duration::from_secs(15)).await.map_err(OfficeError::Sync)?;
        let ca = given.or_else(|| client.learned_ca()).or(trust.ca_pem);
        let plain = if link == HubLink::Plain { "1" } else { "0" };
        let mut pairs = vec![(HUB, url.as_str()), (PLAIN_HTTP, plain)];
        if let Some(ca) = &ca {
            pairs.push((HUB_CA, ca.as_str()));
        }
        self.store.set_meta(&pairs)?;
        tracing::info!(hub = %url, ?link, "hub address changed");
        Ok(link)
    }
}
