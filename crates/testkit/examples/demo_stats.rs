//! Prints what the demo generator makes at a given size and how fast, for tuning the planted
//! stories and checking the throughput: `cargo run --release -p trailmap-testkit --example
//! demo_stats -- 5000 42`.

use std::convert::Infallible;
use std::time::Instant;
use trailmap_model::*;
use trailmap_testkit::{generate_demo, DemoOptions, MemorySink, Sink};

/// A sink that drops everything, to time the generator alone.
#[derive(Debug, Default)]
struct NullSink {
    inner: MemorySink,
}

impl Sink for NullSink {
    type Error = Infallible;
    fn business(&mut self, name: &str, currency: Currency, timezone: &str) -> Result<(BusinessId, Vec<Stage>), Infallible> {
        self.inner.business(name, currency, timezone)
    }
    fn touchpoint(&mut self, t: Touchpoint) -> Result<TouchpointId, Infallible> {
        self.inner.touchpoint(t)
    }
    fn persona(&mut self, p: Persona) -> Result<PersonaId, Infallible> {
        self.inner.persona(p)
    }
    fn journey_map(&mut self, m: JourneyMap, a: &str) -> Result<MapId, Infallible> {
        self.inner.journey_map(m, a)
    }
    fn survey(&mut self, s: Survey) -> Result<Survey, Infallible> {
        self.inner.survey(s)
    }
    fn change(&mut self, c: Change) -> Result<ChangeId, Infallible> {
        self.inner.change(c)
    }
    fn customer(&mut self, _: BusinessId, _: IncomingCustomer) -> Result<CustomerId, Infallible> {
        Ok(CustomerId(0))
    }
    fn event(&mut self, _: BusinessId, _: IncomingEvent) -> Result<(), Infallible> {
        Ok(())
    }
    fn order(&mut self, _: BusinessId, _: IncomingOrder) -> Result<(), Infallible> {
        Ok(())
    }
    fn spend(&mut self, _: BusinessId, _: IncomingSpend) -> Result<(), Infallible> {
        Ok(())
    }
    fn feedback(&mut self, _: BusinessId, _: IncomingFeedback) -> Result<(), Infallible> {
        Ok(())
    }
    fn survey_response(&mut self, _: BusinessId, _: IncomingResponse) -> Result<(), Infallible> {
        Ok(())
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let customers = args.next().and_then(|a| a.parse().ok()).unwrap_or(5_000);
    let seed = args.next().and_then(|a| a.parse().ok()).unwrap_or(42);
    let options = DemoOptions { customers, seed };
    let started = Instant::now();
    let mut sink = NullSink::default();
    let Ok(summary) = generate_demo(&mut sink, &options);
    let elapsed = started.elapsed().as_secs_f64();
    let events = summary.coffee.events + summary.boutique.events;
    let records = events + summary.coffee.orders + summary.boutique.orders;
    println!("{}", serde_json::to_string_pretty(&summary).unwrap_or_default());
    println!(
        "{events} events, {records} events+orders in {elapsed:.3}s: {:.0} events/s, {:.0} records/s",
        events as f64 / elapsed,
        records as f64 / elapsed
    );
    let t = &summary.truth;
    let (rb, ra) = t.coffee.new_by_referral.share_of(&t.coffee.new_customers);
    println!("coffee referral share of new customers: before {rb:.3}, after {ra:.3}");
    println!(
        "coffee new customers per day: before {:.2}, after {:.2}",
        t.coffee.new_customers.before as f64 / t.coffee.days.before as f64,
        t.coffee.new_customers.after as f64 / t.coffee.days.after as f64
    );
    let (cb, ca) = t.boutique.checkout_converted_7d.share_of(&t.boutique.checkout_customers);
    println!("boutique 7-day checkout conversion: before {cb:.3}, after {ca:.3}");
    println!(
        "boutique AOV: before {:.2}, after {:.2}",
        t.boutique.revenue_cents.before as f64 / t.boutique.orders.before.max(1) as f64 / 100.0,
        t.boutique.revenue_cents.after as f64 / t.boutique.orders.after.max(1) as f64 / 100.0
    );
}
