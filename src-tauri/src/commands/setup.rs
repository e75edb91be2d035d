//! 设置: what the app is (office, hub, demo data), enrollment, local set-up, staff, and the
//! vocabularies every screen labels codes with.

use ledger_office::{
    ActionKind, CaseField, Category, Channel, CloseReason, ConsultChannel, DeadlineKind,
    DocumentKind, DutyShift, Enrollment, FieldForm, FollowUpMethod, HandlingTrack, HubAddress,
    HubLink, LeaderScope, Occasion, Office, OfficeConfig, Outcome, Purpose, ReceptionOutcome,
    ReviewOutcome, RiskLevel, Role, RuleInput, RulesView, Satisfaction, ScreeningStatus, Sector,
    Settlement, Source, Status, Unlock, WorkKind, system_clock, work_forms,
};
use std::collections::BTreeMap;

use serde::Serialize;
use tauri::State;

use super::with_office;
use crate::error::{CommandError, CommandResult};
use crate::state::Desktop;

/// What the UI needs to know first.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub(crate) struct AppState {
    ready: bool,
    office: Option<OfficeConfig>,
    hub: Option<String>,
    /// `plain_http` when the link to the hub is not encrypted (the app shows a warning).
    hub_warning: Option<&'static str>,
    /// A store is here but waits for its passphrase (the unlock screen).
    locked: bool,
    /// Whether the system keyring holds store keys here; without one, set-up asks for a
    /// passphrase.
    keyring: bool,
    /// A recovery passphrase made just now, to show once (until `recovery_shown`).
    recovery: Option<String>,
    data_dir: String,
    /// 演示数据 cases held here (the banner shows while any are).
    demo: bool,
    demo_cases: u64,
    version: &'static str,
}

/// What the UI needs first, read on a blocking thread (the store is SQLite).
async fn app_state_of(desktop: &Desktop) -> AppState {
    let running = desktop.running().ok();
    let data_dir = desktop.data_dir().display().to_string();
    let store_here = ledger_office::ledger_store_exists(desktop.data_dir());
    let recovery = desktop.pending_recovery();
    let read = move || {
        let mut state = read_app_state(running.as_deref(), data_dir);
        state.locked = !state.ready && store_here;
        state.keyring = ledger_office::vault::keyring_available();
        state.recovery = recovery;
        state
    };
    match tauri::async_runtime::spawn_blocking(read).await {
        Ok(state) => state,
        Err(e) => {
            tracing::error!(error = %e, "reading the app state failed");
            read_app_state(None, desktop.data_dir().display().to_string())
        }
    }
}

pub(crate) fn read_app_state(
    running: Option<&crate::state::Running>,
    data_dir: String,
) -> AppState {
    let office = running.as_ref().map(|r| r.office.config());
    let hub = running.as_ref().and_then(|r| r.office.hub_url().ok().flatten());
    let plain = running
        .as_ref()
        .and_then(|r| r.office.hub_link().ok().flatten())
        .is_some_and(|link| link == HubLink::Plain);
    let demo_cases = running.as_ref().and_then(|r| r.office.demo_cases().ok()).unwrap_or(0);
    AppState {
        ready: running.is_some(),
        office,
        hub,
        hub_warning: plain.then_some("plain_http"),
        locked: false,
        keyring: false,
        recovery: None,
        data_dir,
        demo: demo_cases > 0,
        demo_cases,
        version: env!("CARGO_PKG_VERSION"),
    }
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn app_state(desktop: State<'_, Desktop>) -> CommandResult<AppState> {
    Ok(app_state_of(&desktop).await)
}

/// A code and its Chinese label.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub(crate) struct CodeLabel {
    code: String,
    label: String,
}

fn list<T>(known: &[T], code: fn(&T) -> &str, label: fn(&T) -> &str) -> Vec<CodeLabel> {
    known
        .iter()
        .map(|v| CodeLabel { code: code(v).to_owned(), label: label(v).to_owned() })
        .collect()
}

/// Every vocabulary, in report order.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub(crate) struct Vocabularies {
    channel: Vec<CodeLabel>,
    source: Vec<CodeLabel>,
    purpose: Vec<CodeLabel>,
    sector: Vec<CodeLabel>,
    category: Vec<CodeLabel>,
    /// The category codes a clerk may choose under each 涉及领域 code ([`Category::offered`]).
    category_by_sector: BTreeMap<String, Vec<String>>,
    /// The 信访来源 codes that are referrals ([`Source::is_referral`]): the form asks for the
    /// referring body and its document number.
    referral_sources: Vec<String>,
    status: Vec<CodeLabel>,
    action: Vec<CodeLabel>,
    satisfaction: Vec<CodeLabel>,
    close_reason: Vec<CodeLabel>,
    outcome: Vec<CodeLabel>,
    review_outcome: Vec<CodeLabel>,
    follow_up_method: Vec<CodeLabel>,
    handling_track: Vec<CodeLabel>,
    document_kind: Vec<CodeLabel>,
    /// The document kinds an office issues itself ([`DocumentKind::issued_by_office`]); the
    /// review opinions are the reviewing bodies', recorded only as served.
    issued_documents: Vec<String>,
    deadline_kind: Vec<CodeLabel>,
    case_field: Vec<CodeLabel>,
    role: Vec<CodeLabel>,
    /// 工作记录 kinds, and the vocabularies of their fields (each named as the field).
    work_kind: Vec<CodeLabel>,
    consult_channel: Vec<CodeLabel>,
    occasion: Vec<CodeLabel>,
    risk_level: Vec<CodeLabel>,
    screening_status: Vec<CodeLabel>,
    duty_shift: Vec<CodeLabel>,
    leader_scope: Vec<CodeLabel>,
    settlement: Vec<CodeLabel>,
    reception_outcome: Vec<CodeLabel>,
    /// The form of each kind of work record (`consult`, `outreach`, `screening`), and of a
    /// screening list's items (`screening_item`): the table the office and the hub check by.
    work_forms: BTreeMap<String, Vec<FieldForm>>,
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn vocabularies() -> CommandResult<Vocabularies> {
    Ok(Vocabularies {
        channel: list(Channel::KNOWN, Channel::code, Channel::label),
        source: list(Source::KNOWN, Source::code, Source::label),
        purpose: list(Purpose::KNOWN, Purpose::code, Purpose::label),
        sector: list(Sector::KNOWN, Sector::code, Sector::label),
        category: list(Category::KNOWN, Category::code, Category::label),
        category_by_sector: Sector::KNOWN
            .iter()
            .map(|s| {
                let offered = Category::offered(s).iter().map(|c| c.code().to_owned()).collect();
                (s.code().to_owned(), offered)
            })
            .collect(),
        referral_sources: Source::KNOWN
            .iter()
            .filter(|s| s.is_referral())
            .map(|s| s.code().to_owned())
            .collect(),
        status: list(Status::KNOWN, Status::code, Status::label),
        action: list(ActionKind::KNOWN, ActionKind::code, ActionKind::label),
        satisfaction: list(Satisfaction::KNOWN, Satisfaction::code, Satisfaction::label),
        close_reason: list(CloseReason::KNOWN, CloseReason::code, CloseReason::label),
        outcome: list(Outcome::KNOWN, Outcome::code, Outcome::label),
        review_outcome: list(ReviewOutcome::KNOWN, ReviewOutcome::code, ReviewOutcome::label),
        follow_up_method: list(FollowUpMethod::KNOWN, FollowUpMethod::code, FollowUpMethod::label),
        handling_track: list(HandlingTrack::KNOWN, HandlingTrack::code, HandlingTrack::label),
        document_kind: list(DocumentKind::KNOWN, DocumentKind::code, DocumentKind::label),
        issued_documents: DocumentKind::KNOWN
            .iter()
            .filter(|k| k.issued_by_office())
            .map(|k| k.code().to_owned())
            .collect(),
        deadline_kind: list(DeadlineKind::KNOWN, DeadlineKind::code, DeadlineKind::label),
        case_field: list(CaseField::KNOWN, CaseField::code, CaseField::label),
        role: list(Role::KNOWN, Role::code, Role::label),
        work_kind: list(WorkKind::KNOWN, WorkKind::code, WorkKind::label),
        consult_channel: list(ConsultChannel::KNOWN, ConsultChannel::code, ConsultChannel::label),
        occasion: list(Occasion::KNOWN, Occasion::code, Occasion::label),
        risk_level: list(RiskLevel::KNOWN, RiskLevel::code, RiskLevel::label),
        screening_status: list(
            ScreeningStatus::KNOWN,
            ScreeningStatus::code,
            ScreeningStatus::label,
        ),
        duty_shift: list(DutyShift::KNOWN, DutyShift::code, DutyShift::label),
        leader_scope: list(LeaderScope::KNOWN, LeaderScope::code, LeaderScope::label),
        settlement: list(Settlement::KNOWN, Settlement::code, Settlement::label),
        reception_outcome: list(
            ReceptionOutcome::KNOWN,
            ReceptionOutcome::code,
            ReceptionOutcome::label,
        ),
        work_forms: work_forms(),
    })
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn enroll(
    desktop: State<'_, Desktop>,
    hub: String,
    token: String,
    staff: Vec<String>,
    fingerprint: Option<String>,
    passphrase: Option<String>,
) -> CommandResult<AppState> {
    if desktop.ready() {
        return Err(CommandError::new("already_set_up", "本机已有台账，不能重复接入"));
    }
    let enrollment = Enrollment {
        hub: HubAddress { url: hub, fingerprint, ..HubAddress::default() },
        token,
        staff,
        // The hub lists this computer by its host name.
        device_name: String::new(),
        unlock: Some(unlock_of(passphrase)),
    };
    let dir = desktop.data_dir().to_path_buf();
    // The store is created on a blocking thread; the exchange with the hub runs there too.
    let office = tauri::async_runtime::spawn_blocking(move || {
        tauri::async_runtime::block_on(Office::enroll(&dir, &enrollment, system_clock()))
    })
    .await
    .map_err(|e| CommandError::new("internal", e.to_string()))??;
    desktop.started(office);
    desktop.changed(None);
    Ok(app_state_of(&desktop).await)
}

/// A passphrase typed in the app, else the system keyring.
fn unlock_of(passphrase: Option<String>) -> Unlock {
    match passphrase.filter(|p| !p.trim().is_empty()) {
        Some(p) => Unlock::Passphrase(p),
        None => Unlock::Keyring,
    }
}

/// Opens the store waiting for its passphrase (this computer's, or the recovery passphrase).
#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn unlock(
    app: tauri::AppHandle,
    desktop: State<'_, Desktop>,
    passphrase: String,
) -> CommandResult<AppState> {
    if !desktop.ready() {
        if passphrase.trim().is_empty() {
            return Err(CommandError::new("invalid_input", "请输入台账口令或恢复口令"));
        }
        // Argon2, and for a store from before its encryption: a blocking thread.
        let unlock = Unlock::Passphrase(passphrase);
        tauri::async_runtime::spawn_blocking(move || {
            use tauri::Manager;
            app.state::<Desktop>().open_store(&unlock)
        })
        .await
        .map_err(|e| CommandError::new("internal", e.to_string()))??;
        desktop.changed(None);
    }
    Ok(app_state_of(&desktop).await)
}

/// The recovery passphrase was shown and written down.
#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn recovery_shown(desktop: State<'_, Desktop>) -> CommandResult<AppState> {
    desktop.recovery_shown();
    Ok(app_state_of(&desktop).await)
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn setup_local(
    desktop: State<'_, Desktop>,
    code: String,
    name: String,
    role: String,
    townships: Vec<String>,
    staff: Vec<String>,
    passphrase: Option<String>,
) -> CommandResult<AppState> {
    if desktop.ready() {
        return Err(CommandError::new("already_set_up", "本机已有台账"));
    }
    let unlock = unlock_of(passphrase);
    let role = Role::parse(&role)
        .ok_or_else(|| CommandError::new("invalid_input", "请选择单位类别：乡镇国土所或县局"))?;
    let config = OfficeConfig { townships, staff, ..OfficeConfig::new(&code, &name, role) };
    let dir = desktop.data_dir().to_path_buf();
    let opened = tauri::async_runtime::spawn_blocking(move || {
        Office::init_unlocked(&dir, config, &unlock, system_clock())
    })
    .await
    .map_err(|e| CommandError::new("internal", e.to_string()))??;
    desktop.started(opened);
    desktop.changed(None);
    Ok(app_state_of(&desktop).await)
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn update_staff(
    desktop: State<'_, Desktop>,
    staff: Vec<String>,
) -> CommandResult<OfficeConfig> {
    with_office(&desktop, move |o| o.set_staff(staff)).await
}

/// The county's rules as this office holds them (全县规则).
#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn rules_view(desktop: State<'_, Desktop>) -> CommandResult<RulesView> {
    with_office(&desktop, |o| o.rules_view()).await
}

/// Records a change of the county's rules (the bureau); the ledger's due dates are then
/// recomputed in the background.
#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn set_rule(
    desktop: State<'_, Desktop>,
    item: String,
    value: String,
    from: Option<String>,
    note: Option<String>,
    handler: Option<String>,
) -> CommandResult<RulesView> {
    let from = super::cases::date(from.as_deref())?;
    let input = RuleInput { item, value, from, note: note.unwrap_or_default(), handler };
    let view = with_office(&desktop, move |o| o.set_rule(&input)).await?;
    desktop.changed(None);
    if let Ok(running) = desktop.running() {
        desktop.refresh_index_in_background(running.office.clone());
    }
    Ok(view)
}

/// The townships a case may go to, each with the offices enrolled for it (from the county
/// directory this office holds).
#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn township_choices(
    desktop: State<'_, Desktop>,
) -> CommandResult<Vec<ledger_office::TownshipChoice>> {
    with_office(&desktop, |o| o.township_choices()).await
}

/// What removing the demo data did, and the app's state after it.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub(crate) struct DemoRemoved {
    pub(crate) removed: ledger_office::DemoRemoval,
    pub(crate) state: AppState,
}

/// Removes the demo cases, and only those, everywhere they went; the enrollment and every
/// real case stay ([`ledger_office::Office::remove_demo`]).
#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn remove_demo(
    desktop: State<'_, Desktop>,
    handler: Option<String>,
) -> CommandResult<DemoRemoved> {
    let removed = with_office(&desktop, move |o| o.remove_demo(handler.as_deref())).await?;
    desktop.changed(None);
    Ok(DemoRemoved { removed, state: app_state_of(&desktop).await })
}
