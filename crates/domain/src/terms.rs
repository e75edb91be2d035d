//! The vocabularies of a petition case (`reference/domain.md` §2): how a submission arrived, where
//! it came from, what it is about, and how the petitioner rated the result.
//!
//! Labels are the seed report's own words where it has one (来信, 本局接收, 违法占地建设 ...), so
//! statistics keyed by label read like the county's annual summary.

use crate::coded_enum;

coded_enum! {
    /// 信访形式: the channel a submission arrived through (信访工作条例 §17).
    pub enum Channel {
        /// 来信: a letter.
        Letter = ("letter", "来信", "信件", "书信"),
        /// 来访: a visit in person.
        Visit = ("visit", "来访", "走访", "上访"),
        /// 来电: a phone call.
        Phone = ("phone", "来电", "电话"),
        /// 网上信访: an online submission.
        Online = ("online", "网上信访", "网上", "网络信访", "网信"),
        /// 传真: a fax.
        Fax = ("fax", "传真"),
        /// 电子邮件: an email.
        Email = ("email", "电子邮件", "邮件"),
    }
}

coded_enum! {
    /// 信访来源: where a submission came to the bureau from (the seed groups its 137 by these).
    pub enum Source {
        /// 本局接收: received directly by the bureau or one of its offices.
        Direct = ("direct", "本局接收", "本局信访接收", "本局直接接收", "直接接收"),
        /// 省信访局交办: assigned by the provincial petition bureau.
        ProvincialBureau = ("provincial_bureau", "省信访局交办"),
        /// 市信访局交办: assigned by the city petition bureau.
        CityBureau = ("city_bureau", "市信访局交办"),
        /// 县级部门交办: assigned by a county party or government department.
        CountyDepartment = ("county_department", "县级部门交办", "县级部门(党委政府)交办"),
        /// 12336举报: a report through the 12336 land and resources violation platform.
        Report12336 = ("report_12336", "12336举报", "12336违法举报", "12336违法举报平台"),
        /// 网络舆情: online public opinion (forums, media).
        OnlineOpinion = ("online_opinion", "网络舆情", "网络舆情(论坛·媒体)"),
        /// 市国土局交办: assigned by the city land (natural resources) bureau.
        CityLandBureau = ("city_land_bureau", "市国土局交办", "市自然资源局交办", "市(上级)自然资源局交办"),
        /// 国家信访局转送: forwarded by the national petition bureau.
        NationalBureau = ("national_bureau", "国家信访局转送"),
        /// 省厅交办: assigned by the provincial land (natural resources) department.
        ProvincialDepartment = ("provincial_department", "省厅交办"),
        /// 12345热线: a referral from the 12345 government hotline.
        Hotline12345 = ("hotline_12345", "12345热线", "12345转办"),
        /// 领导批示: a leader's written instruction.
        LeaderInstruction = ("leader_instruction", "领导批示"),
        /// 下级上报: reported up by a lower level.
        LowerLevel = ("lower_level", "下级上报"),
    }
}

impl Source {
    /// Whether the submission was referred to the bureau by another body (交办/转送), which gives
    /// the bureau 5 working days to object to a misdirected referral (信访工作条例 §23 ¶3).
    pub fn is_referral(&self) -> bool {
        !matches!(self, Self::Direct | Self::Report12336 | Self::OnlineOpinion | Self::Unknown(_))
    }
}

coded_enum! {
    /// 信访目的: the kind of matter (信访工作条例 §29–31), plus the local 咨询.
    pub enum Purpose {
        /// 建议意见: a suggestion or opinion.
        Suggestion = ("suggestion", "建议意见", "建议意见类"),
        /// 检举控告: a report or accusation; the informant's identity is protected (§30).
        Report = ("report", "检举控告", "检举控告类"),
        /// 申诉求决: an appeal or claim.
        Appeal = ("appeal", "申诉求决", "申诉求决类"),
        /// 咨询: an enquiry.
        Enquiry = ("enquiry", "咨询", "咨询类"),
        /// 待分类: an imported legacy row that gave no purpose, for a clerk to classify; its
        /// identity stays with the bureau until then (fail closed).
        Unclassified = ("unclassified", "待分类"),
    }
}

coded_enum! {
    /// 涉及领域: whether the matter concerns land, minerals or something else.
    pub enum Sector {
        /// 涉土: land.
        Land = ("land", "涉土"),
        /// 涉矿: minerals.
        Mineral = ("mineral", "涉矿"),
        /// 其它: other.
        Other = ("other", "其它", "其他"),
    }
}

coded_enum! {
    /// 问题类别: what the matter is about: the seed's six 2017 categories, then the 12336
    /// platform's land and mineral violation categories.
    pub enum Category {
        /// 非法转让土地: illegal land transfer.
        IllegalTransfer = ("illegal_transfer", "非法转让土地"),
        /// 违法占地建设: illegal occupation and building.
        IllegalOccupation = ("illegal_occupation", "违法占地建设", "违法占地建房"),
        /// 咨询及要求办证: enquiry and certificate request.
        EnquiryCertificate = ("enquiry_certificate", "咨询及要求办证", "咨询办证"),
        /// 涉采矿权: mining rights.
        MiningRight = ("mining_right", "涉采矿权", "涉采矿权信访"),
        /// 纠纷调处: dispute mediation.
        Dispute = ("dispute", "纠纷调处", "纠纷调处类"),
        /// 其它: other matters.
        Other = ("other", "其它", "其他", "其它问题"),
        /// 违法批地: illegal approval of land (12336).
        IllegalApproval = ("illegal_approval", "违法批地"),
        /// 违法占地: illegal occupation of land (12336).
        IllegalOccupation12336 = ("illegal_occupation_12336", "违法占地"),
        /// 违法转让土地使用权: illegal transfer of land use rights (12336).
        IllegalUseRightTransfer = ("illegal_use_right_transfer", "违法转让土地使用权"),
        /// 破坏耕地: destruction of farmland (12336).
        FarmlandDamage = ("farmland_damage", "破坏耕地"),
        /// 其他土地违法: other land violations (12336).
        OtherLandViolation = ("other_land_violation", "其他土地违法"),
        /// 违法勘查: illegal exploration (12336).
        IllegalExploration = ("illegal_exploration", "违法勘查"),
        /// 违法开采: illegal mining (12336).
        IllegalMining = ("illegal_mining", "违法开采"),
        /// 违法批准探矿权采矿权: illegal approval of exploration or mining rights (12336).
        IllegalMiningApproval = ("illegal_mining_approval", "违法批准探矿权采矿权"),
        /// 违法转让矿业权: illegal transfer of mining rights (12336).
        IllegalMiningRightTransfer = ("illegal_mining_right_transfer", "违法转让矿业权"),
        /// 其他矿产违法: other mineral violations (12336).
        OtherMineralViolation = ("other_mineral_violation", "其他矿产违法"),
    }
}

impl Category {
    /// The 涉及领域 the category belongs to; `None` for the ones any sector may use (咨询及要求办证,
    /// 纠纷调处, 其它).
    pub fn sector(&self) -> Option<Sector> {
        match self {
            Self::IllegalTransfer
            | Self::IllegalOccupation
            | Self::IllegalApproval
            | Self::IllegalOccupation12336
            | Self::IllegalUseRightTransfer
            | Self::FarmlandDamage
            | Self::OtherLandViolation => Some(Sector::Land),
            Self::MiningRight
            | Self::IllegalExploration
            | Self::IllegalMining
            | Self::IllegalMiningApproval
            | Self::IllegalMiningRightTransfer
            | Self::OtherMineralViolation => Some(Sector::Mineral),
            Self::EnquiryCertificate | Self::Dispute | Self::Other | Self::Unknown(_) => None,
        }
    }

    /// Whether the category may be chosen under `sector` (no mining category under 涉土).
    pub fn fits(&self, sector: &Sector) -> bool {
        self.sector().is_none_or(|own| own == *sector)
    }

    /// The category a new record stores: the 12336 platform's 违法占地 and 违法转让土地使用权 name
    /// the seed's own 违法占地建设 and 非法转让土地, so one matter is never counted under two rows.
    /// Old records keep what they hold; only new registrations and imports are folded.
    pub fn canonical(self) -> Self {
        match self {
            Self::IllegalOccupation12336 => Self::IllegalOccupation,
            Self::IllegalUseRightTransfer => Self::IllegalTransfer,
            other => other,
        }
    }

    /// The categories a clerk may choose under `sector`, in report order, without near-duplicates.
    pub fn offered(sector: &Sector) -> Vec<Self> {
        Self::KNOWN
            .iter()
            .filter(|c| c.fits(sector) && (*c).clone().canonical() == **c)
            .cloned()
            .collect()
    }
}

coded_enum! {
    /// 满意度: the petitioner's rating of the result (§2.6).
    pub enum Satisfaction {
        /// 满意: satisfied.
        Satisfied = ("satisfied", "满意"),
        /// 基本满意: basically satisfied.
        BasicallySatisfied = ("basically_satisfied", "基本满意"),
        /// 不满意: dissatisfied.
        Dissatisfied = ("dissatisfied", "不满意"),
    }
}

impl Satisfaction {
    /// Whether the rating counts towards 满意率 ((满意 + 基本满意) ÷ 已评价).
    pub fn counts_as_satisfied(&self) -> bool {
        matches!(self, Self::Satisfied | Self::BasicallySatisfied)
    }
}

coded_enum! {
    /// 机构类别: whether an office is the county bureau or a township land office.
    pub enum Role {
        /// 乡镇国土所: a township land office.
        Township = ("township", "乡镇国土所", "国土所", "乡镇"),
        /// 县国土资源局: the county bureau.
        Bureau = ("bureau", "县局", "县国土资源局", "国土资源局"),
    }
}

coded_enum! {
    /// 信访人类型: who petitions (信访工作条例 §17).
    pub enum PetitionerKind {
        /// 公民: a citizen.
        Citizen = ("citizen", "公民", "个人"),
        /// 法人: a legal person.
        LegalPerson = ("legal_person", "法人", "单位"),
        /// 其他组织: another organisation.
        Organisation = ("organisation", "其他组织"),
    }
}

coded_enum! {
    /// 证件类型: the kind of identity document.
    pub enum IdType {
        /// 居民身份证: PRC resident identity card (GB 11643 number).
        ResidentId = ("resident_id", "居民身份证", "身份证"),
        /// 港澳台居民证件: Hong Kong, Macao or Taiwan resident document.
        HkMoTw = ("hk_mo_tw", "港澳台居民证件"),
        /// 护照: passport.
        Passport = ("passport", "护照"),
        /// 统一社会信用代码: unified social credit code of an organisation.
        CreditCode = ("credit_code", "统一社会信用代码"),
        /// 其他: another document.
        Other = ("other", "其他证件", "其他"),
    }
}

coded_enum! {
    /// 文书: the written notices and replies the law requires (§2.5).
    pub enum DocumentKind {
        /// 受理告知书: acceptance notice (信访工作条例 §23).
        AcceptanceNotice = ("acceptance_notice", "受理告知书"),
        /// 不予受理告知书: non-acceptance notice.
        NonAcceptanceNotice = ("non_acceptance_notice", "不予受理告知书"),
        /// 延长办理期限告知书: extension notice, with its reasons (§34).
        ExtensionNotice = ("extension_notice", "延长办理期限告知书"),
        /// 信访处理意见书: the handling opinion (§31(6), §32).
        HandlingOpinion = ("handling_opinion", "信访处理意见书", "答复意见书"),
        /// 办结报告: completion report to the assigning body (§22(3)).
        CompletionReport = ("completion_report", "办结报告"),
        /// 转送告知书: tells the petitioner where the matter was sent.
        ForwardingNotice = ("forwarding_notice", "转送告知书", "转送/交办告知"),
        /// 不再受理告知书: no-further-acceptance notice.
        NoFurtherNotice = ("no_further_notice", "不再受理告知书"),
        /// 复查意见书: the reviewing body's written opinion (§35). Issued by that body; the
        /// ledger records its service, from which the 复核 window runs.
        ReviewOpinion = ("review_opinion", "复查意见书"),
        /// 复核意见书: the re-reviewing body's written opinion (§36), issued by that body.
        RecheckOpinion = ("recheck_opinion", "复核意见书"),
    }
}

impl DocumentKind {
    /// The short code used inside a 文书编号 (`黄桥信受〔2017〕12号`).
    pub fn number_tag(&self) -> &str {
        match self {
            Self::AcceptanceNotice => "受",
            Self::NonAcceptanceNotice => "不受",
            Self::ExtensionNotice => "延",
            Self::HandlingOpinion => "复",
            Self::CompletionReport => "结",
            Self::ForwardingNotice => "转",
            Self::NoFurtherNotice => "不再",
            Self::ReviewOpinion => "复查",
            Self::RecheckOpinion => "复核",
            Self::Unknown(_) => "文",
        }
    }

    /// Whether an office issues this document itself; the review opinions come from the
    /// reviewing bodies, and the ledger only records when they were served.
    pub fn issued_by_office(&self) -> bool {
        !matches!(self, Self::ReviewOpinion | Self::RecheckOpinion | Self::Unknown(_))
    }
}

coded_enum! {
    /// 终结原因: why a case was closed (山东 §46; 浙江 §25).
    pub enum CloseReason {
        /// 答复后未申请复查: replied, and no review was requested in time.
        Replied = ("replied", "答复后未申请复查", "已答复"),
        /// 复查意见送达: the review opinion was served.
        ReviewServed = ("review_served", "复查意见送达"),
        /// 复核意见送达: the re-review opinion was served; the same matter is not accepted again.
        RecheckServed = ("recheck_served", "复核意见送达"),
        /// 调解协议履行: a mediation or settlement agreement was performed.
        Mediated = ("mediated", "调解协议履行", "调解"),
        /// 撤回: the petitioner withdrew.
        Withdrawn = ("withdrawn", "撤回", "信访人撤回"),
        /// 死亡无承受人: the petitioner died with no successor.
        Deceased = ("deceased", "死亡无承受人"),
        /// 导入法定程序: routed to a statutory procedure (litigation, review, enforcement).
        StatutoryProcedure = ("statutory_procedure", "导入法定程序"),
    }
}

impl CloseReason {
    /// Whether the reason presupposes a written reply (the others end a case without one).
    pub fn needs_reply(&self) -> bool {
        matches!(self, Self::Replied | Self::ReviewServed | Self::RecheckServed)
    }
}

coded_enum! {
    /// 办理程序: the track a matter is handled on, chosen when it is accepted (信访工作条例
    /// §29-31). It decides the documents, the deadlines and which rates count the matter.
    pub enum HandlingTrack {
        /// 信访程序: §31(6), handled in the petition procedure; a 信访处理意见书 with the right
        /// to ask for a 复查.
        Petition = ("petition", "信访程序"),
        /// 检举控告: §30, handled and the result fed back; no 复查, the informant protected.
        Report = ("report", "检举控告办理"),
        /// 执法查处: §31(1)-(5), the bureau performs its own enforcement duty against the
        /// violation reported (for land, the usual route of a request to investigate).
        Enforcement = ("enforcement", "执法查处"),
        /// 诉讼或行政复议: §31(1)-(5), the matter belongs to a court or an administrative review.
        Litigation = ("litigation", "诉讼或行政复议"),
        /// 仲裁: §31(1)-(5), the matter belongs to arbitration (土地承包经营纠纷仲裁 and others).
        Arbitration = ("arbitration", "仲裁"),
        /// 其他法定程序: §31(1)-(5), another statutory procedure.
        OtherProcedure = ("other_procedure", "其他法定程序"),
        /// 建议意见: §29, studied and answered; no 复查.
        Suggestion = ("suggestion", "建议意见办理"),
    }
}

impl HandlingTrack {
    /// The track a matter of this 信访目的 is proposed for, for the clerk to confirm.
    pub fn proposed(purpose: &Purpose) -> Self {
        match purpose {
            Purpose::Report => Self::Report,
            Purpose::Suggestion => Self::Suggestion,
            _ => Self::Petition,
        }
    }

    /// Whether the matter was routed into a statutory procedure (导入法定程序): the petition
    /// procedure's handling period, reply and review do not apply, and the satisfaction rating
    /// does not count it.
    pub fn is_statutory(&self) -> bool {
        matches!(
            self,
            Self::Enforcement | Self::Litigation | Self::Arbitration | Self::OtherProcedure
        )
    }

    /// Whether the petitioner may ask for a 复查 of the outcome: only on the petition procedure
    /// (§31(6), §35).
    pub fn reviewable(&self) -> bool {
        matches!(self, Self::Petition | Self::Unknown(_))
    }
}

coded_enum! {
    /// 复查/复核结论: what the reviewing body decided (信访工作条例 §35-36).
    pub enum ReviewOutcome {
        /// 维持: the handling opinion stands.
        Upheld = ("upheld", "维持"),
        /// 撤销并责令重作: set aside; the handling body decides again, in a new handling period.
        Redo = ("redo", "撤销并责令重作", "撤销"),
        /// 变更: the reviewing body changed the opinion.
        Changed = ("changed", "变更"),
    }
}

coded_enum! {
    /// 回访方式: how a follow-up (回访) reached, or tried to reach, the petitioner.
    pub enum FollowUpMethod {
        /// 电话回访: by telephone.
        Phone = ("phone", "电话", "电话回访"),
        /// 上门回访: a visit to the petitioner.
        Visit = ("visit", "上门", "上门回访", "走访"),
        /// 短信回访: by text message.
        Sms = ("sms", "短信", "短信回访"),
        /// 信函回访: by letter.
        Letter = ("letter", "信函", "信函回访"),
        /// 约谈: the petitioner came in.
        Interview = ("interview", "约谈", "来访回访"),
    }
}

coded_enum! {
    /// 处理意见: the outcome stated in a reply (信访工作条例 §32).
    pub enum Outcome {
        /// 予以支持: supported.
        Supported = ("supported", "予以支持", "支持"),
        /// 部分支持: partly supported.
        PartlySupported = ("partly_supported", "部分支持"),
        /// 解释说明: explained (reasonable, but no legal basis).
        Explained = ("explained", "解释说明"),
        /// 不予支持: not supported.
        NotSupported = ("not_supported", "不予支持"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_sector_offers_its_own_categories_once() {
        let land = Category::offered(&Sector::Land);
        assert!(land.contains(&Category::IllegalOccupation));
        assert!(
            !land.contains(&Category::IllegalOccupation12336),
            "违法占地 folds into 违法占地建设"
        );
        assert!(!land.contains(&Category::MiningRight));
        let mineral = Category::offered(&Sector::Mineral);
        assert!(mineral.contains(&Category::IllegalMining));
        assert!(!mineral.contains(&Category::FarmlandDamage));
        let other = Category::offered(&Sector::Other);
        assert_eq!(other, vec![Category::EnquiryCertificate, Category::Dispute, Category::Other]);
        for sector in Sector::KNOWN {
            for c in Category::offered(sector) {
                assert_eq!(c.clone().canonical(), c);
            }
        }
    }
}
