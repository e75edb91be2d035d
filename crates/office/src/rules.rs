//! 全县规则 at the office: what the county's rules say (for the settings screen and `ledger
//! rules`) and, at the bureau, recording a change to them. The rules document comes from the
//! hub at the first sync (a bureau may set rules before it); every check is the domain's
//! ([`ledger_domain::rules::check_entry`]), the one the hub applies.

use chrono::NaiveDate;
use ledger_domain::rules::{
    self, CountySetting, CountySettings, PolicyField, RuleEntry, RuleItem, RulesDoc, check_entry,
};
use ledger_domain::{CaseId, Category, Policy, Role, schema};
use ledger_protocol::rules_id;
use ledger_store::DocKind;
use serde::Serialize;

use crate::{Office, OfficeError, Result};

/// One version of the deadline policy, and whether it is the one in force.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PolicyView {
    /// The version.
    #[serde(flatten)]
    pub policy: Policy,
    /// Whether it is the version for matters received today.
    pub in_force: bool,
}

/// The legal basis of one category.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BasisView {
    /// The category's code.
    pub category: String,
    /// Its label.
    pub label: String,
    /// The law and article cited (empty: none).
    pub basis: String,
    /// Whether the county set it (else the built-in table).
    pub county: bool,
}

/// One recorded change of the rules.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EntryView {
    /// The item's code.
    pub item: String,
    /// What it is, in Chinese.
    pub label: String,
    /// The value (a holiday schedule: its lines).
    pub value: String,
    /// 生效日期.
    pub from: NaiveDate,
    /// When it was recorded (ms).
    pub recorded_at: i64,
    /// Who recorded it.
    pub handler: String,
    /// 依据.
    pub note: String,
}

/// A settable item, for the editor: its code, label and kind of value.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ItemView {
    /// The code (`policy.decide_days`, `county.review_body`, `basis.dispute` …).
    pub item: String,
    /// The label.
    pub label: String,
    /// `number`, `flag` or `text` (a year's holidays are set by `holidays.<year>`, not listed).
    #[cfg_attr(feature = "ts", ts(type = r#""number" | "flag" | "text""#))]
    pub value_kind: &'static str,
}

/// The county's rules as this office holds them.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RulesView {
    /// Whether the rules document has arrived from the hub.
    pub received: bool,
    /// Whether this office may change the rules (the bureau).
    pub editable: bool,
    /// The policy versions, oldest first.
    pub policies: Vec<PolicyView>,
    /// The first and last day the holiday table covers.
    pub calendar_from: NaiveDate,
    /// Last covered day.
    pub calendar_to: NaiveDate,
    /// The county settings in force today.
    pub county: CountySettings,
    /// The legal basis of every category, in force today.
    pub legal_basis: Vec<BasisView>,
    /// Every change recorded, newest first.
    pub entries: Vec<EntryView>,
    /// What may be set.
    pub items: Vec<ItemView>,
}

/// A change of the rules, as the bureau enters it.
#[derive(Debug, Clone, Default)]
pub struct RuleInput {
    /// The item: its code (`county.review_body`), or its label, whole (`县局设置·复查机关`) or
    /// the part after the last `·` (`复查机关`).
    pub item: String,
    /// The value.
    pub value: String,
    /// 生效日期 (default: today).
    pub from: Option<NaiveDate>,
    /// 依据 (the notice or instrument), optional.
    pub note: String,
    /// 办理人 (default: the first staff member).
    pub handler: Option<String>,
}

fn rules_key() -> CaseId {
    CaseId(rules_id())
}

/// Every item this version can set.
fn settable() -> Vec<ItemView> {
    let mut out = Vec::new();
    for f in PolicyField::KNOWN {
        let value_kind = match f {
            PolicyField::Name => "text",
            PolicyField::DecideWorking => "flag",
            _ => "number",
        };
        let item = RuleItem::Policy(f.clone());
        out.push(ItemView { item: item.code(), label: item.label(), value_kind });
    }
    for s in CountySetting::KNOWN {
        let value_kind = if *s == CountySetting::IssuesOwnDocuments { "flag" } else { "text" };
        let item = RuleItem::County(s.clone());
        out.push(ItemView { item: item.code(), label: item.label(), value_kind });
    }
    for c in Category::KNOWN {
        let item = RuleItem::LegalBasis(c.clone());
        out.push(ItemView { item: item.code(), label: item.label(), value_kind: "text" });
    }
    out
}

/// The item `given` names: by its code, else by its label (whole, or after the last `·`).
fn item_named(given: &str) -> RuleItem {
    let given = given.trim();
    match RuleItem::parse(given) {
        RuleItem::Unknown(_) => settable()
            .into_iter()
            .find(|i| i.label == given || i.label.rsplit('·').next() == Some(given))
            .map_or_else(|| RuleItem::parse(given), |i| RuleItem::parse(&i.item)),
        item => item,
    }
}

impl Office {
    /// The county's rules as this office holds them.
    pub fn rules_view(&self) -> Result<RulesView> {
        let rules = self.store.rules();
        let today = self.today();
        let received = self.store.has_doc(rules_key(), DocKind::Rules)?;
        let in_force = rules.policies.for_date(today).id.clone();
        let policies = rules
            .policies
            .versions()
            .iter()
            .map(|p| PolicyView { policy: p.clone(), in_force: p.id == in_force })
            .collect();
        let (calendar_from, calendar_to) = rules.calendar.coverage();
        let legal_basis = Category::KNOWN
            .iter()
            .map(|c| BasisView {
                category: c.code().to_owned(),
                label: c.label().to_owned(),
                basis: rules.legal_basis(c, today).unwrap_or_default(),
                county: rules.is_set(&RuleItem::LegalBasis(c.clone())),
            })
            .collect();
        let mut entries: Vec<EntryView> = rules
            .entries()
            .iter()
            .map(|e| EntryView {
                label: RuleItem::parse(&e.item).label(),
                item: e.item.clone(),
                value: e.value.clone(),
                from: e.from,
                recorded_at: e.recorded_at,
                handler: e.handler.clone(),
                note: e.note.clone(),
            })
            .collect();
        entries.reverse();
        Ok(RulesView {
            received,
            editable: self.cfg().role == Role::Bureau,
            policies,
            calendar_from,
            calendar_to,
            county: rules.county_on(today),
            legal_basis,
            entries,
            items: settable(),
        })
    }

    /// Records a change of the county's rules (the bureau only). Refused, changing nothing, when
    /// the value does not fit its item or the change would reach into the past. The index then
    /// needs [`Office::refresh_index`] (the app runs it in the background).
    pub fn set_rule(&self, input: &RuleInput) -> Result<RulesView> {
        if self.cfg().role != Role::Bureau {
            return Err(OfficeError::Refused(
                "全县规则（期限、节假日、文书设置）只能由县局修改；本所随同步接收".to_owned(),
            ));
        }
        let item = item_named(&input.item);
        if let RuleItem::Unknown(code) = &item {
            return Err(OfficeError::invalid("item", "规则项", format!("没有规则项「{code}」")));
        }
        let today = self.today();
        let entry = RuleEntry {
            id: self.mint_id(),
            item: item.code(),
            value: input.value.trim().to_owned(),
            from: input.from.unwrap_or(today),
            recorded_at: self.now(),
            handler: self.handler(input.handler.as_deref())?,
            note: input.note.trim().to_owned(),
        };
        let label = item.label();
        check_entry(&entry, today).map_err(|m| OfficeError::invalid("value", &label, m))?;
        // The whole document must still apply (a holiday year after a missing one would not).
        let held = self.store.has_doc(rules_key(), DocKind::Rules)?;
        let mut doc = if held {
            self.store
                .with_doc(rules_key(), DocKind::Rules, schema::read_rules)?
                .unwrap_or_else(|_| RulesDoc::default())
        } else {
            RulesDoc::default()
        };
        doc.entries.push(entry.clone());
        let (_, skipped) = ledger_domain::Rules::builtin().with_doc(&doc);
        if let Some(s) = skipped.iter().find(|s| s.id == entry.id) {
            return Err(OfficeError::invalid("value", &label, s.reason.clone()));
        }
        if !held {
            // The same creating change the hub makes (never uploaded: the hub has its own), so
            // a bureau working before its first sync adds to the one county document.
            self.store.apply_remote(rules_key(), DocKind::Rules, vec![rules::genesis()])?;
        }
        self.store.edit(rules_key(), DocKind::Rules, |tx| schema::add_rule_entry(tx, &entry))?;
        tracing::info!(item = %entry.item, from = %entry.from, "county rule recorded");
        self.rules_view()
    }
}
