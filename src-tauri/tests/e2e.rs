//! The real app end to end: the built `ledger-desktop` binary in a WebKitGTK window (under Xvfb),
//! driven over WebDriver by `tauri-driver` and `WebKitWebDriver`, against a real hub on
//! `127.0.0.1:0`. Two app instances with their own data directories play the bureau and a
//! township office. Each step saves a screenshot under `target/e2e-screenshots/`.
//!
//! Needs `tauri-driver` (`cargo install tauri-driver --locked`), `WebKitWebDriver` (Debian
//! `webkit2gtk-driver`) and a display; `dev/test` provides all three.

#![allow(clippy::unwrap_used)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::error::NewSessionError;
use fantoccini::{Client, ClientBuilder, Locator};
use ledger_office::Role;
use ledger_tests::TestHub;

const APP: &str = env!("CARGO_BIN_EXE_ledger-desktop");
const WAIT: Duration = Duration::from_secs(30);
/// The stores' passphrase (Xvfb has no keyring).
const PASSPHRASE: &str = "测试台账口令-2026";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A `tauri-driver` process; stopped with SIGTERM (SIGKILL would leave WebKitWebDriver behind).
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start() -> Self {
        Self::start_with(&[])
    }

    /// A driver whose app sees `env` (`LEDGER_PICK_FILES` answers its file dialogs).
    fn start_with(env: &[(&str, &std::ffi::OsStr)]) -> Self {
        assert!(
            std::env::var_os("DISPLAY").is_some(),
            "no display: run under xvfb-run (dev/test does)"
        );
        let (port, native) = (free_port(), free_port());
        let child = Command::new("tauri-driver")
            .args(["--port", &port.to_string(), "--native-port", &native.to_string()])
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tauri-driver not found: cargo install tauri-driver --locked");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Self { child, port }
    }

    async fn open(&self, data_dir: &std::path::Path) -> Client {
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "wry".into());
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({"application": APP, "args": ["--data-dir", data_dir.to_str().unwrap()]}),
        );
        // tauri-driver answers on its port before WebKitWebDriver behind it listens: a session
        // asked for in that moment fails in transport (the connection closes unanswered), with
        // no app started. Asked again, it opens.
        let url = format!("http://127.0.0.1:{}", self.port);
        let mut attempt = 0;
        loop {
            match ClientBuilder::native().capabilities(caps.clone()).connect(&url).await {
                Ok(client) => return client,
                Err(e @ (NewSessionError::Failed(_) | NewSessionError::FailedC(_)))
                    if attempt < 20 =>
                {
                    eprintln!("tauri-driver not ready yet ({e}); asking again");
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => panic!("no WebDriver session: {e}"),
            }
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}

struct App {
    client: Client,
    name: &'static str,
    shots: PathBuf,
    step: u32,
}

impl App {
    async fn shot(&mut self, what: &str) {
        self.step += 1;
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(self.shots.join(format!("{}-{:02}-{what}.png", self.name, self.step)), png)
            .unwrap();
    }

    /// The element, waited for. WebKitWebDriver sometimes answers a lookup with an error
    /// that says nothing (seen while an Element Plus dropdown animates, under CI's load): such
    /// an answer is asked again until the wait is over, like a click that does not land.
    async fn find(&self, css: &str) -> Element {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.client.wait().at_most(left).for_element(Locator::Css(css)).await {
                Ok(element) => return element,
                Err(e) if std::time::Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("{css}: {e}"),
            }
        }
    }

    async fn type_into(&self, css: &str, text: &str) {
        let input = self.find(css).await;
        // WebDriver's clear() empties the DOM value without an input event, so Vue's model
        // keeps the old text: select all and delete by keyboard instead.
        input.send_keys("\u{E009}a\u{E000}\u{E003}").await.unwrap();
        input.send_keys(text).await.unwrap();
    }

    async fn click(&self, css: &str) {
        let element = self.find(css).await;
        Self::click_when_free(&element, css).await;
    }

    /// Clicks, retrying while a closing dialog or message still covers the element.
    async fn click_when_free(element: &Element, what: &str) {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            match element.click().await {
                Ok(()) => return,
                Err(e) if std::time::Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("{what}: {e}"),
            }
        }
    }

    /// Opens an Element Plus select and picks the visible option with this text. The dropdown
    /// fades in, so the click is retried until an option is displayed and takes it; a click
    /// that landed while the dialog around the select was still opening leaves the dropdown
    /// shut, so the select is clicked again when no option has shown for two seconds.
    async fn choose(&self, css: &str, option: &str) {
        self.click(css).await;
        let xpath = format!(
            "//li[contains(@class,'el-select-dropdown__item')][normalize-space()='{option}']"
        );
        let deadline = std::time::Instant::now() + WAIT;
        let mut reopen = std::time::Instant::now() + Duration::from_secs(2);
        loop {
            if std::time::Instant::now() > reopen {
                self.click(css).await;
                reopen = std::time::Instant::now() + Duration::from_secs(2);
            }
            for item in self.client.find_all(Locator::XPath(&xpath)).await.unwrap_or_default() {
                if item.is_displayed().await.unwrap_or(false) && item.click().await.is_ok() {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    return;
                }
            }
            assert!(std::time::Instant::now() < deadline, "{css}: no option {option}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Types into an input, or picks from a select when the field is one (the township field is
    /// a select once the hub has told the office its townships).
    async fn fill(&self, css: &str, text: &str) {
        let tag = self.find(css).await.tag_name().await.unwrap();
        if tag == "input" || tag == "textarea" {
            self.type_into(css, text).await;
        } else {
            self.choose(css, text).await;
        }
    }

    async fn menu(&self, label: &str) {
        let xpath = format!("//*[contains(@class,'shell-menu')]//*[normalize-space()='{label}']");
        let item =
            self.client.wait().at_most(WAIT).for_element(Locator::XPath(&xpath)).await.unwrap();
        Self::click_when_free(&item, label).await;
    }

    /// The element's `textContent`: WebKitWebDriver's visible-text algorithm drops the cells
    /// Element Plus renders with ellipsis.
    async fn text(&self, css: &str) -> String {
        let element = self.find(css).await;
        self.content(&element).await.unwrap()
    }

    async fn content(&self, element: &Element) -> Option<String> {
        let arg = serde_json::to_value(element).ok()?;
        let value = self.client.execute("return arguments[0].textContent", vec![arg]).await.ok()?;
        value.as_str().map(str::to_owned)
    }

    /// Presses 同步 and returns the report it shows. The button is disabled while a sync runs
    /// (the app syncs on its own after enrolment and on a timer), and a click on a disabled
    /// button is accepted by WebDriver and does nothing: so wait for it to be free, and press
    /// again if an automatic sync took it between the wait and the click.
    async fn sync_now(&self) -> String {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            let button = self.find("[data-testid=sync-now]").await;
            if button.is_enabled().await.unwrap_or(false) {
                Self::click_when_free(&button, "sync-now").await;
                let shown = std::time::Instant::now() + Duration::from_secs(10);
                while std::time::Instant::now() < shown {
                    if let Ok(e) = self.client.find(Locator::Css("[data-testid=sync-report]")).await
                        && let Some(t) = self.content(&e).await
                        && t.contains("下载")
                    {
                        return t;
                    }
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
            }
            assert!(std::time::Instant::now() < deadline, "同步 never showed its report");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Waits until the element's text satisfies `ok`.
    async fn wait_text(&self, css: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            if let Ok(e) = self.client.find(Locator::Css(css)).await
                && let Some(t) = self.content(&e).await
                && ok(&t)
            {
                return t;
            }
            assert!(std::time::Instant::now() < deadline, "{css} never showed the expected text");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    async fn enroll(&mut self, hub: &str, token: &str, staff: &str) {
        self.find("[data-testid=setup]").await;
        self.shot("setup").await;
        self.type_into("input[data-testid=setup-hub]", hub).await;
        self.type_into("input[data-testid=setup-token]", token).await;
        // The hub serves https with the test county's CA: pinned by its fingerprint, as a
        // township clerk types it from the paper the county hands out.
        let fingerprint = ledger_tests::test_pki().fingerprint().unwrap();
        self.type_into("input[data-testid=setup-fingerprint]", &fingerprint).await;
        // No keyring under Xvfb: the store's passphrase is asked for.
        self.type_into("input[data-testid=setup-passphrase]", PASSPHRASE).await;
        self.type_into("input[data-testid=setup-passphrase-confirm]", PASSPHRASE).await;
        self.type_into("input[data-testid=setup-staff-input]", staff).await;
        self.find("input[data-testid=setup-staff-input]")
            .await
            .send_keys("\u{E007}")
            .await
            .unwrap();
        self.click("[data-testid=setup-enroll]").await;
        // The recovery passphrase, shown once, for county IT.
        let recovery = self.wait_text("[data-testid=recovery-text]", |t| t.len() >= 29).await;
        assert_eq!(recovery.trim().len(), 29, "{recovery}");
        self.shot("recovery").await;
        self.click("[data-testid=recovery-done]").await;
        self.find("[data-testid=ledger-table]").await;
        self.shot("enrolled").await;
    }

    /// Runs `script` until it returns something other than null (or the wait ends).
    async fn wait_json(&mut self, script: &str) -> serde_json::Value {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            if let Ok(value) = self.client.execute(script, vec![]).await
                && !value.is_null()
            {
                return value;
            }
            if std::time::Instant::now() >= deadline {
                let seen = self
                    .client
                    .execute(
                        "const f = document.querySelector('iframe'); return { dialog: \
                         (document.querySelector('.el-dialog') || {}).innerText, frame: !!f, \
                         srcdoc: f ? (f.getAttribute('srcdoc') || '').length : -1, \
                         doc: f && f.contentDocument ? f.contentDocument.documentElement.outerHTML.slice(0, 300) : null }",
                        vec![],
                    )
                    .await;
                self.shot("wait-failed").await;
                panic!("never true: {script}\nthe page: {seen:?}");
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// The ledger rows' text, after a search.
    async fn search(&mut self, text: &str) -> String {
        self.menu("台账").await;
        self.type_into("input[data-testid=ledger-search]", text).await;
        tokio::time::sleep(Duration::from_millis(800)).await;
        self.text("[data-testid=ledger-table] .el-table__body-wrapper").await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enroll_register_search_assign_sync_and_read_the_statistics() {
    let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/e2e-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let hub = TestHub::start().await.unwrap();
    let bureau_token = hub.add_office("county", "洞口县国土资源局", Role::Bureau, &[]).unwrap();
    let township_token = hub.add_office("hq", "黄桥镇国土所", Role::Township, &["黄桥镇"]).unwrap();
    let (dir_b, dir_t) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());

    // The bureau's file dialogs answer with this photo (WebDriver cannot drive GTK's).
    let picks = tempfile::tempdir().unwrap();
    let photo = picks.path().join("现场照片.jpg");
    std::fs::write(&photo, b"\xff\xd8\xff\xe0 a photo of the building").unwrap();
    let driver_b = Driver::start_with(&[("LEDGER_PICK_FILES", photo.as_os_str())]);
    let mut bureau = App {
        client: driver_b.open(dir_b.path()).await,
        name: "bureau",
        shots: shots.clone(),
        step: 0,
    };
    bureau.enroll(&hub.url(), &bureau_token, "刘洪").await;

    // 登记: a visit from 张三丰 about illegal building in 黄桥镇.
    bureau.click("[data-testid=new-case]").await;
    bureau.find("[data-testid=register-submit]").await;
    bureau.choose("[data-testid=field-channel]", "来访").await;
    bureau.choose("[data-testid=field-source]", "本局接收").await;
    bureau.choose("[data-testid=field-sector]", "涉土").await;
    bureau.choose("[data-testid=field-category]", "违法占地建设").await;
    bureau.choose("[data-testid=field-purpose]", "检举控告").await;
    bureau.fill("[data-testid=field-township]", "黄桥镇").await;
    bureau.type_into("input[data-testid=field-village]", "大屋村").await;
    bureau
        .type_into("textarea[data-testid=field-request]", "邻居在承包地上违法建房，请求依法查处。")
        .await;
    bureau.type_into("input[data-testid=petitioner-name-0]", "张三丰").await;
    bureau.type_into("input[data-testid=petitioner-id-0]", "11010519491231002X").await;
    bureau.shot("register-form").await;
    bureau.click("[data-testid=register-submit]").await;
    let number = bureau.wait_text("[data-testid=case-number]", |t| t.contains("-A-")).await;
    bureau.shot("registered").await;

    // The store on disk is encrypted: the name just typed is in no file of the data directory.
    assert!(dir_b.path().join("ledger.keys").exists(), "no key slots: the store is not encrypted");
    for entry in std::fs::read_dir(dir_b.path()).unwrap().filter_map(Result::ok) {
        if entry.path().is_file() {
            let bytes = std::fs::read(entry.path()).unwrap();
            assert!(
                !bytes.windows("张三丰".len()).any(|w| w == "张三丰".as_bytes()),
                "{} holds the petitioner's name in the clear",
                entry.path().display()
            );
        }
    }

    // The content security policy holds: the page cannot run strings as script, Tauri's API is
    // not on `window`, yet Element Plus's inline styles and the document preview's own style
    // sheet apply.
    let hardening = bureau
        .client
        .execute(
            "let evaluated = 'ran'; try { eval('1') } catch (e) { evaluated = 'blocked' } \
             return { evaluated, global: typeof window.__TAURI__ }",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(hardening["evaluated"], "blocked", "eval ran: no content security policy");
    assert_eq!(hardening["global"], "undefined", "withGlobalTauri is on");
    // Found again by a two-character search.
    let rows = bureau.search("三丰").await;
    assert!(rows.contains(&number), "two-character search found {rows}");
    bureau.shot("search").await;
    bureau
        .click("[data-testid=ledger-table] .el-table__body-wrapper .el-table__row td .cell")
        .await;
    bureau.find("[data-testid=case-number]").await;

    // 交办 to 黄桥镇.
    bureau.click("[data-testid=action-assign]").await;
    bureau.find("[data-testid=action-dialog]").await;
    bureau.fill("[data-testid=action-target]", "黄桥镇").await;
    bureau.shot("assign-dialog").await;
    bureau.click("[data-testid=action-submit]").await;
    bureau.wait_text("[data-testid=case-status]", |t| t.contains("交办")).await;
    bureau.shot("assigned").await;

    // The document preview under the content security policy (受理告知书 may be issued once the
    // case is 交办).
    bureau.click("[data-testid=print-document]").await;
    bureau.find("[data-testid=document-dialog]").await;
    bureau.choose("[data-testid=document-kind]", "受理告知书").await;
    let preview = bureau
        .wait_json(
            "const f = document.querySelector('[data-testid=document-frame]'); \
             const d = f && f.contentDocument; const h = d && d.querySelector('h1'); \
             const dialog = document.querySelector('[data-testid=document-dialog]'); \
             return h ? { title: h.textContent, align: d.defaultView.getComputedStyle(h).textAlign, \
             width: dialog ? dialog.getBoundingClientRect().width : 0 } : null",
        )
        .await;
    assert!(preview["title"].as_str().unwrap_or("").contains("受理告知书"), "{preview}");
    assert_eq!(preview["align"], "center", "the document's style sheet was blocked: {preview}");
    let width = preview["width"].as_f64().unwrap_or(0.0);
    assert!((width - 860.0).abs() < 2.0, "Element Plus's inline width was blocked: {preview}");
    bureau.shot("document-preview").await;
    bureau.click("[data-testid=document-dialog] .el-dialog__headerbtn").await;
    tokio::time::sleep(Duration::from_millis(400)).await;

    // 附件: the dialog is Rust's; the page gets a handle and the name, never the path.
    bureau.click("[data-testid=attachment-add]").await;
    let listed =
        bureau.wait_text("[data-testid=attachments]", |t| t.contains("现场照片.jpg")).await;
    assert!(
        !listed.contains(picks.path().to_str().unwrap()),
        "the path reached the page: {listed}"
    );
    bureau.shot("attached").await;

    // 同步.
    bureau.menu("同步").await;
    bureau.click("[data-testid=sync-now]").await;
    bureau.wait_text("[data-testid=sync-pending]", |t| t.contains('0')).await;
    bureau.shot("synced").await;
    assert_eq!(hub.store().all_facts().unwrap().len(), 1, "the hub has the case");

    // The township office, a second instance of the app, sees it.
    let driver_t = Driver::start();
    let mut township = App {
        client: driver_t.open(dir_t.path()).await,
        name: "township",
        shots: shots.clone(),
        step: 0,
    };
    township.enroll(&hub.url(), &township_token, "李娟").await;
    township.menu("同步").await;
    // The app syncs on its own as soon as it is enrolled, so this sync may find the case
    // already here ("下载 0 条"): that it arrived is what the search below shows.
    let report = township.sync_now().await;
    assert!(report.contains("本次上传"), "the township's sync finished: {report}");
    township.shot("township-synced").await;
    // A 检举控告 case: the township sees the case and the masked name only (信访工作条例 §30),
    // so the full name finds nothing there but the village does.
    let rows = township.search("三丰").await;
    assert!(
        !rows.contains(&number),
        "the informant's full name is not searchable at the township: {rows}"
    );
    let rows = township.search("大屋").await;
    township.shot("township-search").await;
    assert!(rows.contains(&number), "the township sees the assigned case: {rows}");
    assert!(rows.contains("张*丰") && !rows.contains("张三丰"), "masked name only: {rows}");
    assert!(rows.contains("交办"));
    township.shot("township-ledger").await;

    // 统计 at the bureau: one petition this year.
    bureau.menu("统计").await;
    let total = bureau.wait_text("[data-testid=stat-total]", |t| !t.trim().is_empty()).await;
    assert_eq!(total.trim(), "1", "the statistics screen counts the case");
    bureau.shot("statistics").await;

    // Both windows really are the Tauri app talking to Rust.
    let state = bureau
        .client
        .execute_async("const done = arguments[arguments.length - 1]; window.__TAURI_INTERNALS__.invoke('app_state').then(done, e => done(e))", vec![])
        .await
        .unwrap();
    assert_eq!(state["office"]["code"], "county");
    assert_eq!(state["ready"], true);

    // The hub goes away: within seconds, not at the next minute's sync, the header says 离线,
    // in Chinese, with the time of the last sync that succeeded.
    bureau.menu("台账").await;
    let stopped = std::time::Instant::now();
    let _hub_dir = hub.stop().await.unwrap();
    let header = loop {
        let text = bureau.text("[data-testid=sync-indicator]").await;
        if text.contains("离线") {
            break text;
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(10),
            "10 s after the hub stopped the header still says {text}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert!(header.contains("上次同步"), "{header}");
    assert!(!header.chars().any(|c| c.is_ascii_alphabetic()), "Chinese only: {header}");
    bureau.shot("offline").await;

    township.client.close().await.unwrap();
    bureau.client.close().await.unwrap();
}
