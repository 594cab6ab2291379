//! The 44 agencies of the Tianjin-like municipality: 28 municipal bodies (three of them courts) and
//! 16 district market-regulation bureaus. The table does not depend on the seed, so the agencies of
//! every generated data set are the same.

use creditloop_domain::agency::{Agency, AgencyLevel};
use creditloop_domain::ids::{org_code_check_char, uscc_check_char};

use crate::rng::permute;
use crate::words::DISTRICTS;

/// What an agency does, which decides the records it produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Group {
    Development,
    Market,
    Tax,
    Environment,
    Construction,
    Transport,
    HumanResources,
    Emergency,
    Health,
    Drug,
    Planning,
    UrbanManagement,
    Water,
    Agriculture,
    Commerce,
    Culture,
    Police,
    Education,
    CivilAffairs,
    Justice,
    MedicalInsurance,
    Industry,
    Statistics,
    InstitutionRegistry,
    Finance,
    Court,
}

/// One municipal agency: name, document-number abbreviation (文号代字), group.
struct Municipal {
    name: &'static str,
    abbr: &'static str,
    group: Group,
}

const MUNICIPAL: [Municipal; 28] = [
    Municipal {
        name: "天津市发展和改革委员会",
        abbr: "津发改",
        group: Group::Development,
    },
    Municipal {
        name: "天津市市场监督管理委员会",
        abbr: "津市监",
        group: Group::Market,
    },
    Municipal {
        name: "国家税务总局天津市税务局",
        abbr: "津税",
        group: Group::Tax,
    },
    Municipal {
        name: "天津市生态环境局",
        abbr: "津环",
        group: Group::Environment,
    },
    Municipal {
        name: "天津市住房和城乡建设委员会",
        abbr: "津建",
        group: Group::Construction,
    },
    Municipal {
        name: "天津市交通运输委员会",
        abbr: "津交",
        group: Group::Transport,
    },
    Municipal {
        name: "天津市人力资源和社会保障局",
        abbr: "津人社",
        group: Group::HumanResources,
    },
    Municipal {
        name: "天津市应急管理局",
        abbr: "津应急",
        group: Group::Emergency,
    },
    Municipal {
        name: "天津市卫生健康委员会",
        abbr: "津卫",
        group: Group::Health,
    },
    Municipal {
        name: "天津市药品监督管理局",
        abbr: "津药监",
        group: Group::Drug,
    },
    Municipal {
        name: "天津市规划和自然资源局",
        abbr: "津规资",
        group: Group::Planning,
    },
    Municipal {
        name: "天津市城市管理委员会",
        abbr: "津城管",
        group: Group::UrbanManagement,
    },
    Municipal {
        name: "天津市水务局",
        abbr: "津水",
        group: Group::Water,
    },
    Municipal {
        name: "天津市农业农村委员会",
        abbr: "津农",
        group: Group::Agriculture,
    },
    Municipal {
        name: "天津市商务局",
        abbr: "津商",
        group: Group::Commerce,
    },
    Municipal {
        name: "天津市文化和旅游局",
        abbr: "津文旅",
        group: Group::Culture,
    },
    Municipal {
        name: "天津市公安局",
        abbr: "津公",
        group: Group::Police,
    },
    Municipal {
        name: "天津市教育委员会",
        abbr: "津教",
        group: Group::Education,
    },
    Municipal {
        name: "天津市民政局",
        abbr: "津民",
        group: Group::CivilAffairs,
    },
    Municipal {
        name: "天津市司法局",
        abbr: "津司",
        group: Group::Justice,
    },
    Municipal {
        name: "天津市医疗保障局",
        abbr: "津医保",
        group: Group::MedicalInsurance,
    },
    Municipal {
        name: "天津市工业和信息化局",
        abbr: "津工信",
        group: Group::Industry,
    },
    Municipal {
        name: "天津市统计局",
        abbr: "津统",
        group: Group::Statistics,
    },
    Municipal {
        name: "天津市事业单位登记管理局",
        abbr: "津事登",
        group: Group::InstitutionRegistry,
    },
    Municipal {
        name: "天津市地方金融管理局",
        abbr: "津金",
        group: Group::Finance,
    },
    Municipal {
        name: "天津市高级人民法院",
        abbr: "津",
        group: Group::Court,
    },
    Municipal {
        name: "天津市第一中级人民法院",
        abbr: "津01",
        group: Group::Court,
    },
    Municipal {
        name: "天津市第二中级人民法院",
        abbr: "津02",
        group: Group::Court,
    },
];

/// Index of the municipal market regulator in the table (the parent of the district bureaus).
pub(crate) const MARKET: usize = 1;

/// An agency with everything the generator needs.
#[derive(Debug, Clone)]
pub(crate) struct AgencyInfo {
    pub name: String,
    /// 文号代字: the prefix of its document numbers (津市监, 和平市监, …; the case-number code of a
    /// court).
    pub abbr: String,
    pub code: String,
    pub level: AgencyLevel,
    pub region: &'static str,
    pub parent: Option<usize>,
    pub group: Group,
    /// For a district bureau, the index into [`DISTRICTS`].
    pub district: Option<usize>,
}

/// A government-body (kind 11) unified social credit code in `region` whose organisation-code body
/// is made from `serial`.
fn agency_code(region: &str, serial: u64) -> String {
    // A fixed permutation keeps the bodies distinct and the table independent of the seed.
    let body = format!("{:08}", permute(serial, 100_000_000, 0x5A4B_3C2D_1E0F));
    let org_check = org_code_check_char(&body).unwrap_or('0');
    let body17 = format!("11{region}{body}{org_check}");
    let check = uscc_check_char(&body17).unwrap_or('0');
    format!("{body17}{check}")
}

/// The agency table, in a fixed order: municipal first, then the district bureaus.
pub(crate) fn table() -> Vec<AgencyInfo> {
    let mut out = Vec::with_capacity(MUNICIPAL.len() + DISTRICTS.len());
    for (i, m) in MUNICIPAL.iter().enumerate() {
        out.push(AgencyInfo {
            name: m.name.to_string(),
            abbr: m.abbr.to_string(),
            code: agency_code("120000", i as u64),
            level: AgencyLevel::Municipal,
            region: "120000",
            parent: None,
            group: m.group,
            district: None,
        });
    }
    for (d, district) in DISTRICTS.iter().enumerate() {
        out.push(AgencyInfo {
            name: format!("天津市{}市场监督管理局", district.name),
            abbr: format!("{}市监", district.short),
            code: agency_code(district.code, (MUNICIPAL.len() + d) as u64),
            level: AgencyLevel::County,
            region: district.code,
            parent: Some(MARKET),
            group: Group::Market,
            district: Some(d),
        });
    }
    out
}

/// The agencies every generated data set uses, as the domain describes them (44 of them, with
/// valid codes of kind 11; district bureaus have the municipal market regulator as parent).
pub fn agencies() -> Vec<Agency> {
    let t = table();
    t.iter()
        .map(|a| Agency {
            code: a.code.clone(),
            name: a.name.clone(),
            level: a.level,
            region: a.region.to_string(),
            parent: a.parent.and_then(|p| t.get(p)).map(|p| p.code.clone()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use creditloop_domain::ids::Uscc;
    use std::collections::BTreeSet;

    #[test]
    fn forty_four_agencies_with_valid_distinct_codes() {
        let a = agencies();
        assert_eq!(a.len(), 44);
        let codes: BTreeSet<_> = a.iter().map(|a| a.code.clone()).collect();
        assert_eq!(codes.len(), 44);
        for ag in &a {
            let u = Uscc::parse(&ag.code).expect(&ag.code);
            assert_eq!(u.entity_kind_code(), "11");
            assert!(ag.region.starts_with("1201") || ag.region == "120000");
        }
        assert_eq!(table()[MARKET].group, Group::Market);
    }
}
