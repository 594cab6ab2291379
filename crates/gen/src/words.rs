//! Word lists for realistic Chinese names and addresses. Every string here is in GBK, so files
//! written in GBK hold no unmappable character (tested).

/// A district (区) of the Tianjin-like municipality: GB/T 2260 code, full name and short name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct District {
    pub code: &'static str,
    pub name: &'static str,
    pub short: &'static str,
}

/// The 16 districts; resident numbers and codes use their `1201xx` codes.
pub(crate) const DISTRICTS: [District; 16] = [
    District {
        code: "120101",
        name: "和平区",
        short: "和平",
    },
    District {
        code: "120102",
        name: "河东区",
        short: "河东",
    },
    District {
        code: "120103",
        name: "河西区",
        short: "河西",
    },
    District {
        code: "120104",
        name: "南开区",
        short: "南开",
    },
    District {
        code: "120105",
        name: "河北区",
        short: "河北",
    },
    District {
        code: "120106",
        name: "红桥区",
        short: "红桥",
    },
    District {
        code: "120110",
        name: "东丽区",
        short: "东丽",
    },
    District {
        code: "120111",
        name: "西青区",
        short: "西青",
    },
    District {
        code: "120112",
        name: "津南区",
        short: "津南",
    },
    District {
        code: "120113",
        name: "北辰区",
        short: "北辰",
    },
    District {
        code: "120114",
        name: "武清区",
        short: "武清",
    },
    District {
        code: "120115",
        name: "宝坻区",
        short: "宝坻",
    },
    District {
        code: "120116",
        name: "滨海新区",
        short: "滨海",
    },
    District {
        code: "120117",
        name: "宁河区",
        short: "宁河",
    },
    District {
        code: "120118",
        name: "静海区",
        short: "静海",
    },
    District {
        code: "120119",
        name: "蓟州区",
        short: "蓟州",
    },
];

/// How many subjects each of [`DISTRICTS`] has, relatively (for [`crate::rng::pick_weighted`]).
pub(crate) const DISTRICT_WEIGHTS: [u32; 16] = [4, 5, 7, 7, 5, 3, 6, 8, 6, 6, 8, 5, 20, 3, 5, 4];

/// Characters that trade names (字号) are composed of: two or three of them.
pub(crate) const TRADE: [&str; 200] = [
    "恒", "通", "达", "盛", "华", "鑫", "泰", "瑞", "祥", "和", "信", "德", "利", "源", "隆", "昌",
    "兴", "发", "宏", "运", "安", "康", "丰", "顺", "福", "金", "银", "宝", "富", "贵", "荣", "辉",
    "光", "明", "亮", "新", "旺", "佳", "美", "嘉", "乐", "鸿", "鹏", "飞", "腾", "龙", "凤", "海",
    "洋", "天", "地", "中", "正", "诚", "合", "众", "联", "创", "拓", "博", "远", "峰", "山", "川",
    "江", "河", "湖", "津", "港", "滨", "东", "方", "圣", "君", "睿", "智", "慧", "思", "贤", "汇",
    "聚", "成", "立", "业", "振", "邦", "国", "元", "亿", "万", "千", "百", "一", "三", "九", "鼎",
    "益", "晟", "昊", "宇", "宸", "辰", "星", "月", "阳", "春", "秋", "冬", "夏", "云", "雨", "雪",
    "霖", "泽", "润", "沣", "沃", "森", "林", "松", "柏", "竹", "梅", "兰", "菊", "荷", "禾", "谷",
    "田", "园", "亚", "欧", "环", "球", "世", "纪", "时", "代", "永", "久", "长", "升", "旭", "晨",
    "曦", "朗", "清", "静", "雅", "致", "尚", "品", "优", "卓", "越", "精", "工", "匠", "艺", "同",
    "心", "友", "仁", "义", "礼", "忠", "惠", "民", "生", "平", "宁", "吉", "开", "启", "航", "帆",
    "舟", "桥", "城", "京", "北", "南", "西", "路", "坤", "乾", "泓", "浩", "瀚", "澜", "涛", "锦",
    "绣", "彩", "虹", "麒", "麟", "骏", "豪", "杰",
];

/// Industries (行业) of enterprise names.
pub(crate) const INDUSTRIES: [&str; 40] = [
    "商贸",
    "科技",
    "建筑工程",
    "餐饮管理",
    "物流",
    "医药",
    "食品",
    "电子",
    "机械设备",
    "房地产开发",
    "物业管理",
    "环保科技",
    "信息技术",
    "文化传媒",
    "广告",
    "装饰工程",
    "汽车销售",
    "化工",
    "钢铁贸易",
    "包装材料",
    "服装",
    "家具",
    "教育咨询",
    "企业管理咨询",
    "劳务服务",
    "人力资源服务",
    "网络科技",
    "生物科技",
    "新能源",
    "国际贸易",
    "供应链管理",
    "酒店管理",
    "国际旅行社",
    "健康管理",
    "农业科技",
    "水产",
    "建材",
    "五金交电",
    "印刷",
    "运输",
];

/// Company forms (组织形式) and their weights.
pub(crate) const FORMS: [(&str, u32); 4] = [
    ("有限公司", 62),
    ("有限责任公司", 28),
    ("股份有限公司", 6),
    ("集团有限公司", 4),
];

/// Shops of individual businesses (个体工商户).
pub(crate) const SHOPS: [&str; 30] = [
    "面馆",
    "便利店",
    "美发店",
    "水果店",
    "五金店",
    "烟酒店",
    "家常菜馆",
    "烧烤店",
    "汽车修理部",
    "服装店",
    "干洗店",
    "早点铺",
    "粮油店",
    "装饰材料经营部",
    "电动车维修部",
    "手机维修店",
    "副食店",
    "麻辣烫店",
    "包子铺",
    "熟食店",
    "花店",
    "眼镜店",
    "文具店",
    "母婴用品店",
    "蔬菜店",
    "理发店",
    "足疗店",
    "快餐店",
    "茶叶店",
    "建材经营部",
];

/// Products of farmer cooperatives (农民专业合作社).
pub(crate) const COOP_PRODUCTS: [&str; 15] = [
    "蔬菜种植",
    "粮食种植",
    "果品种植",
    "生猪养殖",
    "奶牛养殖",
    "水产养殖",
    "农机",
    "食用菌种植",
    "花卉种植",
    "中药材种植",
    "蛋鸡养殖",
    "肉羊养殖",
    "小站稻种植",
    "葡萄种植",
    "植保",
];

/// Topics of social groups (社会团体).
pub(crate) const GROUP_TOPICS: [&str; 24] = [
    "餐饮行业",
    "物流行业",
    "软件行业",
    "建筑装饰",
    "书法家",
    "摄影家",
    "围棋",
    "老年人体育",
    "青年企业家",
    "家庭服务业",
    "养老服务业",
    "电子商务",
    "汽车流通",
    "美容美发",
    "烹饪",
    "环境保护",
    "质量管理",
    "个体劳动者",
    "私营企业",
    "钓鱼",
    "篮球",
    "足球",
    "象棋",
    "诗词",
];

/// Suffixes of social groups.
pub(crate) const GROUP_SUFFIXES: [&str; 4] = ["协会", "商会", "研究会", "联合会"];

/// Kinds of private non-enterprise units (民办非企业单位).
pub(crate) const NONPROFIT_KINDS: [&str; 10] = [
    "幼儿园",
    "培训学校",
    "养老院",
    "社会工作服务中心",
    "康复中心",
    "职业培训学校",
    "艺术培训中心",
    "社区服务中心",
    "民办医院",
    "志愿服务中心",
];

/// Kinds of foundations (基金会).
pub(crate) const FOUNDATION_KINDS: [&str; 4] =
    ["慈善基金会", "公益基金会", "教育基金会", "助学基金会"];

/// Kinds of public institutions (事业单位), with a number in the name.
pub(crate) const INSTITUTION_KINDS: [&str; 6] =
    ["中学", "小学", "幼儿园", "医院", "卫生院", "职业学校"];

/// Streets (街道) for addresses and public institutions.
pub(crate) const STREETS: [&str; 24] = [
    "友谊路",
    "解放路",
    "南京路",
    "卫津路",
    "黄河道",
    "红旗路",
    "津塘路",
    "中山路",
    "胜利路",
    "建设路",
    "迎宾大道",
    "泰达大街",
    "第三大街",
    "杨柳青大街",
    "雍阳西道",
    "渔阳南路",
    "光明路",
    "幸福道",
    "复兴路",
    "平江道",
    "长江道",
    "海河东路",
    "金桥街",
    "京津公路",
];

/// The most common surnames, most frequent first.
pub(crate) const SURNAMES: [&str; 100] = [
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林",
    "何", "郭", "马", "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "萧", "程", "曹",
    "袁", "邓", "许", "傅", "沈", "曾", "彭", "吕", "苏", "卢", "蒋", "蔡", "贾", "丁", "魏", "薛",
    "叶", "阎", "余", "潘", "杜", "戴", "夏", "钟", "汪", "田", "任", "姜", "范", "方", "石", "姚",
    "谭", "廖", "邹", "熊", "金", "陆", "郝", "孔", "白", "崔", "康", "毛", "邱", "秦", "江", "史",
    "顾", "侯", "邵", "孟", "龙", "万", "段", "雷", "钱", "汤", "尹", "黎", "易", "常", "武", "乔",
    "贺", "赖", "龚", "文",
];

/// Given-name characters usual for men.
pub(crate) const GIVEN_MALE: [&str; 60] = [
    "伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "平", "辉", "鹏", "华", "飞",
    "鑫", "波", "宇", "浩", "凯", "健", "俊", "帆", "帅", "旭", "宁", "龙", "林", "欢", "阳", "建",
    "国", "峰", "亮", "成", "志", "海", "东", "文", "庆", "祥", "振", "兵", "永", "立", "新", "德",
    "博", "晨", "昊", "然", "泽", "子", "轩", "宏", "思", "春", "金", "喜",
];

/// Given-name characters usual for women.
pub(crate) const GIVEN_FEMALE: [&str; 60] = [
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀", "英", "玲", "婷", "雪", "慧", "燕", "红",
    "梅", "琳", "萍", "颖", "倩", "洁", "琴", "云", "莉", "兰", "凤", "丹", "晶", "月", "蕾", "薇",
    "璐", "欣", "怡", "佳", "悦", "瑶", "淑", "桂", "春", "金", "玉", "珍", "华", "翠", "晓", "雨",
    "思", "梦", "雅", "琪", "露", "嘉", "宁", "爽", "媛", "妍", "诗", "彤",
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn unique(list: &[&str]) -> bool {
        list.iter().collect::<BTreeSet<_>>().len() == list.len()
    }

    #[test]
    fn lists_have_no_duplicates() {
        assert!(unique(&TRADE));
        assert!(unique(&INDUSTRIES));
        assert!(unique(&SURNAMES));
        assert!(unique(&GIVEN_MALE));
        assert!(unique(&GIVEN_FEMALE));
        assert!(unique(&SHOPS));
        assert!(unique(&DISTRICTS.map(|d| d.code)));
    }
}
