//! USB bundles for an office with no link at all: a sync request (office to hub) or a sync
//! response (hub to office) in a file, checksummed and signed by its sender.
//!
//! Layout: `LGBUNDLE`, format version, kind, creation time, device id, body length, body (a framed
//! sync message), BLAKE3 checksum of everything before it, then an Ed25519 signature of
//! everything before it: by the device's private key for a bundle going up (the hub checks it
//! with the public key it registered at enrollment), by the hub's private key for a bundle
//! coming back (the office checks it with the hub's public key it was given at enrollment).
//! Neither private key is in the hub's database, so a copy of it forges nothing. A corrupted,
//! truncated or unsigned file is refused whole; a file of the first format (signed with a
//! key the hub's database held) is refused with a request to export it again.

use serde::{Deserialize, Serialize};

use crate::keys::{PublicKey, SecretKey};
use crate::{Refused, SyncResponse};

const MAGIC: &[u8; 8] = b"LGBUNDLE";
const VERSION: u8 = 2;
/// The first format, whose signing key was a hash the hub stored.
const VERSION_SHARED_KEY: u8 = 1;
const SIGNATURE: usize = 64;

/// Which way a bundle goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleKind {
    /// Office to hub: a sync request with every unacknowledged change.
    Up,
    /// Hub to office: the sync response to apply.
    Return,
}

/// A bundle's header and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// Which way it goes.
    pub kind: BundleKind,
    /// The device it is from or for.
    pub device_id: String,
    /// When it was written (ms).
    pub created_at: i64,
    /// The framed sync message.
    pub body: Vec<u8>,
}

/// What a return bundle's body carries: the hub's merged pages, and the changes it refused.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReturnBody {
    /// The merged pages.
    pub response: SyncResponse,
    /// Changes refused, with why.
    pub refused: Vec<Refused>,
}

/// Why a bundle is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    /// Not a bundle at all.
    #[error("这不是信访台账的同步包文件")]
    NotABundle,
    /// Cut short.
    #[error("同步包文件不完整（可能复制时中断）；请重新导出")]
    Truncated,
    /// The checksum does not match.
    #[error("同步包文件已损坏（校验和不符）；请重新导出")]
    Corrupted,
    /// No signature, or not this device's.
    #[error("同步包签名不符：不是本设备导出或县局为本设备生成的文件")]
    BadSignature,
    /// Of the wrong direction.
    #[error("同步包方向不对：{0}")]
    WrongKind(&'static str),
    /// Written by a version before device keys: its signature proves nothing.
    #[error("同步包由旧版软件导出，其签名方式已停用：请升级后重新导出同步包")]
    OldFormat,
}

/// Writes a bundle signed with the sender's private key.
pub fn write(bundle: &Bundle, key: &SecretKey) -> Vec<u8> {
    let mut out = Vec::with_capacity(bundle.body.len() + 128);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.push(match bundle.kind {
        BundleKind::Up => 1,
        BundleKind::Return => 2,
    });
    out.extend_from_slice(&bundle.created_at.to_be_bytes());
    let id = bundle.device_id.as_bytes();
    out.extend_from_slice(&(id.len() as u16).to_be_bytes());
    out.extend_from_slice(id);
    out.extend_from_slice(&(bundle.body.len() as u64).to_be_bytes());
    out.extend_from_slice(&bundle.body);
    let checksum = blake3::hash(&out);
    out.extend_from_slice(checksum.as_bytes());
    let signature = key.sign(&out);
    out.extend_from_slice(&signature);
    out
}

fn take<'a>(bytes: &'a [u8], at: &mut usize, n: usize) -> Result<&'a [u8], BundleError> {
    let end = at.checked_add(n).ok_or(BundleError::Truncated)?;
    let slice = bytes.get(*at..end).ok_or(BundleError::Truncated)?;
    *at = end;
    Ok(slice)
}

/// Reads a bundle and checks its checksum, without the signature (the reader first needs the
/// device id to find the key). Use [`verify`] before trusting it.
pub fn read(bytes: &[u8]) -> Result<Bundle, BundleError> {
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(BundleError::NotABundle);
    }
    let mut at = MAGIC.len();
    let version = take(bytes, &mut at, 1)?[0];
    if version == VERSION_SHARED_KEY {
        return Err(BundleError::OldFormat);
    }
    if version != VERSION {
        return Err(BundleError::NotABundle);
    }
    let kind = match take(bytes, &mut at, 1)?[0] {
        1 => BundleKind::Up,
        2 => BundleKind::Return,
        _ => return Err(BundleError::Corrupted),
    };
    let mut time = [0u8; 8];
    time.copy_from_slice(take(bytes, &mut at, 8)?);
    let mut len = [0u8; 2];
    len.copy_from_slice(take(bytes, &mut at, 2)?);
    let device_id =
        String::from_utf8(take(bytes, &mut at, usize::from(u16::from_be_bytes(len)))?.to_vec())
            .map_err(|_| BundleError::Corrupted)?;
    let mut body_len = [0u8; 8];
    body_len.copy_from_slice(take(bytes, &mut at, 8)?);
    let body_len =
        usize::try_from(u64::from_be_bytes(body_len)).map_err(|_| BundleError::Corrupted)?;
    let body = take(bytes, &mut at, body_len)?.to_vec();
    let signed_part = at;
    let checksum = take(bytes, &mut at, 32)?;
    if checksum != blake3::hash(&bytes[..signed_part]).as_bytes() {
        return Err(BundleError::Corrupted);
    }
    take(bytes, &mut at, SIGNATURE)?;
    if at != bytes.len() {
        return Err(BundleError::Corrupted);
    }
    Ok(Bundle { kind, device_id, created_at: i64::from_be_bytes(time), body })
}

/// Checks a bundle's signature with its sender's public key.
pub fn verify(bytes: &[u8], key: &PublicKey) -> Result<Bundle, BundleError> {
    let bundle = read(bytes)?;
    let (signed, signature) = bytes.split_at(bytes.len() - SIGNATURE);
    let signature: [u8; SIGNATURE] = signature.try_into().map_err(|_| BundleError::Truncated)?;
    key.verify(signed, &signature).map_err(|_| BundleError::BadSignature)?;
    Ok(bundle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Bundle {
        Bundle {
            kind: BundleKind::Up,
            device_id: "dev1".into(),
            created_at: 42,
            body: vec![1, 2, 3, 4, 5],
        }
    }

    #[test]
    fn round_trip_and_every_kind_of_damage() {
        let signer = SecretKey::from_seed([7; 32]);
        let key = signer.public();
        let bytes = write(&sample(), &signer);
        assert_eq!(verify(&bytes, &key).unwrap(), sample());
        let other = SecretKey::from_seed([8; 32]).public();
        assert_eq!(verify(&bytes, &other), Err(BundleError::BadSignature));
        for cut in [1, 10, 30, bytes.len() - 40, bytes.len() - 1] {
            assert!(
                matches!(
                    read(&bytes[..cut]),
                    Err(BundleError::Truncated | BundleError::NotABundle)
                ),
                "cut {cut}"
            );
        }
        for flip in [9, 20, 30, bytes.len() - 50] {
            let mut bad = bytes.clone();
            bad[flip] ^= 0x40;
            assert!(verify(&bad, &key).is_err(), "flip {flip}");
        }
        let mut unsigned = bytes.clone();
        let n = unsigned.len();
        unsigned[n - SIGNATURE..].fill(0);
        assert_eq!(verify(&unsigned, &key), Err(BundleError::BadSignature));
        let mut old = bytes.clone();
        old[8] = VERSION_SHARED_KEY;
        assert_eq!(read(&old), Err(BundleError::OldFormat));
        assert_eq!(read(b"PK\x03\x04 a zip file"), Err(BundleError::NotABundle));
        let mut longer = bytes;
        longer.push(0);
        assert!(read(&longer).is_err());
    }
}
