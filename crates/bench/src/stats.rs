//! Small measuring helpers shared by the benchmark binaries.

/// VmRSS and VmHWM (peak) of this process in MiB; zeros where `/proc` is not available.
pub fn rss() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Latencies in nanoseconds, sorted once so percentiles are cheap to read.
#[derive(Debug, Clone, Default)]
pub struct Latencies {
    sorted: Vec<u64>,
}

impl Latencies {
    pub fn new(mut ns: Vec<u64>) -> Self {
        ns.sort_unstable();
        Latencies { sorted: ns }
    }

    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    /// The `p` quantile (0.0–1.0) in µs, nearest rank below; 0 when empty.
    pub fn pct_us(&self, p: f64) -> f64 {
        if self.sorted.is_empty() {
            return 0.0;
        }
        self.sorted[((self.sorted.len() as f64 - 1.0) * p) as usize] as f64 / 1000.0
    }

    pub fn mean_us(&self) -> f64 {
        if self.sorted.is_empty() {
            return 0.0;
        }
        self.sorted.iter().sum::<u64>() as f64 / self.sorted.len() as f64 / 1000.0
    }

    pub fn max_us(&self) -> f64 {
        self.sorted.last().copied().unwrap_or(0) as f64 / 1000.0
    }
}

/// Prints one line of latency figures, the format of `check_bench`.
pub fn print_stats(label: &str, ns: Vec<u64>) {
    let l = Latencies::new(ns);
    if l.is_empty() {
        return;
    }
    println!(
        "{label}: n={} mean={:.2}µs p50={:.2}µs p90={:.2}µs p99={:.2}µs p99.9={:.2}µs max={:.2}µs",
        l.len(),
        l.mean_us(),
        l.pct_us(0.5),
        l.pct_us(0.9),
        l.pct_us(0.99),
        l.pct_us(0.999),
        l.max_us()
    );
}
