//! Agencies (行政机关 / 数据来源单位) as data: the province keeps its own table.

use serde::{Deserialize, Serialize};

/// Administrative level of an agency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgencyLevel {
    /// 国家级
    National,
    /// 省级
    Provincial,
    /// 市级
    Municipal,
    /// 县级
    County,
}

impl AgencyLevel {
    pub fn code(self) -> &'static str {
        match self {
            AgencyLevel::National => "national",
            AgencyLevel::Provincial => "provincial",
            AgencyLevel::Municipal => "municipal",
            AgencyLevel::County => "county",
        }
    }

    pub fn from_code(s: &str) -> Option<Self> {
        Some(match s {
            "national" | "国家级" => AgencyLevel::National,
            "provincial" | "省级" => AgencyLevel::Provincial,
            "municipal" | "市级" => AgencyLevel::Municipal,
            "county" | "县级" | "区县级" => AgencyLevel::County,
            _ => return None,
        })
    }
}

/// An agency that produces records, checks subjects or implements measures.
/// `code` is the agency's unified social credit code (机关统一社会信用代码), which 双公示 feeds carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agency {
    pub code: String,
    pub name: String,
    pub level: AgencyLevel,
    /// Administrative division code (GB/T 2260), e.g. `120000` for Tianjin.
    pub region: String,
    /// The code of the parent agency, if any (a district bureau under a city bureau).
    pub parent: Option<String>,
}
