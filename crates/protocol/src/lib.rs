//! The wire contract between an office and the county hub (DESIGN §5).
//!
//! One exchange carries everything: `POST /v1/sync` with a [`SyncRequest`] (the office's outbox
//! batch, its pull cursor, evictions it confirms, blobs) answered by a [`SyncResponse`]
//! (acknowledgements and the next page of [`Record`]s: `change`, `enter`, `leave`, `blob`, with
//! the new cursor and whether more remain). Nothing new either way is one small round trip.
//!
//! Bodies are CBOR (field names on the wire, so fields can be added without breaking older
//! peers), compressed with zstd, behind a four-byte frame header naming the protocol version.
//! Decoding caps the decompressed size, so a compression bomb is refused like any oversized
//! body. Enrollment (`POST /v1/enroll`) and the bureau's read-only views are JSON. Beside sync,
//! binary like it: `POST /v1/repair/*` (comparing an office's documents with the hub's) and
//! `POST /v1/repeat` ([`RepeatQuery`]: at registration, a petitioner's open matters elsewhere in
//! the county, as the hub may tell the caller).
//!
//! Pure: no IO, no async.

pub mod backoff;
pub mod bundle;
pub mod fingerprint;
pub mod keys;
pub mod pass;
pub mod readahead;

use std::fmt;
use std::io::Read;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The protocol version this build speaks. Version 2 answers every change with its own
/// verdict inside a normal reply (`refused`), carries identities typed for restricted cases
/// outside Automerge history (`drops`), leases number blocks, and can send a document kind
/// leaving alone. Version 3 adds the county's rules document ([`DocKind::Rules`]), which a
/// version-2 office could not decode. Version 4 adds work records ([`DocKind::Work`]), which a
/// version-3 office could not decode. An older office is answered with a clear request to
/// upgrade.
pub const PROTOCOL_VERSION: u16 = 4;
/// Every version this build can serve.
pub const SUPPORTED_VERSIONS: &[u16] = &[4];
/// The content type of sync bodies.
pub const CONTENT_TYPE: &str = "application/x-ledger-sync";
/// The byte budget of an upload batch and of a page a pass starts from.
pub const DEFAULT_BATCH_BYTES: u32 = 256 * 1024;
/// The largest budget a client grows to while its exchanges come back quickly: a bootstrap
/// in 256 KiB pages took four times the exchanges (and fsyncs at both ends) for the same bytes.
/// The hub holds a batch's documents in memory while it judges them, so it stays modest.
pub const MAX_BATCH_BYTES: u32 = 1024 * 1024;
/// The smallest budget a client shrinks to after cuts: one change still always fits.
pub const MIN_BATCH_BYTES: u32 = 2 * 1024;
/// The largest body either side accepts, compressed or decompressed. Above the largest single
/// change an office can make (an 8 MiB attachment travels in chunks of at most a batch).
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// The largest attachment that travels with sync.
pub const MAX_BLOB_BYTES: u64 = 8 * 1024 * 1024;

const MAGIC: [u8; 2] = *b"LG";

/// Which document: a case's own, its petitioners' identities, or an office's staff roster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    /// The case document.
    Case,
    /// The identity document.
    Identity,
    /// 人员名单: an office's staff roster (its id is [`roster_id`] of the office code). The hub
    /// judges every event's 办理人 against it.
    Roster,
    /// 全县规则: the county's rules document (its id is [`rules_id`]): every office holds it,
    /// only the bureau adds to it.
    Rules,
    /// 工作记录: a work record (政策咨询, 宣传与培训, 矛盾纠纷排查) owned by one office; that
    /// office and the bureau hold it.
    Work,
}

/// The most entries of each list a request may carry (`evicted`, `want_whole`, `drops`, wants
/// and offers); a request over it is refused whole as malformed.
pub const MAX_LIST: usize = 256;
/// The most changes one request may carry.
pub const MAX_CHANGES: usize = 4096;

/// The document id of an office's staff roster: a UUIDv5 of its code, so every device of the
/// office and the hub name the same document without asking.
pub fn roster_id(office: &str) -> Uuid {
    const NAMESPACE: Uuid = Uuid::from_u128(0x6c65_6467_6572_2d72_6f73_7465_7200_0001);
    Uuid::new_v5(&NAMESPACE, office.as_bytes())
}

/// The document id of a new work record: `seed` (a fresh UUIDv7, so records sort by when they
/// were made) marked as version 8. The version alone tells a work record from a case (v7) or a
/// roster and the rules (v5), so no document can be sent as one kind under another's id.
pub fn work_id(seed: Uuid) -> Uuid {
    let mut bytes = *seed.as_bytes();
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    Uuid::from_bytes(bytes)
}

/// Whether `id` is a work record's ([`work_id`]).
pub fn is_work_id(id: &Uuid) -> bool {
    id.get_version_num() == 8
}

/// The document id of the county's rules document: a UUIDv5 every device and the hub derive.
pub fn rules_id() -> Uuid {
    const NAMESPACE: Uuid = Uuid::from_u128(0x6c65_6467_6572_2d72_756c_6573_0000_0001);
    Uuid::new_v5(&NAMESPACE, b"county-rules")
}

/// An Automerge change hash (SHA-256 of the change).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Hash(#[serde(with = "serde_bytes")] pub [u8; 32]);

impl Hash {
    /// Parses 64 hex digits.
    pub fn from_hex(text: &str) -> Option<Self> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(text, &mut out).ok()?;
        Some(Self(out))
    }

    /// 64 hex digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", &self.to_hex()[..12])
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// Where an office is in the hub log. Opaque to the office: it stores it and sends it back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The hub log sequence number the office has durably applied.
    pub seq: u64,
    /// Set while a fresh office is receiving its initial `enter` records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootstrap: Option<Bootstrap>,
    /// Set while a document too large for one page is arriving in chunks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial: Option<Partial>,
}

/// Progress of a fresh office's initial download: every case in scope as of `head`, by id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bootstrap {
    /// The log position the snapshot is taken at; normal paging resumes after it.
    pub head: u64,
    /// The last (case, kind) sent.
    pub after: Option<(Uuid, DocKind)>,
}

/// Progress through one document sent in chunks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partial {
    /// The case.
    pub case_id: Uuid,
    /// Which document.
    pub kind: DocKind,
    /// The heads the chunks are cut from, so every chunk is of the same saved bytes.
    pub heads: Vec<Hash>,
    /// Bytes already sent.
    pub offset: u64,
}

/// One local change going up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpChange {
    /// The case.
    pub case_id: Uuid,
    /// Which document.
    pub kind: DocKind,
    /// The change hash.
    pub hash: Hash,
    /// The change bytes.
    #[serde(with = "serde_bytes")]
    pub bytes: Vec<u8>,
}

/// A piece of an attachment, either way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobChunk {
    /// BLAKE3 of the whole content, hex.
    pub hash: String,
    /// Where this piece starts.
    pub offset: u64,
    /// The whole content's size.
    pub total: u64,
    /// The piece.
    #[serde(with = "serde_bytes")]
    pub bytes: Vec<u8>,
}

/// An attachment wanted from `offset` on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobWant {
    /// BLAKE3, hex.
    pub hash: String,
    /// Bytes already held.
    pub offset: u64,
}

/// The office's half of the exchange.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SyncRequest {
    /// Where the office is in the hub log.
    pub cursor: Cursor,
    /// Outbox changes, oldest first, within the batch budget.
    pub changes: Vec<UpChange>,
    /// The page budget the office can take in bytes (it shrinks after cuts).
    pub page_bytes: u32,
    /// Cases to send whole (missing dependencies after a page).
    pub want_whole: Vec<Uuid>,
    /// Cases the office has deleted after a `leave`.
    pub evicted: Vec<Uuid>,
    /// Attachments the office holds for its outbox changes (the hub says which it lacks).
    pub blob_offers: Vec<String>,
    /// Attachment pieces the hub asked for.
    pub blobs: Vec<BlobChunk>,
    /// Attachments the office needs for its cases.
    pub want_blobs: Vec<BlobWant>,
    /// The office's clock, for the skew it is shown.
    pub device_time: i64,
    /// Changes still waiting in the outbox after this batch (for the county's view).
    pub pending: u64,
    /// The last error the office met, for the county's view.
    pub last_error: Option<String>,
    /// The device's current Automerge actor (hex). A restore from backup mints a new one; the
    /// hub records it for the device so its changes are recognised.
    pub actor: Option<String>,
    /// Identities typed here for cases whose identity this office may not hold (检举控告,
    /// confidential): they go to the bureau outside the case's Automerge history, and are
    /// deleted here once acknowledged.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub drops: Vec<IdentityDrop>,
    /// Number series this device wants a (new) block of.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub want_leases: Vec<LeaseWant>,
    /// The version of the county directory this office holds (the hub sends it when it differs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub directory_version: Option<String>,
    /// The device's Ed25519 public key (hex), sent by a device enrolled before device keys
    /// until the hub has confirmed it (a registered key is never replaced).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_key: Option<String>,
}

/// 县局名录: the county's offices, with their names and townships, and the county's full list of
/// townships, enrolled or not. The hub alone writes it; every office keeps the copy it last
/// received, so names and the townships a case may go to are known offline.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Directory {
    /// A digest of the content: an office sends it back, and gets the directory again only when
    /// it changed.
    pub version: String,
    /// Every office, bureau first.
    pub offices: Vec<DirectoryOffice>,
    /// The county's townships (乡镇), in the county's order.
    pub townships: Vec<String>,
    /// Whether the county set its full list of townships (`ledger-hub township set`); if not,
    /// `townships` holds only those some office answers for, and others are not refused.
    pub complete: bool,
}

/// One office of the directory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DirectoryOffice {
    /// 单位代码.
    pub code: String,
    /// 单位名称 (黄桥镇国土所).
    pub name: String,
    /// `township` or `bureau`.
    pub role: String,
    /// The townships it answers for.
    pub townships: Vec<String>,
}

impl Directory {
    /// Builds a directory and stamps its version.
    pub fn new(offices: Vec<DirectoryOffice>, townships: Vec<String>, complete: bool) -> Self {
        // Every field, length-prefixed, so no two directories hash alike by shifting text
        // between neighbouring fields.
        let mut h = blake3::Hasher::new();
        let mut text = |s: &str| {
            h.update(&(s.len() as u64).to_le_bytes());
            h.update(s.as_bytes());
        };
        for o in &offices {
            for field in [&o.code, &o.name, &o.role] {
                text(field);
            }
            text(&o.townships.len().to_string());
            o.townships.iter().for_each(|t| text(t));
        }
        text(&townships.len().to_string());
        townships.iter().for_each(|t| text(t));
        text(if complete { "complete" } else { "partial" });
        let version = h.finalize().to_hex()[..16].to_owned();
        Self { version, offices, townships, complete }
    }

    /// The name of office `code`, if the directory knows it.
    pub fn office_name(&self, code: &str) -> Option<&str> {
        self.offices.iter().find(|o| o.code == code).map(|o| o.name.as_str())
    }

    /// The offices answering for `township`.
    pub fn offices_for(&self, township: &str) -> impl Iterator<Item = &DirectoryOffice> {
        self.offices.iter().filter(move |o| o.townships.iter().any(|t| t == township))
    }
}

/// 信访人身份投递: identities an office typed for a restricted case, carried to the hub outside
/// the case's Automerge history. The hub merges them into the identity document (which only
/// the bureau receives) and acknowledges the drop by id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityDrop {
    /// The drop's id (UUIDv7), for acknowledgement; sending it twice merges once.
    pub id: Uuid,
    /// The case.
    pub case_id: Uuid,
    /// The persons, each keyed by the petitioner reference the case document holds.
    pub persons: Vec<DropPerson>,
}

/// One person of an [`IdentityDrop`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DropPerson {
    /// The petitioner reference's id in the case document.
    pub id: String,
    /// 姓名(名称).
    pub name: String,
    /// 证件类型 (code).
    pub id_type: String,
    /// 证件号码.
    pub id_number: String,
    /// 联系电话.
    pub phone: String,
    /// 住址.
    pub address: String,
}

/// A device asking for a block of a number series (official case numbers, document numbers),
/// so numbers stay unique across the office's devices and assignable offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseWant {
    /// The series (`official:2025`, `doc:acceptance_notice:2025`).
    pub series: String,
    /// The highest number this device has already issued in the series, if any (a store from
    /// before leases): the hub never leases below it.
    pub used: u64,
}

/// A block of numbers leased to one device: `start..=end`, its own for good.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// The series.
    pub series: String,
    /// The first number of the block.
    pub start: u64,
    /// The last number of the block.
    pub end: u64,
}

/// One record of a page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    /// One accepted change another device made.
    Change {
        /// Hub log position.
        seq: u64,
        /// The case.
        case_id: Uuid,
        /// Which document.
        kind: DocKind,
        /// When the hub received it (ms).
        received_at: i64,
        /// The change bytes.
        #[serde(with = "serde_bytes")]
        bytes: Vec<u8>,
    },
    /// A case entered the office's scope: the hub's saved document (or a piece of it).
    Enter {
        /// The case.
        case_id: Uuid,
        /// Which document.
        kind: DocKind,
        /// Where this piece starts in the saved bytes.
        offset: u64,
        /// The saved bytes' size.
        total: u64,
        /// The piece.
        #[serde(with = "serde_bytes")]
        bytes: Vec<u8>,
    },
    /// The case left the office's scope: upload pending changes, show it read-only, then delete
    /// it and confirm in `evicted`. With `kind`, only that document leaves (an identity
    /// document once the case is restricted); it is deleted at once.
    Leave {
        /// The case.
        case_id: Uuid,
        /// Only this document of the case.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kind: Option<DocKind>,
    },
    /// An attachment piece.
    Blob(BlobChunk),
}

/// The hub's half of the exchange.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SyncResponse {
    /// Changes now stored at the hub (new or already known): drop them from the outbox.
    pub acked: Vec<Hash>,
    /// The page.
    pub records: Vec<Record>,
    /// The cursor after this page, to store once the page is durably applied.
    pub cursor: Cursor,
    /// Whether another page is waiting.
    pub more: bool,
    /// The hub's clock (ms).
    pub hub_time: i64,
    /// Attachments the hub lacks, from the given offset.
    pub need_blobs: Vec<BlobWant>,
    /// Changes of the request the hub refused, each alone with its reason (and every later
    /// change of the request to the same document with it). The office quarantines them; the
    /// rest of the batch was handled as usual.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<Refused>,
    /// Identity drops now merged at the hub: delete them here.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub acked_drops: Vec<Uuid>,
    /// Drops the hub refused, with why (they stay here, shown to the user).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub refused_drops: Vec<(Uuid, String)>,
    /// Number blocks leased to this device.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub leases: Vec<Lease>,
    /// Cases asked for whole that did not fit this page: ask again.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deferred_whole: Vec<Uuid>,
    /// The county directory, when the office's copy is missing or out of date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub directory: Option<Directory>,
    /// The hub's Ed25519 public key (hex), sent with the answer to a request that registered a
    /// device key: return bundles are checked with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hub_key: Option<String>,
}

/// A change the hub refused, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refused {
    /// The change.
    pub hash: String,
    /// The case.
    pub case_id: Uuid,
    /// Why, in Chinese.
    pub reason: String,
    /// The rule that refused it (`structure`, `authorship`, `restriction` ...), stable for
    /// counting; empty from older hubs.
    #[serde(default)]
    pub rule: String,
}

/// The body of every non-2xx answer (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// A stable code: `bad_request`, `unauthorized`, `forbidden`, `too_large`, `unsupported_version`.
    pub code: String,
    /// What happened, in Chinese.
    pub message: String,
    /// For `forbidden`: every offending change.
    #[serde(default)]
    pub refused: Vec<Refused>,
    /// For `unsupported_version`: what the hub speaks.
    #[serde(default)]
    pub supported_versions: Vec<u16>,
}

/// Enrollment: a device trades a one-time token for its own credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollRequest {
    /// The token from `ledger-hub office add` or `office token`.
    pub token: String,
    /// The device's Automerge actor, hex.
    pub actor: String,
    /// A name for the device (host name).
    pub device_name: String,
    /// The device's Ed25519 public key (hex); the private half never leaves the device.
    #[serde(default)]
    pub public_key: String,
}

/// What an enrolled device learns about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollResponse {
    /// 单位代码.
    pub office: String,
    /// 单位名称.
    pub name: String,
    /// `township` or `bureau`.
    pub role: String,
    /// The townships the office answers for.
    pub townships: Vec<String>,
    /// The device's id at the hub.
    pub device_id: String,
    /// The device's letter in case numbers.
    pub device_letter: String,
    /// Empty: the credential travels in [`EnrollResponse::sealed`] (kept so that the JSON shape
    /// stays readable to older tools).
    #[serde(default)]
    pub credential: String,
    /// The device's credential (a bearer token; the hub keeps only its hash), sealed to the
    /// device's public key.
    #[serde(default)]
    pub sealed: Option<keys::Sealed>,
    /// The hub's Ed25519 public key (hex): return bundles are checked with it.
    #[serde(default)]
    pub hub_key: String,
    /// The office's staff roster as the hub holds it (a saved Automerge document), so the
    /// device can add its staff before its first upload: the hub judges every event's 办理人
    /// against it.
    #[serde(default)]
    pub roster: Vec<u8>,
    /// The county directory, so names and townships are known from the start.
    #[serde(default)]
    pub directory: Option<Directory>,
}

/// A document's state, for repair: the BLAKE3 of its sorted heads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocDigest {
    /// The case.
    pub case_id: Uuid,
    /// Which document.
    pub kind: DocKind,
    /// BLAKE3 of the sorted heads.
    pub heads: Hash,
}

/// The digest of a set of heads.
pub fn heads_digest(heads: &[Hash]) -> Hash {
    let mut sorted: Vec<&Hash> = heads.iter().collect();
    sorted.sort();
    let mut h = blake3::Hasher::new();
    for head in sorted {
        h.update(&head.0);
    }
    Hash(*h.finalize().as_bytes())
}

/// The most ID numbers one repeat query asks about (a registration's petitioners).
pub const MAX_REPEAT_IDS: usize = 10;
/// The largest repeat query, on the wire and decompressed: ten numbers fit many times over.
pub const MAX_REPEAT_BYTES: usize = 4 * 1024;

/// `POST /v1/repeat`: at registration, whether the petitioners (by ID number) have an open
/// matter elsewhere in the county (重复信访提示). The hub compares the numbers as hashes keyed
/// with its own secret, tells a township only of unrestricted matters, never of an informant's,
/// rate-limits and logs every query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RepeatQuery {
    /// The petitioners' ID numbers as typed (at most [`MAX_REPEAT_IDS`]).
    pub id_numbers: Vec<String>,
}

/// An ID number as a repeat query compares it: spaces dropped, upper case; `None` when it
/// cannot be an ID number (6 to 32 letters and digits), so nothing else is sent or hashed.
pub fn normalize_id_number(raw: &str) -> Option<String> {
    let id: String = raw.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase();
    ((6..=32).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric())).then_some(id)
}

/// The open matters the caller may be told of.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RepeatAnswer {
    /// One row per matter, most recently received first.
    pub matters: Vec<RepeatMatter>,
}

/// One open matter of the same petitioner elsewhere in the county.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RepeatMatter {
    /// 案件编号.
    pub number: String,
    /// The office that registered it.
    pub registered_by: String,
    /// 所属乡镇.
    pub township: Option<String>,
    /// 办理状态 (its code).
    pub status: String,
    /// 信访日期 (ISO date).
    pub received: Option<String>,
}

/// `POST /v1/repair/digests`: the office's digests of one range of its documents.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RepairRequest {
    /// Documents after this one, in (case, kind) order, were compared before.
    pub after: Option<(Uuid, DocKind)>,
    /// The digests of the next documents, in order.
    pub digests: Vec<DocDigest>,
    /// Whether these are the office's last documents.
    pub last: bool,
}

/// Which documents differ from the hub's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RepairResponse {
    /// Documents both hold, with different heads: run the sync protocol on them.
    pub differ: Vec<(Uuid, DocKind)>,
    /// Documents the office may hold but does not: fetch them whole.
    pub missing: Vec<(Uuid, DocKind)>,
}

/// `POST /v1/repair/sync`: one message of Automerge's sync protocol for one document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepairSync {
    /// The case.
    pub case_id: Uuid,
    /// Which document.
    pub kind: DocKind,
    /// The office's encoded sync message.
    #[serde(with = "serde_bytes")]
    pub message: Vec<u8>,
}

/// The hub's answer: its next sync message, if it has anything to say.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RepairSyncResponse {
    /// The hub's encoded sync message.
    #[serde(with = "serde_bytes")]
    pub message: Option<Vec<u8>>,
}

/// The hash the hub keeps of a token or credential, and the key bundles are signed with: BLAKE3
/// of the secret with case, spaces and dashes ignored.
pub fn secret_hash(secret: &str) -> [u8; 32] {
    let normal: String = secret
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    *blake3::hash(normal.as_bytes()).as_bytes()
}

/// Why a body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Too short, or not a sync frame.
    #[error("not a sync message")]
    Frame,
    /// A protocol version this build does not speak.
    #[error("protocol version {0} is not supported")]
    Version(u16),
    /// Larger than [`MAX_BODY_BYTES`] (before or after decompression).
    #[error("body larger than {MAX_BODY_BYTES} bytes")]
    TooLarge,
    /// The compressed data is corrupt.
    #[error("corrupt compression: {0}")]
    Compression(String),
    /// The CBOR does not describe the message.
    #[error("malformed message: {0}")]
    Malformed(String),
}

/// Why a message could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The message does not serialise as CBOR.
    #[error("message could not be serialised: {0}")]
    Cbor(String),
    /// The compressor failed.
    #[error("message could not be compressed: {0}")]
    Compression(String),
}

/// Frames, encodes and compresses a message.
pub fn encode<T: Serialize>(message: &T) -> Result<Vec<u8>, EncodeError> {
    let mut cbor = Vec::new();
    ciborium::into_writer(message, &mut cbor).map_err(|e| EncodeError::Cbor(e.to_string()))?;
    let compressed =
        zstd::bulk::compress(&cbor, 3).map_err(|e| EncodeError::Compression(e.to_string()))?;
    let mut out = Vec::with_capacity(compressed.len() + 4);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&PROTOCOL_VERSION.to_be_bytes());
    out.extend_from_slice(&compressed);
    Ok(out)
}

/// The protocol version a framed body claims.
pub fn frame_version(body: &[u8]) -> Result<u16, DecodeError> {
    if body.len() < 4 || body[..2] != MAGIC {
        return Err(DecodeError::Frame);
    }
    Ok(u16::from_be_bytes([body[2], body[3]]))
}

/// Reads a framed message, refusing unsupported versions and anything that would decompress
/// beyond [`MAX_BODY_BYTES`].
pub fn decode<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, DecodeError> {
    decode_within(body, MAX_BODY_BYTES)
}

/// [`decode`] for a message that is never large (a repeat query): `limit` bounds the body and
/// what it decompresses to, so a few compressed bytes cannot become megabytes of strings.
pub fn decode_within<T: for<'de> Deserialize<'de>>(
    body: &[u8],
    limit: usize,
) -> Result<T, DecodeError> {
    let limit = limit.min(MAX_BODY_BYTES);
    if body.len() > limit {
        return Err(DecodeError::TooLarge);
    }
    let version = frame_version(body)?;
    if !SUPPORTED_VERSIONS.contains(&version) {
        return Err(DecodeError::Version(version));
    }
    let decoder = zstd::stream::read::Decoder::new(&body[4..])
        .map_err(|e| DecodeError::Compression(e.to_string()))?;
    let mut cbor = Vec::new();
    decoder
        .take(limit as u64 + 1)
        .read_to_end(&mut cbor)
        .map_err(|e| DecodeError::Compression(e.to_string()))?;
    if cbor.len() > limit {
        return Err(DecodeError::TooLarge);
    }
    ciborium::from_reader(cbor.as_slice()).map_err(|e| DecodeError::Malformed(e.to_string()))
}

/// The approximate wire size of a record, for page budgets.
pub fn record_size(record: &Record) -> usize {
    match record {
        Record::Change { bytes, .. } | Record::Enter { bytes, .. } => bytes.len() + 48,
        Record::Leave { .. } => 24,
        Record::Blob(chunk) => chunk.bytes.len() + 80,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SyncRequest {
        SyncRequest {
            cursor: Cursor {
                seq: 42,
                bootstrap: Some(Bootstrap {
                    head: 99,
                    after: Some((Uuid::from_u128(7), DocKind::Case)),
                }),
                partial: None,
            },
            changes: vec![UpChange {
                case_id: Uuid::from_u128(1),
                kind: DocKind::Identity,
                hash: Hash([7; 32]),
                bytes: vec![1, 2, 3],
            }],
            page_bytes: DEFAULT_BATCH_BYTES,
            device_time: 1_700_000_000_000,
            ..Default::default()
        }
    }

    #[test]
    fn messages_round_trip() {
        let req = sample();
        assert_eq!(decode::<SyncRequest>(&encode(&req).unwrap()).unwrap(), req);
        let resp = SyncResponse {
            acked: vec![Hash([1; 32])],
            records: vec![
                Record::Change {
                    seq: 5,
                    case_id: Uuid::from_u128(2),
                    kind: DocKind::Case,
                    received_at: 9,
                    bytes: vec![9; 10],
                },
                Record::Enter {
                    case_id: Uuid::from_u128(3),
                    kind: DocKind::Case,
                    offset: 0,
                    total: 3,
                    bytes: vec![1, 2, 3],
                },
                Record::Leave { case_id: Uuid::from_u128(4), kind: None },
                Record::Leave { case_id: Uuid::from_u128(5), kind: Some(DocKind::Identity) },
                Record::Blob(BlobChunk {
                    hash: "ab".into(),
                    offset: 0,
                    total: 2,
                    bytes: vec![0, 1],
                }),
            ],
            cursor: Cursor { seq: 5, ..Default::default() },
            more: true,
            hub_time: 3,
            need_blobs: vec![BlobWant { hash: "cd".into(), offset: 10 }],
            refused: vec![Refused {
                hash: "ef".into(),
                case_id: Uuid::from_u128(6),
                reason: "不属于本单位".into(),
                rule: "scope".into(),
            }],
            acked_drops: vec![Uuid::from_u128(8)],
            refused_drops: vec![(Uuid::from_u128(9), "案件不存在".into())],
            leases: vec![Lease { series: "official:2025".into(), start: 21, end: 40 }],
            deferred_whole: vec![Uuid::from_u128(10)],
            directory: Some(Directory::new(
                vec![DirectoryOffice {
                    code: "hq".into(),
                    name: "黄桥镇国土所".into(),
                    role: "township".into(),
                    townships: vec!["黄桥镇".into()],
                }],
                vec!["黄桥镇".into()],
                true,
            )),
            hub_key: Some("ab".repeat(32)),
        };
        assert_eq!(decode::<SyncResponse>(&encode(&resp).unwrap()).unwrap(), resp);
    }

    #[test]
    fn an_empty_exchange_is_tiny() {
        let req = SyncRequest {
            page_bytes: DEFAULT_BATCH_BYTES,
            device_time: 1_764_000_000_000,
            ..Default::default()
        };
        let resp = SyncResponse {
            cursor: Cursor { seq: 123_456, ..Default::default() },
            hub_time: 1_764_000_000_000,
            ..Default::default()
        };
        assert!(encode(&req).unwrap().len() < 160, "{}", encode(&req).unwrap().len());
        assert!(encode(&resp).unwrap().len() < 120, "{}", encode(&resp).unwrap().len());
    }

    #[test]
    fn garbage_versions_and_bombs_are_refused() {
        assert_eq!(decode::<SyncRequest>(b"hello world"), Err(DecodeError::Frame));
        assert_eq!(decode::<SyncRequest>(b"LG"), Err(DecodeError::Frame));
        let mut other = encode(&sample()).unwrap();
        other[3] = 9;
        assert_eq!(decode::<SyncRequest>(&other), Err(DecodeError::Version(9)));
        // Older offices (before per-change verdicts; before the rules document, which they
        // could not decode) are told to upgrade, not served.
        for v in [1, 2] {
            let mut old = encode(&sample()).unwrap();
            old[3] = v;
            assert_eq!(decode::<SyncRequest>(&old), Err(DecodeError::Version(u16::from(v))));
        }
        let mut corrupt = encode(&sample()).unwrap();
        let n = corrupt.len();
        corrupt[n - 3] ^= 0xff;
        corrupt.truncate(n - 1);
        assert!(decode::<SyncRequest>(&corrupt).is_err());
        // 64 MiB of zeros compresses to a few KiB: refused after decompression.
        let zeros = vec![0u8; 64 * 1024 * 1024];
        let mut bomb = b"LG\x00\x04".to_vec();
        bomb.extend(zstd::bulk::compress(&zeros, 19).unwrap());
        assert!(bomb.len() < 64 * 1024);
        assert_eq!(decode::<SyncRequest>(&bomb), Err(DecodeError::TooLarge));
        // Valid compression of something that is not a request.
        let mut wrong = b"LG\x00\x04".to_vec();
        wrong.extend(zstd::bulk::compress(b"\xa1\x61x\x01", 3).unwrap());
        assert!(matches!(decode::<SyncRequest>(&wrong), Ok(_) | Err(DecodeError::Malformed(_))));
        let mut text = b"LG\x00\x04".to_vec();
        text.extend(zstd::bulk::compress(b"\xff\xff\xff", 3).unwrap());
        assert!(matches!(decode::<SyncRequest>(&text), Err(DecodeError::Malformed(_))));
    }

    #[test]
    fn newer_fields_are_ignored_and_missing_ones_default() {
        #[derive(Serialize)]
        struct Newer {
            cursor: Cursor,
            page_bytes: u32,
            priority_lane: u8,
        }
        let bytes =
            encode(&Newer { cursor: Cursor::default(), page_bytes: 10, priority_lane: 3 }).unwrap();
        let req: SyncRequest = decode(&bytes).unwrap();
        assert_eq!(req.page_bytes, 10);
        assert!(req.changes.is_empty());
    }

    #[test]
    fn roster_ids_are_stable_per_office() {
        assert_eq!(roster_id("hq"), roster_id("hq"));
        assert_ne!(roster_id("hq"), roster_id("county"));
        assert_eq!(roster_id("hq").get_version_num(), 5);
    }

    #[test]
    fn hashes_in_hex() {
        let h = Hash([0xab; 32]);
        assert_eq!(Hash::from_hex(&h.to_hex()), Some(h));
        assert_eq!(Hash::from_hex("zz"), None);
        // A sign is not a digit (u8::from_str_radix took "+a" as 10).
        assert_eq!(Hash::from_hex(&format!("+a{}", "0".repeat(62))), None);
        assert_eq!(Hash::from_hex(&"0".repeat(63)), None);
        assert_eq!(
            ErrorBody {
                code: "x".into(),
                message: "y".into(),
                refused: vec![],
                supported_versions: vec![4]
            }
            .code,
            "x"
        );
    }

    #[test]
    fn byte_fields_stay_cbor_byte_strings_and_old_arrays_still_read() {
        use ciborium::Value;
        let resp = RepairSyncResponse { message: Some(vec![1, 2, 3]) };
        let mut cbor = Vec::new();
        ciborium::into_writer(&resp, &mut cbor).unwrap();
        let value: Value = ciborium::from_reader(cbor.as_slice()).unwrap();
        let Value::Map(fields) = value else { panic!("not a map") };
        assert_eq!(fields[0].1, Value::Bytes(vec![1, 2, 3]));
        let hash = Hash([7; 32]);
        let mut cbor = Vec::new();
        ciborium::into_writer(&hash, &mut cbor).unwrap();
        let value: Value = ciborium::from_reader(cbor.as_slice()).unwrap();
        assert_eq!(value, Value::Bytes(vec![7; 32]));
        // A byte string written as an array of numbers (JSON-style) reads the same.
        let array = Value::Array((0..32).map(|_| Value::Integer(7.into())).collect());
        let mut cbor = Vec::new();
        ciborium::into_writer(&array, &mut cbor).unwrap();
        assert_eq!(ciborium::from_reader::<Hash, _>(cbor.as_slice()).unwrap(), hash);
        let none = RepairSyncResponse { message: None };
        assert_eq!(decode::<RepairSyncResponse>(&encode(&none).unwrap()).unwrap(), none);
    }
}
