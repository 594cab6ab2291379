//! The dashboard's figures are aggregated at most once per freshness period, whatever the number of
//! viewers, and a stale set is refreshed in the background while it is shown.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use creditloop_server::stats::StatsCache;
use serde_json::json;

const AGENCY: &str = "11120000MB19674671";

fn penalty(doc_no: &str) -> serde_json::Value {
    json!({
        "行政相对人名称": "天津市恒通达商贸有限公司",
        "行政相对人类别": "法人及非法人组织",
        "行政相对人代码_1(统一社会信用代码)": "91310000132260250X",
        "法定代表人": "张三",
        "行政处罚决定书文号": doc_no,
        "违法行为类型": "销售不合格产品",
        "违法事实": "销售不合格电线电缆",
        "处罚依据": "《中华人民共和国产品质量法》第四十九条",
        "处罚类别": "罚款",
        "处罚内容": "罚款2万元",
        "罚款金额（万元）": "2",
        "处罚决定日期": "2024/6/3",
        "处罚有效期": "2025-06-03",
        "处罚机关": "天津市市场监督管理委员会",
        "处罚机关统一社会信用代码": AGENCY,
        "数据来源单位": "天津市市场监督管理委员会",
        "数据来源单位统一社会信用代码": AGENCY,
        "报送日期": "2024-06-07"
    })
}

async fn records_shown(base: &str) -> u64 {
    let page = reqwest::get(format!("{base}/dashboard"))
        .await
        .expect("dashboard")
        .text()
        .await
        .expect("text");
    let at = page
        .find("<dt>区间内信用记录</dt><dd>")
        .expect("the record count");
    let rest = &page[at + "<dt>区间内信用记录</dt><dd>".len()..];
    rest[..rest.find('<').expect("end")]
        .parse()
        .expect("a number")
}

async fn submit(base: &str, doc_no: &str) {
    let r: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/api/v1/records"))
        .json(&penalty(doc_no))
        .send()
        .await
        .expect("submit")
        .json()
        .await
        .expect("answer");
    assert_eq!(r["accepted"], 1, "{r}");
}

#[tokio::test]
async fn fresh_figures_are_not_recomputed_until_cleared() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = common::state_in(dir.path(), "2024-06-07", true);
    let cache = state.dashboard.clone();
    let s = common::serve(state).await;
    assert_eq!(records_shown(&s.base).await, 0);
    submit(&s.base, "津市监罚〔2024〕1号").await;
    assert_eq!(
        records_shown(&s.base).await,
        0,
        "the fresh figures are kept"
    );
    cache.clear();
    assert_eq!(records_shown(&s.base).await, 1);
}

#[tokio::test]
async fn stale_figures_are_shown_and_refreshed_behind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut state = common::state_in(dir.path(), "2024-06-07", true);
    state.dashboard = Arc::new(StatsCache::fresh_for(Duration::ZERO));
    let s = common::serve(state).await;
    assert_eq!(records_shown(&s.base).await, 0);
    submit(&s.base, "津市监罚〔2024〕2号").await;
    // Each view starts a refresh when none runs; one of the next views shows the new record.
    let deadline = Instant::now() + Duration::from_secs(30);
    while records_shown(&s.base).await != 1 {
        assert!(
            Instant::now() < deadline,
            "the stale figures were never refreshed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
