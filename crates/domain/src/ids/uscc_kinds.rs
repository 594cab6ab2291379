//! Data table of 登记管理部门代码 (registration authority, position 1) and 机构类别代码 (entity kind,
//! positions 1–2) of the unified social credit code, after GB 32100-2015 Annex A and its later
//! additions (A: military, N: rural collective economic organisations). Kept as data: extend the
//! tables when new codes are issued; unknown codes are not errors.

/// Registration authority (登记管理部门) by the code's first character.
pub(crate) const AUTHORITIES: &[(char, &str)] = &[
    ('1', "机构编制"),
    ('2', "外交"),
    ('3', "司法"),
    ('4', "文化"),
    ('5', "民政"),
    ('6', "旅游"),
    ('7', "宗教"),
    ('8', "工会"),
    ('9', "工商"),
    ('A', "中央军委改革和编制办公室"),
    ('N', "农业"),
    ('Y', "其他"),
];

/// Entity kind (机构类别) by the code's first two characters.
pub(crate) const ENTITY_KINDS: &[(&str, &str)] = &[
    ("11", "机关"),
    ("12", "事业单位"),
    ("13", "群众团体"),
    ("19", "其他"),
    ("21", "外国常驻新闻机构"),
    ("29", "其他"),
    ("31", "律师事务所"),
    ("32", "公证处"),
    ("33", "基层法律服务所"),
    ("34", "司法鉴定机构"),
    ("35", "仲裁委员会"),
    ("39", "其他"),
    ("41", "外国在华文化中心"),
    ("49", "其他"),
    ("51", "社会团体"),
    ("52", "民办非企业单位"),
    ("53", "基金会"),
    ("59", "其他"),
    ("61", "外国旅游部门常驻代表机构"),
    ("62", "港澳台地区旅游部门常驻内地（大陆）代表机构"),
    ("69", "其他"),
    ("71", "宗教活动场所"),
    ("72", "宗教院校"),
    ("79", "其他"),
    ("81", "基层工会"),
    ("89", "其他"),
    ("91", "企业"),
    ("92", "个体工商户"),
    ("93", "农民专业合作社"),
    ("A1", "军队事业单位"),
    ("A9", "其他"),
    ("N1", "组级集体经济组织"),
    ("N2", "村级集体经济组织"),
    ("N3", "乡镇级集体经济组织"),
    ("N9", "其他"),
    ("Y1", "其他"),
];

/// Chinese name of a registration authority code.
pub(crate) fn authority(code: char) -> Option<&'static str> {
    AUTHORITIES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, name)| *name)
}

/// Chinese name of an entity kind code (two characters).
pub(crate) fn entity_kind(code: &str) -> Option<&'static str> {
    ENTITY_KINDS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, name)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_belongs_to_a_known_authority() {
        for (kind, _) in ENTITY_KINDS {
            let first = kind.chars().next().expect("two characters");
            assert!(authority(first).is_some(), "{kind}");
            assert_eq!(kind.chars().count(), 2);
        }
    }

    #[test]
    fn codes_are_unique() {
        let mut kinds: Vec<&str> = ENTITY_KINDS.iter().map(|(c, _)| *c).collect();
        kinds.sort_unstable();
        kinds.dedup();
        assert_eq!(kinds.len(), ENTITY_KINDS.len());
        let mut auth: Vec<char> = AUTHORITIES.iter().map(|(c, _)| *c).collect();
        auth.sort_unstable();
        auth.dedup();
        assert_eq!(auth.len(), AUTHORITIES.len());
    }
}
