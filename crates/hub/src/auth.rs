//! Enrollment and authentication.
//!
//! An office gets one-time tokens (`ledger-hub office add`, `office token`); a device trades
//! one for its own credential, registering its Automerge actor and its Ed25519 public key. The
//! hub stores only BLAKE3 hashes of tokens and credentials, and public keys. A credential is
//! derived from the hub's secret, the token and the actor, so a device that lost the reply on a
//! bad link and retries with the same token, actor and key within minutes gets the same
//! credential back instead of burning the token; the credential travels sealed to the device's
//! key, so a replayed request yields nothing another machine can use.

use ledger_domain::Role;
use ledger_protocol::keys::{PublicKey, SecretKey};
use ledger_protocol::{EnrollRequest, EnrollResponse};
use subtle::ConstantTimeEq;

use crate::engine::Caller;
use crate::store::{DeviceRecord, HubStore, StoreError};

/// How long a repeated enrollment with the same token and actor returns the same credential.
const REPLAY_WINDOW_MS: i64 = 10 * 60 * 1000;

/// Why enrollment or authentication failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No such token.
    #[error("接入令牌无效；请向县局索取新的令牌")]
    InvalidToken,
    /// The token expired.
    #[error("接入令牌已过期；请向县局索取新的令牌")]
    Expired,
    /// The token was used by another device, or too long ago.
    #[error("接入令牌已被使用；每个令牌只能接入一台电脑，请向县局索取新的令牌")]
    Used,
    /// The actor is not hex.
    #[error("设备标识格式有误")]
    BadActor,
    /// No device key, or not a valid one (a client from before device keys).
    #[error("接入请求缺少有效的设备密钥：请升级信访台账后重新接入")]
    BadKey,
    /// This device has no key registered yet (enrolled before device keys).
    #[error("本设备还没有登记设备密钥，不能使用同步包：请先联网同步一次（会自动登记），或重新接入")]
    NoDeviceKey,
    /// No credential, or an unknown one.
    #[error("本机的同步凭据无效；请向县局索取新的接入令牌，重新接入县局")]
    InvalidCredential,
    /// The device was revoked.
    #[error("本机已被县局停用；如需继续使用，请联系县局索取新的接入令牌，重新接入")]
    Revoked,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new one-time token: 120 random bits in Crockford base32, grouped for typing
/// (`7K2M-Q9DX-...`).
pub fn new_token() -> Result<String, StoreError> {
    let mut bytes = [0u8; 15];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Database(e.to_string()))?;
    let mut bits: u128 = 0;
    for b in bytes {
        bits = (bits << 8) | u128::from(b);
    }
    let chars: Vec<u8> =
        (0..24).rev().map(|i| ALPHABET[((bits >> (i * 5)) & 31) as usize]).collect();
    let groups: Vec<String> =
        chars.chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
    Ok(groups.join("-"))
}

/// A token as typed: case, spaces and dashes do not matter.
fn normalise(token: &str) -> String {
    token.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect()
}

/// The hash the hub stores for a token or credential (hex of [`ledger_protocol::secret_hash`]).
pub fn hash_secret(secret: &str) -> String {
    hex::encode(ledger_protocol::secret_hash(secret))
}

/// The device a USB bundle names, and its public key (its bundles are signed with the private
/// half, which only the device holds).
pub fn bundle_caller(
    store: &dyn HubStore,
    device_id: &str,
) -> Result<(Caller, PublicKey), AuthError> {
    let device = store.device(device_id)?.ok_or(AuthError::InvalidCredential)?;
    if device.revoked_at.is_some() {
        return Err(AuthError::Revoked);
    }
    let hex = device.public_key.as_deref().ok_or(AuthError::NoDeviceKey)?;
    let key = PublicKey::from_hex(hex).map_err(|_| AuthError::NoDeviceKey)?;
    let office = store.office(&device.office)?.ok_or(AuthError::InvalidCredential)?;
    Ok((Caller { device, office }, key))
}

/// Where the store records the public half of the key the hub signs with.
const HUB_PUBLIC_KEY: &str = "hub_public_key";

/// The hub's own signing key. The first use records its public half with the hub's records;
/// a key file that does not match it (a second hub process given its own `hub.key`, or a data
/// directory restored beside another database) is refused, instead of signing return bundles
/// with a key the offices were never given.
pub fn hub_key(store: &dyn HubStore) -> Result<SecretKey, AuthError> {
    let key = SecretKey::from_hex(&store.signing_key()?)
        .map_err(|e| AuthError::Store(StoreError::Database(format!("hub.key: {e}"))))?;
    let public = key.public().to_hex();
    if store.meta(HUB_PUBLIC_KEY)?.is_none() {
        store.set_meta(HUB_PUBLIC_KEY, &public)?;
    }
    // Read again: of two processes recording different keys at once, one is refused here.
    if store.meta(HUB_PUBLIC_KEY)?.as_deref() != Some(public.as_str()) {
        return Err(AuthError::Store(StoreError::Conflict(
            "本机数据目录里的签名钥匙 hub.key 与县局数据库中记录的不一致：共用一个数据库的县局服务器进程须使用同一个 hub.key（见 docs/operations.md）".into(),
        )));
    }
    Ok(key)
}

/// Registers the key a device enrolled before device keys sends on an authenticated sync. A
/// key already registered is never replaced (a stolen credential cannot swap it).
pub fn register_key(store: &dyn HubStore, caller: &Caller, key: &str) -> Result<(), AuthError> {
    if caller.device.public_key.is_some() {
        return Ok(());
    }
    let key = PublicKey::from_hex(key).map_err(|_| AuthError::BadKey)?;
    if store.register_device_key(&caller.device.id, &key.to_hex())? {
        tracing::info!(device = %caller.device.id, "device key registered");
    }
    Ok(())
}

fn derive_credential(key: &[u8; 32], token: &str, actor: &str) -> String {
    let mut h = blake3::Hasher::new_keyed(key);
    h.update(normalise(token).as_bytes());
    h.update(b"\x1f");
    h.update(actor.as_bytes());
    h.finalize().to_hex().to_string()
}

fn letter(n: usize) -> String {
    let mut n = n;
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (n % 26) as u8);
        n /= 26;
        if n == 0 {
            break;
        }
        n -= 1;
    }
    out.reverse();
    String::from_utf8_lossy(&out).into_owned()
}

/// Trades a token for a device credential.
pub fn enroll(
    store: &dyn HubStore,
    req: &EnrollRequest,
    now: i64,
) -> Result<EnrollResponse, AuthError> {
    let actor = req.actor.trim().to_ascii_lowercase();
    if actor.is_empty() || actor.len() > 64 || !actor.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(AuthError::BadActor);
    }
    let token_hash = hash_secret(&req.token);
    let token = store.token(&token_hash)?.ok_or(AuthError::InvalidToken)?;
    // After the token: a guess is told its token is wrong whatever else it sent.
    let device_key = PublicKey::from_hex(&req.public_key).map_err(|_| AuthError::BadKey)?;
    let key = store.secret()?;
    let credential = derive_credential(&key, &req.token, &actor);
    let office = store.office(&token.office)?.ok_or(AuthError::InvalidToken)?;
    let device = match token.used {
        Some((at, used_actor, device_id)) => {
            if used_actor != actor || now - at > REPLAY_WINDOW_MS {
                return Err(AuthError::Used);
            }
            let device = store.device(&device_id)?.ok_or(AuthError::Used)?;
            // The retry of a device whose reply was lost carries the same key; anyone else's
            // does not, and a replay of the very request gets a credential sealed to a key it
            // does not hold.
            if device.public_key.as_deref() != Some(device_key.to_hex().as_str()) {
                return Err(AuthError::Used);
            }
            device
        }
        None => {
            if now > token.expires_at {
                return Err(AuthError::Expired);
            }
            let existing = store.devices(Some(&office.code))?.len();
            let mut id = [0u8; 8];
            getrandom::fill(&mut id).map_err(|e| StoreError::Database(e.to_string()))?;
            let device = DeviceRecord {
                id: hex::encode(id),
                office: office.code.clone(),
                name: req.device_name.chars().take(64).collect(),
                actor,
                letter: letter(existing),
                enrolled_at: now,
                revoked_at: None,
                last_sync: None,
                pending: 0,
                last_error: None,
                skew_ms: None,
                public_key: Some(device_key.to_hex()),
            };
            store.use_token(&token_hash, &device, &hash_secret(&credential))?;
            tracing::info!(office = %office.code, device = %device.id, "device enrolled");
            device
        }
    };
    let mut ephemeral = [0u8; 32];
    getrandom::fill(&mut ephemeral).map_err(|e| StoreError::Database(e.to_string()))?;
    Ok(EnrollResponse {
        office: office.code,
        name: office.name,
        role: office.role.code().to_owned(),
        townships: office.townships,
        device_id: device.id,
        device_letter: device.letter,
        credential: String::new(),
        sealed: Some(device_key.seal(&credential, ephemeral)),
        hub_key: hub_key(store)?.public().to_hex(),
        roster: Vec::new(),
        directory: None,
    })
}

/// The device behind a bearer credential. The database finds the row by the credential's hash;
/// the hash is compared again here in constant time, so nothing about a near miss leaks through
/// timing even if a store's lookup were not exact.
pub fn authenticate(store: &dyn HubStore, credential: &str) -> Result<Caller, AuthError> {
    let hash = hash_secret(credential);
    let (device, stored) =
        store.device_by_credential(&hash)?.ok_or(AuthError::InvalidCredential)?;
    if !bool::from(stored.as_bytes().ct_eq(hash.as_bytes())) {
        return Err(AuthError::InvalidCredential);
    }
    if device.revoked_at.is_some() {
        return Err(AuthError::Revoked);
    }
    let office = store.office(&device.office)?.ok_or(AuthError::InvalidCredential)?;
    Ok(Caller { device, office })
}

/// Whether the caller may read the county-wide views (`/v1/offices`, `/v1/stats`).
pub fn is_bureau(caller: &Caller) -> bool {
    caller.office.role == Role::Bureau
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_typeable_and_normalised() {
        let t = new_token().unwrap();
        assert_eq!(t.len(), 29);
        assert_eq!(t.matches('-').count(), 5);
        assert_ne!(t, new_token().unwrap());
        assert_eq!(hash_secret(&t), hash_secret(&t.to_lowercase().replace('-', " ")));
    }

    #[test]
    fn device_letters() {
        assert_eq!(letter(0), "A");
        assert_eq!(letter(25), "Z");
        assert_eq!(letter(26), "AA");
        assert_eq!(letter(27), "AB");
    }
}
