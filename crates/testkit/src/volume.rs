//! A fast writer of large, realistic, generic events CSVs for import and query benchmarks. It has no
//! message id column on purpose, so importers must derive content keys. Rows are formatted by hand
//! into a byte buffer because formatting through chrono and `format!` would dominate the run time
//! at millions of rows per second.

use crate::demo::mix;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::io::Write;

/// The first timestamp written: 2025-01-01T00:00:00Z.
const START_MS: i64 = 1_735_689_600_000;
const YEAR_MS: i64 = 365 * 86_400_000;

const HEADER: &[u8] = b"timestamp,event,user_id,anonymous_id,page,referrer,revenue,currency\n";
const SITE: &[u8] = b"https://shop.example.com";

/// Event names with their weights out of 100, in a fixed order so a seed always means the same.
const EVENTS: [(&[u8], u32); 9] = [
    (b"page_view", 50),
    (b"product_view", 20),
    (b"search", 7),
    (b"add_to_cart", 8),
    (b"checkout_started", 4),
    (b"purchase", 2),
    (b"email_open", 6),
    (b"email_click", 2),
    (b"sign_up", 1),
];

const LANDING_PAGES: [&[u8]; 8] = [
    b"/",
    b"/collections/new-in",
    b"/collections/dresses",
    b"/collections/knitwear",
    b"/collections/accessories",
    b"/pages/about",
    b"/blogs/journal/autumn-edit",
    b"/pages/shipping",
];

const PRODUCTS: [&[u8]; 12] = [
    b"/products/linen-wrap-dress",
    b"/products/organic-cotton-tee",
    b"/products/merino-cardigan",
    b"/products/high-rise-wide-jeans",
    b"/products/silk-camisole",
    b"/products/cashmere-scarf",
    b"/products/canvas-tote",
    b"/products/gold-hoop-earrings",
    b"/products/pleated-midi-skirt",
    b"/products/chunky-knit-sweater",
    b"/products/striped-breton-top",
    b"/products/leather-belt",
];

/// Query strings of tagged campaign links.
const UTM_TAGS: [&[u8]; 6] = [
    b"?utm_source=google&utm_medium=cpc&utm_campaign=brand-search",
    b"?utm_source=google&utm_medium=cpc&utm_campaign=dresses-generic",
    b"?utm_source=instagram&utm_medium=paid_social&utm_campaign=spring-lookbook",
    b"?utm_source=facebook&utm_medium=paid_social&utm_campaign=retargeting",
    b"?utm_source=newsletter&utm_medium=email&utm_campaign=weekly-edit",
    b"?utm_source=stylebyemma&utm_medium=referral&utm_campaign=gift-guide",
];

const REFERRERS: [&[u8]; 5] = [
    b"https://www.google.com/",
    b"https://www.google.com/",
    b"https://www.instagram.com/",
    b"https://www.facebook.com/",
    b"https://www.stylebyemma.com/gift-guide",
];

/// Writes `events` rows for `customers` people spread over 2025, in time order, with a header.
/// About 40% of people are known by `user_id`, the rest by `anonymous_id`; a fifth of landing
/// pages carry `utm_*` tags; purchases carry revenue in USD. No field needs CSV quoting.
pub fn write_events_csv<W: Write>(
    writer: W,
    events: u64,
    customers: u64,
    seed: u64,
) -> std::io::Result<()> {
    let mut writer = writer;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let customers = customers.max(1);
    let mean_gap = (YEAR_MS / events.max(1) as i64).max(1);
    let mut buffer: Vec<u8> = Vec::with_capacity(1 << 17);
    buffer.extend_from_slice(HEADER);
    let mut clock = Clock::default();
    let mut time = START_MS;
    for _ in 0..events {
        let bits: u64 = rng.random();
        time += (bits % (2 * mean_gap as u64 + 1)) as i64;
        clock.write(&mut buffer, time);
        buffer.push(b',');

        let kind = pick_event((bits >> 40) as u32 % 100);
        let name = EVENTS[kind].0;
        buffer.extend_from_slice(name);
        buffer.push(b',');

        // Squaring a uniform number makes a few people much more active than the rest.
        let u: f64 = rng.random();
        let person = ((u * u) * customers as f64) as u64 % customers;
        let identified = person % 5 < 2;
        if identified {
            buffer.push(b'u');
            write_decimal(&mut buffer, person);
            buffer.extend_from_slice(b",,");
        } else {
            buffer.push(b',');
            write_hex16(&mut buffer, mix(person ^ seed.rotate_left(17)));
            buffer.push(b',');
        }

        let detail: u64 = rng.random();
        write_page(&mut buffer, name, detail);
        buffer.push(b',');
        if name == b"page_view" && detail % 10 < 4 {
            buffer.extend_from_slice(REFERRERS[(detail >> 8) as usize % REFERRERS.len()]);
        }
        buffer.push(b',');
        if name == b"purchase" {
            let cents = 1_500 + (detail >> 16) % 23_500;
            write_decimal(&mut buffer, cents / 100);
            buffer.push(b'.');
            buffer.push(b'0' + (cents / 10 % 10) as u8);
            buffer.push(b'0' + (cents % 10) as u8);
            buffer.extend_from_slice(b",USD\n");
        } else {
            buffer.extend_from_slice(b",\n");
        }
        if buffer.len() > (1 << 17) - 512 {
            writer.write_all(&buffer)?;
            buffer.clear();
        }
    }
    writer.write_all(&buffer)?;
    writer.flush()
}

fn pick_event(roll: u32) -> usize {
    let mut left = roll;
    for (index, (_, weight)) in EVENTS.iter().enumerate() {
        if left < *weight {
            return index;
        }
        left -= weight;
    }
    0
}

fn write_page(buffer: &mut Vec<u8>, name: &[u8], detail: u64) {
    let pick = (detail >> 24) as usize;
    match name {
        b"page_view" => {
            buffer.extend_from_slice(SITE);
            buffer.extend_from_slice(LANDING_PAGES[pick % LANDING_PAGES.len()]);
            if detail.is_multiple_of(5) {
                buffer.extend_from_slice(UTM_TAGS[(detail >> 4) as usize % UTM_TAGS.len()]);
            }
        }
        b"product_view" | b"add_to_cart" => {
            buffer.extend_from_slice(SITE);
            buffer.extend_from_slice(PRODUCTS[pick % PRODUCTS.len()]);
        }
        b"search" => {
            buffer.extend_from_slice(SITE);
            buffer.extend_from_slice(b"/search?q=");
            buffer.extend_from_slice(&PRODUCTS[pick % PRODUCTS.len()][10..]);
        }
        b"checkout_started" => {
            buffer.extend_from_slice(SITE);
            buffer.extend_from_slice(b"/checkout");
        }
        b"purchase" => {
            buffer.extend_from_slice(SITE);
            buffer.extend_from_slice(b"/checkout/thank-you");
        }
        b"email_click" => {
            buffer.extend_from_slice(SITE);
            buffer.extend_from_slice(LANDING_PAGES[pick % 5]);
            buffer.extend_from_slice(UTM_TAGS[4]);
        }
        b"sign_up" => {
            buffer.extend_from_slice(SITE);
            buffer.extend_from_slice(b"/account/register");
        }
        _ => {}
    }
}

/// Formats RFC 3339 timestamps with millis and `Z`, redoing the calendar part only when the day
/// changes.
#[derive(Default)]
struct Clock {
    day: i64,
    date: [u8; 11],
    ready: bool,
}

impl Clock {
    fn write(&mut self, buffer: &mut Vec<u8>, millis: i64) {
        let day = millis.div_euclid(86_400_000);
        if !self.ready || day != self.day {
            let (year, month, date) = civil_from_days(day);
            let mut text = [0u8; 11];
            write_digits(&mut text[0..4], year as u64);
            text[4] = b'-';
            write_digits(&mut text[5..7], month as u64);
            text[7] = b'-';
            write_digits(&mut text[8..10], date as u64);
            text[10] = b'T';
            self.date = text;
            self.day = day;
            self.ready = true;
        }
        buffer.extend_from_slice(&self.date);
        let in_day = millis.rem_euclid(86_400_000) as u64;
        let mut time = [0u8; 13];
        write_digits(&mut time[0..2], in_day / 3_600_000);
        time[2] = b':';
        write_digits(&mut time[3..5], in_day / 60_000 % 60);
        time[5] = b':';
        write_digits(&mut time[6..8], in_day / 1000 % 60);
        time[8] = b'.';
        write_digits(&mut time[9..12], in_day % 1000);
        time[12] = b'Z';
        buffer.extend_from_slice(&time);
    }
}

/// The calendar date (year, month, day) of a day count since 1970-01-01, UTC.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    use chrono::Datelike;
    let date = trailmap_model::Timestamp(days * trailmap_model::Timestamp::MS_PER_DAY).date();
    (i64::from(date.year()), date.month(), date.day())
}

/// Fills `out` with the last `out.len()` decimal digits of `value`, zero-padded.
fn write_digits(out: &mut [u8], mut value: u64) {
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

fn write_decimal(buffer: &mut Vec<u8>, value: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = value;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    buffer.extend_from_slice(&digits[at..]);
}

fn write_hex16(buffer: &mut Vec<u8>, value: u64) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for shift in (0..16).rev() {
        buffer.push(HEX[(value >> (shift * 4)) as usize & 0xf]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_match_chrono() {
        for day in [-1, 0, 59, 10_957, 20_089, 20_454, 40_000] {
            let (y, m, d) = civil_from_days(day);
            let expected = chrono::NaiveDate::from_ymd_opt(1970, 1, 1)
                .and_then(|e| e.checked_add_signed(chrono::Duration::days(day)))
                .map(|date| date.to_string());
            assert_eq!(Some(format!("{y:04}-{m:02}-{d:02}")), expected);
        }
    }
}
