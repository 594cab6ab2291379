//! The dashboard's figures, aggregated in the store and kept in memory (大屏数据): at province scale
//! the aggregation scans millions of records, so it runs at most once per [`FRESH_FOR`] whatever
//! the number of viewers. A viewer after that gets the figures at hand at once while one refresh
//! runs in the background (stale while revalidate); only the very first viewer waits.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use creditloop_domain::agency::Agency;
use creditloop_store::{CheckStat, RecordStat, Store, StoreError, Totals};

/// How long figures count as fresh.
pub const FRESH_FOR: Duration = Duration::from_secs(60);

/// What the dashboard shows, for one period.
#[derive(Debug, Clone)]
pub struct DashboardStats {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub records: Vec<RecordStat>,
    pub checks: Vec<CheckStat>,
    pub agencies: Vec<Agency>,
    pub totals: Totals,
    pub computed_at: DateTime<Utc>,
}

impl DashboardStats {
    /// Aggregates in the store (blocking).
    pub fn compute(store: &dyn Store, from: NaiveDate, to: NaiveDate) -> Result<Self, StoreError> {
        Ok(DashboardStats {
            from,
            to,
            records: store.record_stats(from, to)?,
            checks: store.check_stats(from, to)?,
            agencies: store.agencies()?,
            totals: store.totals()?,
            computed_at: Utc::now(),
        })
    }
}

#[derive(Default)]
struct Slot {
    stats: Option<(Instant, Arc<DashboardStats>)>,
    refreshing: bool,
}

/// The figures at hand and whether a refresh is under way.
pub struct StatsCache {
    fresh_for: Duration,
    slot: Mutex<Slot>,
    /// Serialises computations, so that a crowd arriving at a cold cache computes once.
    computing: tokio::sync::Mutex<()>,
}

impl Default for StatsCache {
    fn default() -> Self {
        Self::fresh_for(FRESH_FOR)
    }
}

impl StatsCache {
    /// A cache whose figures count as fresh for `d`.
    pub fn fresh_for(d: Duration) -> Self {
        StatsCache {
            fresh_for: d,
            slot: Mutex::default(),
            computing: tokio::sync::Mutex::new(()),
        }
    }

    /// The figures for `[from, to]`: cached when fresh; cached and refreshed in the background when
    /// stale; computed now when there are none for this period.
    pub async fn get(
        self: &Arc<Self>,
        store: Arc<dyn Store>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Arc<DashboardStats>, crate::ApiError> {
        if let Some((stats, fresh)) = self.at_hand(from, to) {
            if !fresh && self.start_refresh() {
                let me = self.clone();
                tokio::spawn(async move {
                    let _ = me.compute(store, from, to).await;
                    me.slot.lock().unwrap_or_else(|e| e.into_inner()).refreshing = false;
                });
            }
            return Ok(stats);
        }
        let _one = self.computing.lock().await;
        // Another viewer may have computed them while this one waited.
        if let Some((stats, _)) = self.at_hand(from, to) {
            return Ok(stats);
        }
        self.compute_locked(store, from, to).await
    }

    fn at_hand(&self, from: NaiveDate, to: NaiveDate) -> Option<(Arc<DashboardStats>, bool)> {
        let slot = self.slot.lock().unwrap_or_else(|e| e.into_inner());
        let (at, stats) = slot.stats.as_ref()?;
        (stats.from == from && stats.to == to)
            .then(|| (stats.clone(), at.elapsed() < self.fresh_for))
    }

    /// Marks a background refresh as started; `false` when one is already running.
    fn start_refresh(&self) -> bool {
        let mut slot = self.slot.lock().unwrap_or_else(|e| e.into_inner());
        !std::mem::replace(&mut slot.refreshing, true)
    }

    async fn compute(
        &self,
        store: Arc<dyn Store>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Arc<DashboardStats>, crate::ApiError> {
        let _one = self.computing.lock().await;
        self.compute_locked(store, from, to).await
    }

    async fn compute_locked(
        &self,
        store: Arc<dyn Store>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Arc<DashboardStats>, crate::ApiError> {
        let started = Instant::now();
        let stats = Arc::new(
            tokio::task::spawn_blocking(move || DashboardStats::compute(&*store, from, to))
                .await??,
        );
        tracing::debug!(
            ms = started.elapsed().as_millis() as u64,
            "dashboard figures aggregated"
        );
        let mut slot = self.slot.lock().unwrap_or_else(|e| e.into_inner());
        slot.stats = Some((Instant::now(), stats.clone()));
        Ok(stats)
    }

    /// Forgets the figures (tests, and after a bulk load an operator wants to see at once).
    pub fn clear(&self) {
        self.slot.lock().unwrap_or_else(|e| e.into_inner()).stats = None;
    }
}
