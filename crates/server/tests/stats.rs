//! The dashboard's figures are aggregated at most once per freshness period, whatever the number of
//! viewers, and a stale set is refreshed in the background while it is shown.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use creditloop_server::stats::StatsCache;

const AGENCY: &str = "11120000MB19674671";

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
        .json(&common::penalty(doc_no, AGENCY))
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
