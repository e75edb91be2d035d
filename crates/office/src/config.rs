//! Who this office is: its code, name and role, the townships it answers for, its staff
//! (办理人) and how its case numbers look. Kept in the store, set at `init` or enrollment.

use ledger_domain::Role;
use serde::{Deserialize, Serialize};

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
