//! Who this office is: its code, name and role, the townships it answers for, its staff
//! (办理人) and how its case numbers look. Kept in the store, set at `init` or enrollment;
//! the staff list is edited here too ([`Office::set_staff`], [`Office::add_staff`],
//! [`Office::remove_staff`]).

use ledger_domain::Role;
use serde::{Deserialize, Serialize};

use crate::Office;
use crate::error::{OfficeError, Result};

/// The input field of the staff list, and its label.
const STAFF: (&str, &str) = ("staff", "办理人");
/// The input field of the townships, and its label.
const TOWNSHIPS: (&str, &str) = ("townships", "乡镇");

/// The office's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OfficeConfig {
    /// 单位代码 (`hq01`).
    pub code: String,
    /// 单位名称 (黄桥镇国土所).
    pub name: String,
    /// Bureau or township office.
    pub role: Role,
    /// The townships it answers for, by name. For the bureau, the county's townships (empty
    /// accepts any name).
    #[serde(default)]
    pub townships: Vec<String>,
    /// 办理人: the staff who may record actions; the first is the default.
    #[serde(default)]
    pub staff: Vec<String>,
    /// The prefix of case numbers (黄桥 in 黄桥-2017-A-0012).
    pub number_prefix: String,
    /// This device's letter in case numbers, so devices never collide offline.
    #[serde(default = "default_device")]
    pub device: String,
}

fn default_device() -> String {
    "A".to_owned()
}

impl OfficeConfig {
    /// A new office's settings with a number prefix taken from its name.
    pub fn new(code: &str, name: &str, role: Role) -> Self {
        Self {
            code: code.trim().to_owned(),
            name: name.trim().to_owned(),
            role,
            townships: Vec::new(),
            staff: Vec::new(),
            number_prefix: prefix_from_name(name),
            device: default_device(),
        }
    }

    /// The township a case registered here belongs to when none is given: a township office's
    /// own, when it answers for exactly one.
    pub fn default_township(&self) -> Option<&str> {
        match (&self.role, self.townships.as_slice()) {
            (Role::Township, [only]) => Some(only.as_str()),
            _ => None,
        }
    }

    /// These settings as an office keeps them, whoever typed them: code and name trimmed,
    /// every township and staff name trimmed and blank ones dropped. Refused, naming the
    /// field, without a code or a name, or with a name listed twice.
    pub(crate) fn normalised(mut self) -> Result<Self> {
        self.code = self.code.trim().to_owned();
        self.name = self.name.trim().to_owned();
        if self.code.is_empty() {
            return Err(OfficeError::invalid("code", "单位代码", "请填写单位代码"));
        }
        if self.name.is_empty() {
            return Err(OfficeError::invalid("name", "单位名称", "请填写单位名称"));
        }
        self.townships = names(TOWNSHIPS, self.townships)?;
        self.staff = names(STAFF, self.staff)?;
        Ok(self)
    }
}

/// A list of names as kept: each trimmed, blank entries dropped; a name given twice is
/// refused, naming the field.
fn names((field, label): (&str, &str), given: Vec<String>) -> Result<Vec<String>> {
    let mut kept: Vec<String> = Vec::with_capacity(given.len());
    for name in given {
        let name = name.trim();
        if name.is_empty() {
            continue;
        }
        if kept.iter().any(|k| k == name) {
            return Err(OfficeError::invalid(field, label, format!("「{name}」填了两次")));
        }
        kept.push(name.to_owned());
    }
    Ok(kept)
}

/// A staff list as typed at enrollment, as kept (see [`OfficeConfig::normalised`]).
pub(crate) fn staff_names(given: &[String]) -> Result<Vec<String>> {
    names(STAFF, given.to_vec())
}

/// A staff list an office may keep: at least one name, since every action records its 办理人.
fn checked_staff(given: Vec<String>) -> Result<Vec<String>> {
    let staff = names(STAFF, given)?;
    if staff.is_empty() {
        return Err(OfficeError::invalid(STAFF.0, STAFF.1, "至少保留一名办理人"));
    }
    Ok(staff)
}

impl Office {
    /// Replaces the staff list (办理人; the first is the default). Names are trimmed and blank
    /// ones dropped; refused, naming the field `staff`, when a name is listed twice or none is
    /// left. Returns the settings as now kept.
    pub fn set_staff(&self, staff: Vec<String>) -> Result<OfficeConfig> {
        let mut config = self.config();
        config.staff = checked_staff(staff)?;
        self.update_config(config)?;
        Ok(self.config())
    }

    /// Adds one member to the end of the staff list; refused, naming the field `staff`, when
    /// the name is blank or already listed.
    pub fn add_staff(&self, name: &str) -> Result<OfficeConfig> {
        let name = name.trim();
        if name.is_empty() {
            return Err(OfficeError::invalid(STAFF.0, STAFF.1, "请填写姓名"));
        }
        let mut staff = self.cfg().staff.clone();
        if staff.iter().any(|s| s == name) {
            return Err(OfficeError::invalid(
                STAFF.0,
                STAFF.1,
                format!("「{name}」已在本单位人员名单中"),
            ));
        }
        staff.push(name.to_owned());
        self.set_staff(staff)
    }

    /// Takes one member off the staff list (the events they signed keep their name); refused,
    /// naming the field `staff`, when the name is not listed or is the last one.
    pub fn remove_staff(&self, name: &str) -> Result<OfficeConfig> {
        let name = name.trim();
        let staff = self.cfg().staff.clone();
        if !staff.iter().any(|s| s == name) {
            return Err(OfficeError::invalid(
                STAFF.0,
                STAFF.1,
                format!("「{name}」不在本单位人员名单中（{}）", staff.join("、")),
            ));
        }
        self.set_staff(staff.into_iter().filter(|s| s != name).collect())
    }
}

/// 黄桥镇国土所 -> 黄桥; 洞口县国土资源局 -> 洞口.
fn prefix_from_name(name: &str) -> String {
    let trimmed = name.trim();
    let cut = ["镇", "乡", "县", "街道", "区", "市"]
        .iter()
        .filter_map(|m| trimmed.find(m))
        .min()
        .filter(|&i| i > 0)
        .unwrap_or(trimmed.len());
    let base: String = trimmed[..cut].chars().take(4).collect();
    if base.is_empty() { "XF".to_owned() } else { base }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_prefix_from_office_names() {
        assert_eq!(prefix_from_name("黄桥镇国土所"), "黄桥");
        assert_eq!(prefix_from_name("洞口县国土资源局"), "洞口");
        assert_eq!(prefix_from_name("罗溪瑶族乡国土所"), "罗溪瑶族");
        assert_eq!(prefix_from_name("雪峰街道国土所"), "雪峰");
        assert_eq!(prefix_from_name("County"), "Coun");
    }
}
