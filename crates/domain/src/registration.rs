//! Registration input (登记): what the register form, a JSON file or an imported ledger row gives,
//! checked field by field with Chinese messages, and turned into a new [`Case`] and its
//! [`Identity`].
//!
//! Values may be given as codes or as Chinese labels (`"visit"` or `"来访"`). A source of
//! 12336举报 implies the purpose 检举控告; otherwise a blank purpose is an error, except in an
//! imported legacy ledger, where it becomes 待分类 for a clerk to classify.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::idcard::{check_resident_id, mask_name};
use crate::model::{
    Case, CaseId, DeviceTime, Event, EventHead, Identity, Person, PetitionerRef, SCHEMA_VERSION,
    Submission,
};
use crate::terms::{Category, Channel, IdType, PetitionerKind, Purpose, Role, Sector, Source};
use crate::workflow::ActionKind;

/// One field's problem, to show next to the field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[error("{label}: {message}")]
pub struct FieldError {
    /// The input key (`received`, `petitioners[0].id_number`).
    pub field: String,
    /// The field's Chinese name (登记日期).
    pub label: String,
    /// What is wrong and what to write instead.
    pub message: String,
}

impl FieldError {
    fn new(field: impl Into<String>, label: &str, message: impl Into<String>) -> Self {
        Self { field: field.into(), label: label.to_owned(), message: message.into() }
    }
}

/// A petitioner as entered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct NewPetitioner {
    /// 姓名(名称).
    pub name: String,
    /// 信访人类型 (code or label); 公民 when empty.
    #[cfg_attr(feature = "ts", ts(as = "Option<_>", optional))]
    pub kind: String,
    /// 证件类型 (code or label); 居民身份证 when a number is given.
    #[cfg_attr(feature = "ts", ts(as = "Option<_>", optional))]
    pub id_type: String,
    /// 证件号码.
    #[cfg_attr(feature = "ts", ts(as = "Option<_>", optional))]
    pub id_number: String,
    /// 联系电话.
    #[cfg_attr(feature = "ts", ts(as = "Option<_>", optional))]
    pub phone: String,
    /// 住址.
    #[cfg_attr(feature = "ts", ts(as = "Option<_>", optional))]
    pub address: String,
    /// 代表: one of the representatives several visitors chose (信访工作条例 §20).
    #[cfg_attr(feature = "ts", ts(as = "Option<_>", optional))]
    pub representative: bool,
}

/// A submission as entered: the first of a new case, or a repeat letter or visit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct NewSubmission {
    /// 信访日期 (登记日期 in the ledger).
    pub received: Option<NaiveDate>,
    /// 信访形式 (code or label).
    pub channel: String,
    /// 信访来源 (code or label).
    pub source: String,
    /// 人数: persons (for visits, person-visits); 1 when absent.
    #[cfg_attr(feature = "ts", ts(optional))]
    pub persons: Option<u32>,
    /// 批次 for visits; 1 when absent.
    #[cfg_attr(feature = "ts", ts(optional))]
    pub batches: Option<u32>,
    /// 集体访/联名信; follows from the number of persons when absent.
    #[cfg_attr(feature = "ts", ts(optional))]
    pub collective: Option<bool>,
    /// 越级.
    #[cfg_attr(feature = "ts", ts(as = "Option<_>", optional))]
    pub skip_level: bool,
    /// 重复.
    #[cfg_attr(feature = "ts", ts(as = "Option<_>", optional))]
    pub repeat: bool,
    /// 匿名.
    #[cfg_attr(feature = "ts", ts(as = "Option<_>", optional))]
    pub anonymous: bool,
    /// 是否保密.
    #[cfg_attr(feature = "ts", ts(as = "Option<_>", optional))]
    pub confidential: bool,
    /// 反映内容 of this submission.
    #[cfg_attr(feature = "ts", ts(as = "Option<_>", optional))]
    pub summary: String,
    /// 来文机关, for a referral: the referring body's full name.
    #[cfg_attr(feature = "ts", ts(as = "Option<_>", optional))]
    pub referred_by: String,
    /// 来文文号, for a referral.
    #[cfg_attr(feature = "ts", ts(as = "Option<_>", optional))]
    pub referral_number: String,
    /// 平台编号, for a 12336 report: the number the platform gave it.
    #[cfg_attr(feature = "ts", ts(as = "Option<_>", optional))]
    pub platform_number: String,
    /// 重大紧急 (信访工作条例 §25).
    #[cfg_attr(feature = "ts", ts(as = "Option<_>", optional))]
    pub urgent: bool,
    /// 扬言.
    #[cfg_attr(feature = "ts", ts(as = "Option<_>", optional))]
    pub threat: bool,
    /// 涉法涉诉.
    #[cfg_attr(feature = "ts", ts(as = "Option<_>", optional))]
    pub litigation: bool,
}

/// A new case as entered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct NewCase {
    /// The first submission.
    #[serde(flatten)]
    pub submission: NewSubmission,
    /// 信访目的 (code or label); derived when empty.
    #[cfg_attr(feature = "ts", ts(as = "Option<_>", optional))]
    pub purpose: String,
    /// 涉及领域 (code or label).
    pub sector: String,
    /// 问题类别 (code or label).
    pub category: String,
    /// 所属乡镇 by name.
    #[cfg_attr(feature = "ts", ts(as = "Option<_>", optional))]
    pub township: String,
    /// 被反映对象.
    #[cfg_attr(feature = "ts", ts(as = "Option<_>", optional))]
    pub subject: String,
    /// 诉求内容.
    pub request: String,
    /// 问题属地.
    #[cfg_attr(feature = "ts", ts(as = "Option<_>", optional))]
    pub village: String,
    /// 信访人.
    pub petitioners: Vec<NewPetitioner>,
}

/// What the registering office supplies.
pub struct RegistrationContext<'a> {
    /// The new case's id.
    pub case_id: CaseId,
    /// Its human number.
    pub number: String,
    /// Mints ids for the submission, the petitioners and the event.
    pub mint_id: &'a mut dyn FnMut() -> String,
    /// The office's code.
    pub office: &'a str,
    /// The office's role.
    pub role: Role,
    /// The device's actor (hex).
    pub actor: &'a str,
    /// 办理人.
    pub handler: &'a str,
    /// Now, by the device clock.
    pub at: DeviceTime,
    /// Today.
    pub today: NaiveDate,
    /// The townships this office may register for (all of the county's for the bureau).
    pub townships: &'a [String],
    /// The township used when none is given (a township office's own).
    pub default_township: Option<&'a str>,
    /// Persons from whom a submission counts as collective.
    pub collective_threshold: u32,
    /// The most representatives a visit of several people may choose (信访工作条例 §20: 5); a
    /// visit of more people than this must name them.
    pub representatives_max: u32,
    /// The ledger row fingerprint, for imports.
    pub fingerprint: Option<String>,
    /// A row of an imported legacy ledger: a blank 信访目的 becomes 待分类 (restricted until a
    /// clerk classifies it) instead of an error.
    pub legacy: bool,
}

fn parse<T>(
    errors: &mut Vec<FieldError>,
    field: &str,
    label: &str,
    value: &str,
    parse: fn(&str) -> Option<T>,
    known: fn() -> String,
) -> Option<T> {
    if value.trim().is_empty() {
        errors.push(FieldError::new(field, label, format!("请选择{label}：{}", known())));
        return None;
    }
    let parsed = parse(value);
    if parsed.is_none() {
        errors.push(FieldError::new(
            field,
            label,
            format!("不认识「{}」，应为：{}", value.trim(), known()),
        ));
    }
    parsed
}

/// Checks a phone number a petitioner can be reached on: a mobile number (11 digits, 13x to
/// 19x) or a fixed line with its area code (0 then 9 to 11 digits), with spaces, dashes and a
/// leading +86 allowed. A bare 7- or 8-digit local number reaches nobody from another county.
pub fn phone_ok(phone: &str) -> bool {
    if !phone.chars().all(|c| c.is_ascii_digit() || c == '-' || c == ' ' || c == '+') {
        return false;
    }
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let digits = match phone.trim_start().strip_prefix('+') {
        Some(_) => match digits.strip_prefix("86") {
            Some(rest) => rest.to_owned(),
            None => return false,
        },
        None => digits,
    };
    let mobile = digits.len() == 11
        && digits.starts_with('1')
        && digits.as_bytes().get(1).is_some_and(|d| (b'3'..=b'9').contains(d));
    let fixed = digits.starts_with('0') && (10..=12).contains(&digits.len());
    mobile || fixed
}

impl NewSubmission {
    /// Checks the submission and builds it. `representatives` are those of `petitioners` the
    /// form marked 代表.
    pub fn build(
        &self,
        id: String,
        petitioners: Vec<String>,
        representatives: Vec<String>,
        ctx: &RegistrationContext<'_>,
        errors: &mut Vec<FieldError>,
    ) -> Option<Submission> {
        let received = match self.received {
            None => {
                errors.push(FieldError::new(
                    "received",
                    "登记日期",
                    "请填写信访日期（如 2024-03-01）",
                ));
                None
            }
            Some(d) if d > ctx.today => {
                errors.push(FieldError::new(
                    "received",
                    "登记日期",
                    format!("信访日期 {d} 晚于今天 {}，请核对", ctx.today),
                ));
                None
            }
            Some(d) => Some(d),
        };
        let channel = parse(
            errors,
            "channel",
            "信访形式",
            &self.channel,
            Channel::parse,
            Channel::known_labels,
        );
        let source =
            parse(errors, "source", "信访来源", &self.source, Source::parse, Source::known_labels);
        let referral = source.as_ref().is_some_and(Source::is_referral);
        let persons = self.persons.unwrap_or(1);
        if persons == 0 {
            errors.push(FieldError::new("persons", "人数", "人数至少为1"));
        }
        let visit = channel == Some(Channel::Visit);
        let batches = if visit { self.batches.unwrap_or(1) } else { self.batches.unwrap_or(0) };
        if visit && batches == 0 {
            errors.push(FieldError::new("batches", "批次", "来访至少1批"));
        }
        if batches > persons && persons > 0 {
            errors.push(FieldError::new("batches", "批次", "批次不能多于人次"));
        }
        if !visit && !representatives.is_empty() {
            errors.push(FieldError::new(
                "representatives",
                "代表",
                "只有来访才推选代表；来信、来电等请不要勾选「代表」",
            ));
        }
        // An anonymous submission names nobody, representatives included; a legacy ledger row
        // never recorded them: history is taken as it was kept.
        let must_name = visit && !self.anonymous && !ctx.legacy;
        if let Some(message) = representatives_problem(
            must_name,
            persons,
            representatives.len(),
            ctx.representatives_max,
        ) {
            errors.push(FieldError::new("representatives", "代表", message));
        }
        let twelve = source == Some(Source::Report12336);
        let platform_number = self.platform_number.trim();
        if twelve && platform_number.chars().count() > MAX_PLATFORM_NUMBER {
            errors.push(FieldError::new(
                "platform_number",
                "平台编号",
                format!("12336平台编号不超过{MAX_PLATFORM_NUMBER}个字符，请核对"),
            ));
        }
        Some(Submission {
            id,
            channel: channel?,
            source: source?,
            received: received?,
            batches,
            persons,
            collective: self.collective.unwrap_or(persons >= ctx.collective_threshold),
            skip_level: self.skip_level,
            repeat: self.repeat,
            anonymous: self.anonymous,
            confidential: self.confidential,
            petitioners,
            summary: self.summary.trim().to_owned(),
            registered_by: ctx.office.to_owned(),
            fingerprint: ctx.fingerprint.clone(),
            referred_by: referral_text(&self.referred_by, referral),
            referral_number: referral_text(&self.referral_number, referral),
            platform_number: (twelve && !platform_number.is_empty())
                .then(|| platform_number.to_owned()),
            representatives,
            urgent: self.urgent,
            threat: self.threat,
            litigation: self.litigation,
        })
        .filter(|_| persons > 0)
    }
}

/// The longest 12336 platform number kept (the platform's are about 20 characters).
pub const MAX_PLATFORM_NUMBER: usize = 40;

/// What is wrong with a submission's 代表 (信访工作条例 §20: several people visiting about a
/// common matter choose representatives, at most `max`), or nothing: a visit that `must_name`
/// them (not anonymous, not a legacy row) of more people than `max` names some, and no
/// submission names more than `max`.
pub fn representatives_problem(
    must_name: bool,
    persons: u32,
    named: usize,
    max: u32,
) -> Option<String> {
    let max_n = usize::try_from(max).unwrap_or(usize::MAX);
    if named > max_n {
        return Some(format!("代表不超过{max}人（信访工作条例第二十条），已勾选{named}人，请减少"));
    }
    (must_name && persons > max && named == 0).then(|| {
        format!(
            "{persons}人来访，应推选代表（不超过{max}人，信访工作条例第二十条）：请登记代表并勾选「代表」"
        )
    })
}

/// A referral's 来文机关 or 文号 as kept: trimmed, bounded, and only on a referral.
fn referral_text(value: &str, referral: bool) -> Option<String> {
    let value = value.trim();
    (referral && !value.is_empty()).then(|| value.chars().take(80).collect())
}

impl NewSubmission {
    /// Whether `case` already holds this submission, made by `name` (the first petitioner as a
    /// ledger row gives it, full or masked): the same day, form, source, count and flags. A row
    /// of an office's own export, imported again, joins its case by 案件标识 and adds nothing.
    pub fn already_on(&self, case: &Case, name: &str) -> bool {
        let (Some(received), Some(channel), Some(source)) =
            (self.received, Channel::parse(&self.channel), Source::parse(&self.source))
        else {
            return false;
        };
        let persons = self.persons.unwrap_or(1);
        let name = name.trim();
        case.submissions.iter().any(|s| {
            let first = s
                .petitioners
                .first()
                .and_then(|pid| case.petitioners.iter().find(|p| &p.id == pid));
            let same_person = match first {
                None => name.is_empty(),
                Some(p) => p.display_name == name || p.display_name == mask_name(name),
            };
            s.received == received
                && s.channel == channel
                && s.source == source
                && s.persons == persons
                && s.skip_level == self.skip_level
                && s.repeat == self.repeat
                && same_person
        })
    }
}

/// The petitioners as built: references for the case, persons for the identity, and the ids
/// of those marked 代表.
#[derive(Debug, Default)]
pub struct BuiltPetitioners {
    /// References for the case.
    pub refs: Vec<PetitionerRef>,
    /// Persons for the identity document.
    pub persons: Vec<Person>,
    /// The ids of the representatives among them.
    pub representatives: Vec<String>,
}

/// Checks and builds the petitioners.
pub fn build_petitioners(
    input: &[NewPetitioner],
    anonymous: bool,
    mint_id: &mut dyn FnMut() -> String,
    errors: &mut Vec<FieldError>,
) -> BuiltPetitioners {
    if input.iter().all(|p| p.name.trim().is_empty()) && !anonymous {
        errors.push(FieldError::new(
            "petitioners[0].name",
            "信访人",
            "请填写信访人姓名；匿名举报请勾选「匿名」",
        ));
    }
    let mut built = BuiltPetitioners::default();
    for (i, p) in input.iter().enumerate().filter(|(_, p)| !p.name.trim().is_empty()) {
        let field = |k: &str| format!("petitioners[{i}].{k}");
        let kind = if p.kind.trim().is_empty() {
            PetitionerKind::Citizen
        } else {
            match PetitionerKind::parse(&p.kind) {
                Some(k) => k,
                None => {
                    errors.push(FieldError::new(
                        field("kind"),
                        "信访人类型",
                        format!("应为：{}", PetitionerKind::known_labels()),
                    ));
                    continue;
                }
            }
        };
        let number = p.id_number.trim().to_uppercase();
        let id_type = if p.id_type.trim().is_empty() {
            if kind == PetitionerKind::Citizen { IdType::ResidentId } else { IdType::CreditCode }
        } else {
            IdType::parse(&p.id_type).unwrap_or(IdType::Other)
        };
        if !number.is_empty()
            && id_type == IdType::ResidentId
            && let Err(e) = check_resident_id(&number)
        {
            errors.push(FieldError::new(field("id_number"), "证件号码", e.to_string()));
        }
        if !p.phone.trim().is_empty() && !phone_ok(p.phone.trim()) {
            errors.push(FieldError::new(
                field("phone"),
                "联系电话",
                format!(
                    "「{}」不像电话号码：手机应为11位数字，固定电话请带区号（如 0739-7221234）",
                    p.phone.trim()
                ),
            ));
        }
        let id = mint_id();
        if p.representative {
            built.representatives.push(id.clone());
        }
        built.refs.push(PetitionerRef { id: id.clone(), kind, display_name: mask_name(&p.name) });
        built.persons.push(Person {
            id,
            name: p.name.trim().to_owned(),
            id_type,
            id_number: number,
            phone: p.phone.trim().to_owned(),
            address: p.address.trim().to_owned(),
        });
    }
    built
}

impl NewCase {
    /// Checks every field and builds the case with its 登记 event, and its identity. Every
    /// problem is reported at once.
    pub fn build(
        &self,
        ctx: &mut RegistrationContext<'_>,
    ) -> Result<(Case, Identity), Vec<FieldError>> {
        let mut errors = Vec::new();
        let sector = parse(
            &mut errors,
            "sector",
            "涉及领域",
            &self.sector,
            Sector::parse,
            Sector::known_labels,
        );
        let category = parse(
            &mut errors,
            "category",
            "问题类别",
            &self.category,
            Category::parse,
            Category::known_labels,
        );
        let category = category.map(Category::canonical);
        if let (Some(sector), Some(category)) = (&sector, &category)
            && !category.fits(sector)
        {
            errors.push(FieldError::new(
                "category",
                "问题类别",
                format!(
                    "「{}」属于{}，与涉及领域「{}」不符；请改选类别或涉及领域",
                    category.label(),
                    category.sector().as_ref().map_or("", Sector::label),
                    sector.label()
                ),
            ));
        }
        let given_purpose = (!self.purpose.trim().is_empty())
            .then(|| {
                let p = Purpose::parse(&self.purpose);
                if p.is_none() {
                    errors.push(FieldError::new(
                        "purpose",
                        "信访目的",
                        format!(
                            "不认识「{}」，应为：{}",
                            self.purpose.trim(),
                            Purpose::known_labels()
                        ),
                    ));
                }
                p
            })
            .flatten();
        let twelve = Source::parse(&self.submission.source) == Some(Source::Report12336);
        let purpose = match (&given_purpose, twelve) {
            (Some(p), true) if *p != Purpose::Report => {
                errors.push(FieldError::new(
                    "purpose",
                    "信访目的",
                    "12336举报属于检举控告类，信访目的应为「检举控告」",
                ));
                None
            }
            (_, true) => Some(Purpose::Report),
            (Some(p), false) => Some(p.clone()),
            // Never a silent default: 检举控告 would restrict the case and change its track.
            (None, false) if ctx.legacy => Some(Purpose::Unclassified),
            (None, false) => {
                errors.push(FieldError::new(
                    "purpose",
                    "信访目的",
                    "请选择信访目的：建议意见、检举控告、申诉求决或咨询",
                ));
                None
            }
        };
        let township = match (self.township.trim(), ctx.default_township) {
            ("", Some(own)) => Some(own.to_owned()),
            ("", None) => None,
            (name, _) => {
                if !ctx.townships.is_empty() && !ctx.townships.iter().any(|t| t == name) {
                    errors.push(FieldError::new(
                        "township",
                        "所属乡镇",
                        format!("「{name}」不在本单位管辖的乡镇中：{}", ctx.townships.join("、")),
                    ));
                }
                Some(name.to_owned())
            }
        };
        if self.request.trim().is_empty() {
            errors.push(FieldError::new("request", "诉求内容", "请填写信访人的诉求、事实和理由"));
        }
        let BuiltPetitioners { refs, persons, representatives } = build_petitioners(
            &self.petitioners,
            self.submission.anonymous,
            &mut *ctx.mint_id,
            &mut errors,
        );
        let submission_id = (ctx.mint_id)();
        let petitioner_ids = refs.iter().map(|r| r.id.clone()).collect();
        let submission = self.submission.build(
            submission_id,
            petitioner_ids,
            representatives,
            &*ctx,
            &mut errors,
        );
        let (Some(sector), Some(category), Some(purpose), Some(submission)) =
            (sector, category, purpose, submission)
        else {
            return Err(errors);
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let confidential = self.submission.confidential;
        let register = Event::new(EventHead {
            id: (ctx.mint_id)(),
            lamport: 1,
            action: ActionKind::Register,
            actor: ctx.actor.to_owned(),
            office: ctx.office.to_owned(),
            role: ctx.role.clone(),
            handler: ctx.handler.to_owned(),
            at: ctx.at,
            date: ctx.today,
            imported: false,
        });
        let case = Case {
            id: ctx.case_id,
            schema_version: SCHEMA_VERSION,
            number: ctx.number.clone(),
            official_number: None,
            registered_by: ctx.office.to_owned(),
            purpose,
            sector,
            category,
            jurisdiction: township,
            subject: self.subject.trim().to_owned(),
            request: self.request.trim().to_owned(),
            village: self.village.trim().to_owned(),
            confidential,
            identity_released: false,
            restrictive_values: false,
            demo: false,
            petitioners: refs,
            submissions: vec![submission],
            events: vec![register],
            attachments: Vec::new(),
            reply_draft: String::new(),
            investigation_report: String::new(),
        };
        let identity = Identity { case_id: ctx.case_id, schema_version: SCHEMA_VERSION, persons };
        Ok((case, identity))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn input() -> NewCase {
        NewCase {
            submission: NewSubmission {
                received: Some(d("2024-03-01")),
                channel: "来访".into(),
                source: "本局接收".into(),
                persons: Some(6),
                ..Default::default()
            },
            sector: "涉土".into(),
            category: "违法占地建设".into(),
            purpose: "检举控告".into(),
            township: "黄桥镇".into(),
            request: "邻居在承包地上建房，请求查处".into(),
            village: "大屋村".into(),
            petitioners: vec![NewPetitioner {
                name: "张三丰".into(),
                id_number: "11010519491231002x".into(),
                phone: "138 1234 5678".into(),
                representative: true,
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    fn visitor(name: &str, representative: bool) -> NewPetitioner {
        NewPetitioner { name: name.into(), representative, ..Default::default() }
    }

    #[test]
    fn a_visit_of_more_people_than_representatives_names_them_and_no_more_than_the_rule() {
        let mut i = input();
        i.submission.persons = Some(8);
        i.petitioners = vec![visitor("张三", false), visitor("李四", false)];
        let errors = build(&i).unwrap_err();
        assert!(
            errors.iter().any(|e| e.field == "representatives" && e.message.contains("8人来访")),
            "{errors:?}"
        );
        // Representatives named: kept on the submission, by petitioner id.
        i.petitioners = vec![visitor("张三", true), visitor("李四", false), visitor("王五", true)];
        let (case, _) = build(&i).unwrap();
        let s = &case.submissions[0];
        let ids: Vec<&str> = [0, 2].iter().map(|&k| case.petitioners[k].id.as_str()).collect();
        assert_eq!(s.representatives, ids);
        assert!(s.collective, "8 people are a collective visit");
        // Six representatives are more than §20 allows, whatever the visit's size.
        i.petitioners = (0..6).map(|k| visitor(&format!("代表{k}"), true)).collect();
        let errors = build(&i).unwrap_err();
        assert!(errors.iter().any(|e| e.message.contains("代表不超过5人")), "{errors:?}");
        // Five people need none; a letter of eight names none either.
        i.submission.persons = Some(5);
        i.petitioners = vec![visitor("张三", false)];
        assert!(build(&i).is_ok());
        i.submission.persons = Some(8);
        i.submission.channel = "来信".into();
        assert!(build(&i).is_ok(), "a joint letter has no visitors to speak for");
        i.petitioners = vec![visitor("张三", true)];
        let errors = build(&i).unwrap_err();
        assert!(errors.iter().any(|e| e.message.contains("只有来访")), "{errors:?}");
        i.petitioners = vec![visitor("张三", false)];
        // A legacy ledger row never recorded them: taken as kept.
        i.submission.channel = "来访".into();
        assert!(build_as(&i, true).is_ok());
    }

    #[test]
    fn flags_and_the_platform_number_are_kept_the_number_only_on_a_12336_report() {
        let mut i = input();
        i.submission.urgent = true;
        i.submission.threat = true;
        i.submission.litigation = true;
        i.submission.platform_number = " JB2024030100012 ".into();
        let (case, _) = build(&i).unwrap();
        let s = &case.submissions[0];
        assert!(s.urgent && s.threat && s.litigation && s.needs_immediate_report());
        assert_eq!(s.marks(), ["集体访", "重大紧急", "扬言", "涉法涉诉"]);
        assert_eq!(s.platform_number, None, "received directly: no platform gave it a number");
        i.submission.source = "12336举报".into();
        let (case, _) = build(&i).unwrap();
        assert_eq!(case.submissions[0].platform_number.as_deref(), Some("JB2024030100012"));
        i.submission.platform_number = "9".repeat(MAX_PLATFORM_NUMBER + 1);
        let errors = build(&i).unwrap_err();
        assert_eq!(errors[0].field, "platform_number");
    }

    fn build(input: &NewCase) -> Result<(Case, Identity), Vec<FieldError>> {
        build_as(input, false)
    }

    #[test]
    fn a_submission_already_on_the_case_is_recognised_by_day_form_source_and_person() {
        let input = input();
        let (case, _) = build(&input).unwrap();
        let same = &input.submission;
        assert!(same.already_on(&case, "张三丰"), "the full name, as the bureau exports it");
        assert!(same.already_on(&case, "张*丰"), "the masked name, as a township exports it");
        assert!(!same.already_on(&case, "李四"), "another petitioner");
        let later = NewSubmission { received: Some(d("2024-03-02")), ..same.clone() };
        assert!(!later.already_on(&case, "张三丰"), "another day is another visit");
        let letter = NewSubmission { channel: "来信".into(), ..same.clone() };
        assert!(!letter.already_on(&case, "张三丰"));
        let more = NewSubmission { persons: Some(7), ..same.clone() };
        assert!(!more.already_on(&case, "张三丰"));
        let repeat = NewSubmission { repeat: true, ..same.clone() };
        assert!(!repeat.already_on(&case, "张三丰"));
        let codes =
            NewSubmission { channel: "visit".into(), source: "direct".into(), ..same.clone() };
        assert!(codes.already_on(&case, "张三丰"), "codes and labels are the same values");
        let unreadable = NewSubmission { channel: "飞鸽".into(), ..same.clone() };
        assert!(!unreadable.already_on(&case, "张三丰"));
    }

    fn build_as(input: &NewCase, legacy: bool) -> Result<(Case, Identity), Vec<FieldError>> {
        let mut n = 0;
        let mut mint = || {
            n += 1;
            format!("id-{n}")
        };
        let townships = vec!["黄桥镇".to_owned(), "石江镇".to_owned()];
        let mut ctx = RegistrationContext {
            case_id: CaseId(uuid::Uuid::from_u128(1)),
            number: "黄桥-2024-A-0001".into(),
            mint_id: &mut mint,
            office: "hq",
            role: Role::Township,
            actor: "abcd",
            handler: "李四",
            at: 1_709_251_200_000,
            today: d("2024-03-02"),
            townships: &townships,
            default_township: Some("黄桥镇"),
            collective_threshold: 5,
            representatives_max: 5,
            fingerprint: None,
            legacy,
        };
        input.build(&mut ctx)
    }

    #[test]
    fn a_referral_keeps_its_referring_body_and_number_and_a_direct_petition_none() {
        let mut i = input();
        i.submission.referred_by = "  邵阳市信访局 ".into();
        i.submission.referral_number = "邵信交〔2024〕12号".into();
        let (case, _) = build(&i).unwrap();
        assert_eq!(case.submissions[0].referred_by, None, "received directly: nobody referred it");
        i.submission.source = "市信访局交办".into();
        let (case, _) = build(&i).unwrap();
        let s = &case.submissions[0];
        assert_eq!(s.referred_by.as_deref(), Some("邵阳市信访局"));
        assert_eq!(s.referral_number.as_deref(), Some("邵信交〔2024〕12号"));
    }

    #[test]
    fn phones_must_reach_someone() {
        for ok in [
            "13812345678",
            "138 1234 5678",
            "+86 138-1234-5678",
            "0739-7221234",
            "07397221234",
            "010-12345678",
        ] {
            assert!(phone_ok(ok), "{ok}");
        }
        for bad in ["7221234", "12345678", "1381234567", "12812345678", "+1 4155550100", "138x1234"]
        {
            assert!(!phone_ok(bad), "{bad}");
        }
    }

    #[test]
    fn a_blank_purpose_is_an_error_and_in_a_legacy_ledger_awaits_a_clerk() {
        let mut i = input();
        i.purpose = "  ".into();
        let errors = build(&i).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "purpose");
        assert!(errors[0].message.contains("请选择信访目的"));
        // An imported row without one is 待分类, and its identity stays with the bureau.
        i.category = "纠纷调处".into();
        let (case, _) = build_as(&i, true).unwrap();
        assert_eq!(case.purpose, Purpose::Unclassified);
        assert!(case.identity_restricted());
    }

    #[test]
    fn a_category_must_fit_its_sector_and_near_duplicates_fold() {
        let mut i = input();
        i.category = "涉采矿权".into();
        let errors = build(&i).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "category");
        assert!(errors[0].message.contains("属于涉矿"), "{}", errors[0].message);
        i.sector = "涉矿".into();
        assert_eq!(build(&i).unwrap().0.category, Category::MiningRight);
        // The 12336 platform's 违法占地 is the seed's 违法占地建设: one matter, one row.
        i.sector = "涉土".into();
        i.category = "违法占地".into();
        assert_eq!(build(&i).unwrap().0.category, Category::IllegalOccupation);
        // Categories every sector may use fit under 其它.
        i.sector = "其它".into();
        i.category = "纠纷调处".into();
        assert_eq!(build(&i).unwrap().0.category, Category::Dispute);
    }

    #[test]
    fn a_good_registration_builds_case_and_identity() {
        let (case, identity) = build(&input()).unwrap();
        assert_eq!(case.purpose, Purpose::Report);
        assert_eq!(case.jurisdiction.as_deref(), Some("黄桥镇"));
        assert_eq!(case.petitioners[0].display_name, "张*丰");
        assert_eq!(identity.persons[0].id_number, "11010519491231002X");
        let s = &case.submissions[0];
        assert_eq!((s.batches, s.persons, s.collective), (1, 6, true));
        assert_eq!(case.events.len(), 1);
        assert_eq!(case.events[0].action, ActionKind::Register);
        assert_eq!(case.events[0].lamport, 1);
        assert!(case.identity_restricted(), "a 检举控告 matter's identity is restricted");
    }

    #[test]
    fn source_12336_implies_report() {
        let mut i = input();
        i.submission.source = "12336举报".into();
        i.category = "纠纷调处".into();
        assert_eq!(build(&i).unwrap().0.purpose, Purpose::Report);
        i.purpose = "咨询".into();
        let errors = build(&i).unwrap_err();
        assert_eq!(errors[0].field, "purpose");
        assert!(errors[0].message.contains("检举控告"));
    }

    #[test]
    fn every_problem_is_reported_next_to_its_field() {
        let mut i = input();
        i.submission.received = Some(d("2024-05-01"));
        i.submission.channel = "飞鸽传书".into();
        i.sector = String::new();
        i.township = "火星镇".into();
        i.request = "  ".into();
        i.petitioners[0].id_number = "110105194912310021".into();
        i.petitioners[0].phone = "call me".into();
        let errors = build(&i).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        for f in [
            "received",
            "channel",
            "sector",
            "township",
            "request",
            "petitioners[0].id_number",
            "petitioners[0].phone",
        ] {
            assert!(fields.contains(&f), "{f} missing from {fields:?}");
        }
        let channel = errors.iter().find(|e| e.field == "channel").unwrap();
        assert!(channel.message.contains("来信、来访"), "{}", channel.message);
        assert!(errors.iter().any(|e| e.message.contains("校验位")));
    }

    #[test]
    fn anonymous_reports_need_no_name() {
        let mut i = input();
        i.petitioners.clear();
        assert_eq!(build(&i).unwrap_err()[0].field, "petitioners[0].name");
        i.submission.anonymous = true;
        let (case, identity) = build(&i).unwrap();
        assert!(case.petitioners.is_empty() && identity.persons.is_empty());
    }

    #[test]
    fn township_defaults_to_the_office_own() {
        let mut i = input();
        i.township.clear();
        assert_eq!(build(&i).unwrap().0.jurisdiction.as_deref(), Some("黄桥镇"));
    }
}
