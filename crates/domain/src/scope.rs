//! 可见范围: which office may hold which document. One function, [`may_see`], decides it, and
//! every path that serves a document (pages of the hub log, `enter` records, documents sent
//! whole, repair, documents sent in pieces, attachments) asks it.
//!
//! A township office sees the cases of the townships it answers for, at any status, and the
//! cases it registered until they are assigned; it never sees the identity document of a
//! restricted case (检举控告, confidential: 信访工作条例 §30). The bureau sees everything. An
//! office's staff roster and its work records are seen by that office and the bureau.

use serde::{Deserialize, Serialize};

use crate::terms::Role;

/// Which kind of document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum DocClass {
    /// 案件: a case document.
    Case,
    /// 信访人身份: a case's identity document.
    Identity,
    /// 人员名单: an office's staff roster.
    Roster,
    /// 全县规则: the county's rules document; every office holds it, only the bureau writes.
    Rules,
    /// 工作记录: a work record (政策咨询, 宣传与培训, 矛盾纠纷排查); its office and the bureau
    /// see it, only its office writes it.
    Work,
}

/// What decides who may see a document: for a case, its township, registrar and restriction;
/// for a roster, its office (as the registrar, with no township).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CaseScope {
    /// 所属乡镇.
    pub township: Option<String>,
    /// The registering office (for a roster, its office).
    pub registrar: String,
    /// Whether the identity document goes to the bureau only.
    pub restricted: bool,
}

/// The office asking.
#[derive(Debug, Clone, Copy)]
pub struct Viewer<'a> {
    /// 单位代码.
    pub office: &'a str,
    /// Bureau or township.
    pub role: &'a Role,
    /// The townships it answers for.
    pub townships: &'a [String],
}

/// Whether `viewer` may hold document `class` of a case (or roster) with `scope`.
pub fn may_see(viewer: &Viewer<'_>, scope: &CaseScope, class: DocClass) -> bool {
    if *viewer.role == Role::Bureau {
        return true;
    }
    let ours = match &scope.township {
        Some(t) => viewer.townships.contains(t),
        None => scope.registrar == viewer.office,
    };
    match class {
        DocClass::Case | DocClass::Roster | DocClass::Work => ours,
        DocClass::Identity => ours && !scope.restricted,
        DocClass::Rules => true,
    }
}

/// The offices among `offices` (code, role, townships) that see a case with `scope` besides
/// the bureau, which sees everything.
pub fn township_viewers<'a>(
    offices: impl IntoIterator<Item = Viewer<'a>>,
    scope: &CaseScope,
) -> Vec<&'a str> {
    offices
        .into_iter()
        .filter(|v| *v.role != Role::Bureau && may_see(v, scope, DocClass::Case))
        .map(|v| v.office)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(township: Option<&str>, registrar: &str, restricted: bool) -> CaseScope {
        CaseScope { township: township.map(str::to_owned), registrar: registrar.into(), restricted }
    }

    #[test]
    fn townships_see_their_cases_and_never_a_restricted_identity() {
        let t = vec!["黄桥镇".to_owned()];
        let hq = Viewer { office: "hq", role: &Role::Township, townships: &t };
        let county = Viewer { office: "county", role: &Role::Bureau, townships: &[] };
        let open = scope(Some("黄桥镇"), "county", false);
        let sealed = scope(Some("黄桥镇"), "county", true);
        let elsewhere = scope(Some("石江镇"), "hq", false);
        let unassigned = scope(None, "hq", false);
        assert!(may_see(&hq, &open, DocClass::Case));
        assert!(may_see(&hq, &open, DocClass::Identity));
        assert!(may_see(&hq, &sealed, DocClass::Case));
        assert!(!may_see(&hq, &sealed, DocClass::Identity));
        assert!(!may_see(&hq, &elsewhere, DocClass::Case), "its own registration, assigned away");
        assert!(may_see(&hq, &unassigned, DocClass::Case));
        assert!(!may_see(&hq, &scope(None, "sj", false), DocClass::Roster));
        assert!(
            may_see(&hq, &scope(None, "", false), DocClass::Rules),
            "every office reads the rules"
        );
        assert!(may_see(&county, &sealed, DocClass::Identity));
        let viewers = township_viewers([hq, county], &open);
        assert_eq!(viewers, vec!["hq"]);
    }
}
