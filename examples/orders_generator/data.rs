//! The demo's data: a fixed set of customers (some PREMIUM) and random orders of them, as the
//! JSON rows `/inserts-stream` takes for `customers_table` and `orders_stream`
//! (queries/01-orders.sql).

use serde_json::{Value as Json, json};

/// A customer: id, name, tier.
pub struct Customer {
    pub id: &'static str,
    pub name: &'static str,
    pub tier: &'static str,
}

/// The customers every run inserts (an upsert of the same rows on a re-run).
#[rustfmt::skip]
pub const CUSTOMERS: [Customer; 8] = [
    Customer { id: "c01", name: "Alice Martin", tier: "PREMIUM" },
    Customer { id: "c02", name: "Bob Chen", tier: "STANDARD" },
    Customer { id: "c03", name: "Carla Diaz", tier: "BASIC" },
    Customer { id: "c04", name: "Dev Patel", tier: "PREMIUM" },
    Customer { id: "c05", name: "Emma Novak", tier: "STANDARD" },
    Customer { id: "c06", name: "Farid Haddad", tier: "BASIC" },
    Customer { id: "c07", name: "Grace Okafor", tier: "PREMIUM" },
    Customer { id: "c08", name: "Hugo Lind", tier: "STANDARD" },
];

/// The row of `customers_table` for a customer.
pub fn customer_row(c: &Customer) -> Json {
    json!({"CUSTOMER_ID": c.id, "NAME": c.name, "TIER": c.tier})
}

/// One order: `quantity` (1 to 10) of a product at `price` (5.00 to 200.00, in quarters, so
/// that every total and sum is exact in a DOUBLE), so that its total (up to 2,000) is above
/// 1,000 for about one order in five.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub order_id: String,
    pub customer_id: &'static str,
    pub product_id: String,
    pub quantity: i32,
    pub price: f64,
}

impl Order {
    pub fn total(&self) -> f64 {
        f64::from(self.quantity) * self.price
    }

    /// The row of `orders_stream`.
    pub fn row(&self) -> Json {
        json!({
            "ORDER_ID": self.order_id,
            "CUSTOMER_ID": self.customer_id,
            "PRODUCT_ID": self.product_id,
            "QUANTITY": self.quantity,
            "PRICE": self.price,
        })
    }
}

/// Random orders, numbered from 1 after a prefix that tells runs apart (`k3x9qa-1`, ...).
pub struct Orders {
    rng: fastrand::Rng,
    prefix: String,
    next: u64,
}

impl Orders {
    pub fn new(seed: u64, prefix: String) -> Orders {
        Orders {
            rng: fastrand::Rng::with_seed(seed),
            prefix,
            next: 1,
        }
    }

    pub fn next_order(&mut self) -> Order {
        let customer = &CUSTOMERS[self.rng.usize(..CUSTOMERS.len())];
        let quarters = self.rng.u32(20..=800);
        let order = Order {
            order_id: format!("{}-{}", self.prefix, self.next),
            customer_id: customer.id,
            product_id: format!("p{:02}", self.rng.u32(1..=20)),
            quantity: self.rng.i32(1..=10),
            price: f64::from(quarters) / 4.0,
        };
        self.next += 1;
        order
    }
}

/// The customer of an id, if it is one of [`CUSTOMERS`].
#[cfg(test)]
pub fn customer(id: &str) -> Option<&'static Customer> {
    CUSTOMERS.iter().find(|c| c.id == id)
}
