//! Trailmap's test kit: the [`Sink`] generators write into and the in-memory [`MemorySink`], the
//! seeded demo generator ([`generate_demo`]) that fills a coffee shop and an online boutique with a
//! year of journeys carrying two planted stories, the journey fixture language ([`journeys`]) for
//! exact test cases, a fast generic events CSV writer ([`write_events_csv`]) for benchmarks, and
//! small Parquet files for import tests ([`write_parquet`]), and real receivers for what Trailmap
//! sends (`sinks`: an SMTP sink and a webhook receiver).

mod demo;
mod fixture;
mod parquet;
pub mod clickhouse;
pub mod postgres;
mod sink;
pub mod sinks;
mod volume;

pub use demo::{
    generate_demo, BoutiqueTruth, BusinessSummary, CoffeeTruth, DemoOptions, DemoSummary,
    DemoTruth, PeriodCounts,
};
pub use fixture::{journeys, Fixture, FixtureCustomer, FixtureError, FixtureRecord};
pub use parquet::{ParquetCodec, ParquetColumn, write_parquet};
pub use sink::{MemorySink, Sink};
pub use volume::write_events_csv;
