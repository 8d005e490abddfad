//! The join benchmark's input and what its joins must write, computed here from the generated
//! records alone (not by the engine).
//!
//! **Stream-table**: `--keys` customers (`c<k>`, value `{"name", "tier"}`) created before the
//! first order, then `--records` orders (`o<i>`, value `{"order_id", "customer_id", "quantity",
//! "price"}`) 10 ms apart over random customers; after every tenth order a change of a random
//! customer (one change in twenty a deletion). Every order's output row holds its customer's
//! name and tier as of the order's time (NULL after a deletion), in order.
//!
//! **Stream-stream**: a timeline of `--records` events 10 ms apart, three in five an impression
//! (`i<n>`, value `{"ad"}`), the others a click (`k<j>`, value `{"impression_id", "cost"}`) on
//! one of the last 1,000 impressions: at most about 17 s after it, inside the join's one-minute
//! window. Every click joins its impression (ROWTIME the click's); an impression without a click
//! is written once with NULLs if its window and grace period have closed by the last event.
//! Those rows are compared as a multiset: their count and the sum of a hash of each row.

use std::collections::{HashMap, VecDeque};

const FIRST_TIMESTAMP: i64 = 1_700_000_000_000;
const SPACING_MS: i64 = 10;
const SEED: u64 = 0x0b_700e;
/// The stream-stream join's window (before and after, ms) and grace period.
pub const WITHIN_MS: i64 = 60_000;
pub const GRACE_MS: i64 = 10_000;
/// Clicks go to one of this many latest impressions.
const RECENT_IMPRESSIONS: usize = 1_000;

/// One record to append: its key, value (`None`: a tombstone) and timestamp.
pub struct Input {
    pub key: String,
    pub value: Option<String>,
    pub timestamp: i64,
}

/// A customer's name and tier.
pub type CustomerRow = (String, i64);

/// The stream-table join's output row of one order: its customer (the key), order id, the
/// customer's row then (`None`: no customer), and the order's total.
#[derive(Debug, PartialEq)]
pub struct Enriched {
    pub customer: String,
    pub order_id: String,
    pub customer_row: Option<CustomerRow>,
    pub total: f64,
}

pub struct StreamTable {
    pub orders: Vec<Input>,
    pub customers: Vec<Input>,
    pub deletions: usize,
    pub expected: Vec<Enriched>,
}

/// The customers topic being written, and each customer's row as of the last change.
#[derive(Default)]
struct Customers {
    records: Vec<Input>,
    rows: HashMap<String, CustomerRow>,
    deletions: usize,
}

impl Customers {
    /// A new row for customer `k` at `timestamp`, or with `delete` its deletion.
    fn change(&mut self, rng: &mut fastrand::Rng, k: usize, timestamp: i64, delete: bool) {
        let key = format!("c{k}");
        let value = if delete {
            self.rows.remove(&key);
            self.deletions += 1;
            None
        } else {
            let row = (format!("name{}", self.records.len()), rng.i64(0..4));
            let value = format!(r#"{{"name": "{}", "tier": {}}}"#, row.0, row.1);
            self.rows.insert(key.clone(), row);
            Some(value)
        };
        self.records.push(Input {
            key,
            value,
            timestamp,
        });
    }
}

pub fn stream_table(records: usize, keys: usize) -> StreamTable {
    let mut rng = fastrand::Rng::with_seed(SEED);
    let mut customers = Customers::default();
    for k in 0..keys {
        customers.change(&mut rng, k, FIRST_TIMESTAMP - (keys - k) as i64, false);
    }
    let mut orders = Vec::with_capacity(records);
    let mut expected = Vec::with_capacity(records);
    for i in 0..records {
        let timestamp = FIRST_TIMESTAMP + i as i64 * SPACING_MS;
        let order_id = format!("o{i}");
        let customer = format!("c{}", rng.usize(0..keys));
        let quantity = rng.i32(1..=5);
        let price = f64::from(rng.u32(1..=40)) / 2.0;
        let value = format!(
            r#"{{"order_id": "{order_id}", "customer_id": "{customer}", "quantity": {quantity}, "price": {price:.1}}}"#
        );
        expected.push(Enriched {
            customer_row: customers.rows.get(&customer).cloned(),
            customer,
            order_id: order_id.clone(),
            total: f64::from(quantity) * price,
        });
        orders.push(Input {
            key: order_id,
            value: Some(value),
            timestamp,
        });
        if i % 10 == 9 {
            let (k, delete) = (rng.usize(0..keys), rng.usize(0..20) == 0);
            customers.change(&mut rng, k, timestamp + SPACING_MS / 2, delete);
        }
    }
    StreamTable {
        orders,
        deletions: customers.deletions,
        customers: customers.records,
        expected,
    }
}

pub struct StreamStream {
    pub impressions: Vec<Input>,
    pub clicks: Vec<Input>,
    /// Impressions written with NULLs (no click, window closed).
    pub unmatched: usize,
    /// Output rows expected: how many, and the wrapping sum of [`row_hash`] over them.
    pub rows: usize,
    pub checksum: u64,
}

pub fn stream_stream(records: usize) -> StreamStream {
    let mut rng = fastrand::Rng::with_seed(SEED + 1);
    let (mut impressions, mut clicks) = (Vec::new(), Vec::new());
    // Recent impressions: index into `impressions`, and whether clicked.
    let mut recent: VecDeque<usize> = VecDeque::with_capacity(RECENT_IMPRESSIONS);
    let mut clicked: Vec<bool> = Vec::new();
    let mut ads: Vec<u32> = Vec::new();
    let (mut rows, mut checksum) = (0, 0_u64);
    for i in 0..records {
        let timestamp = FIRST_TIMESTAMP + i as i64 * SPACING_MS;
        if recent.is_empty() || rng.usize(0..5) < 3 {
            let n = impressions.len();
            let ad = rng.u32(0..500);
            impressions.push(Input {
                key: format!("i{n}"),
                value: Some(format!(r#"{{"ad": "ad{ad}"}}"#)),
                timestamp,
            });
            clicked.push(false);
            ads.push(ad);
            if recent.len() == RECENT_IMPRESSIONS {
                recent.pop_front();
            }
            recent.push_back(n);
        } else {
            let n = recent[rng.usize(0..recent.len())];
            let cost = rng.u32(1..100);
            let click = format!("k{i}");
            let value = format!(r#"{{"impression_id": "i{n}", "cost": {cost}}}"#);
            let row = format!("i{n}|ad{}|{click}|{cost}|{timestamp}", ads[n]);
            checksum = checksum.wrapping_add(row_hash(&row));
            rows += 1;
            clicked[n] = true;
            clicks.push(Input {
                key: click,
                value: Some(value),
                timestamp,
            });
        }
    }
    let last = FIRST_TIMESTAMP + records.saturating_sub(1) as i64 * SPACING_MS;
    let mut unmatched = 0;
    for (n, impression) in impressions.iter().enumerate() {
        if !clicked[n] && impression.timestamp + WITHIN_MS + GRACE_MS < last {
            let row = format!("i{n}|ad{}|null|null|{}", ads[n], impression.timestamp);
            checksum = checksum.wrapping_add(row_hash(&row));
            unmatched += 1;
        }
    }
    StreamStream {
        impressions,
        clicks,
        unmatched,
        rows: rows + unmatched,
        checksum,
    }
}

/// FNV-1a of an output row written as `key|ad|click|cost|rowtime` (`null` for NULLs).
pub fn row_hash(row: &str) -> u64 {
    row.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_see_their_customer_as_of_their_time() {
        let input = stream_table(2_000, 50);
        assert_eq!(input.orders.len(), 2_000);
        assert_eq!(input.customers.len(), 50 + 200);
        assert!(input.deletions > 0);
        // Order 0 comes after every customer was created, before any change.
        assert!(input.expected[0].customer_row.is_some());
        let misses = input.expected.iter().filter(|e| e.customer_row.is_none());
        assert!(misses.count() > 0, "deleted customers join NULLs");
    }

    #[test]
    fn clicks_fall_inside_the_window_of_their_impression() {
        let input = stream_stream(20_000);
        let time: HashMap<&str, i64> = input
            .impressions
            .iter()
            .map(|i| (i.key.as_str(), i.timestamp))
            .collect();
        for click in &input.clicks {
            let value: serde_json::Value =
                serde_json::from_str(click.value.as_deref().unwrap_or("{}")).expect("JSON");
            let impression = value["impression_id"].as_str().unwrap_or_default();
            let shown = time.get(impression).copied().unwrap_or(i64::MIN);
            assert!((0..WITHIN_MS).contains(&(click.timestamp - shown)));
        }
        assert!(input.unmatched > 0);
        assert_eq!(input.rows, input.clicks.len() + input.unmatched);
    }
}
