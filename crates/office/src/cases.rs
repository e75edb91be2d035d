//! Use cases on one case: register, add a submission, record a workflow action, attach a file,
//! edit a field, draft, resolve a conflict, and the full view of a case.

use std::path::Path;

use chrono::NaiveDate;
use ledger_domain::deadline::{CaseDeadlines, deadlines};
use ledger_domain::model::case_number;
use ledger_domain::registration::{BuiltPetitioners, build_petitioners};
use ledger_domain::schema::{self, CaseField, Draft, FieldConflict, FieldValue, RestrictionEffect};
use ledger_domain::workflow::{
    Anomaly, Supervision, case_actions, forward_check, permit, replay, status_after,
};
use ledger_domain::{
    ActionKind, AttachmentRef, Case, CaseId, CloseReason, DocumentKind, Evaluation, Event,
    EventHead, FirstReceiver, FollowUpMethod, HandlingTrack, Identity, IssuedDocument, NewCase,
    NewPetitioner, NewSubmission, Outcome, Person, RegistrationContext, ReviewOutcome, Role,
    Satisfaction, Status,
};
use ledger_protocol::DropPerson;
use ledger_store::{DocKind, DropRecord, NewCaseDocs, QuarantinedChange};
use serde::{Deserialize, Serialize};

use crate::Office;
use crate::act::{Act, CaseSets};
use crate::error::{OfficeError, Result};

/// A workflow action as entered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ActionInput {
    /// What to do (code or label when parsed by the caller).
    pub action: Option<ActionKind>,
    /// 去向: the township for 交办/改派, the body for 转送.
    pub target: Option<String>,
    /// 期限: the assignment's deadline, or the new deadline of an extension.
    pub due: Option<NaiveDate>,
    /// 办理说明: the note, the reason, or the reply text.
    pub text: Option<String>,
    /// 评价结果, for 评价.
    pub result: Option<Satisfaction>,
    /// 办结原因, for 办结.
    pub reason: Option<CloseReason>,
    /// 处理意见, for 答复.
    pub outcome: Option<Outcome>,
    /// 文书类别, for 出具文书, and for 送达 the document served (the reply when absent).
    pub document_kind: Option<DocumentKind>,
    /// 送达日期, for 送达: the day the petitioner received the document (today when absent).
    pub date: Option<NaiveDate>,
    /// 复查/复核结论, for 复查意见 and 复核意见 (the reviewing body goes in `target`).
    pub review_outcome: Option<ReviewOutcome>,
    /// 办理程序, for 受理 (and 交办 when it is the decision): the track proposed from the
    /// 信访目的 when absent.
    pub track: Option<HandlingTrack>,
    /// 办理人; the office's default when absent.
    pub handler: Option<String>,
    /// 督办单, for 督办反馈: the 督办 event answered (the only one waiting when absent).
    pub refers: Option<String>,
    /// 回访方式, for 回访.
    pub method: Option<FollowUpMethod>,
    /// 无法回访, for 回访: the petitioner could not be reached.
    pub unreachable: bool,
}

/// A repeat letter or visit on an existing case.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct SubmissionInput {
    /// The submission.
    #[serde(flatten)]
    pub submission: NewSubmission,
    /// Petitioners not yet on the case.
    pub petitioners: Vec<NewPetitioner>,
    /// 代表 already on the case (ids of its petitioners), besides new ones marked 代表.
    #[cfg_attr(feature = "ts", ts(as = "Option<_>", optional))]
    pub representatives: Vec<String>,
}

/// Everything the case detail screen shows.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CaseView {
    /// The case.
    pub case: Case,
    /// The identity, if this office holds it.
    pub identity: Option<Identity>,
    /// The petitioners' names as this office may show them ([`Case::names`]): full where the
    /// identity is here, masked otherwise.
    pub names: Vec<String>,
    /// The name of every office the case mentions, by code (登记单位, who recorded each event).
    pub office_names: std::collections::BTreeMap<String, String>,
    /// Whether the petitioners' identity goes to the bureau only (检举控告, confidential).
    pub identity_restricted: bool,
    /// The derived status.
    pub status: Status,
    /// Events that do not fit the workflow, for review.
    pub anomalies: Vec<Anomaly>,
    /// The deadlines as of today.
    pub deadlines: CaseDeadlines,
    /// Fields edited concurrently, with every value, for review.
    pub conflicts: Vec<FieldConflict>,
    /// The actions this office may record now.
    pub allowed_actions: Vec<ActionKind>,
    /// 已转交: read-only until it leaves.
    pub handed_over: bool,
    /// The documents issued.
    pub documents: Vec<IssuedDocument>,
    /// The ratings.
    pub evaluations: Vec<Evaluation>,
    /// 首问责任人: who first received the matter.
    pub first_receiver: Option<FirstReceiver>,
    /// 督办单: the supervision orders issued on the case, each with its report once made.
    pub supervisions: Vec<Supervision>,
    /// The orders this office may report on now (督办反馈 chooses among them).
    pub answerable_supervisions: Vec<Supervision>,
    /// Local changes to the case not yet acknowledged by the hub.
    pub pending_upload: u64,
    /// Changes to the case the hub refused, with its reasons (`ledger repair` recovers).
    pub refused: Vec<QuarantinedChange>,
    /// Petitioners' identities typed here that wait to be delivered to the bureau (this office
    /// does not keep them: 信访工作条例 §30).
    pub identities_to_deliver: usize,
    /// 办理程序 the matter is handled on.
    pub track: HandlingTrack,
    /// The track its 信访目的 proposes, offered first when the bureau decides on acceptance.
    pub proposed_track: HandlingTrack,
    /// The documents this office can print for the case now (each has its decisive event, and
    /// this office is its issuer): what the case screen offers.
    pub printable: Vec<DocumentKind>,
}

impl Office {
    /// Registers a new case with its first submission. Returns its id.
    pub fn register(&self, input: &NewCase, handler: Option<&str>) -> Result<CaseId> {
        let (case, identity) = self.build_case(input, handler, None, None)?;
        let id = case.id;
        let docs = self.new_case_docs(case, identity, Vec::new())?;
        self.store.create_cases_with_progress(&[docs], &mut |_| {})?;
        tracing::info!(case = %id, "case registered");
        Ok(id)
    }

    /// Whether this office keeps the identity of `case` itself: the bureau always; a township
    /// only when it is not restricted (检举控告, confidential), and an office for this computer
    /// only (no hub to deliver to) always.
    fn keeps_identity(&self, case: &Case) -> Result<bool> {
        Ok(self.is_bureau() || !case.identity_restricted() || self.hub_url()?.is_none())
    }

    /// A new case's documents as this office stores them: its identity document where it keeps
    /// one, else the identities as typed go to the bureau as a drop and stay out of every
    /// history here.
    pub(crate) fn new_case_docs(
        &self,
        case: Case,
        identity: Identity,
        fingerprints: Vec<String>,
    ) -> Result<NewCaseDocs> {
        if self.keeps_identity(&case)? {
            return Ok(NewCaseDocs { case, identity: Some(identity), drop: None, fingerprints });
        }
        let drop = if identity.persons.is_empty() {
            None
        } else {
            Some(self.drop_record(case.id, &identity.persons)?)
        };
        Ok(NewCaseDocs { case, identity: None, drop, fingerprints })
    }

    fn drop_record(&self, case: CaseId, persons: &[Person]) -> Result<DropRecord> {
        let persons: Vec<DropPerson> = persons
            .iter()
            .map(|p| DropPerson {
                id: p.id.clone(),
                name: p.name.clone(),
                id_type: p.id_type.code().to_owned(),
                id_number: p.id_number.clone(),
                phone: p.phone.clone(),
                address: p.address.clone(),
            })
            .collect();
        let persons = serde_json::to_string(&persons).map_err(ledger_store::StoreError::from)?;
        Ok(DropRecord { id: self.mint_id(), case_id: case, persons, error: None })
    }

    /// Checks registration input and builds the case without storing it (imports batch them).
    pub(crate) fn build_case(
        &self,
        input: &NewCase,
        handler: Option<&str>,
        fingerprint: Option<String>,
        number: Option<String>,
    ) -> Result<(Case, Identity)> {
        let cfg = self.config();
        let handler = self.handler(handler)?;
        let today = self.today();
        let year = input
            .submission
            .received
            .map(|d| d.format("%Y").to_string())
            .unwrap_or_else(|| today.format("%Y").to_string());
        let id =
            CaseId(uuid::Uuid::parse_str(&self.mint_id()).unwrap_or_else(|_| uuid::Uuid::nil()));
        let policy = self.store.rules().policies.for_date(self.today()).clone();
        let actor = self.actor_hex();
        let mut mint = || self.mint_id();
        let number = match number {
            Some(n) => n,
            None => self.next_case_number(&year)?,
        };
        let townships = self.registration_townships()?;
        let mut ctx = RegistrationContext {
            case_id: id,
            number,
            mint_id: &mut mint,
            office: &cfg.code,
            role: cfg.role.clone(),
            actor: &actor,
            handler: &handler,
            at: self.now(),
            today,
            townships: &townships,
            default_township: cfg.default_township(),
            collective_threshold: policy.collective_threshold,
            representatives_max: policy.representatives_max,
            legacy: fingerprint.is_some(),
            fingerprint,
        };
        input.build(&mut ctx).map_err(OfficeError::Invalid)
    }

    fn next_case_number(&self, year: &str) -> Result<String> {
        let cfg = self.config();
        let seq = self.store.reserve_counter(&format!("case:{year}:{}", cfg.device), 1)?;
        Ok(self.format_case_number(year, seq))
    }

    pub(crate) fn format_case_number(&self, year: &str, seq: u64) -> String {
        let cfg = self.config();
        case_number(
            &cfg.number_prefix,
            year.parse().unwrap_or(0),
            &cfg.device,
            u32::try_from(seq).unwrap_or(u32::MAX),
        )
    }

    /// Reserves `n` case numbers of `year` at once (imports); returns the first.
    pub(crate) fn reserve_case_numbers(&self, year: &str, n: u64) -> Result<u64> {
        let cfg = self.config();
        Ok(self.store.reserve_counter(&format!("case:{year}:{}", cfg.device), n)?)
    }

    /// Reads a case.
    pub fn case(&self, id: CaseId) -> Result<Case> {
        Ok(self.store.load_case(id)?)
    }

    /// Everything the case detail screen shows, as of today.
    pub fn view(&self, id: CaseId) -> Result<CaseView> {
        let cfg = self.config();
        let case = self.store.load_case(id)?;
        let identity = self.store.load_identity(id)?;
        let replayed = replay(&case.events);
        let rules = self.store.rules();
        let due = deadlines(&case, &replayed, &rules.policies, &rules.calendar, self.today())
            .seen_by(&case, &cfg.code);
        let conflicts = self
            .store
            .with_doc(id, DocKind::Case, schema::conflicts)?
            .map_err(|source| ledger_store::StoreError::document(id, source))?;
        let handed_over = self.store.row(id)?.is_some_and(|r| r.handed_over);
        let allowed =
            if handed_over { Vec::new() } else { case_actions(&case, &replayed, &cfg.role) };
        // 转送 is offered only for a matter of the land system (else 不予受理 with a 告知).
        let mut allowed: Vec<ActionKind> = allowed
            .into_iter()
            .filter(|a| *a != ActionKind::Forward || forward_check(&case.sector).is_ok())
            .collect();
        if !handed_over
            && cfg.role == Role::Bureau
            && case.identity_restricted()
            && replayed.status != Status::Voided
        {
            allowed.push(ActionKind::LiftRestriction);
        }
        let printable = DocumentKind::KNOWN
            .iter()
            .filter(|k| k.issued_by_office() || **k == DocumentKind::ReviewOpinion)
            .filter(|k| ledger_report::check_document(&case, k, &cfg.name).is_ok())
            .cloned()
            .collect();
        let answerable_supervisions = if allowed.contains(&ActionKind::SuperviseReport) {
            replayed.open_supervisions().cloned().collect()
        } else {
            Vec::new()
        };
        Ok(CaseView {
            answerable_supervisions,
            printable,
            office_names: self.office_names(&case),
            names: case.names(identity.as_ref()),
            identity_restricted: case.identity_restricted(),
            documents: case.documents(),
            evaluations: case.evaluations(),
            first_receiver: case.first_receiver(),
            identity,
            status: replayed.status.clone(),
            track: replayed.track(),
            supervisions: replayed.supervisions,
            anomalies: replayed.anomalies,
            deadlines: due,
            conflicts,
            allowed_actions: allowed,
            handed_over,
            pending_upload: self.store.outbox_for_case(id)?,
            refused: self.store.quarantined_for(id)?,
            identities_to_deliver: self.store.drops_for(id)?.len(),
            proposed_track: HandlingTrack::proposed(&case.purpose),
            case,
        })
    }

    pub(crate) fn writable(&self, id: CaseId) -> Result<Case> {
        let case = self.store.load_case(id)?;
        if self.store.row(id)?.is_some_and(|r| r.handed_over) {
            return Err(OfficeError::HandedOver);
        }
        Ok(case)
    }

    pub(crate) fn event(&self, case: &Case, action: ActionKind, handler: String) -> Event {
        let cfg = self.config();
        let now = self.now();
        Event::new(EventHead {
            id: self.mint_id(),
            lamport: case.next_lamport(),
            action,
            actor: self.actor_hex(),
            office: cfg.code.clone(),
            role: cfg.role,
            handler,
            at: now,
            date: self.today(),
            imported: false,
        })
    }

    /// Records a workflow action after the role table, the workflow and the action's own rules
    /// allow it. Returns the new status.
    pub fn act(&self, id: CaseId, input: &ActionInput) -> Result<Status> {
        let cfg = self.config();
        let action = input
            .action
            .clone()
            .ok_or_else(|| OfficeError::invalid("action", "办理动作", "请选择办理动作"))?;
        if matches!(
            action,
            ActionKind::Register | ActionKind::ResolveConflict | ActionKind::IssueDocument
        ) {
            return Err(OfficeError::Refused(format!("「{}」不能在此直接记录", action.label())));
        }
        let handler = self.handler(input.handler.as_deref())?;
        let case = self.writable(id)?;
        let replayed = replay(&case.events);
        permit(&replayed, &cfg.role, &action).map_err(|r| OfficeError::Refused(r.message))?;
        let rules = self.store.rules();
        let mut event = self.event(&case, action.clone(), handler);
        let text =
            input.text.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned);
        event.text = text.clone();
        let c = Act { id, case: &case, replayed: &replayed, input, rules: &rules, text, action };
        let CaseSets { jurisdiction, official_number } = self.action_checks(&c, &mut event)?;
        let action = c.action;
        self.store.edit(id, DocKind::Case, |tx| {
            schema::add_event(tx, &event)?;
            if let Some(township) = &jurisdiction {
                schema::put_field(
                    tx,
                    &CaseField::Jurisdiction,
                    FieldValue::Text(township.clone()),
                )?;
            }
            if let Some(number) = &official_number {
                schema::put_field(
                    tx,
                    &CaseField::OfficialNumber,
                    FieldValue::Text(number.clone()),
                )?;
            }
            if action == ActionKind::Reply {
                schema::set_draft(tx, Draft::Reply, "")?;
            }
            if action == ActionKind::LiftRestriction {
                schema::put_identity_released(tx, true)?;
            }
            Ok(())
        })?;
        tracing::info!(case = %id, action = action.code(), "action recorded");
        Ok(status_after(&replayed, &event))
    }

    /// Adds a repeat letter or visit to a case. Returns the submission id.
    pub fn add_submission(
        &self,
        id: CaseId,
        input: &SubmissionInput,
        handler: Option<&str>,
    ) -> Result<String> {
        self.add_submission_as(id, input, handler, false)
    }

    /// [`Office::add_submission`]; `legacy` for a row of an imported ledger, which never
    /// recorded representatives.
    pub(crate) fn add_submission_as(
        &self,
        id: CaseId,
        input: &SubmissionInput,
        handler: Option<&str>,
        legacy: bool,
    ) -> Result<String> {
        let cfg = self.config();
        let case = self.writable(id)?;
        let case_now = case.clone();
        let handler = self.handler(handler)?;
        let policy = self.store.rules().policies.for_date(self.today()).clone();
        let actor = self.actor_hex();
        let mut mint = || self.mint_id();
        let mut errors = Vec::new();
        let BuiltPetitioners { refs, persons, mut representatives } =
            build_petitioners(&input.petitioners, true, &mut mint, &mut errors);
        let mut from_case = Vec::new();
        for chosen in &input.representatives {
            if from_case.contains(chosen) {
                continue;
            }
            if case.petitioners.iter().any(|p| &p.id == chosen) {
                from_case.push(chosen.clone());
            } else {
                errors.push(ledger_domain::FieldError {
                    field: "representatives".into(),
                    label: "代表".into(),
                    message: "所选代表不是本案件的信访人，请重新选择".into(),
                });
            }
        }
        from_case.append(&mut representatives);
        let representatives = from_case;
        let mut petitioner_ids: Vec<String> = refs.iter().map(|r| r.id.clone()).collect();
        if petitioner_ids.is_empty() {
            petitioner_ids = case.petitioners.iter().map(|p| p.id.clone()).collect();
        }
        // The representatives chosen from the case came on this visit too.
        for chosen in &representatives {
            if !petitioner_ids.contains(chosen) {
                petitioner_ids.push(chosen.clone());
            }
        }
        let ctx = RegistrationContext {
            case_id: id,
            number: case.number,
            mint_id: &mut mint,
            office: &cfg.code,
            role: cfg.role.clone(),
            actor: &actor,
            handler: &handler,
            at: self.now(),
            today: self.today(),
            townships: &cfg.townships,
            default_township: None,
            collective_threshold: policy.collective_threshold,
            representatives_max: policy.representatives_max,
            fingerprint: None,
            legacy,
        };
        let submission_id = self.mint_id();
        let mut submission = input.submission.clone();
        // A later submission on the same matter is a repeat (重件) unless said otherwise.
        submission.repeat = true;
        let built = submission.build(
            submission_id.clone(),
            petitioner_ids,
            representatives,
            &ctx,
            &mut errors,
        );
        let Some(built) = built.filter(|_| errors.is_empty()) else {
            return Err(OfficeError::Invalid(errors));
        };
        // Names typed for a case whose identity this office does not keep go to the bureau in
        // the same transaction as the submission: nothing typed is dropped.
        let direct =
            self.store.has_doc(id, DocKind::Identity)? && self.keeps_identity(&case_now)?;
        let drop =
            if persons.is_empty() || direct { None } else { Some(self.drop_record(id, &persons)?) };
        // A confidential or 12336 submission restricts the case again, whatever an earlier
        // 解除保密 said.
        let tightens = built.confidential || built.source == ledger_domain::Source::Report12336;
        self.store.edit_with_drop(id, DocKind::Case, drop, |tx| {
            for r in &refs {
                schema::add_petitioner(tx, r)?;
            }
            schema::add_submission(tx, &built)?;
            if tightens {
                schema::put_identity_released(tx, false)?;
            }
            Ok(())
        })?;
        if !persons.is_empty() && direct {
            self.store.edit(id, DocKind::Identity, |tx| {
                for p in &persons {
                    schema::put_person(tx, p)?;
                }
                Ok(())
            })?;
        }
        Ok(submission_id)
    }

    /// Whether a file of `size` bytes may be attached; asked before the file is read
    /// ([`Office::attach_file`]), so a huge file is never loaded.
    pub(crate) fn check_attachment_size(name: &str, size: u64) -> Result<()> {
        if size > ledger_protocol::MAX_BLOB_BYTES {
            return Err(OfficeError::invalid(
                "file",
                "附件",
                format!(
                    "附件「{name}」有 {:.1} MiB，超过 {} MiB 的上限；请压缩或分拆后再添加",
                    size as f64 / 1048576.0,
                    ledger_protocol::MAX_BLOB_BYTES / 1024 / 1024
                ),
            ));
        }
        Ok(())
    }

    /// Attaches a file to a case: stored once by content, cited by the case.
    pub fn attach(&self, id: CaseId, name: &str, bytes: &[u8], mime: &str) -> Result<String> {
        let cfg = self.config();
        Self::check_attachment_size(name, bytes.len() as u64)?;
        let case = self.writable(id)?;
        let hash = self.store.put_blob(bytes)?;
        // The same file again: the case cites it already (attachments are kept by content).
        if case.attachments.iter().any(|a| a.hash == hash) {
            return Ok(hash);
        }
        let attachment = AttachmentRef {
            hash: hash.clone(),
            name: name.to_owned(),
            size: bytes.len() as u64,
            mime: mime.to_owned(),
            added_at: self.now(),
            added_by: cfg.code,
        };
        self.store.edit(id, DocKind::Case, |tx| schema::add_attachment(tx, &attachment))?;
        Ok(hash)
    }

    /// Attaches the file at `path` to a case under the file's own name, its type told by the
    /// name's extension: the size is checked before a byte is read, so a huge file is never
    /// loaded. Returns the attachment's hash, as [`Office::attach`].
    pub fn attach_file(&self, id: CaseId, path: &Path) -> Result<String> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "附件".to_owned());
        let unreadable =
            |e: std::io::Error| OfficeError::BadFile(format!("无法读取「{name}」：{e}"));
        let size = std::fs::metadata(path).map_err(unreadable)?.len();
        Self::check_attachment_size(&name, size)?;
        let bytes = std::fs::read(path).map_err(unreadable)?;
        self.attach(id, &name, &bytes, AttachmentRef::mime_of(&name))
    }

    /// An attachment's bytes.
    pub fn attachment(&self, hash: &str) -> Result<Vec<u8>> {
        self.store.blob(hash)?.ok_or_else(|| {
            OfficeError::NotFound(format!("附件 {hash} 尚未同步到本机，请联网同步后再打开"))
        })
    }

    /// Edits a governed field (category, subject ...). Only the bureau changes bureau-only
    /// fields; jurisdiction changes only through 交办/改派.
    pub fn set_field(&self, id: CaseId, field: &CaseField, value: &str) -> Result<()> {
        let case = self.writable(id)?;
        if *field == CaseField::Jurisdiction {
            return Err(OfficeError::Refused("所属乡镇只能通过「交办」或「改派」变更".to_owned()));
        }
        if field.bureau_only() && !self.is_bureau() {
            return Err(OfficeError::Refused(format!("「{}」只能由县局修改", field.label())));
        }
        let value = self.field_value(field, value)?;
        let effect = self.check_restriction(&case, field, &value)?;
        self.store.edit(id, DocKind::Case, |tx| {
            schema::put_field(tx, field, value)?;
            if effect == RestrictionEffect::Tightens {
                // A concurrent 解除保密 must not outlive this tightening.
                schema::put_identity_released(tx, false)?;
            }
            Ok(())
        })?;
        Ok(())
    }

    /// Refuses a field value that would loosen the identity restriction where that is not
    /// this office's to do (the hub refuses it too, 信访工作条例 §30).
    fn check_restriction(
        &self,
        case: &Case,
        field: &CaseField,
        value: &FieldValue,
    ) -> Result<RestrictionEffect> {
        let effect = schema::restriction_effect(case, field, value);
        let overwrites_restrictive = case.restrictive_values
            && matches!(field, CaseField::Purpose | CaseField::Confidential)
            && effect != RestrictionEffect::Tightens;
        if !self.is_bureau() && overwrites_restrictive {
            return Err(OfficeError::Refused(
                "该字段有一个并发修改的值要求保密；乡镇国土所只能加强保密，请报县局处理".to_owned(),
            ));
        }
        if effect != RestrictionEffect::Loosens {
            return Ok(effect);
        }
        let township_refusal = || {
            OfficeError::Refused(
                "乡镇国土所只能加强保密，不能把检举控告改为其他类别或取消保密；如确需解除，请报县局"
                    .to_owned(),
            )
        };
        if !self.is_bureau() {
            return Err(township_refusal());
        }
        let mut probe = case.clone();
        // A put overwrites every concurrent value of the field.
        probe.restrictive_values = false;
        match (field, value) {
            (CaseField::Purpose, FieldValue::Text(code)) => {
                probe.purpose = ledger_domain::Purpose::from_code(code);
            }
            (CaseField::Confidential, FieldValue::Flag(flag)) => probe.confidential = *flag,
            _ => {}
        }
        if case.identity_restricted() && !probe.identity_restricted() {
            return Err(OfficeError::Refused(format!(
                "该案件的信访人身份受保护；请先「解除保密」并写明理由，再修改「{}」",
                field.label()
            )));
        }
        Ok(effect)
    }

    /// A number of a series, with the device letter to print before it ("" when the number is
    /// unique by itself: leased from the hub, or a store for this computer only).
    pub(crate) fn series_number(&self, series: &str) -> Result<(u64, String)> {
        let device = self.config().device;
        match self.leased_number(series)? {
            Some(n) if self.hub_url()?.is_some() || device == "A" => Ok((n, String::new())),
            Some(n) => Ok((n, device)),
            None => {
                // Offline with no leased number left: the device letter keeps it unique.
                let n = self.store.reserve_counter(&format!("{series}:{device}"), 1)?;
                Ok((n, device))
            }
        }
    }

    fn field_value(&self, field: &CaseField, value: &str) -> Result<FieldValue> {
        let bad = |known: String| {
            OfficeError::invalid(
                field.code(),
                field.label(),
                format!("不认识「{value}」，应为：{known}"),
            )
        };
        Ok(match field {
            CaseField::Purpose => FieldValue::Text(
                ledger_domain::Purpose::parse(value)
                    .ok_or_else(|| bad(ledger_domain::Purpose::known_labels()))?
                    .code()
                    .to_owned(),
            ),
            CaseField::Sector => FieldValue::Text(
                ledger_domain::Sector::parse(value)
                    .ok_or_else(|| bad(ledger_domain::Sector::known_labels()))?
                    .code()
                    .to_owned(),
            ),
            CaseField::Category => FieldValue::Text(
                ledger_domain::Category::parse(value)
                    .ok_or_else(|| bad(ledger_domain::Category::known_labels()))?
                    .code()
                    .to_owned(),
            ),
            CaseField::Confidential => {
                FieldValue::Flag(matches!(value.trim(), "是" | "true" | "1" | "yes"))
            }
            _ => FieldValue::Text(value.trim().to_owned()),
        })
    }

    /// Saves a draft (the reply or the investigation report); concurrent drafting merges.
    pub fn set_draft(&self, id: CaseId, draft: Draft, text: &str) -> Result<()> {
        self.writable(id)?;
        self.store.edit(id, DocKind::Case, |tx| schema::set_draft(tx, draft, text))?;
        Ok(())
    }

    /// Resolves a concurrent-edit conflict: writes the chosen value over every kept one and
    /// records the resolution as an event.
    pub fn resolve_conflict(
        &self,
        id: CaseId,
        field: &CaseField,
        value: &str,
        handler: Option<&str>,
    ) -> Result<()> {
        let case = self.writable(id)?;
        if field.bureau_only() && !self.is_bureau() {
            return Err(OfficeError::Refused(format!("「{}」的冲突只能由县局处理", field.label())));
        }
        let handler = self.handler(handler)?;
        let value = match field {
            CaseField::Jurisdiction => FieldValue::Text(value.trim().to_owned()),
            _ => self.field_value(field, value)?,
        };
        self.check_restriction(&case, field, &value)?;
        let mut event = self.event(&case, ActionKind::ResolveConflict, handler);
        event.field = Some(field.code().to_owned());
        event.text = Some(match &value {
            FieldValue::Text(t) => t.clone(),
            FieldValue::Flag(b) => b.to_string(),
            FieldValue::Absent => String::new(),
        });
        self.store.edit(id, DocKind::Case, |tx| {
            schema::put_field(tx, field, value)?;
            schema::add_event(tx, &event)
        })?;
        Ok(())
    }

    /// Voids a mistaken registration (kept, left out of statistics).
    pub fn void(&self, id: CaseId, reason: &str, handler: Option<&str>) -> Result<Status> {
        self.act(
            id,
            &ActionInput {
                action: Some(ActionKind::Void),
                text: Some(reason.to_owned()),
                handler: handler.map(str::to_owned),
                ..Default::default()
            },
        )
    }

    /// The role this office acts in.
    pub fn role(&self) -> Role {
        self.cfg().role.clone()
    }
}
