//! Thread & Needle, an online clothing boutique in Asheville, North Carolina. Visitors land from
//! search, ads, blogs and the newsletter, browse, fill a cart and start checkout, where a flat
//! shipping fee turns most of them away. On 2026-06-01 shipping becomes free over $75: more
//! checkouts end in an order, baskets are nudged over the threshold, and complaints about shipping
//! fade from the feedback.

use super::catalog::{self, Product};
use super::{
    arrivals_per_day, cards, csat_for, date, event, mix, months, monthly_amount, nps_score,
    person_name, pick_text, say, strings, text, usd, BoutiqueTruth, BusinessSummary, Calendar, Dice,
    Out, PeriodCounts, PersonName,
};
use crate::sink::Sink;
use chrono::{Datelike, NaiveDate};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use trailmap_model::{
    CardAction, CardRef,
    Answer, AnswerValue, Change, ChangeId, Currency, CustomerCondition, CustomerField,
    CustomerRule, EventField, EventRule, FeedbackKind, Identity, IdentityKind, IncomingCustomer,
    IncomingFeedback, IncomingOrder, IncomingResponse, IncomingSpend, JourneyMap, MapStage,
    MapVersionKind, Op, OrderLine, Persona, PersonaEmotion, PersonaId, Properties, Question,
    QuestionKind, Stage, Survey, Timestamp, Touchpoint, TouchpointChannel, TouchpointId,
};

pub(super) const NAME: &str = "Thread & Needle";

const THRESHOLD_CENTS: i64 = 7_500;
const FEE_CENTS: i64 = 795;
/// Chance a checkout ends in an order when a fee is charged, and when shipping is free.
const CONVERSION_WITH_FEE: f64 = 0.27;
const CONVERSION_FREE: f64 = 0.49;
/// Share of checkouts that get as far as the shipping step.
const REACH_SHIPPING: f64 = 0.9;
const EXIT_SHIPPING_BEFORE: f64 = 0.62;
const EXIT_SHIPPING_AFTER: f64 = 0.45;
/// Sessions per person are capped so a rare very loyal shopper cannot run away with the volume.
const MAX_SESSIONS: u32 = 25;

fn change_date() -> NaiveDate {
    date(2026, 6, 1)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Professional,
    BargainHunter,
    GiftBuyer,
}

impl Style {
    /// Factor on the chance of ordering at checkout; averages to about 1 over the mix.
    fn conversion_factor(self) -> f64 {
        match self {
            Style::Professional => 1.08,
            Style::BargainHunter => 0.88,
            Style::GiftBuyer => 1.02,
        }
    }
}

/// Where a first visit comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Acquisition {
    OrganicSearch,
    PaidSearch,
    PaidSocial,
    Newsletter,
    Direct,
    Blog,
    Trustpilot,
}

const ACQUISITIONS: [Acquisition; 7] = [
    Acquisition::OrganicSearch,
    Acquisition::PaidSearch,
    Acquisition::PaidSocial,
    Acquisition::Newsletter,
    Acquisition::Direct,
    Acquisition::Blog,
    Acquisition::Trustpilot,
];
const ACQUISITION_SHARES: [f64; 7] = [0.30, 0.20, 0.22, 0.06, 0.12, 0.08, 0.02];

/// How a session starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Entry {
    First,
    Returning,
    /// A click in the weekly newsletter of this week.
    Newsletter(usize),
    /// A click in the abandoned-cart email.
    CartReminder,
}

/// Something on a shopper's agenda, processed in time order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Item {
    Session(Entry),
    NewsletterSend(usize),
    CartReminderSend,
}

struct Shop {
    calendar: Calendar,
    change_day: usize,
    exit_survey: Survey,
    nps_survey: Survey,
    newsletters: Vec<String>,
    /// Relative traffic by local hour: low at night, peaks at lunch and in the evening.
    hours: [f64; 24],
}

/// One shopper's state while their year is generated.
struct Shopper {
    number: u64,
    style: Style,
    acquisition: Acquisition,
    name: PersonName,
    /// The browser cookie of the current device; a returning visit on a new device gets a new one.
    device: Identity,
    device_linked: bool,
    email: Identity,
    account: Identity,
    identified: bool,
    subscribed: bool,
    sessions: u32,
    orders: u32,
    /// The cart left at checkout, for the reminder email.
    abandoned: Vec<&'static Product>,
    checkouts: Vec<i64>,
    order_times: Vec<i64>,
}

pub(super) fn generate<S: Sink>(
    sink: &mut S,
    people: u64,
    rng: &mut ChaCha8Rng,
) -> Result<(BusinessSummary, BoutiqueTruth), S::Error> {
    let (business, stages) = sink.business(NAME, Currency::USD, "America/New_York")?;
    let mut out = Out::new(sink, business, NAME);
    let touchpoints = create_touchpoints(&mut out, &stages)?;
    let personas = create_personas(&mut out)?;
    let answered = create_map(&mut out, &stages, &touchpoints, &personas)?;
    let (exit_survey, nps_survey) = create_surveys(&mut out, &stages, &touchpoints)?;
    let change = create_change(&mut out, &stages, &touchpoints, answered)?;
    // Spend grows with the business, so ads cost the same share of revenue at any --customers.
    write_spend(&mut out, rng, people as f64 / 20_000.0)?;

    let calendar = Calendar::us(-5);
    let change_day = calendar.index_of(change_date());
    let newsletters = (0..calendar.days().div_ceil(7) + 1)
        .map(|week| {
            let day = super::period_start() + chrono::Duration::days(week as i64 * 7);
            if day >= change_date() && day < date(2026, 6, 22) {
                format!("free-shipping-{}", day.format("%Y-%m-%d"))
            } else {
                format!("weekly-edit-{}", day.format("%Y-%m-%d"))
            }
        })
        .collect();
    let hours = [
        0.8, 0.4, 0.2, 0.15, 0.15, 0.25, 0.6, 1.2, 1.8, 2.0, 2.1, 2.3, 2.9, 2.7, 2.3, 2.2, 2.2,
        2.4, 2.8, 3.4, 3.8, 3.6, 2.7, 1.6,
    ];
    out.end = calendar.end();
    let shop = Shop { calendar, change_day, exit_survey, nps_survey, newsletters, hours };

    let mut truth = BoutiqueTruth {
        business,
        change_date: change_date(),
        change,
        free_shipping_threshold: usd(THRESHOLD_CENTS),
        shipping_fee: usd(FEE_CENTS),
        planted_conversion_with_fee: CONVERSION_WITH_FEE,
        planted_conversion_free: CONVERSION_FREE,
        planted_exit_shipping_share: EXIT_SHIPPING_BEFORE,
        checkout_customers: PeriodCounts::default(),
        checkout_converted_7d: PeriodCounts::default(),
        orders: PeriodCounts::default(),
        revenue_cents: PeriodCounts::default(),
        orders_over_threshold: PeriodCounts::default(),
    };

    // Gift season brings more visitors in November and December.
    let weights: Vec<f64> = (0..shop.calendar.days())
        .map(|day| {
            let month = (super::period_start() + chrono::Duration::days(day as i64)).month();
            match month {
                11 => 1.3,
                12 => 1.5,
                _ => 1.0,
            }
        })
        .collect();
    let mut agenda: BinaryHeap<Reverse<(i64, u32, Item)>> = BinaryHeap::new();
    let mut checkouts = Vec::new();
    let mut order_times = Vec::new();
    let mut number = 0u64;
    for (day, count) in arrivals_per_day(people, &weights).into_iter().enumerate() {
        for _ in 0..count {
            let mut shopper = new_shopper(rng, &shop, number, day, std::mem::take(&mut checkouts), std::mem::take(&mut order_times));
            simulate(&mut out, rng, &shop, &mut shopper, day, &mut agenda, &mut truth)?;
            checkouts = shopper.checkouts;
            order_times = shopper.order_times;
            number += 1;
        }
    }
    out.summary.customers = number;
    Ok((out.summary, truth))
}

fn new_shopper(
    rng: &mut ChaCha8Rng,
    shop: &Shop,
    number: u64,
    day: usize,
    mut checkouts: Vec<i64>,
    mut order_times: Vec<i64>,
) -> Shopper {
    let holidays = {
        let month = (super::period_start() + chrono::Duration::days(day as i64)).month();
        month == 11 || month == 12
    };
    let style_shares: [f64; 3] = if holidays { [0.33, 0.27, 0.40] } else { [0.42, 0.36, 0.22] };
    let style = [Style::Professional, Style::BargainHunter, Style::GiftBuyer][rng.weighted(&style_shares)];
    let acquisition = ACQUISITIONS[rng.weighted(&ACQUISITION_SHARES)];
    let name = person_name(rng, number + 20_001);
    let email = Identity { kind: IdentityKind::Email, value: name.email.clone() };
    checkouts.clear();
    order_times.clear();
    let _ = shop;
    Shopper {
        number,
        style,
        acquisition,
        device: anonymous(rng),
        device_linked: false,
        account: Identity { kind: IdentityKind::External, value: format!("tn-cust-{}", number + 1) },
        email,
        name,
        identified: false,
        subscribed: false,
        sessions: 0,
        orders: 0,
        abandoned: Vec::new(),
        checkouts,
        order_times,
    }
}

fn anonymous(rng: &mut ChaCha8Rng) -> Identity {
    Identity { kind: IdentityKind::Anonymous, value: format!("tn-{:016x}", rng.random::<u64>()) }
}

#[allow(clippy::too_many_arguments)]
fn simulate<S: Sink>(
    out: &mut Out<'_, S>,
    rng: &mut ChaCha8Rng,
    shop: &Shop,
    shopper: &mut Shopper,
    day: usize,
    agenda: &mut BinaryHeap<Reverse<(i64, u32, Item)>>,
    truth: &mut BoutiqueTruth,
) -> Result<(), S::Error> {
    agenda.clear();
    let mut order_in_agenda = 0u32;
    let mut push = |agenda: &mut BinaryHeap<Reverse<(i64, u32, Item)>>, time: i64, item: Item| {
        order_in_agenda += 1;
        agenda.push(Reverse((time, order_in_agenda, item)));
    };
    let first = session_time(rng, shop, day);
    push(agenda, first, Item::Session(Entry::First));
    // Most people come back a few times on their own, days or weeks apart.
    let mut at = first;
    while rng.chance(0.5) {
        at += (rng.exponential(10.0) * Timestamp::MS_PER_DAY as f64) as i64 + Timestamp::MS_PER_HOUR;
        let later = session_time(rng, shop, shop.calendar.day_of(at));
        push(agenda, later.max(at), Item::Session(Entry::Returning));
    }

    let end = shop.calendar.end();
    while let Some(Reverse((time, _, item))) = agenda.pop() {
        if time >= end {
            continue;
        }
        let mut follow_ups: Vec<(i64, Item)> = Vec::new();
        match item {
            Item::Session(entry) => {
                if shopper.sessions >= MAX_SESSIONS {
                    continue;
                }
                shopper.sessions += 1;
                session(out, rng, shop, shopper, time, entry, &mut follow_ups, truth)?;
            }
            Item::NewsletterSend(week) => newsletter(out, rng, shop, shopper, time, week, &mut follow_ups)?,
            Item::CartReminderSend => cart_reminder(out, rng, shopper, time, &mut follow_ups)?,
        }
        for (time, item) in follow_ups {
            push(agenda, time, item);
        }
    }

    // The 7-day checkout conversion per period, from the first checkout of each period.
    for after in [false, true] {
        let first_checkout = shopper
            .checkouts
            .iter()
            .copied()
            .filter(|t| (shop.calendar.day_of(*t) >= shop.change_day) == after)
            .min();
        if let Some(started) = first_checkout {
            truth.checkout_customers.add(after, 1);
            let converted = shopper
                .order_times
                .iter()
                .any(|&t| t >= started && t <= started + 7 * Timestamp::MS_PER_DAY);
            truth.checkout_converted_7d.add(after, u64::from(converted));
        }
    }
    Ok(())
}

fn session_time(rng: &mut ChaCha8Rng, shop: &Shop, day: usize) -> i64 {
    let hour = rng.weighted(&shop.hours) as i64;
    shop.calendar.at(day, hour * Timestamp::MS_PER_HOUR + rng.seconds(0, 3_599))
}

/// The identity web events carry: the email once the shopper is known on this device, the
/// browser cookie before.
fn web_identity(shopper: &Shopper) -> &Identity {
    if shopper.identified && shopper.device_linked { &shopper.email } else { &shopper.device }
}

/// Registers the shopper with the sink the first time they give their email.
fn register<S: Sink>(
    out: &mut Out<'_, S>,
    rng: &mut ChaCha8Rng,
    shopper: &mut Shopper,
    time: i64,
) -> Result<(), S::Error> {
    if shopper.identified {
        return Ok(());
    }
    shopper.identified = true;
    let (city, state) = *rng.pick(&catalog::BOUTIQUE_CITIES);
    let mut properties = Properties::new();
    properties.insert("city".into(), json!(city));
    properties.insert("state".into(), json!(state));
    properties.insert("age_band".into(), json!(*rng.pick(&catalog::AGE_BANDS[..5])));
    let coupon = match shopper.style {
        Style::BargainHunter => rng.chance(0.8),
        _ => rng.chance(0.1),
    };
    properties.insert("coupon_user".into(), json!(if coupon { "yes" } else { "no" }));
    let gifts = match shopper.style {
        Style::GiftBuyer => rng.chance(0.7),
        _ => rng.chance(0.05),
    };
    properties.insert("gift_buyer".into(), json!(if gifts { "yes" } else { "no" }));
    out.customer(IncomingCustomer {
        identities: vec![shopper.email.clone()],
        name: Some(shopper.name.full.clone()),
        first_seen: Some(Timestamp(time)),
        properties,
    })
}

/// Emits an event, linking the current device to the email on the first event that carries both.
fn web_event<S: Sink>(
    out: &mut Out<'_, S>,
    shopper: &mut Shopper,
    mut event: trailmap_model::Event,
) -> Result<(), S::Error> {
    let mut aliases = Vec::new();
    if shopper.identified && !shopper.device_linked {
        event.identity = shopper.email.clone();
        aliases.push(shopper.device.clone());
        shopper.device_linked = true;
    }
    out.event(event, aliases)
}

fn month_of(shop: &Shop, time: i64) -> usize {
    (shop.calendar.day_of(time) * 12 / shop.calendar.days()).min(11)
}

#[allow(clippy::too_many_arguments)]
fn session<S: Sink>(
    out: &mut Out<'_, S>,
    rng: &mut ChaCha8Rng,
    shop: &Shop,
    shopper: &mut Shopper,
    start: i64,
    entry: Entry,
    follow_ups: &mut Vec<(i64, Item)>,
    truth: &mut BoutiqueTruth,
) -> Result<(), S::Error> {
    let after = shop.calendar.day_of(start) >= shop.change_day;
    // A returning visit is sometimes on another device, which starts anonymous again.
    if entry == Entry::Returning && rng.chance(0.15) {
        shopper.device = anonymous(rng);
        shopper.device_linked = false;
    }
    let mut time = start;
    let mut landing = event("page_view", time, web_identity(shopper));
    let mut order_source: Option<&'static str> = None;
    let acquisition = match entry {
        Entry::First => Some(shopper.acquisition),
        Entry::Returning => Some(
            [Acquisition::Direct, Acquisition::OrganicSearch, Acquisition::PaidSocial, Acquisition::Newsletter]
                [rng.weighted(&[0.4, 0.25, 0.15, if shopper.subscribed { 0.2 } else { 0.0 }])],
        ),
        _ => None,
    };
    let month = month_of(shop, time);
    match (entry, acquisition) {
        (_, Some(Acquisition::OrganicSearch)) => {
            landing.source = text("google");
            landing.medium = text("organic");
            landing.referrer = text("https://www.google.com/");
            landing.page = pick_text(rng, &catalog::BOUTIQUE_LANDINGS);
            order_source = Some("google");
        }
        (_, Some(Acquisition::PaidSearch)) => {
            landing.source = text("google");
            landing.medium = text("cpc");
            landing.campaign = pick_text(rng, &catalog::BOUTIQUE_SEARCH_CAMPAIGNS);
            landing.referrer = text("https://www.google.com/");
            landing.page = text(if rng.chance(0.6) { rng.pick(&catalog::GARMENTS).page } else { "/collections/dresses" });
            order_source = Some("google");
        }
        (_, Some(Acquisition::PaidSocial)) => {
            let source = if rng.chance(0.65) { "instagram" } else { "facebook" };
            landing.source = text(source);
            landing.medium = text("paid_social");
            landing.campaign = text(if entry == Entry::Returning { "retargeting" } else { catalog::BOUTIQUE_SOCIAL_CAMPAIGNS[month] });
            landing.referrer = text(if source == "instagram" { "https://l.instagram.com/" } else { "https://m.facebook.com/" });
            landing.page = text(rng.pick(&catalog::GARMENTS).page);
            order_source = Some(source);
        }
        (_, Some(Acquisition::Newsletter)) => {
            // Someone who signed up at the shop's market stall, arriving from the newsletter.
            landing.source = text("newsletter");
            landing.medium = text("email");
            landing.campaign = Some(shop.newsletters[shop.calendar.day_of(time) / 7].clone());
            landing.page = text("/collections/new-in");
            if !shopper.identified {
                register(out, rng, shopper, time)?;
                shopper.subscribed = true;
                follow_ups.push(next_newsletter(shop, time));
            }
            order_source = Some("newsletter");
        }
        (_, Some(Acquisition::Blog)) => {
            let (source, referrer) = *rng.pick(&catalog::FASHION_BLOGS);
            landing.source = text(source);
            landing.medium = text("referral");
            landing.referrer = text(referrer);
            landing.page = text(rng.pick(&catalog::GARMENTS).page);
            order_source = Some(source);
        }
        (_, Some(Acquisition::Trustpilot)) => {
            landing.source = text("trustpilot.com");
            landing.medium = text("referral");
            landing.referrer = text("https://www.trustpilot.com/review/threadandneedle.shop");
            landing.page = text("/");
            order_source = Some("trustpilot.com");
        }
        (_, Some(Acquisition::Direct)) => {
            landing.page = text("/");
        }
        (Entry::Newsletter(week), None) => {
            landing.source = text("newsletter");
            landing.medium = text("email");
            landing.campaign = Some(shop.newsletters[week].clone());
            landing.page = text("/collections/new-in");
            order_source = Some("newsletter");
        }
        (_, None) => {
            landing.source = text("newsletter");
            landing.medium = text("email");
            landing.campaign = text("abandoned-cart");
            landing.page = text("/cart");
            order_source = Some("newsletter");
        }
    }
    web_event(out, shopper, landing)?;

    // Browsing: a few product pages, or straight back to the cart from the reminder email.
    let mut cart: Vec<&'static Product> = Vec::with_capacity(4);
    if entry == Entry::CartReminder {
        cart.append(&mut shopper.abandoned);
    } else {
        if !rng.chance(0.8) {
            let left = time + rng.seconds(15, 90);
            return newsletter_popup(out, rng, shop, shopper, left, follow_ups);
        }
        let mut viewed: [Option<&'static Product>; 4] = [None; 4];
        let views = 1 + usize::from(rng.chance(0.6)) + usize::from(rng.chance(0.4)) + usize::from(rng.chance(0.25));
        for slot in viewed.iter_mut().take(views) {
            time += rng.seconds(20, 180);
            let product = pick_product(rng, shopper.style);
            *slot = Some(product);
            let mut view = event("product_view", time, web_identity(shopper));
            view.page = text(product.page);
            view.properties.insert("product".into(), json!(product.name));
            view.properties.insert("sku".into(), json!(product.sku));
            view.properties.insert("price".into(), json!(product.cents as f64 / 100.0));
            view.properties.insert("category".into(), json!(product.category));
            web_event(out, shopper, view)?;
        }
        let add_chance = if entry == Entry::First { 0.42 } else { 0.55 };
        if !rng.chance(add_chance) {
            let left = time + rng.seconds(15, 90);
            return newsletter_popup(out, rng, shop, shopper, left, follow_ups);
        }
        if let Some(product) = viewed[rng.random_range(0..views)] {
            cart.push(product);
        }
        if rng.chance(0.14) {
            cart.push(pick_product(rng, shopper.style));
        }
        if rng.chance(0.06) {
            cart.push(rng.pick(&catalog::ACCESSORIES));
        }
        let mut value = 0;
        for product in cart.iter().copied() {
            time += rng.seconds(10, 90);
            value += product.cents;
            add_to_cart(out, shopper, time, product, value)?;
        }
    }
    if cart.is_empty() {
        return Ok(());
    }

    // With free shipping over $75, the cart banner says how far away it is; many add a small
    // accessory to get there.
    let mut subtotal: i64 = cart.iter().map(|p| p.cents).sum();
    if after && subtotal < THRESHOLD_CENTS {
        let nudge = if subtotal >= 4_000 { 0.6 } else { 0.25 };
        let mut tries = 0;
        while subtotal < THRESHOLD_CENTS && tries < 2 && rng.chance(if tries == 0 { nudge } else { 0.6 }) {
            let extra = rng.pick(&catalog::ACCESSORIES);
            cart.push(extra);
            subtotal += extra.cents;
            time += rng.seconds(20, 120);
            let mut add = event("add_to_cart", time, web_identity(shopper));
            add.page = text(extra.page);
            fill_cart_properties(&mut add.properties, extra, subtotal);
            add.properties.insert("prompt".into(), json!("free_shipping_banner"));
            web_event(out, shopper, add)?;
            tries += 1;
        }
    }

    let checkout_chance = if entry == Entry::CartReminder { 0.8 } else { 0.6 };
    if !rng.chance(checkout_chance) {
        let left = time + rng.seconds(15, 90);
            return newsletter_popup(out, rng, shop, shopper, left, follow_ups);
    }
    time += rng.seconds(30, 180);
    let mut checkout = event("checkout_started", time, web_identity(shopper));
    checkout.page = text("/checkout");
    checkout.properties.insert("cart_value".into(), json!(subtotal as f64 / 100.0));
    checkout.properties.insert("items".into(), json!(cart.len()));
    web_event(out, shopper, checkout)?;
    // A session that runs past the end of the period stops there, as the data does.
    if time >= shop.calendar.end() {
        return Ok(());
    }
    shopper.checkouts.push(time);

    let free = after && subtotal >= THRESHOLD_CENTS;
    let shipping_cents = if free { 0 } else { FEE_CENTS };
    let reached_shipping = rng.chance(REACH_SHIPPING);
    if reached_shipping {
        // The shipping step asks for the email, which identifies the shopper on this device.
        time += rng.seconds(40, 150);
        register(out, rng, shopper, time)?;
        let mut step = event("checkout_shipping", time, web_identity(shopper));
        step.page = text("/checkout/shipping");
        step.properties.insert("shipping_cost".into(), json!(shipping_cents as f64 / 100.0));
        step.properties.insert("cart_value".into(), json!(subtotal as f64 / 100.0));
        if after {
            step.properties.insert("free_shipping_over".into(), json!(THRESHOLD_CENTS / 100));
        }
        web_event(out, shopper, step)?;
    }
    let base = if free { CONVERSION_FREE } else { CONVERSION_WITH_FEE };
    let ordered = reached_shipping && rng.chance(base / REACH_SHIPPING * shopper.style.conversion_factor());
    if ordered {
        time += rng.seconds(60, 240);
        if time >= shop.calendar.end() {
            return Ok(());
        }
        place_order(out, rng, shop, shopper, time, &cart, subtotal, shipping_cents, order_source, follow_ups, truth)?;
    } else {
        if rng.chance(0.12) {
            let answered = time + rng.seconds(5, 60);
            exit_survey(out, rng, shop, shopper, answered, after && !free, after, subtotal)?;
        }
        if shopper.identified {
            shopper.abandoned = cart;
            let next_morning = shop.calendar.day_of(time) + 1;
            follow_ups.push((shop.calendar.at(next_morning, 10 * Timestamp::MS_PER_HOUR), Item::CartReminderSend));
        }
    }
    Ok(())
}

fn pick_product(rng: &mut ChaCha8Rng, style: Style) -> &'static Product {
    let accessory_chance = match style {
        Style::Professional => 0.30,
        Style::BargainHunter => 0.55,
        Style::GiftBuyer => 0.65,
    };
    if rng.chance(accessory_chance) {
        rng.pick(&catalog::ACCESSORIES)
    } else if style == Style::BargainHunter {
        // Bargain hunters look at the cheaper half of the clothes.
        rng.pick(&[catalog::GARMENTS[3], catalog::GARMENTS[4], catalog::GARMENTS[6], catalog::GARMENTS[10], catalog::GARMENTS[2]])
    } else {
        rng.pick(&catalog::GARMENTS)
    }
}

fn fill_cart_properties(properties: &mut Properties, product: &Product, cart_cents: i64) {
    properties.insert("product".into(), json!(product.name));
    properties.insert("sku".into(), json!(product.sku));
    properties.insert("price".into(), json!(product.cents as f64 / 100.0));
    properties.insert("quantity".into(), json!(1));
    properties.insert("cart_value".into(), json!(cart_cents as f64 / 100.0));
}

fn add_to_cart<S: Sink>(
    out: &mut Out<'_, S>,
    shopper: &mut Shopper,
    time: i64,
    product: &Product,
    cart_cents: i64,
) -> Result<(), S::Error> {
    let mut add = event("add_to_cart", time, web_identity(shopper));
    add.page = text(product.page);
    fill_cart_properties(&mut add.properties, product, cart_cents);
    web_event(out, shopper, add)
}

/// Some visitors who leave without checking out sign up for the newsletter pop-up first.
fn newsletter_popup<S: Sink>(
    out: &mut Out<'_, S>,
    rng: &mut ChaCha8Rng,
    shop: &Shop,
    shopper: &mut Shopper,
    time: i64,
    follow_ups: &mut Vec<(i64, Item)>,
) -> Result<(), S::Error> {
    if shopper.subscribed || !rng.chance(0.05) {
        return Ok(());
    }
    register(out, rng, shopper, time)?;
    shopper.subscribed = true;
    let mut signup = event("newsletter_signup", time, &shopper.email);
    signup.page = text("/");
    signup.properties.insert("offer".into(), json!("10% off first order"));
    let mut aliases = Vec::new();
    if !shopper.device_linked {
        aliases.push(shopper.device.clone());
        shopper.device_linked = true;
    }
    out.event(signup, aliases)?;
    follow_ups.push(next_newsletter(shop, time));
    Ok(())
}

/// The next Tuesday-morning newsletter after `time`.
fn next_newsletter(shop: &Shop, time: i64) -> (i64, Item) {
    let week = shop.calendar.day_of(time) / 7 + 1;
    let day = week * 7 + 3;
    (shop.calendar.at(day, 10 * Timestamp::MS_PER_HOUR), Item::NewsletterSend(week))
}

fn newsletter<S: Sink>(
    out: &mut Out<'_, S>,
    rng: &mut ChaCha8Rng,
    shop: &Shop,
    shopper: &mut Shopper,
    sent: i64,
    week: usize,
    follow_ups: &mut Vec<(i64, Item)>,
) -> Result<(), S::Error> {
    let campaign = &shop.newsletters[week.min(shop.newsletters.len() - 1)];
    if rng.chance(0.25) {
        let opened = sent + (rng.exponential(4.0 * 3_600.0) as i64) * Timestamp::MS_PER_SECOND;
        let mut open = event("email_open", opened, &shopper.email);
        open.source = text("newsletter");
        open.medium = text("email");
        open.campaign = Some(campaign.clone());
        out.event(open, Vec::new())?;
        if rng.chance(0.15) {
            let clicked = opened + rng.seconds(5, 90);
            let mut click = event("email_click", clicked, &shopper.email);
            click.source = text("newsletter");
            click.medium = text("email");
            click.campaign = Some(campaign.clone());
            click.page = text("/collections/new-in");
            out.event(click, Vec::new())?;
            follow_ups.push((clicked + rng.seconds(2, 10), Item::Session(Entry::Newsletter(week))));
        }
    }
    // A few unsubscribe each week.
    if rng.chance(0.01) {
        shopper.subscribed = false;
    } else {
        follow_ups.push(next_newsletter(shop, sent));
    }
    Ok(())
}

fn cart_reminder<S: Sink>(
    out: &mut Out<'_, S>,
    rng: &mut ChaCha8Rng,
    shopper: &mut Shopper,
    sent: i64,
    follow_ups: &mut Vec<(i64, Item)>,
) -> Result<(), S::Error> {
    if shopper.abandoned.is_empty() || !rng.chance(0.45) {
        return Ok(());
    }
    let opened = sent + (rng.exponential(3.0 * 3_600.0) as i64) * Timestamp::MS_PER_SECOND;
    let mut open = event("email_open", opened, &shopper.email);
    open.source = text("newsletter");
    open.medium = text("email");
    open.campaign = text("abandoned-cart");
    out.event(open, Vec::new())?;
    if rng.chance(0.35) {
        let clicked = opened + rng.seconds(5, 60);
        let mut click = event("email_click", clicked, &shopper.email);
        click.source = text("newsletter");
        click.medium = text("email");
        click.campaign = text("abandoned-cart");
        click.page = text("/cart");
        out.event(click, Vec::new())?;
        follow_ups.push((clicked + rng.seconds(2, 10), Item::Session(Entry::CartReminder)));
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn place_order<S: Sink>(
    out: &mut Out<'_, S>,
    rng: &mut ChaCha8Rng,
    shop: &Shop,
    shopper: &mut Shopper,
    time: i64,
    cart: &[&'static Product],
    subtotal: i64,
    shipping_cents: i64,
    source: Option<&'static str>,
    follow_ups: &mut Vec<(i64, Item)>,
    truth: &mut BoutiqueTruth,
) -> Result<(), S::Error> {
    let after = shop.calendar.day_of(time) >= shop.change_day;
    let mut properties = Properties::new();
    properties.insert("payment".into(), json!(*rng.pick(&["card", "card", "paypal", "apple_pay", "shop_pay"])));
    let discount = if shopper.style == Style::BargainHunter && rng.chance(0.5) {
        let code = if shopper.orders == 0 { "WELCOME10" } else { "SAVE10" };
        properties.insert("discount_code".into(), json!(code));
        subtotal / 10
    } else {
        0
    };
    if shopper.style == Style::GiftBuyer && rng.chance(0.6) {
        properties.insert("gift_wrap".into(), json!(true));
    }
    let total = subtotal - discount + shipping_cents;
    let mut lines: Vec<OrderLine> = Vec::with_capacity(cart.len());
    for product in cart {
        // Two of the same thing is one line with quantity two.
        if let Some(line) = lines.iter_mut().find(|l| l.sku.as_deref() == Some(product.sku)) {
            line.quantity += 1;
        } else {
            lines.push(OrderLine {
                sku: text(product.sku),
                name: product.name.to_string(),
                quantity: 1,
                unit_price: usd(product.cents),
            });
        }
    }
    truth.orders.add(after, 1);
    truth.revenue_cents.add(after, total as u64);
    truth.orders_over_threshold.add(after, u64::from(subtotal >= THRESHOLD_CENTS));
    let external_id = format!("#{}", 1000 + truth.orders.before + truth.orders.after);
    out.order(IncomingOrder {
        external_id: external_id.clone(),
        origin: String::new(),
        customer: vec![shopper.account.clone(), shopper.email.clone()],
        time: Timestamp(time),
        total: usd(total),
        subtotal: Some(usd(subtotal)),
        shipping: Some(usd(shipping_cents)),
        tax: None,
        discount: (discount > 0).then(|| usd(discount)),
        status: text("paid"),
        channel: text("online"),
        source: source.map(str::to_string),
        lines,
        properties,
    })?;
    shopper.orders += 1;
    shopper.order_times.push(time);
    shopper.abandoned.clear();

    let paid_fee = shipping_cents > 0;
    if rng.chance(0.14) {
        let answered = time + rng.seconds(5 * 86_400, 9 * 86_400);
        post_purchase_survey(out, rng, shop, shopper, answered, &external_id, paid_fee, after)?;
    }
    if rng.chance(0.05) {
        let written = time + rng.seconds(7 * 86_400, 20 * 86_400);
        review(out, rng, shopper, written, paid_fee, after)?;
    }
    if rng.chance(0.04) {
        let mut call = event("call", time + rng.seconds(2 * 86_400, 5 * 86_400), &shopper.email);
        call.source = text("phone");
        call.medium = text("phone");
        call.page = text("phone");
        call.properties.insert("topic".into(), json!(*rng.pick(&["where is my order", "exchange for another size", "return label", "gift message"])));
        call.properties.insert("duration_s".into(), json!(rng.random_range(60..600)));
        out.event(call, Vec::new())?;
    }
    if !shopper.subscribed && rng.chance(0.3) {
        shopper.subscribed = true;
        follow_ups.push(next_newsletter(shop, time));
    }
    // Happy buyers come back for more.
    if rng.chance(0.5) {
        let back = time + (rng.exponential(35.0) * Timestamp::MS_PER_DAY as f64) as i64 + Timestamp::MS_PER_DAY;
        follow_ups.push((back, Item::Session(Entry::Returning)));
    }
    Ok(())
}

/// Shipping complaints as shoppers write them: annoyed, not merely factual (the catalog's neutral
/// wording scored 0 in sentiment, hiding the boutique's planted story). As many as the catalog's
/// list, picked the same way, so every random draw and every other demo figure stays the same.
const SHIPPING_COMPLAINTS: [&str; 12] = [
    "Annoyed that shipping costs $7.95, so I left",
    "Ridiculous shipping fee, so I left my cart",
    "$7.95 shipping on a $28 tee? Ridiculous",
    "Loved the dress but the awful shipping cost killed it",
    "The shipping fee was a nasty surprise at checkout, really annoying",
    "Hate paying for shipping, so I abandoned my order",
    "Shipping costs are a rip-off compared to other shops",
    "Frustrated by the shipping charge on every order",
    "The shipping charge made the total too much, disappointed",
    "Only saw the shipping cost at the last step, terrible",
    "Expensive shipping is a dealbreaker, went elsewhere",
    "Free shipping only over $75 is still annoying for one top",
];

/// How a shipping complaint ends: as many endings as the catalog's closers, none of them cheerful.
const COMPLAINT_CLOSERS: [&str; 8] = ["", "", "", ".", "!", " Not happy.", " So frustrating.", " Disappointed."];

// The same lengths as the catalog's lists keep every pick, and so every later draw, unchanged.
const _: () = assert!(SHIPPING_COMPLAINTS.len() == catalog::SHIPPING_COMPLAINTS.len());
const _: () = assert!(COMPLAINT_CLOSERS.len() == catalog::CLOSERS.len());

/// A complaint: about shipping cost with the given chance, otherwise about something else.
fn complaint(rng: &mut ChaCha8Rng, shipping_chance: f64, after: bool) -> String {
    if rng.chance(shipping_chance) {
        // The last complaint mentions the $75 threshold, which only exists after the change.
        let pool = if after { &SHIPPING_COMPLAINTS[..] } else { &SHIPPING_COMPLAINTS[..11] };
        let core = *rng.pick(pool);
        let closer = *rng.pick(&COMPLAINT_CLOSERS);
        format!("{core}{closer}")
    } else {
        say(rng, &catalog::BOUTIQUE_OTHER_COMPLAINTS)
    }
}

/// How often a complaint is about shipping: dominant while every order pays a fee, rare once it
/// is free.
fn shipping_complaint_chance(paid_fee: bool, after: bool) -> f64 {
    match (paid_fee, after) {
        (true, false) => 0.6,
        (true, true) => 0.35,
        (false, _) => 0.06,
    }
}

#[allow(clippy::too_many_arguments)]
fn post_purchase_survey<S: Sink>(
    out: &mut Out<'_, S>,
    rng: &mut ChaCha8Rng,
    shop: &Shop,
    shopper: &Shopper,
    time: i64,
    order_id: &str,
    paid_fee: bool,
    after: bool,
) -> Result<(), S::Error> {
    let mood = 0.78 - if paid_fee && !after { 0.08 } else { 0.0 } + if !paid_fee { 0.04 } else { 0.0 };
    let nps = nps_score(rng, mood);
    let csat = csat_for(rng, nps);
    let questions = &shop.nps_survey.questions;
    let mut answers = vec![
        Answer { question: questions[0].id, value: AnswerValue::Number(f64::from(nps)) },
        Answer { question: questions[1].id, value: AnswerValue::Number(f64::from(csat)) },
    ];
    let comment = rng.chance(0.55).then(|| {
        if nps >= 9 || (nps >= 7 && rng.chance(0.5)) {
            say(rng, &catalog::BOUTIQUE_POSITIVE)
        } else {
            complaint(rng, shipping_complaint_chance(paid_fee, after), after)
        }
    });
    if let Some(comment) = &comment {
        answers.push(Answer { question: questions[2].id, value: AnswerValue::Text(comment.clone()) });
    }
    let mut hidden = BTreeMap::new();
    hidden.insert("email".to_string(), shopper.email.value.clone());
    hidden.insert("order_id".to_string(), order_id.to_string());
    out.response(IncomingResponse {
        survey: shop.nps_survey.id,
        customer: vec![shopper.email.clone()],
        submitted_at: Timestamp(time),
        hidden,
        answers,
    })?;
    if let Some(comment) = comment {
        out.feedback(IncomingFeedback {
            kind: FeedbackKind::SurveyText,
            source: shop.nps_survey.name.clone(),
            external_id: Some(format!("survey-{order_id}")),
            customer: vec![shopper.email.clone()],
            author: None,
            time: Timestamp(time),
            rating: Some(f32::from(csat)),
            text: comment,
            link: None,
            touchpoint: text("Order confirmation"),
            tags: Vec::new(),
        })?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn exit_survey<S: Sink>(
    out: &mut Out<'_, S>,
    rng: &mut ChaCha8Rng,
    shop: &Shop,
    shopper: &Shopper,
    time: i64,
    fee_after_change: bool,
    after: bool,
    subtotal: i64,
) -> Result<(), S::Error> {
    let fee_applies = !after || fee_after_change;
    let shipping_share = match (fee_applies, after) {
        (true, false) => EXIT_SHIPPING_BEFORE,
        (true, true) => EXIT_SHIPPING_AFTER,
        (false, _) => 0.04,
    };
    let reason = if rng.chance(shipping_share) {
        0
    } else {
        1 + rng.weighted(&[0.30, 0.20, 0.25, 0.10, 0.15])
    };
    let questions = &shop.exit_survey.questions;
    let mut answers = vec![Answer {
        question: questions[0].id,
        value: AnswerValue::Choices(vec![catalog::EXIT_REASONS[reason].to_string()]),
    }];
    let comment = rng.chance(0.6).then(|| {
        if reason == 0 {
            complaint(rng, 1.0, after)
        } else {
            say(rng, catalog::EXIT_TEXTS[reason])
        }
    });
    if let Some(comment) = &comment {
        answers.push(Answer { question: questions[1].id, value: AnswerValue::Text(comment.clone()) });
    }
    let respondent = web_identity(shopper).clone();
    let mut hidden = BTreeMap::new();
    hidden.insert("visitor_id".to_string(), shopper.device.value.clone());
    hidden.insert("cart_value".to_string(), format!("{:.2}", subtotal as f64 / 100.0));
    out.response(IncomingResponse {
        survey: shop.exit_survey.id,
        customer: vec![respondent.clone()],
        submitted_at: Timestamp(time),
        hidden,
        answers,
    })?;
    if let Some(comment) = comment {
        out.feedback(IncomingFeedback {
            kind: FeedbackKind::SurveyText,
            source: shop.exit_survey.name.clone(),
            external_id: Some(format!("exit-{}-{time}", shopper.number)),
            customer: vec![respondent],
            author: None,
            time: Timestamp(time),
            rating: None,
            text: comment,
            link: None,
            touchpoint: text("Checkout"),
            tags: Vec::new(),
        })?;
    }
    Ok(())
}

fn review<S: Sink>(
    out: &mut Out<'_, S>,
    rng: &mut ChaCha8Rng,
    shopper: &Shopper,
    time: i64,
    paid_fee: bool,
    after: bool,
) -> Result<(), S::Error> {
    let rating = [5.0f32, 4.0, 3.0, 2.0, 1.0][rng.weighted(&[0.45, 0.25, 0.12, 0.10, 0.08])];
    let body = if rating >= 4.0 {
        say(rng, &catalog::BOUTIQUE_POSITIVE)
    } else if rating >= 3.0 {
        format!(
            "{}, but {}",
            rng.pick(&catalog::BOUTIQUE_POSITIVE),
            rng.pick(&catalog::BOUTIQUE_OTHER_COMPLAINTS).to_lowercase()
        )
    } else {
        complaint(rng, shipping_complaint_chance(paid_fee, after), after)
    };
    let trustpilot = rng.chance(0.5);
    let (source, link) = if trustpilot {
        ("trustpilot", "https://www.trustpilot.com/review/threadandneedle.shop")
    } else {
        ("google", "https://maps.google.com/?cid=thread-and-needle-asheville")
    };
    out.feedback(IncomingFeedback {
        kind: FeedbackKind::Review,
        source: source.to_string(),
        external_id: Some(format!("{source}-{:012x}", mix(shopper.number ^ time as u64) >> 16)),
        // Trustpilot marks verified buyers, which ties the review to the customer.
        customer: if trustpilot { vec![shopper.email.clone()] } else { Vec::new() },
        author: Some(shopper.name.author.clone()),
        time: Timestamp(time),
        rating: Some(rating),
        text: body,
        link: text(link),
        touchpoint: text("Review sites"),
        tags: Vec::new(),
    })
}

fn write_spend<S: Sink>(out: &mut Out<'_, S>, rng: &mut ChaCha8Rng, scale: f64) -> Result<(), S::Error> {
    for (index, (start, end)) in months().into_iter().enumerate() {
        let social = catalog::BOUTIQUE_SOCIAL_CAMPAIGNS[index.min(11)];
        let records = [
            ("Paid Search", "google", "brand-search", 600.0),
            ("Paid Search", "google", "dresses-generic", 1_800.0),
            ("Paid Social", "instagram", social, 1_100.0),
            ("Paid Social", "facebook", social, 700.0),
            ("Email", "klaviyo", "newsletter", 150.0),
        ];
        for (channel, source, campaign, dollars) in records {
            let amount = monthly_amount(rng, dollars * scale);
            out.spend(IncomingSpend {
                channel: channel.to_string(),
                source: text(source),
                campaign: text(campaign),
                start,
                end,
                amount,
            })?;
        }
    }
    Ok(())
}

struct ShopTouchpoints {
    search: TouchpointId,
    ads_search: TouchpointId,
    ads_social: TouchpointId,
    blogs: TouchpointId,
    newsletter: TouchpointId,
    product: TouchpointId,
    cart: TouchpointId,
    checkout: TouchpointId,
    confirmation: TouchpointId,
    phone: TouchpointId,
    reviews: TouchpointId,
}

fn create_touchpoints<S: Sink>(
    out: &mut Out<'_, S>,
    stages: &[Stage],
) -> Result<ShopTouchpoints, S::Error> {
    let business = out.business;
    let stage = |position: usize| stages.get(position).map(|s| s.id);
    let mut make = |name: &str, channel: TouchpointChannel, position: usize, rule: EventRule, description: &str| {
        out.touchpoint(Touchpoint {
            id: TouchpointId(0),
            business,
            name: name.to_string(),
            channel,
            stage: stage(position),
            online: channel != TouchpointChannel::Phone,
            rule,
            description: description.to_string(),
        })
    };
    let equals = |value: &str| Op::Equals(value.to_string());
    Ok(ShopTouchpoints {
        search: make(
            "Google search",
            TouchpointChannel::Web,
            0,
            EventRule::named("page_view").and(EventField::Source, equals("google")).and(EventField::Medium, equals("organic")),
            "Unpaid visits from Google results.",
        )?,
        ads_search: make(
            "Google Ads",
            TouchpointChannel::Ads,
            0,
            EventRule::named("page_view").and(EventField::Medium, equals("cpc")),
            "Brand and generic search campaigns.",
        )?,
        ads_social: make(
            "Instagram & Facebook ads",
            TouchpointChannel::Ads,
            0,
            EventRule::named("page_view").and(EventField::Medium, equals("paid_social")),
            "Lookbook and retargeting ads.",
        )?,
        blogs: make(
            "Fashion blogs",
            TouchpointChannel::Referral,
            0,
            EventRule::named("page_view")
                .and(EventField::Medium, equals("referral"))
                .and_not(EventField::Source, equals("trustpilot.com")),
            "Style bloggers who link to our pieces.",
        )?,
        newsletter: make(
            "Newsletter",
            TouchpointChannel::Email,
            3,
            EventRule::default().and(EventField::Name, Op::OneOf(strings(&["newsletter_signup", "email_open", "email_click"]))),
            "Weekly edit on Tuesdays, sign-up pop-up and abandoned-cart emails.",
        )?,
        product: make(
            "Product pages",
            TouchpointChannel::Web,
            1,
            EventRule::named("product_view"),
            "Photos, size guide and price.",
        )?,
        cart: make("Cart", TouchpointChannel::Web, 1, EventRule::named("add_to_cart"), "Adding pieces to the bag.")?,
        checkout: make(
            "Checkout",
            TouchpointChannel::Web,
            2,
            EventRule::default().and(EventField::Name, Op::OneOf(strings(&["checkout_started", "checkout_shipping"]))),
            "Details, shipping and payment; the shipping fee appears at the shipping step.",
        )?,
        confirmation: make(
            "Order confirmation",
            TouchpointChannel::Web,
            2,
            EventRule::named("purchase"),
            "The order is placed.",
        )?,
        phone: make(
            "Customer service phone",
            TouchpointChannel::Phone,
            3,
            EventRule::named("call"),
            "Order status, exchanges and returns by phone.",
        )?,
        reviews: make(
            "Review sites",
            TouchpointChannel::Social,
            4,
            EventRule::named("page_view").and(EventField::Source, equals("trustpilot.com")),
            "Google and Trustpilot reviews, and visitors who come from them.",
        )?,
    })
}

fn create_personas<S: Sink>(out: &mut Out<'_, S>) -> Result<Vec<PersonaId>, S::Error> {
    let business = out.business;
    let property = |key: &str| CustomerCondition {
        field: CustomerField::Property(key.to_string()),
        op: Op::Equals("yes".into()),
        negate: false,
    };
    let personas = [
        Persona {
            id: PersonaId(0),
            business,
            name: "Style-Conscious Professional".into(),
            initials: None,
            photo: None,
            demographics: vec![
                ("Age".into(), "30-45".into()),
                ("Occupation".into(), "Manager, lawyer, architect".into()),
                ("Income".into(), "Comfortable".into()),
            ],
            goals: strings(&["Quality pieces that last", "Look put together without spending weekends shopping"]),
            frustrations: strings(&["Unclear sizing", "Surprise costs at checkout"]),
            behaviours: strings(&["Buys dresses and knitwear", "Orders several times a year", "Reads the newsletter"]),
            quote: text("I'd rather buy one good dress than five that fall apart."),
            segment: Some(CustomerRule {
                conditions: vec![CustomerCondition { field: CustomerField::Revenue, op: Op::GreaterThan(150.0), negate: false }],
            }),
        },
        Persona {
            id: PersonaId(0),
            business,
            name: "Bargain Hunter".into(),
            initials: None,
            photo: None,
            demographics: vec![
                ("Age".into(), "20-35".into()),
                ("Occupation".into(), "Student, early career".into()),
                ("Income".into(), "Tight budget".into()),
            ],
            goals: strings(&["A good piece at a good price", "Never pay for shipping"]),
            frustrations: strings(&["Shipping fees on small orders", "Discount codes that don't work"]),
            behaviours: strings(&["Uses discount codes", "Compares prices across shops", "Abandons carts when fees appear"]),
            quote: text("If shipping is extra, I'm out."),
            segment: Some(CustomerRule { conditions: vec![property("coupon_user")] }),
        },
        Persona {
            id: PersonaId(0),
            business,
            name: "Gift Buyer".into(),
            initials: None,
            photo: None,
            demographics: vec![
                ("Age".into(), "35-60".into()),
                ("Occupation".into(), "Varied".into()),
                ("Season".into(), "Holidays, birthdays, Mother's Day".into()),
            ],
            goals: strings(&["A thoughtful gift that arrives on time", "Gift wrap and a note"]),
            frustrations: strings(&["Not knowing the recipient's size", "Delivery dates unclear"]),
            behaviours: strings(&["Buys accessories and scarves", "Shops in November and December", "Chooses gift wrap"]),
            quote: text("I want it wrapped, with a note, and at her door by Friday."),
            segment: Some(CustomerRule { conditions: vec![property("gift_buyer")] }),
        },
    ];
    personas.into_iter().map(|p| out.persona(p)).collect()
}

/// One map column's cards: goals, actions, thoughts, pain points, opportunities, and its
/// touchpoints.
type Column = (&'static [&'static str], &'static [&'static str], &'static [&'static str], &'static [&'static str], &'static [&'static str], Vec<TouchpointId>);

fn create_map<S: Sink>(
    out: &mut Out<'_, S>,
    stages: &[Stage],
    tp: &ShopTouchpoints,
    personas: &[PersonaId],
) -> Result<CardRef, S::Error> {
    // Emotion per persona (Professional, Bargain Hunter, Gift Buyer) and stage: the dip is at
    // purchase, where the shipping fee appears.
    let emotions: [[f32; 3]; 5] = [
        [0.5, 0.5, 0.5],
        [1.0, 0.5, 0.0],
        [-0.5, -2.0, -1.0],
        [1.0, 0.0, 0.5],
        [1.0, 0.0, 1.0],
    ];
    let columns: [Column; 5] = [
        (
            &["Find pieces that suit their style"],
            &["Searches Google", "Sees an Instagram ad", "Reads a blog round-up"],
            &["That dress is lovely - who makes it?"],
            &["Ad clicks bounce from the home page"],
            &["Land ad clicks on the product shown"],
            vec![tp.search, tp.ads_search, tp.ads_social, tp.blogs],
        ),
        (
            &["Be sure of fit and quality before buying"],
            &["Views products", "Checks the size guide", "Adds to cart"],
            &["Will it fit?", "Is it worth the price?"],
            &["Size guide hard to find"],
            &["Fit notes on every product page"],
            // Reading Trustpilot reviews before buying is considering the shop; writing one
            // (feedback on Review sites) is advocacy.
            vec![tp.product, tp.cart, tp.reviews],
        ),
        (
            &["Pay a fair price, quickly"],
            &["Starts checkout", "Enters address", "Sees the shipping fee"],
            &["$7.95 shipping on top? I'll think about it."],
            &["Most shoppers who start checkout leave at the shipping step", "Shipping cost is the top exit-survey reason"],
            &["Free shipping over a threshold", "Show shipping cost in the cart"],
            vec![tp.checkout, tp.confirmation],
        ),
        (
            &["Get the order fast and exchange easily"],
            &["Tracks the parcel", "Calls about an exchange", "Opens the newsletter"],
            &["When will it arrive?"],
            &["Returns process confusing"],
            &["Prepaid exchange label in the parcel"],
            vec![tp.newsletter, tp.phone],
        ),
        (
            &["Share a find with friends"],
            &["Writes a review", "Tags the shop on Instagram"],
            &["Everyone asks where my dress is from"],
            &["Few reviews ask about fit"],
            &["Review request with a fit question"],
            vec![tp.reviews],
        ),
    ];
    let map_stages = columns
        .into_iter()
        .zip(emotions)
        .enumerate()
        .map(|(position, ((goals, actions, thoughts, pains, opportunities, touchpoints), scores))| MapStage {
            id: 0,
            stage: stages.get(position).map(|s| s.id),
            name: stages.get(position).map(|s| s.name.clone()).unwrap_or_default(),
            goals: cards(goals),
            actions: cards(actions),
            thoughts: cards(thoughts),
            pain_points: cards(pains),
            opportunities: cards(opportunities),
            touchpoints,
            emotions: personas
                .iter()
                .zip(scores)
                .map(|(persona, score)| PersonaEmotion { persona: Some(*persona), score })
                .collect(),
            removed_touchpoints: Vec::new(),
        })
        .collect();
    let mut map = JourneyMap {
        id: trailmap_model::MapId(0),
        business: out.business,
        name: "Thread & Needle: online shopping journey".into(),
        kind: MapVersionKind::AsIs,
        owner: text("Priya Patel"),
        review_date: Some(date(2027, 1, 31)),
        personas: personas.to_vec(),
        stages: map_stages,
        as_is: None,
    };
    // The cards get their ids here, as the app would number them, so the change can name the
    // action it answers and the action can name the change once it is made.
    map.number_items();
    let card_id = |map: &JourneyMap, text: &str| map.cards().find(|(_, _, c)| c.text == text).map_or(0, |(_, _, c)| c.id);
    let pain = card_id(&map, "Most shoppers who start checkout leave at the shipping step");
    let action = card_id(&map, "Free shipping over a threshold");
    for stage in &mut map.stages {
        for card in &mut stage.opportunities {
            if card.id == action {
                card.from = Some(pain);
                card.action = Some(CardAction { owner: "Priya Patel".into(), due: Some(change_date()), change: None, kpi: text("checkout conversion"), done: true });
            }
        }
    }
    let id = out.map(map, "Priya Patel")?;
    Ok(CardRef { map: id, card: action })
}

fn create_surveys<S: Sink>(
    out: &mut Out<'_, S>,
    stages: &[Stage],
    tp: &ShopTouchpoints,
) -> Result<(Survey, Survey), S::Error> {
    let question = |text: &str, kind: QuestionKind, required: bool| Question {
        id: trailmap_model::QuestionId(0),
        text: text.to_string(),
        kind,
        required,
        skip: None,
    };
    let purchase = stages.get(2).map(|s| s.id);
    let exit = out.survey(Survey {
        id: trailmap_model::SurveyId(0),
        business: out.business,
        name: "Checkout exit survey".into(),
        touchpoint: Some(tp.checkout),
        stage: purchase,
        questions: vec![
            question(
                "What stopped you from completing your order today?",
                QuestionKind::SingleChoice { options: strings(&catalog::EXIT_REASONS) },
                true,
            ),
            question("Anything else you'd like to tell us?", QuestionKind::FreeText, false),
        ],
    })?;
    let nps = out.survey(Survey {
        id: trailmap_model::SurveyId(0),
        business: out.business,
        name: "Post-purchase survey".into(),
        touchpoint: Some(tp.confirmation),
        stage: purchase,
        questions: vec![
            question("How likely are you to recommend Thread & Needle to a friend?", QuestionKind::Nps, true),
            question("How satisfied are you with your order?", QuestionKind::Csat, true),
            question("What could we have done better?", QuestionKind::FreeText, false),
        ],
    })?;
    Ok((exit, nps))
}

fn create_change<S: Sink>(
    out: &mut Out<'_, S>,
    stages: &[Stage],
    tp: &ShopTouchpoints,
    answers: CardRef,
) -> Result<ChangeId, S::Error> {
    out.change(Change {
        id: ChangeId(0),
        business: out.business,
        title: "Free shipping over $75".into(),
        description: "Orders of $75 or more ship free; below that the $7.95 fee stays. The cart shows \
                      how far the shopper is from free shipping."
            .into(),
        date: change_date(),
        touchpoints: vec![tp.checkout, tp.cart],
        stages: stages.iter().filter(|s| s.position == 2).map(|s| s.id).collect(),
        kpi: text("checkout conversion"),
        owner: text("Priya Patel"),
        // The ground truth's measure (`checkout_converted_7d`): a checkout that ends in an order
        // within 7 days; planted at about 34% with the fee and about 51% when shipping is free.
        metric: Some(trailmap_model::ChangeMetric::StepConversion { from: "checkout_started".into(), to: "purchase".into(), window_days: 7 }),
        answers: Some(answers),
    })
}
