//! What records say: violations with their legal basis and penalty kinds, licence types, lists,
//! commitments, inspections and court cases, each tied to the kind of agency that decides it.
//!
//! Templates may hold `{d}` (a date shortly before the decision), `{n}` (a small count) and `{x}`
//! (an amount of money in yuan); [`crate::rows`] fills them in.

use creditloop_domain::record::{Category, LicenceKind, PenaltyKind};

use crate::agencies::Group;

/// Which subjects a record may concern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Who {
    /// anyone
    Any,
    /// organisations and individual businesses, not natural persons
    Org,
    /// natural persons only
    Person,
    /// enterprises, individual businesses and cooperatives
    Market,
}

use PenaltyKind::{
    Confiscation as C, Detention as D, Fine as F, LicenceSuspendedOrRevoked as L, Other as O,
    PublicCriticism as P, QualificationDowngrade as Q, RestrictBusiness as R,
    SuspendProduction as S, Warning as W,
};

/// A kind of violation (违法行为) and how it is punished.
#[derive(Debug)]
pub(crate) struct Violation {
    pub group: Group,
    pub weight: u32,
    /// 违法行为类型
    pub name: &'static str,
    /// 违法事实 (template)
    pub facts: &'static str,
    /// 处罚依据
    pub basis: &'static str,
    /// The combinations of 处罚类别 it draws from.
    pub kinds: &'static [&'static [PenaltyKind]],
    /// Range of the fine in yuan.
    pub fine: (u32, u32),
    pub who: Who,
    /// The licence suspended or revoked when the penalty does that.
    pub licence: &'static str,
}

macro_rules! v {
    ($g:ident, $w:expr, $name:expr, $facts:expr, $basis:expr, $kinds:expr, $fine:expr, $who:ident, $lic:expr) => {
        Violation {
            group: Group::$g,
            weight: $w,
            name: $name,
            facts: $facts,
            basis: $basis,
            kinds: $kinds,
            fine: $fine,
            who: Who::$who,
            licence: $lic,
        }
    };
}

/// Violations of all agencies.
pub(crate) const VIOLATIONS: &[Violation] = &[
    v!(
        Market,
        30,
        "未按规定公示年度报告",
        "当事人未按照规定期限公示上一年度年度报告，经责令限期改正后逾期仍未改正",
        "《中华人民共和国市场主体登记管理条例》第四十九条",
        &[&[W], &[F], &[P]],
        (1_000, 10_000),
        Market,
        ""
    ),
    v!(
        Market,
        20,
        "销售不合格产品",
        "当事人于{d}销售的产品经抽样检验不合格，货值金额{x}元",
        "《中华人民共和国产品质量法》第四十九条",
        &[&[C, F], &[F], &[C, F, L]],
        (2_000, 200_000),
        Market,
        "营业执照"
    ),
    v!(
        Market,
        15,
        "无证经营",
        "当事人未依法取得营业执照，自{d}起擅自从事经营活动",
        "《无证无照经营查处办法》第十三条",
        &[&[C, F], &[F], &[W]],
        (1_000, 50_000),
        Any,
        ""
    ),
    v!(
        Market,
        10,
        "发布虚假广告",
        "当事人于{d}通过网络平台发布含有虚假内容的广告，广告费用{x}元",
        "《中华人民共和国广告法》第五十五条第一款",
        &[&[F], &[C, F]],
        (10_000, 500_000),
        Market,
        ""
    ),
    v!(
        Market,
        15,
        "经营超过保质期的食品",
        "执法人员于{d}检查发现当事人经营超过保质期的食品{n}件",
        "《中华人民共和国食品安全法》第一百二十四条第一款第五项",
        &[&[C, F], &[C, F, L]],
        (5_000, 100_000),
        Market,
        "食品经营许可证"
    ),
    v!(
        Market,
        12,
        "未按规定建立并遵守进货查验记录制度",
        "当事人未按规定建立并遵守进货查验记录制度，经责令改正后拒不改正",
        "《中华人民共和国食品安全法》第一百二十六条第一款第三项",
        &[&[W], &[F], &[W, F]],
        (5_000, 50_000),
        Market,
        ""
    ),
    v!(
        Market,
        10,
        "不执行明码标价规定",
        "当事人在经营场所销售商品未按规定明码标价",
        "《中华人民共和国价格法》第四十二条",
        &[&[W], &[F], &[W, F]],
        (500, 5_000),
        Market,
        ""
    ),
    v!(
        Market,
        6,
        "特种设备未经定期检验继续使用",
        "当事人使用的电梯{n}台未经定期检验，检验有效期已于{d}届满",
        "《中华人民共和国特种设备安全法》第八十四条第一项",
        &[&[F], &[F, S]],
        (30_000, 300_000),
        Org,
        ""
    ),
    v!(
        Market,
        5,
        "侵犯注册商标专用权",
        "当事人于{d}销售侵犯他人注册商标专用权的商品{n}件",
        "《中华人民共和国商标法》第六十条第二款",
        &[&[C, F]],
        (5_000, 250_000),
        Market,
        ""
    ),
    v!(
        Market,
        4,
        "使用不合格计量器具",
        "当事人在经营活动中使用未经检定的计量器具{n}台",
        "《中华人民共和国计量法实施细则》第四十三条",
        &[&[C, F], &[F]],
        (500, 2_000),
        Market,
        ""
    ),
    v!(
        Tax,
        12,
        "虚开发票",
        "当事人于{d}至查处之日为他人虚开增值税普通发票{n}份，金额合计{x}元",
        "《中华人民共和国发票管理办法》第三十五条",
        &[&[C, F], &[F]],
        (50_000, 500_000),
        Org,
        ""
    ),
    v!(
        Tax,
        25,
        "未按照规定期限办理纳税申报",
        "当事人未按照规定期限办理{d}所属期增值税纳税申报",
        "《中华人民共和国税收征收管理法》第六十二条",
        &[&[F]],
        (200, 2_000),
        Any,
        ""
    ),
    v!(
        Tax,
        5,
        "偷税",
        "当事人采取少列收入的手段进行虚假纳税申报，少缴税款{x}元",
        "《中华人民共和国税收征收管理法》第六十三条第一款",
        &[&[F]],
        (50_000, 1_000_000),
        Org,
        ""
    ),
    v!(
        Environment,
        10,
        "超标排放大气污染物",
        "当事人于{d}经监测排放的大气污染物浓度超过国家和地方规定的排放标准",
        "《中华人民共和国大气污染防治法》第九十九条第二项",
        &[&[F], &[F, R]],
        (100_000, 1_000_000),
        Org,
        ""
    ),
    v!(
        Environment,
        6,
        "未依法取得排污许可证排放污染物",
        "当事人未取得排污许可证，自{d}起排放污染物",
        "《排污许可管理条例》第三十三条第一项",
        &[&[F], &[F, S]],
        (200_000, 1_000_000),
        Org,
        ""
    ),
    v!(
        Environment,
        8,
        "未采取有效防尘措施",
        "当事人于{d}在施工工地未采取覆盖、湿法作业等有效防尘降尘措施",
        "《中华人民共和国大气污染防治法》第一百一十五条第一款",
        &[&[F]],
        (10_000, 100_000),
        Org,
        ""
    ),
    v!(
        Construction,
        6,
        "未取得施工许可证擅自施工",
        "当事人在未取得施工许可证的情况下，于{d}擅自开工建设",
        "《建设工程质量管理条例》第五十七条",
        &[&[F]],
        (20_000, 500_000),
        Org,
        ""
    ),
    v!(
        Construction,
        5,
        "违反工程建设强制性标准",
        "当事人在施工中偷工减料，使用不合格的建筑材料",
        "《建设工程质量管理条例》第六十四条",
        &[&[F], &[F, Q], &[F, S]],
        (50_000, 500_000),
        Org,
        "建筑业企业资质证书"
    ),
    v!(
        Transport,
        6,
        "未取得道路运输经营许可擅自从事道路运输经营",
        "当事人未取得道路运输经营许可，于{d}擅自从事道路货物运输经营",
        "《中华人民共和国道路运输条例》第六十三条",
        &[&[C, F], &[F]],
        (10_000, 100_000),
        Any,
        ""
    ),
    v!(
        Transport,
        6,
        "车辆超限运输",
        "当事人所属车辆于{d}超过公路限载标准行驶公路",
        "《公路安全保护条例》第六十四条",
        &[&[F]],
        (500, 30_000),
        Any,
        ""
    ),
    v!(
        HumanResources,
        5,
        "拖欠劳动者工资",
        "当事人拖欠{n}名劳动者工资共计{x}元，经责令限期支付后逾期未支付",
        "《劳动保障监察条例》第二十六条",
        &[&[F], &[O]],
        (2_000, 20_000),
        Org,
        ""
    ),
    v!(
        HumanResources,
        4,
        "未按规定办理社会保险登记",
        "当事人自用工之日起三十日内未为职工办理社会保险登记",
        "《中华人民共和国社会保险法》第八十四条",
        &[&[F]],
        (1_000, 30_000),
        Org,
        ""
    ),
    v!(
        Emergency,
        5,
        "未按规定对从业人员进行安全生产教育和培训",
        "当事人未按照规定对{n}名从业人员进行安全生产教育和培训",
        "《中华人民共和国安全生产法》第九十七条第三项",
        &[&[F], &[W, F]],
        (10_000, 100_000),
        Org,
        ""
    ),
    v!(
        Emergency,
        4,
        "未建立事故隐患排查治理制度",
        "当事人未建立事故隐患排查治理制度，{d}检查时发现重大事故隐患未及时消除",
        "《中华人民共和国安全生产法》第一百零一条第五项",
        &[&[F], &[F, S]],
        (20_000, 200_000),
        Org,
        ""
    ),
    v!(
        Health,
        3,
        "未取得医疗机构执业许可证擅自执业",
        "当事人未取得医疗机构执业许可证，于{d}擅自开展诊疗活动",
        "《医疗机构管理条例》第四十三条",
        &[&[C, F]],
        (10_000, 100_000),
        Any,
        ""
    ),
    v!(
        Health,
        4,
        "公共场所未取得卫生许可证经营",
        "当事人未依法取得公共场所卫生许可证擅自营业",
        "《公共场所卫生管理条例实施细则》第三十五条",
        &[&[W], &[W, F], &[F]],
        (500, 30_000),
        Market,
        ""
    ),
    v!(
        Drug,
        3,
        "销售劣药",
        "当事人于{d}销售经检验为劣药的药品{n}盒，货值金额{x}元",
        "《中华人民共和国药品管理法》第一百一十七条第一款",
        &[&[C, F], &[C, F, L]],
        (100_000, 500_000),
        Org,
        "药品经营许可证"
    ),
    v!(
        UrbanManagement,
        5,
        "擅自设置户外广告设施",
        "当事人未经批准于{d}擅自设置户外广告设施",
        "《天津市市容和环境卫生管理条例》第六十五条",
        &[&[F], &[W]],
        (1_000, 10_000),
        Any,
        ""
    ),
    v!(
        Planning,
        3,
        "未取得建设工程规划许可证进行建设",
        "当事人未取得建设工程规划许可证，于{d}擅自建设建筑物",
        "《中华人民共和国城乡规划法》第六十四条",
        &[&[F]],
        (50_000, 500_000),
        Any,
        ""
    ),
    v!(
        Water,
        2,
        "未经批准擅自取水",
        "当事人未经批准，自{d}起擅自取用地下水",
        "《中华人民共和国水法》第六十九条第一项",
        &[&[F]],
        (20_000, 100_000),
        Org,
        ""
    ),
    v!(
        Agriculture,
        2,
        "经营假农药",
        "当事人于{d}经营的农药经检验为假农药，货值金额{x}元",
        "《农药管理条例》第五十五条第一款",
        &[&[C, F], &[C, F, L]],
        (5_000, 100_000),
        Market,
        "农药经营许可证"
    ),
    v!(
        Culture,
        2,
        "未经许可经营旅行社业务",
        "当事人未取得旅行社业务经营许可，于{d}组织旅游活动",
        "《旅行社条例》第四十六条",
        &[&[C, F]],
        (10_000, 100_000),
        Any,
        ""
    ),
    v!(
        Police,
        4,
        "殴打他人",
        "违法行为人于{d}因琐事与他人发生纠纷并殴打他人",
        "《中华人民共和国治安管理处罚法》第四十三条第一款",
        &[&[D], &[D, F]],
        (200, 500),
        Person,
        ""
    ),
    v!(
        Police,
        2,
        "无证驾驶",
        "违法行为人于{d}未取得机动车驾驶证驾驶机动车",
        "《中华人民共和国道路交通安全法》第九十九条第一款第一项",
        &[&[F], &[F, D]],
        (200, 2_000),
        Person,
        ""
    ),
    v!(
        Statistics,
        2,
        "拒绝提供统计资料",
        "当事人拒绝提供{d}所属期统计调查所需资料",
        "《中华人民共和国统计法》第四十一条",
        &[&[W], &[W, F]],
        (10_000, 50_000),
        Org,
        ""
    ),
    v!(
        MedicalInsurance,
        2,
        "骗取医疗保障基金",
        "当事人通过虚构医药服务项目等方式骗取医疗保障基金{x}元",
        "《医疗保障基金使用监督管理条例》第四十条",
        &[&[F], &[F, R]],
        (10_000, 300_000),
        Org,
        ""
    ),
    v!(
        Education,
        1,
        "违规举办校外培训",
        "当事人未经审批于{d}擅自开展学科类校外培训",
        "《中华人民共和国民办教育促进法》第六十四条",
        &[&[C, F], &[W]],
        (5_000, 50_000),
        Org,
        ""
    ),
];

/// A kind of administrative licence (行政许可).
#[derive(Debug)]
pub(crate) struct LicenceType {
    pub group: Group,
    pub weight: u32,
    /// 行政许可决定文书名称
    pub document: &'static str,
    /// 许可证书名称
    pub certificate: &'static str,
    pub kind: LicenceKind,
    /// 许可内容
    pub content: &'static str,
    /// Validity in years; 0 for no limit (有效期至 2099-12-31).
    pub years: u32,
    /// 许可编号 pattern: `{r}` region, `{y}` year, `{s}` six-digit serial.
    pub number: &'static str,
    pub who: Who,
}

macro_rules! l {
    ($g:ident, $w:expr, $doc:expr, $cert:expr, $kind:ident, $content:expr, $years:expr, $number:expr, $who:ident) => {
        LicenceType {
            group: Group::$g,
            weight: $w,
            document: $doc,
            certificate: $cert,
            kind: LicenceKind::$kind,
            content: $content,
            years: $years,
            number: $number,
            who: Who::$who,
        }
    };
}

/// Licence types of all agencies.
pub(crate) const LICENCES: &[LicenceType] = &[
    l!(
        Market,
        30,
        "食品经营许可决定书",
        "食品经营许可证",
        General,
        "预包装食品销售（含冷藏冷冻食品）；散装食品销售；热食类食品制售",
        5,
        "JY1{r}{s}",
        Market
    ),
    l!(
        Market,
        8,
        "食品生产许可决定书",
        "食品生产许可证",
        General,
        "糕点、速冻食品生产",
        5,
        "SC1{r}{s}",
        Org
    ),
    l!(
        Market,
        6,
        "特种设备使用登记决定书",
        "特种设备使用登记证",
        Registration,
        "电梯使用登记",
        0,
        "梯11津{s}",
        Org
    ),
    l!(
        Market,
        4,
        "工业产品生产许可决定书",
        "全国工业产品生产许可证",
        General,
        "电线电缆产品生产",
        5,
        "（津）XK06-001-{s}",
        Org
    ),
    l!(
        Construction,
        8,
        "建筑施工企业安全生产许可决定书",
        "安全生产许可证",
        General,
        "建筑施工",
        3,
        "（津）JZ安许证字〔{y}〕{s}",
        Org
    ),
    l!(
        Construction,
        6,
        "建筑工程施工许可决定书",
        "建筑工程施工许可证",
        General,
        "建筑工程施工",
        0,
        "{r}{y}{s}0101",
        Org
    ),
    l!(
        Transport,
        8,
        "道路运输经营许可决定书",
        "道路运输经营许可证",
        General,
        "道路普通货物运输",
        4,
        "津交运管许可字{r}{s}号",
        Any
    ),
    l!(
        Health,
        6,
        "公共场所卫生许可决定书",
        "公共场所卫生许可证",
        General,
        "美容美发场所、住宿场所",
        4,
        "津卫公证字〔{y}〕第{s}号",
        Market
    ),
    l!(
        Health,
        3,
        "医疗机构执业许可决定书",
        "医疗机构执业许可证",
        General,
        "内科、外科、口腔科诊疗科目",
        5,
        "PDY{s}{r}",
        Org
    ),
    l!(
        Environment,
        5,
        "排污许可决定书",
        "排污许可证",
        General,
        "废气、废水排放",
        5,
        "91{r}{s}001P",
        Org
    ),
    l!(
        Emergency,
        3,
        "危险化学品经营许可决定书",
        "危险化学品经营许可证",
        General,
        "危险化学品经营（不带储存设施）",
        3,
        "津{r}安经〔{y}〕{s}",
        Org
    ),
    l!(
        Drug,
        3,
        "药品经营许可决定书",
        "药品经营许可证",
        General,
        "中成药、化学药制剂、生物制品零售",
        5,
        "津AA0{s}",
        Org
    ),
    l!(
        HumanResources,
        2,
        "劳务派遣经营许可决定书",
        "劳务派遣经营许可证",
        General,
        "劳务派遣",
        3,
        "{r}{y}{s}",
        Org
    ),
    l!(
        Culture,
        2,
        "旅行社业务经营许可决定书",
        "旅行社业务经营许可证",
        General,
        "国内旅游业务和入境旅游业务",
        0,
        "L-TJ-{s}",
        Org
    ),
    l!(
        Planning,
        2,
        "建设用地规划许可决定书",
        "建设用地规划许可证",
        General,
        "建设用地规划",
        0,
        "地字第{r}{y}{s}号",
        Org
    ),
    l!(
        UrbanManagement,
        2,
        "城市建筑垃圾处置核准决定书",
        "建筑垃圾处置核准证",
        Approval,
        "建筑垃圾运输处置",
        1,
        "津城管垃核〔{y}〕{s}号",
        Org
    ),
    l!(
        Water,
        1,
        "取水许可决定书",
        "取水许可证",
        General,
        "地下水取水",
        5,
        "取水（津）字〔{y}〕第{s}号",
        Org
    ),
    l!(
        Agriculture,
        2,
        "农药经营许可决定书",
        "农药经营许可证",
        General,
        "农药（限制使用农药除外）经营",
        5,
        "农药经许（津）{r}{s}",
        Market
    ),
    l!(
        Education,
        1,
        "民办学校办学许可决定书",
        "民办学校办学许可证",
        General,
        "非学科类培训",
        5,
        "教民1{r}7{s}号",
        Org
    ),
    l!(
        Police,
        2,
        "特种行业许可决定书",
        "特种行业许可证",
        Franchise,
        "旅馆业",
        0,
        "津公特行字第{s}号",
        Org
    ),
    l!(
        Commerce,
        1,
        "对外贸易经营者备案登记决定书",
        "对外贸易经营者备案登记表",
        Registration,
        "对外贸易经营",
        0,
        "0{s}",
        Org
    ),
    l!(
        Justice,
        1,
        "律师事务所执业许可决定书",
        "律师事务所执业许可证",
        Approval,
        "律师事务所执业",
        0,
        "3112{y}{s}",
        Org
    ),
];

/// A list (名单 / 名录) and why subjects are put on it and taken off.
#[derive(Debug)]
pub(crate) struct ListType {
    pub category: Category,
    pub group: Group,
    pub weight: u32,
    /// 名单名称
    pub name: &'static str,
    /// 列入事由
    pub reasons: &'static [&'static str],
    /// 移出事由
    pub removals: &'static [&'static str],
    pub who: Who,
}

/// Lists of all agencies.
pub(crate) const LISTS: &[ListType] = &[
    ListType {
        category: Category::SeriousDishonestList,
        group: Group::Market,
        weight: 6,
        name: "市场监督管理严重违法失信名单",
        reasons: &[
            "因提交虚假材料取得市场主体登记，被撤销登记",
            "因销售不合格产品受到较重行政处罚且拒不履行",
            "被列入经营异常名录届满3年仍未履行相关义务",
        ],
        removals: &["信用修复", "列入期限届满"],
        who: Who::Market,
    },
    ListType {
        category: Category::SeriousDishonestList,
        group: Group::Tax,
        weight: 4,
        name: "重大税收违法失信主体名单",
        reasons: &[
            "虚开增值税专用发票",
            "偷税数额100万元以上且占应纳税额10%以上",
            "逃避追缴欠税",
        ],
        removals: &["缴清税款、滞纳金和罚款", "公布期限届满"],
        who: Who::Org,
    },
    ListType {
        category: Category::SeriousDishonestList,
        group: Group::HumanResources,
        weight: 2,
        name: "拖欠农民工工资失信联合惩戒对象名单",
        reasons: &["克扣、无故拖欠农民工工资达到认定拒不支付劳动报酬罪数额标准"],
        removals: &["已全额清偿拖欠工资", "列入期限届满"],
        who: Who::Org,
    },
    ListType {
        category: Category::SeriousDishonestList,
        group: Group::Emergency,
        weight: 1,
        name: "安全生产严重失信主体名单",
        reasons: &["发生较大生产安全事故且负有责任"],
        removals: &["信用修复"],
        who: Who::Org,
    },
    ListType {
        category: Category::AbnormalOperation,
        group: Group::Market,
        weight: 20,
        name: "经营异常名录",
        reasons: &[
            "未按照规定期限公示年度报告",
            "通过登记的住所或者经营场所无法联系",
            "未在责令的期限内公示有关企业信息",
            "公示企业信息隐瞒真实情况、弄虚作假",
        ],
        removals: &[
            "补报未报年份年度报告并公示",
            "依法办理住所变更登记",
            "提出申请并经核查可以重新取得联系",
        ],
        who: Who::Market,
    },
    ListType {
        category: Category::RedList,
        group: Group::Tax,
        weight: 6,
        name: "纳税信用A级纳税人名单",
        reasons: &["纳税信用评价为A级"],
        removals: &["次年评价结果发生变化"],
        who: Who::Org,
    },
    ListType {
        category: Category::RedList,
        group: Group::Market,
        weight: 2,
        name: "守合同重信用企业名单",
        reasons: &["连续两年以上守合同重信用"],
        removals: &["公示期满"],
        who: Who::Market,
    },
    ListType {
        category: Category::RedList,
        group: Group::HumanResources,
        weight: 1,
        name: "劳动保障守法诚信示范单位",
        reasons: &["劳动保障守法诚信等级评价为A级"],
        removals: &["有效期届满"],
        who: Who::Org,
    },
    ListType {
        category: Category::RedList,
        group: Group::Development,
        weight: 1,
        name: "天津市诚信建设典型",
        reasons: &["诚信经营事迹突出，经评选认定"],
        removals: &["有效期届满"],
        who: Who::Any,
    },
];

/// A kind of record of the other categories (信用承诺, 检查结果, 其他).
#[derive(Debug)]
pub(crate) struct OtherType {
    pub category: Category,
    pub group: Group,
    pub weight: u32,
    /// Document-number marker (诺, 检, …).
    pub marker: &'static str,
    /// 信息内容 (template; `{y}` is the year)
    pub title: &'static str,
    /// Outcomes appended to the title, one chosen.
    pub outcomes: &'static [&'static str],
    /// Validity of the record in months, 0 for none.
    pub months: u32,
    pub who: Who,
}

/// Commitments, inspections and other records.
pub(crate) const OTHERS: &[OtherType] = &[
    OtherType {
        category: Category::Commitment,
        group: Group::Market,
        weight: 6,
        marker: "诺",
        title: "行政许可告知承诺：",
        outcomes: &[
            "食品经营许可，承诺符合许可条件",
            "市场主体住所（经营场所）申报承诺",
        ],
        months: 12,
        who: Who::Market,
    },
    OtherType {
        category: Category::Commitment,
        group: Group::Development,
        weight: 4,
        marker: "诺",
        title: "信用修复承诺：",
        outcomes: &["已纠正失信行为、履行法定义务，承诺今后依法诚信经营"],
        months: 12,
        who: Who::Org,
    },
    OtherType {
        category: Category::Commitment,
        group: Group::Tax,
        weight: 3,
        marker: "诺",
        title: "涉税事项告知承诺：",
        outcomes: &["税务注销即办承诺", "证明事项告知承诺"],
        months: 12,
        who: Who::Org,
    },
    OtherType {
        category: Category::Commitment,
        group: Group::Construction,
        weight: 2,
        marker: "诺",
        title: "资质审批告知承诺：",
        outcomes: &["建筑业企业资质，承诺人员、业绩真实有效"],
        months: 24,
        who: Who::Org,
    },
    OtherType {
        category: Category::Commitment,
        group: Group::HumanResources,
        weight: 1,
        marker: "诺",
        title: "证明事项告知承诺：",
        outcomes: &["无拖欠工资承诺", "社会保险缴纳情况承诺"],
        months: 12,
        who: Who::Any,
    },
    OtherType {
        category: Category::Inspection,
        group: Group::Market,
        weight: 10,
        marker: "检",
        title: "{y}年度市场监管领域部门联合双随机抽查，检查结果：",
        outcomes: &[
            "未发现问题",
            "未按规定公示应当公示的信息",
            "通过登记的住所（经营场所）无法联系",
            "发现问题已责令改正",
            "未发现开展本次抽查涉及的经营活动",
        ],
        months: 0,
        who: Who::Market,
    },
    OtherType {
        category: Category::Inspection,
        group: Group::Environment,
        weight: 3,
        marker: "检",
        title: "{y}年度生态环境执法双随机抽查，检查结果：",
        outcomes: &["未发现问题", "发现问题已责令改正"],
        months: 0,
        who: Who::Org,
    },
    OtherType {
        category: Category::Inspection,
        group: Group::Emergency,
        weight: 2,
        marker: "检",
        title: "{y}年度安全生产监督检查，检查结果：",
        outcomes: &["未发现问题", "发现一般事故隐患已责令整改"],
        months: 0,
        who: Who::Org,
    },
    OtherType {
        category: Category::Inspection,
        group: Group::Tax,
        weight: 2,
        marker: "检",
        title: "{y}年度税务稽查随机抽查，检查结果：",
        outcomes: &["未发现问题", "补缴税款及滞纳金"],
        months: 0,
        who: Who::Org,
    },
    OtherType {
        category: Category::Other,
        group: Group::Market,
        weight: 2,
        marker: "强",
        title: "行政强制：",
        outcomes: &["查封涉嫌违法的经营场所", "扣押涉嫌不合格的产品"],
        months: 6,
        who: Who::Market,
    },
    OtherType {
        category: Category::Other,
        group: Group::Development,
        weight: 1,
        marker: "奖",
        title: "行政奖励：",
        outcomes: &["天津市诚信企业表彰", "重合同守信用单位表彰"],
        months: 36,
        who: Who::Org,
    },
    OtherType {
        category: Category::Other,
        group: Group::Tax,
        weight: 1,
        marker: "欠",
        title: "欠税公告：",
        outcomes: &["欠缴增值税及附加税费"],
        months: 12,
        who: Who::Org,
    },
];

/// Court-case wording of dishonest judgment debtors (失信被执行人).
pub(crate) mod debtor {
    /// 生效法律文书确定的义务 (template)
    pub const OBLIGATIONS: &[&str] = &[
        "支付货款人民币{x}元及逾期付款利息",
        "偿还借款本金人民币{x}元及利息",
        "支付工程款人民币{x}元",
        "支付劳动报酬人民币{x}元",
        "支付租金人民币{x}元及违约金",
        "赔偿损失人民币{x}元",
    ];
    /// 被执行人的履行情况
    pub const PERFORMANCE: &[&str] = &["全部未履行", "部分未履行"];
    /// 失信被执行人行为具体情形
    pub const CONDUCT: &[&str] = &[
        "有履行能力而拒不履行生效法律文书确定义务",
        "违反财产报告制度",
        "违反限制消费令",
        "以伪造证据、暴力、威胁等方法妨碍、抗拒执行",
        "以虚假诉讼、虚假仲裁或者以隐匿、转移财产等方法规避执行",
        "无正当理由拒不履行执行和解协议",
    ];
    /// Case-type markers of 执行依据文号 (民初, 民终, …).
    pub const BASIS: &[&str] = &["民初", "民终", "商初", "劳人仲案字"];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogues_are_consistent() {
        for v in VIOLATIONS {
            assert!(v.fine.0 <= v.fine.1, "{}", v.name);
            assert!(!v.kinds.is_empty());
            for ks in v.kinds {
                assert!(!ks.is_empty());
                if ks.contains(&PenaltyKind::LicenceSuspendedOrRevoked) {
                    assert!(!v.licence.is_empty(), "{}", v.name);
                }
                if ks.contains(&PenaltyKind::Detention) {
                    assert_eq!(v.who, Who::Person, "{}", v.name);
                }
            }
        }
        assert!(VIOLATIONS.iter().any(|v| v.who == Who::Any));
        assert!(LICENCES.iter().any(|v| v.who == Who::Any));
        for c in [
            Category::SeriousDishonestList,
            Category::AbnormalOperation,
            Category::RedList,
        ] {
            assert!(LISTS.iter().any(|l| l.category == c));
        }
        for c in [Category::Commitment, Category::Inspection, Category::Other] {
            assert!(OTHERS.iter().any(|o| o.category == c));
        }
    }
}
