//! `HubClient`: the hub's HTTP API over reqwest, with timeouts so a black-holed link fails
//! instead of hanging, and errors sorted into "try again later" and "needs a person".

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ledger_protocol::{
    CONTENT_TYPE, EnrollRequest, EnrollResponse, ErrorBody, Refused, RepairRequest, RepairResponse,
    RepairSync, RepairSyncResponse, SyncRequest, SyncResponse, decode, encode,
};
use reqwest::StatusCode;

use crate::tls::{self, HubTrust, Learned, TlsProblem};

/// Why an exchange with the hub failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ClientError {
    /// No connection to the hub could be made (refused, unroutable): nothing is listening, so
    /// retrying at once cannot help.
    #[error("cannot connect to the hub: {0}")]
    Unreachable(String),
    /// The connection broke during an exchange.
    #[error("cannot reach the hub: {0}")]
    Offline(String),
    /// The hub did not answer in time.
    #[error("the hub did not answer in time")]
    Timeout,
    /// The credential is invalid or the device revoked.
    #[error("{0}")]
    Unauthorized(String),
    /// Some changes were refused; nothing of the batch was stored.
    #[error("{} changes refused by the hub", .0.len())]
    Refused(Vec<Refused>),
    /// The body was too large for the hub.
    #[error("the request was too large for the hub")]
    TooLarge,
    /// The hub does not speak this protocol version.
    #[error("protocol version not supported by the hub (it speaks {0:?})")]
    UnsupportedVersion(Vec<u16>),
    /// The hub could not read the request.
    #[error("the hub could not read the request: {0}")]
    BadRequest(String),
    /// The hub failed.
    #[error("hub error {0}: {1}")]
    Server(u16, String),
    /// The hub's answer could not be read.
    #[error("the hub's answer could not be read: {0}")]
    Decode(String),
    /// The request could not be written.
    #[error("the request could not be written: {0}")]
    Encode(String),
    /// The office's place in the hub's log does not read back; a restart of the sync from
    /// the beginning is the way back.
    #[error("sync position damaged: {0}")]
    SyncPositionDamaged(String),
    /// The office failed to build or apply a step.
    #[error("local store: {0}")]
    Local(String),
    /// This office is not enrolled with a hub.
    #[error("this office is not enrolled with a hub")]
    NotEnrolled,
    /// The hub's certificate was refused (a wrong CA, an expired certificate, another name),
    /// or the other side does not speak TLS: a person has to act.
    #[error("the hub's certificate was refused ({})", .0.code())]
    Tls(TlsProblem),
}

impl ClientError {
    /// A stable code the UI words in Chinese.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unreachable(_) | Self::Offline(_) => "offline",
            Self::Timeout => "timeout",
            Self::Unauthorized(_) => "unauthorized",
            Self::Refused(_) => "refused",
            Self::TooLarge => "too_large",
            Self::UnsupportedVersion(_) => "unsupported_version",
            Self::BadRequest(_) => "bad_request",
            Self::Server(..) => "server_error",
            Self::Decode(_) => "bad_response",
            Self::Local(_) | Self::Encode(_) => "local_error",
            Self::SyncPositionDamaged(_) => "sync_position_damaged",
            Self::NotEnrolled => "not_enrolled",
            Self::Tls(problem) => problem.code(),
        }
    }

    /// Whether the hub was not reached at all, or stopped answering: the office is 离线.
    pub fn is_offline(&self) -> bool {
        matches!(self, Self::Unreachable(_) | Self::Offline(_) | Self::Timeout)
    }

    /// Whether trying again later can help (a broken link, a busy hub).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Unreachable(_)
                | Self::Offline(_)
                | Self::Timeout
                | Self::Server(..)
                | Self::Decode(_)
                | Self::TooLarge
        )
    }
}

/// What went over the wire through this client (bodies only; HTTP headers are not visible here).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Traffic {
    /// Exchanges that completed.
    pub exchanges: u64,
    /// Exchanges that failed on the way (a broken link, a timeout).
    pub failed: u64,
    /// Request body bytes of the completed exchanges.
    pub body_up: u64,
    /// Response body bytes of the completed exchanges.
    pub body_down: u64,
}

#[derive(Debug, Default)]
struct Counters {
    exchanges: AtomicU64,
    failed: AtomicU64,
    body_up: AtomicU64,
    body_down: AtomicU64,
}

/// The hub's HTTP API.
#[derive(Debug, Clone)]
pub struct HubClient {
    http: reqwest::Client,
    counters: Arc<Counters>,
    learned: Learned,
}

impl HubClient {
    /// A client whose requests give up after `timeout` (connecting, or waiting for an answer),
    /// and that accepts the hub's certificate when `trust` does.
    pub fn new(timeout: Duration, trust: &HubTrust) -> Result<Self, ClientError> {
        let (tls, learned) = tls::client_config(trust)?;
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .no_proxy()
            .user_agent(concat!("petition-ledger/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Local(e.to_string()))?;
        Ok(Self { http, counters: Arc::new(Counters::default()), learned })
    }

    /// The county CA (PEM) a pinned fingerprint matched in the hub's chain, once a connection
    /// found it: the office keeps it, so later connections trust it as if given as a file.
    pub fn learned_ca(&self) -> Option<String> {
        let learned = self.learned.lock().unwrap_or_else(|p| p.into_inner());
        learned.as_ref().map(tls::to_pem)
    }

    /// What this client (and its clones) moved so far.
    pub fn traffic(&self) -> Traffic {
        let c = &self.counters;
        Traffic {
            exchanges: c.exchanges.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
            body_up: c.body_up.load(Ordering::Relaxed),
            body_down: c.body_down.load(Ordering::Relaxed),
        }
    }

    fn url(hub: &str, path: &str) -> String {
        format!("{}{path}", hub.trim_end_matches('/'))
    }

    fn transport(e: &reqwest::Error) -> ClientError {
        if let Some(problem) = TlsProblem::find(e) {
            ClientError::Tls(problem)
        } else if e.is_connect() {
            ClientError::Unreachable(e.to_string())
        } else if e.is_timeout() {
            ClientError::Timeout
        } else {
            ClientError::Offline(e.to_string())
        }
    }

    async fn error(response: reqwest::Response) -> ClientError {
        let status = response.status();
        // Not every failure has the hub's JSON body (a proxy's page): the status stands in.
        let body: Option<ErrorBody> = response.json().await.ok();
        let message =
            body.as_ref().map(|b| b.message.clone()).unwrap_or_else(|| status.to_string());
        match status {
            StatusCode::UNAUTHORIZED => ClientError::Unauthorized(message),
            StatusCode::FORBIDDEN => {
                ClientError::Refused(body.map(|b| b.refused).unwrap_or_default())
            }
            StatusCode::PAYLOAD_TOO_LARGE => ClientError::TooLarge,
            StatusCode::CONFLICT => ClientError::UnsupportedVersion(
                body.map(|b| b.supported_versions).unwrap_or_default(),
            ),
            StatusCode::BAD_REQUEST => ClientError::BadRequest(message),
            s => ClientError::Server(s.as_u16(), message),
        }
    }

    /// Trades a token for this device's credential.
    pub async fn enroll(
        &self,
        hub: &str,
        req: &EnrollRequest,
    ) -> Result<EnrollResponse, ClientError> {
        let response = self
            .http
            .post(Self::url(hub, "/v1/enroll"))
            .json(req)
            .send()
            .await
            .map_err(|e| Self::transport(&e))?;
        if !response.status().is_success() {
            return Err(Self::error(response).await);
        }
        response.json().await.map_err(|e| ClientError::Decode(e.to_string()))
    }

    /// One exchange.
    pub async fn sync(
        &self,
        hub: &str,
        credential: &str,
        req: &SyncRequest,
    ) -> Result<SyncResponse, ClientError> {
        let body = encode(req).map_err(|e| ClientError::Encode(e.to_string()))?;
        let up = body.len() as u64;
        let result = async {
            let response = self
                .http
                .post(Self::url(hub, "/v1/sync"))
                .bearer_auth(credential)
                .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
                .body(body)
                .send()
                .await
                .map_err(|e| Self::transport(&e))?;
            if !response.status().is_success() {
                return Err(Self::error(response).await);
            }
            response.bytes().await.map_err(|e| Self::transport(&e))
        }
        .await;
        let c = &self.counters;
        match &result {
            Ok(bytes) => {
                c.exchanges.fetch_add(1, Ordering::Relaxed);
                c.body_up.fetch_add(up, Ordering::Relaxed);
                c.body_down.fetch_add(bytes.len() as u64, Ordering::Relaxed);
            }
            Err(e) if e.is_transient() => {
                c.failed.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => {
                c.exchanges.fetch_add(1, Ordering::Relaxed);
                c.body_up.fetch_add(up, Ordering::Relaxed);
            }
        }
        decode(&result?).map_err(|e| ClientError::Decode(e.to_string()))
    }

    async fn binary<Q: serde::Serialize, R: for<'de> serde::Deserialize<'de>>(
        &self,
        hub: &str,
        credential: &str,
        path: &str,
        req: &Q,
    ) -> Result<R, ClientError> {
        let response = self
            .http
            .post(Self::url(hub, path))
            .bearer_auth(credential)
            .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
            .body(encode(req).map_err(|e| ClientError::Encode(e.to_string()))?)
            .send()
            .await
            .map_err(|e| Self::transport(&e))?;
        if !response.status().is_success() {
            return Err(Self::error(response).await);
        }
        let bytes = response.bytes().await.map_err(|e| Self::transport(&e))?;
        decode(&bytes).map_err(|e| ClientError::Decode(e.to_string()))
    }

    /// Repair step one: which documents differ.
    pub async fn repair_digests(
        &self,
        hub: &str,
        credential: &str,
        req: &RepairRequest,
    ) -> Result<RepairResponse, ClientError> {
        self.binary(hub, credential, "/v1/repair/digests", req).await
    }

    /// Repair step two: one sync-protocol message for one document.
    pub async fn repair_sync(
        &self,
        hub: &str,
        credential: &str,
        req: &RepairSync,
    ) -> Result<RepairSyncResponse, ClientError> {
        self.binary(hub, credential, "/v1/repair/sync", req).await
    }

    /// The open matters of the same petitioners elsewhere in the county (`/v1/repeat`).
    pub async fn repeat(
        &self,
        hub: &str,
        credential: &str,
        query: &ledger_protocol::RepeatQuery,
    ) -> Result<ledger_protocol::RepeatAnswer, ClientError> {
        self.binary(hub, credential, "/v1/repeat", query).await
    }

    /// Whether the hub answers at all (`/v1/health`, a few hundred bytes), within `within`.
    pub async fn health(&self, hub: &str, within: Duration) -> Result<(), ClientError> {
        let response = self
            .http
            .get(Self::url(hub, "/v1/health"))
            .timeout(within)
            .send()
            .await
            .map_err(|e| Self::transport(&e))?;
        if !response.status().is_success() {
            return Err(Self::error(response).await);
        }
        Ok(())
    }

    /// A JSON view for the bureau (`/v1/offices`, `/v1/stats?year=`).
    pub async fn get_json(
        &self,
        hub: &str,
        credential: &str,
        path: &str,
    ) -> Result<serde_json::Value, ClientError> {
        let response = self
            .http
            .get(Self::url(hub, path))
            .bearer_auth(credential)
            .send()
            .await
            .map_err(|e| Self::transport(&e))?;
        if !response.status().is_success() {
            return Err(Self::error(response).await);
        }
        response.json().await.map_err(|e| ClientError::Decode(e.to_string()))
    }
}
