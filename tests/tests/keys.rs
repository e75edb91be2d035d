//! Keys and secrets end to end (issue 13): the hub over TLS with a county CA, a wrong CA and an
//! expired certificate refused with a sentence that says what to do, an office moved from
//! `http://` to `https://` without enrolling again, and USB bundles that nothing found in a
//! copy of the hub's database can forge, in either direction.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use ledger_client::{ClientError, HubLink, TlsProblem};
use ledger_domain::Role;
use ledger_office::{Enrollment, HubAddress, Office, OfficeError, Opened};
use ledger_protocol::bundle::{self, Bundle, BundleError, BundleKind};
use ledger_protocol::keys::{PublicKey, SecretKey};
use ledger_protocol::{SyncRequest, decode};
use ledger_tests::{County, TestHub, TestOffice, case_input, clock_at, test_pki};

const TODAY: &str = "2024-03-05";

fn day(offset: i64) -> chrono::NaiveDate {
    chrono::DateTime::from_timestamp_millis(ledger_hub::now_ms()).unwrap().date_naive()
        + chrono::Duration::days(offset)
}

async fn enroll_err(address: HubAddress, token: &str) -> (OfficeError, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let enrollment = Enrollment {
        hub: address,
        token: token.to_owned(),
        staff: vec!["李娟".to_owned()],
        device_name: "test".to_owned(),
        unlock: None,
    };
    let err = Office::enroll(dir.path(), &enrollment, clock_at(TODAY)).await.err().unwrap();
    (err, dir)
}

fn tls_problem(err: &OfficeError) -> Option<TlsProblem> {
    match err {
        OfficeError::Sync(ClientError::Tls(p)) => Some(*p),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrollment_trusts_the_county_ca_by_file_or_fingerprint_and_nothing_else() {
    let hub = TestHub::start().await.unwrap();
    let pki = test_pki();

    // Pinned by the fingerprint `ledger-hub` prints: the CA is learned from the chain and kept.
    let token = hub.add_office("hq", "黄桥镇国土所", Role::Township, &["黄桥镇"]).unwrap();
    let address = HubAddress {
        url: hub.url(),
        fingerprint: Some(pki.fingerprint().unwrap().to_lowercase().replace(':', " ")),
        ..HubAddress::default()
    };
    let pinned = TestOffice::enroll_at(address, &token, "李娟", TODAY).await.unwrap();
    assert_eq!(pinned.office.hub_link().unwrap(), Some(HubLink::Encrypted));
    assert_eq!(pinned.office.hub_trust().unwrap().ca_pem.as_deref(), Some(pki.ca_pem.as_str()));
    pinned.office.register(&case_input("黄桥镇", "本局接收", "钱七", "界址纠纷"), None).unwrap();
    let report = pinned.sync().await.unwrap();
    assert!(report.uploaded > 0, "synced over https with the pinned CA: {report:?}");

    // Another county's CA, as a file or as a fingerprint: refused before anything is sent,
    // and no store is left behind.
    let other =
        ledger_hub::tls::make_county_pki("别县", &["127.0.0.1".to_owned()], day(-1)).unwrap();
    let token = hub.token("hq").unwrap();
    for address in [
        HubAddress { url: hub.url(), ca_pem: Some(other.ca_pem.clone()), ..HubAddress::default() },
        HubAddress {
            url: hub.url(),
            fingerprint: Some(other.fingerprint().unwrap()),
            ..HubAddress::default()
        },
        // Only the system's roots: the county CA is in none of them.
        HubAddress { url: hub.url(), ..HubAddress::default() },
    ] {
        let (err, dir) = enroll_err(address, &token).await;
        assert_eq!(tls_problem(&err), Some(TlsProblem::Untrusted), "{err:?}");
        assert!(err.to_string().contains("冒充县局"), "says what it may mean: {err}");
        assert!(!ledger_office::ledger_store_exists(dir.path()), "nothing created");
    }
    // The token was not spent by the refused attempts.
    TestOffice::enroll(&hub.url(), &token, "李娟", TODAY).await.unwrap();

    // Plain http to another machine is refused before any connection.
    let (err, _) = enroll_err(
        HubAddress { url: "http://10.255.255.1:8750".into(), ..HubAddress::default() },
        &token,
    )
    .await;
    assert!(matches!(err, OfficeError::Invalid(_)), "{err:?}");
    assert!(err.to_string().contains("https://"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_or_misnamed_certificate_is_refused_with_what_to_do() {
    let expired = ledger_hub::tls::make_county_pki_until(
        "测试县",
        &["127.0.0.1".to_owned()],
        day(-400),
        day(-30),
    )
    .unwrap();
    let hub = TestHub::start_serving(tempfile::tempdir().unwrap(), Some(&expired)).await.unwrap();
    let token = hub.add_office("hq", "黄桥镇国土所", Role::Township, &["黄桥镇"]).unwrap();
    let address =
        HubAddress { url: hub.url(), ca_pem: Some(expired.ca_pem.clone()), ..Default::default() };
    let (err, _) = enroll_err(address, &token).await;
    assert_eq!(tls_problem(&err), Some(TlsProblem::Expired), "{err:?}");
    assert!(err.to_string().contains("ledger-hub tls init"), "{err}");

    // A certificate for another host than the address typed.
    let misnamed =
        ledger_hub::tls::make_county_pki("测试县", &["county-hub".to_owned()], day(-1)).unwrap();
    let hub = TestHub::start_serving(tempfile::tempdir().unwrap(), Some(&misnamed)).await.unwrap();
    let token = hub.add_office("hq", "黄桥镇国土所", Role::Township, &["黄桥镇"]).unwrap();
    let address =
        HubAddress { url: hub.url(), ca_pem: Some(misnamed.ca_pem.clone()), ..Default::default() };
    let (err, _) = enroll_err(address, &token).await;
    assert_eq!(tls_problem(&err), Some(TlsProblem::WrongName), "{err:?}");

    // https to a hub that speaks plain http.
    let plain = TestHub::start_serving(tempfile::tempdir().unwrap(), None).await.unwrap();
    let token = plain.add_office("hq", "黄桥镇国土所", Role::Township, &["黄桥镇"]).unwrap();
    let url = plain.url().replace("http://", "https://");
    let (err, _) = enroll_err(
        HubAddress { url, ca_pem: Some(test_pki().ca_pem.clone()), ..Default::default() },
        &token,
    )
    .await;
    assert_eq!(tls_problem(&err), Some(TlsProblem::Failed), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_office_on_plain_http_moves_to_https_without_enrolling_again() {
    let plain = TestHub::start_serving(tempfile::tempdir().unwrap(), None).await.unwrap();
    let token = plain.add_office("hq", "黄桥镇国土所", Role::Township, &["黄桥镇"]).unwrap();
    let a = TestOffice::enroll(&plain.url(), &token, "李娟", TODAY).await.unwrap();
    assert_eq!(a.office.hub_link().unwrap(), Some(HubLink::Loopback));
    a.office.register(&case_input("黄桥镇", "本局接收", "钱七", "界址纠纷"), None).unwrap();
    a.sync().await.unwrap();
    let credential = a.office.store().meta("sync.credential").unwrap();
    let before = a.office.hub_url().unwrap();

    // The county turns TLS on: the same database, now behind https.
    let dir = plain.stop().await.unwrap();
    let hub = TestHub::start_in(dir).await.unwrap();

    // A wrong CA changes nothing.
    let other =
        ledger_hub::tls::make_county_pki("别县", &["127.0.0.1".to_owned()], day(-1)).unwrap();
    let wrong =
        HubAddress { url: hub.url(), ca_pem: Some(other.ca_pem.clone()), ..Default::default() };
    let err = a.office.set_hub(&wrong).await.unwrap_err();
    assert_eq!(tls_problem(&err), Some(TlsProblem::Untrusted), "{err:?}");
    assert_eq!(a.office.hub_url().unwrap(), before, "address unchanged");

    let right = HubAddress {
        url: hub.url(),
        fingerprint: Some(test_pki().fingerprint().unwrap()),
        ..Default::default()
    };
    assert_eq!(a.office.set_hub(&right).await.unwrap(), HubLink::Encrypted);
    assert_eq!(a.office.hub_url().unwrap(), Some(hub.url()));
    assert_eq!(a.office.store().meta("sync.credential").unwrap(), credential, "same credential");
    let TestOffice { office, dir, .. } = a;
    drop(office);
    let a = TestOffice::open(dir, TODAY).unwrap();
    a.office.register(&case_input("黄桥镇", "本局接收", "孙八", "宅基地"), None).unwrap();
    let report = a.sync().await.unwrap();
    assert!(report.uploaded >= 1, "the new case went up over https: {report:?}");
    assert_eq!(a.office.store().outbox_len().unwrap(), 0);
}

/// Every 64-hex-digit value stored anywhere in the hub's database: credential and token hashes,
/// the hub's derivation secret, device public keys. What a thief with a copy of `hub.db` has.
fn secrets_in(hub_db: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(hub_db).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut found = Vec::new();
    for table in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for i in 0..columns {
                if let Ok(text) = row.get::<_, String>(i)
                    && text.len() == 64
                    && text.bytes().all(|b| b.is_ascii_hexdigit())
                {
                    found.push(text);
                }
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_signed_with_anything_in_a_copy_of_hub_db_is_refused_both_ways() {
    let c = County::start(TODAY).await.unwrap();
    let id = c.bureau.office.register(&case_input("黄桥镇", "本局接收", "钱七", "界址纠纷"), None);
    let id = id.unwrap();
    c.bureau.sync().await.unwrap();
    c.a.sync().await.unwrap();
    c.a.office.register(&case_input("黄桥镇", "本局接收", "孙八", "宅基地"), None).unwrap();

    let work = tempfile::tempdir().unwrap();
    let up = work.path().join("up.bundle");
    c.a.office.export_bundle(&up).unwrap();
    let honest = std::fs::read(&up).unwrap();
    let header = bundle::read(&honest).unwrap();
    // Encrypted to the hub: the stick gives away no name.
    assert!(!contains(&honest, "孙八".as_bytes()), "a name in the clear in the bundle");

    // Only the hub reads the body: it is not a sync request until decrypted with the key the
    // device and the hub share.
    let hub_secret =
        SecretKey::from_hex(std::fs::read_to_string(c.hub.dir().join("hub.key")).unwrap().trim())
            .unwrap();
    let device = c.hub.store().device(&header.device_id).unwrap().unwrap();
    let device_public = PublicKey::from_hex(&device.public_key.unwrap()).unwrap();
    assert!(decode::<SyncRequest>(&header.body).is_err(), "the body is in the clear");
    let plain = hub_secret.shared_with(&device_public).decrypt(&header.body).unwrap();
    assert!(!decode::<SyncRequest>(&plain).unwrap().changes.is_empty());

    let stolen = secrets_in(&c.hub.dir().join("hub.db"));
    assert!(stolen.len() >= 5, "the copy holds hashes, the secret and public keys: {stolen:?}");
    let hub_key = std::fs::read_to_string(c.hub.dir().join("hub.key")).unwrap();
    assert!(!stolen.contains(&hub_key.trim().to_owned()), "the hub's private key is in hub.db");

    // Up: a bundle in the township device's name, signed with each stolen value.
    for value in &stolen {
        let forged = bundle::write(&header, &SecretKey::from_hex(value).unwrap());
        let err = ledger_hub::bundles::import(c.hub.store().clone(), &forged, ledger_hub::now_ms())
            .err()
            .unwrap();
        assert!(
            matches!(err, ledger_hub::bundles::ImportError::Bundle(BundleError::BadSignature)),
            "{err:?}"
        );
    }
    // The first format, signed with the credential's hash as the hub stored it, is refused too.
    let mut old = honest.clone();
    old[8] = 1;
    let err = ledger_hub::bundles::import(c.hub.store().clone(), &old, ledger_hub::now_ms())
        .err()
        .unwrap();
    assert!(matches!(err, ledger_hub::bundles::ImportError::Bundle(BundleError::OldFormat)));

    // The honest bundle is taken.
    let imported =
        ledger_hub::bundles::import(c.hub.store().clone(), &honest, ledger_hub::now_ms()).unwrap();
    assert_eq!(imported.refused, 0);

    // Back: a return bundle for the township, "from the hub", signed with each stolen value,
    // carrying a page that would close the bureau's case there. None is imported.
    let ret = work.path().join("ret.bundle");
    let honest_return = bundle::read(&imported.bytes).unwrap();
    for value in &stolen {
        let forged = bundle::write(
            &Bundle { kind: BundleKind::Return, ..honest_return.clone() },
            &SecretKey::from_hex(value).unwrap(),
        );
        std::fs::write(&ret, &forged).unwrap();
        let err = c.a.office.import_bundle(&ret).unwrap_err();
        assert!(err.to_string().contains("签名不符"), "{err}");
    }
    assert!(!contains(&imported.bytes, "钱七".as_bytes()), "a name in the clear in the return");
    std::fs::write(&ret, &imported.bytes).unwrap();
    c.a.office.import_bundle(&ret).unwrap();
    assert!(c.a.office.case(id).is_ok());
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_enrolled_before_keys_registers_one_with_its_next_sync() {
    let c = County::start(TODAY).await.unwrap();
    // Make `a` what an office enrolled by the previous version is: no device key here, none at
    // the hub.
    let device = c.a.office.store().meta("sync.device").unwrap().unwrap();
    let conn = rusqlite::Connection::open(c.hub.dir().join("hub.db")).unwrap();
    conn.execute("UPDATE devices SET public_key = NULL WHERE id = ?1", [&device]).unwrap();
    drop(conn);
    let TestOffice { office, dir, .. } = c.a;
    drop(office);
    clear_meta(dir.path(), &["sync.device_key", "sync.hub_key", "sync.key_registered"]);
    let a = TestOffice::open(dir, TODAY).unwrap();

    let work = tempfile::tempdir().unwrap();
    let err = a.office.export_bundle(&work.path().join("up.bundle")).unwrap_err();
    assert!(err.to_string().contains("先联网同步一次"), "{err}");

    a.sync().await.unwrap();
    let registered = c.hub.store().device(&device).unwrap().unwrap().public_key;
    assert!(registered.is_some(), "the hub registered the key");
    let up = work.path().join("up.bundle");
    a.office.register(&case_input("黄桥镇", "本局接收", "孙八", "宅基地"), None).unwrap();
    a.office.export_bundle(&up).unwrap();
    let imported = ledger_hub::bundles::import(
        c.hub.store().clone(),
        &std::fs::read(&up).unwrap(),
        ledger_hub::now_ms(),
    )
    .unwrap();
    let ret = work.path().join("ret.bundle");
    std::fs::write(&ret, &imported.bytes).unwrap();
    a.office.import_bundle(&ret).unwrap();

    // A registered key is never replaced by a later request naming another.
    let thief = SecretKey::from_seed([5; 32]).public().to_hex();
    let caller = ledger_hub::auth::authenticate(
        c.hub.store().as_ref(),
        &a.office.store().meta("sync.credential").unwrap().unwrap(),
    )
    .unwrap();
    ledger_hub::auth::register_key(c.hub.store().as_ref(), &caller, &thief).unwrap();
    assert_eq!(c.hub.store().device(&device).unwrap().unwrap().public_key, registered);
}

/// Removes meta rows from a closed office store, as the previous version left it.
fn clear_meta(dir: &Path, keys: &[&str]) {
    let db = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "db"))
        .unwrap();
    let conn = rusqlite::Connection::open(db).unwrap();
    for key in keys {
        conn.execute("DELETE FROM meta WHERE key = ?1", [key]).unwrap();
    }
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_backups_and_bundles_are_private_to_their_user() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let c = County::start(TODAY).await.unwrap();
    c.a.office.register(&case_input("黄桥镇", "本局接收", "孙八", "宅基地"), None).unwrap();
    c.a.sync().await.unwrap();
    assert_eq!(mode(c.a.dir.path()), 0o700);
    assert!(c.a.dir.path().join("ledger.lock").exists());
    for f in ["ledger.db", "ledger.db-wal", "ledger.lock"] {
        let path = c.a.dir.path().join(f);
        if path.exists() {
            assert_eq!(mode(&path), 0o600, "{f}");
        }
    }
    let out = tempfile::tempdir().unwrap();
    let backup = out.path().join("backup.db");
    c.a.office.store().backup(&backup).unwrap();
    assert_eq!(mode(&backup), 0o600);
    c.a.office.register(&case_input("黄桥镇", "本局接收", "周九", "宅基地"), None).unwrap();
    let bundle = out.path().join("hq.lgb");
    c.a.office.export_bundle(&bundle).unwrap();
    assert_eq!(mode(&bundle), 0o600);
    assert_eq!(mode(&c.hub.dir().join("hub.db")), 0o600);
    assert_eq!(mode(c.hub.dir()), 0o700);
}

// ---------------------------------------------------------------------------------------------
// The office store encrypted at rest

const PASSPHRASE: &str = "黄桥镇国土所台账口令";

fn township_config() -> ledger_office::OfficeConfig {
    let mut config = ledger_office::OfficeConfig::new("hq", "黄桥镇国土所", Role::Township);
    config.townships = vec!["黄桥镇".to_owned()];
    config.staff = vec!["李娟".to_owned()];
    config
}

/// Every byte of every file under `dir`, to look for what must not be there.
fn every_byte(dir: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            out.extend(every_byte(&path));
        } else {
            out.extend(std::fs::read(&path).unwrap());
        }
    }
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().filter_map(Result::ok) {
        if entry.path().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

fn unlock(p: &str) -> ledger_office::Unlock {
    ledger_office::Unlock::Passphrase(p.to_owned())
}

/// Opens the store in `dir` today as `unlock` says, ignoring progress.
fn open_as(dir: &Path, unlock: &ledger_office::Unlock) -> ledger_office::Result<Opened> {
    Office::open_unlocked(dir, unlock, clock_at(TODAY), &mut |_, _| {})
}

fn wrong_key(e: &OfficeError) -> bool {
    matches!(e, OfficeError::Store(ledger_store::StoreError::WrongKey))
}

#[test]
fn a_data_directory_copied_elsewhere_opens_only_with_a_passphrase_and_holds_no_name() {
    let dir = tempfile::tempdir().unwrap();
    let opened =
        Office::init_unlocked(dir.path(), township_config(), &unlock(PASSPHRASE), clock_at(TODAY))
            .unwrap();
    let recovery = opened.recovery.clone().expect("a recovery passphrase to show once");
    let office = opened.office;
    office.register(&case_input("黄桥镇", "本局接收", "钱七", "宅基地界址纠纷"), None).unwrap();
    drop(office);

    // The whole directory, key file included, on another machine.
    let elsewhere = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), elsewhere.path());
    let bytes = every_byte(elsewhere.path());
    for secret in ["钱七", "11010519491231002X", "13812345678", "宅基地界址纠纷", PASSPHRASE]
    {
        assert!(!contains(&bytes, secret.as_bytes()), "{secret} in the clear");
    }
    assert!(matches!(
        Office::open(elsewhere.path(), clock_at(TODAY)).err(),
        Some(OfficeError::Store(ledger_store::StoreError::Encrypted))
    ));
    let err = open_as(elsewhere.path(), &unlock("别的口令12345")).err().unwrap();
    assert!(wrong_key(&err), "{err:?}");
    assert!(err.to_string().contains("恢复口令"), "says what else to try: {err}");
    // Its passphrase, or the recovery passphrase county IT keeps, opens it.
    for p in [PASSPHRASE, recovery.as_str()] {
        let opened = open_as(elsewhere.path(), &unlock(p)).unwrap();
        assert!(opened.recovery.is_none(), "nothing new to show");
        assert_eq!(opened.office.case_count().unwrap(), 1);
    }
    // Without its key file, the store is not silently given new keys.
    std::fs::remove_file(elsewhere.path().join("ledger.keys")).unwrap();
    let err = open_as(elsewhere.path(), &unlock(PASSPHRASE)).err().unwrap();
    assert!(err.to_string().contains(".keys"), "{err}");
    assert!(!elsewhere.path().join("ledger.keys").exists());
}

#[test]
fn a_backup_restores_on_another_machine_with_the_recovery_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let opened =
        Office::init_unlocked(dir.path(), township_config(), &unlock(PASSPHRASE), clock_at(TODAY))
            .unwrap();
    let recovery = opened.recovery.unwrap();
    opened.office.register(&case_input("黄桥镇", "本局接收", "钱七", "宅基地"), None).unwrap();
    let stick = tempfile::tempdir().unwrap();
    let backup = stick.path().join("hq-backup.db");
    let keys = opened.office.backup(&backup).unwrap().expect("the key slots beside the backup");
    assert!(!contains(&every_byte(stick.path()), "钱七".as_bytes()), "the backup is in the clear");
    drop(opened.office);

    // Another machine: the laptop's passphrase is not known there, the recovery passphrase is.
    let other = tempfile::tempdir().unwrap();
    let err =
        Office::restore_unlocked(other.path(), &backup, &unlock("猜一个口令123")).unwrap_err();
    assert!(wrong_key(&err), "{err:?}");
    assert!(!ledger_office::ledger_store_exists(other.path()), "nothing restored");
    Office::restore_unlocked(other.path(), &backup, &unlock(&recovery)).unwrap();
    let opened = open_as(other.path(), &unlock(&recovery)).unwrap();
    assert_eq!(opened.office.case_count().unwrap(), 1);
    // Without its key file, an encrypted backup is refused with what to do.
    std::fs::remove_file(&keys).unwrap();
    let third = tempfile::tempdir().unwrap();
    let err = Office::restore_unlocked(third.path(), &backup, &unlock(&recovery)).unwrap_err();
    assert!(err.to_string().contains(".keys"), "{err}");
}

#[test]
fn a_plain_store_from_before_is_encrypted_at_its_first_start_with_progress() {
    let dir = tempfile::tempdir().unwrap();
    let office = Office::init(dir.path(), township_config(), clock_at(TODAY)).unwrap();
    for i in 0..20 {
        office
            .register(&case_input("黄桥镇", "本局接收", &format!("钱七{i}"), "宅基地"), None)
            .unwrap();
    }
    drop(office);
    assert!(contains(&every_byte(dir.path()), "钱七".as_bytes()), "plain before");
    let mut heard = Vec::new();
    let opened =
        Office::open_unlocked(dir.path(), &unlock(PASSPHRASE), clock_at(TODAY), &mut |d, t| {
            heard.push((d, t))
        })
        .unwrap();
    assert!(heard.first().is_some_and(|(d, t)| *d == 0 && *t > 0), "{heard:?}");
    assert!(heard.last().is_some_and(|(d, t)| d == t), "{heard:?}");
    assert!(opened.recovery.is_some(), "the new recovery passphrase is shown once");
    assert_eq!(opened.office.case_count().unwrap(), 20);
    drop(opened);
    assert!(ledger_store::Store::is_encrypted(dir.path()).unwrap());
    assert!(!contains(&every_byte(dir.path()), "钱七".as_bytes()), "plain after");
    // The next start opens it without anything new to show.
    let again = open_as(dir.path(), &unlock(PASSPHRASE)).unwrap();
    assert!(again.recovery.is_none());
}

#[test]
fn rekey_gives_a_new_key_and_the_old_passphrases_stop_working() {
    let dir = tempfile::tempdir().unwrap();
    let opened =
        Office::init_unlocked(dir.path(), township_config(), &unlock(PASSPHRASE), clock_at(TODAY))
            .unwrap();
    let old_recovery = opened.recovery.unwrap();
    opened.office.register(&case_input("黄桥镇", "本局接收", "钱七", "宅基地"), None).unwrap();
    drop(opened.office);
    let new = "新的台账口令-2027";
    let err = Office::rekey(dir.path(), &unlock("不对的口令123"), &unlock(new)).unwrap_err();
    assert!(wrong_key(&err), "{err:?}");
    let new_recovery =
        Office::rekey(dir.path(), &unlock(PASSPHRASE), &unlock(new)).unwrap().unwrap();
    assert_ne!(new_recovery, old_recovery);
    for stale in [PASSPHRASE, old_recovery.as_str()] {
        let err = open_as(dir.path(), &unlock(stale)).err().unwrap();
        assert!(wrong_key(&err), "{stale}: {err:?}");
    }
    for fresh in [new, new_recovery.as_str()] {
        let opened = open_as(dir.path(), &unlock(fresh)).unwrap();
        assert_eq!(opened.office.case_count().unwrap(), 1);
    }
    assert!(!dir.path().join("ledger.keys.new").exists());
}

/// The keyring path: under a D-Bus session with an unlocked keyring (`dev/test` and `.ci/run`
/// run this with `dbus-run-session` and `gnome-keyring-daemon --unlock`). The key is in the
/// keyring, nothing in the data directory opens the store, the recovery passphrase still does.
#[test]
#[ignore = "needs a D-Bus session with an unlocked Secret Service: dev/test runs it"]
fn the_keyring_holds_the_key_and_the_directory_alone_opens_nothing() {
    use ledger_office::Unlock;
    assert!(ledger_office::vault::keyring_available(), "no Secret Service on this session bus");
    let dir = tempfile::tempdir().unwrap();
    let opened =
        Office::init_unlocked(dir.path(), township_config(), &Unlock::Keyring, clock_at(TODAY))
            .unwrap();
    let recovery = opened.recovery.unwrap();
    opened.office.register(&case_input("黄桥镇", "本局接收", "钱七", "宅基地"), None).unwrap();
    drop(opened.office);
    let opened = open_as(dir.path(), &Unlock::Keyring).unwrap();
    assert_eq!(opened.office.case_count().unwrap(), 1);
    drop(opened.office);
    let keys = std::fs::read_to_string(dir.path().join("ledger.keys")).unwrap();
    assert!(keys.contains("\"keyring\"") && !keys.contains("\"passphrase\""), "{keys}");
    // A copy elsewhere opens with the recovery passphrase, not with a guess.
    let elsewhere = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), elsewhere.path());
    let err = open_as(elsewhere.path(), &unlock("猜一个口令123")).err().unwrap();
    assert!(wrong_key(&err), "{err:?}");
    open_as(elsewhere.path(), &unlock(&recovery)).unwrap();
    // A rekey to the keyring replaces the entry and removes the old one.
    Office::rekey(dir.path(), &Unlock::Keyring, &Unlock::Keyring).unwrap();
    open_as(dir.path(), &Unlock::Keyring).unwrap();
}
