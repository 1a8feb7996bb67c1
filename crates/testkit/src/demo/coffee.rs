//! Bean There Coffee, a café in Portland, Oregon. Most new customers come because a friend brought
//! them, although the ad money goes to Instagram and Facebook; on 2026-05-01 the café launches a
//! referral loyalty programme, after which more new customers arrive, more of them by referral, and
//! everyone visits a little more often. Visits are till orders in opening hours.

use super::catalog::{self, MenuItem};
use super::{
    arrivals_per_day, cards, csat_for, date, event, months, monthly_amount, nps_score,
    person_name, pick_text, say, sentence, strings, text, usd, BusinessSummary, Calendar, CoffeeTruth, Dice, Out,
    PeriodCounts,
};
use crate::sink::Sink;
use chrono::NaiveDate;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use std::collections::BTreeMap;
use trailmap_model::{
    CardAction, CardRef,
    Answer, AnswerValue, Change, ChangeId, Currency, CustomerCondition, CustomerField,
    CustomerRule, EventField, EventRule, FeedbackKind, Identity, IncomingCustomer,
    IncomingFeedback, IncomingOrder, IncomingResponse, IncomingSpend, JourneyMap, MapStage,
    MapVersionKind, Op, OrderLine, Persona, PersonaEmotion, PersonaId, Properties, Question,
    QuestionKind, Stage, Survey, Timestamp, Touchpoint, TouchpointChannel, TouchpointId,
};

pub(super) const NAME: &str = "Bean There Coffee";

fn launch_date() -> NaiveDate {
    date(2026, 5, 1)
}

/// How a new customer first found the café.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arrival {
    Referral,
    WalkIn,
    GoogleSearch,
    GoogleMaps,
    PaidSocial,
    PaidSearch,
    Yelp,
    Newsletter,
}

const ARRIVALS: [Arrival; 8] = [
    Arrival::Referral,
    Arrival::WalkIn,
    Arrival::GoogleSearch,
    Arrival::GoogleMaps,
    Arrival::PaidSocial,
    Arrival::PaidSearch,
    Arrival::Yelp,
    Arrival::Newsletter,
];

/// Shares of new customers by arrival, in [`ARRIVALS`] order: referral 55%, walk-in 20%, organic
/// search 12%, paid social 10% before the programme; referral 70% after it.
const SHARES_BEFORE: [f64; 8] = [0.55, 0.20, 0.08, 0.04, 0.10, 0.01, 0.01, 0.01];
const SHARES_AFTER: [f64; 8] = [0.70, 0.13, 0.055, 0.025, 0.06, 0.01, 0.01, 0.01];
const ARRIVAL_UPLIFT: f64 = 1.30;
const VISIT_RATE_UPLIFT: f64 = 1.25;

impl Arrival {
    /// Chance the customer never comes back after the first visit: ad clickers mostly don't.
    fn one_visit_chance(self) -> f64 {
        match self {
            Arrival::Referral => 0.10,
            Arrival::WalkIn => 0.30,
            Arrival::GoogleSearch | Arrival::GoogleMaps => 0.35,
            Arrival::PaidSocial => 0.65,
            Arrival::PaidSearch => 0.50,
            Arrival::Yelp => 0.40,
            Arrival::Newsletter => 0.20,
        }
    }

    /// Mean days a returning customer keeps coming.
    fn mean_lifetime_days(self) -> f64 {
        match self {
            Arrival::Referral => 200.0,
            Arrival::WalkIn => 120.0,
            Arrival::GoogleSearch | Arrival::GoogleMaps => 100.0,
            Arrival::PaidSocial => 40.0,
            Arrival::PaidSearch => 60.0,
            Arrival::Yelp => 80.0,
            Arrival::Newsletter => 150.0,
        }
    }

    /// Factor on the persona's visit rate: referred customers come more often.
    fn rate_factor(self) -> f64 {
        match self {
            Arrival::Referral => 1.2,
            Arrival::WalkIn | Arrival::Newsletter => 1.0,
            Arrival::GoogleSearch | Arrival::GoogleMaps => 0.9,
            Arrival::PaidSocial => 0.6,
            Arrival::PaidSearch => 0.7,
            Arrival::Yelp => 0.8,
        }
    }

    fn email_chance(self) -> f64 {
        match self {
            Arrival::Newsletter => 1.0,
            Arrival::PaidSocial => 0.7,
            Arrival::WalkIn => 0.4,
            _ => 0.6,
        }
    }

    /// The source the till records on the first order ("how did you hear about us").
    fn source(self) -> &'static str {
        match self {
            Arrival::Referral => "friend",
            Arrival::WalkIn => "walk-in",
            Arrival::GoogleSearch | Arrival::GoogleMaps | Arrival::PaidSearch => "google",
            Arrival::PaidSocial => "instagram",
            Arrival::Yelp => "yelp.com",
            Arrival::Newsletter => "newsletter",
        }
    }

    fn is_web(self) -> bool {
        matches!(
            self,
            Arrival::GoogleSearch
                | Arrival::GoogleMaps
                | Arrival::PaidSocial
                | Arrival::PaidSearch
                | Arrival::Yelp
        )
    }
}

/// The café's personas, which shape when and how often someone visits and what they buy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Habit {
    MorningRegular,
    WeekendTreat,
    RemoteWorker,
}

const HABIT_SHARES: [f64; 3] = [0.45, 0.30, 0.25];

impl Habit {
    fn visits_per_week(self) -> f64 {
        match self {
            Habit::MorningRegular => 2.5,
            Habit::WeekendTreat => 0.9,
            Habit::RemoteWorker => 1.6,
        }
    }

    /// The customer trait the loyalty app records and the persona segments test.
    fn pattern(self) -> &'static str {
        match self {
            Habit::MorningRegular => "weekday_morning",
            Habit::WeekendTreat => "weekend",
            Habit::RemoteWorker => "weekday_daytime",
        }
    }

    /// Local visit window in minutes after midnight, inside opening hours (6:30-18:00 on weekdays,
    /// 8:00-16:00 at weekends).
    fn window(self, weekend: bool) -> (i64, i64) {
        match (self, weekend) {
            (Habit::MorningRegular, false) => (6 * 60 + 35, 9 * 60 + 15),
            (Habit::MorningRegular, true) => (8 * 60, 10 * 60 + 30),
            (Habit::WeekendTreat, _) => (8 * 60 + 30, 14 * 60 + 30),
            (Habit::RemoteWorker, false) => (9 * 60 + 30, 15 * 60),
            (Habit::RemoteWorker, true) => (9 * 60, 15 * 60),
        }
    }
}

/// Everything the per-customer simulation needs that is made once.
struct Cafe {
    calendar: Calendar,
    launch_day: usize,
    survey: Survey,
    /// Campaign name of each week's newsletter, by week number from the period start.
    newsletters: Vec<String>,
}

/// One step of a customer's year, to be written in time order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Visit { first: bool },
    Newsletter { week: usize },
    Call,
}

pub(super) fn generate<S: Sink>(
    sink: &mut S,
    people: u64,
    rng: &mut ChaCha8Rng,
) -> Result<(BusinessSummary, CoffeeTruth), S::Error> {
    let (business, stages) = sink.business(NAME, Currency::USD, "America/Los_Angeles")?;
    let mut out = Out::new(sink, business, NAME);
    let touchpoints = create_touchpoints(&mut out, &stages)?;
    let personas = create_personas(&mut out)?;
    let answered = create_map(&mut out, &stages, &touchpoints, &personas)?;
    let survey = create_survey(&mut out, &stages, &touchpoints)?;
    let change = create_change(&mut out, &stages, &touchpoints, answered)?;
    // Spend grows with the business, so ads cost the same share of revenue at any --customers.
    write_spend(&mut out, rng, people as f64 / 2_000.0)?;

    let calendar = Calendar::us(-8);
    let launch_day = calendar.index_of(launch_date());
    let newsletters = (0..calendar.days().div_ceil(7) + 1)
        .map(|week| {
            let day = super::period_start() + chrono::Duration::days(week as i64 * 7);
            if day >= launch_date() && day < date(2026, 6, 1) {
                format!("refer-a-friend-{}", day.format("%Y-%m-%d"))
            } else {
                format!("weekly-{}", day.format("%Y-%m-%d"))
            }
        })
        .collect();
    out.end = calendar.end();
    let cafe = Cafe { calendar, launch_day, survey, newsletters };

    let mut truth = CoffeeTruth {
        business,
        change_date: launch_date(),
        change,
        planted_referral_share_before: SHARES_BEFORE[0],
        planted_referral_share_after: SHARES_AFTER[0],
        planted_arrival_uplift: ARRIVAL_UPLIFT,
        planted_visit_rate_uplift: VISIT_RATE_UPLIFT,
        new_customers: PeriodCounts::default(),
        new_by_referral: PeriodCounts::default(),
        new_by_paid_social: PeriodCounts::default(),
        orders: PeriodCounts::default(),
        revenue_cents: PeriodCounts::default(),
        days: PeriodCounts {
            before: cafe.launch_day as u64,
            after: (cafe.calendar.days() - cafe.launch_day) as u64,
        },
    };

    let weights: Vec<f64> = (0..cafe.calendar.days())
        .map(|day| {
            let uplift = if day >= cafe.launch_day { ARRIVAL_UPLIFT } else { 1.0 };
            let weekend = if cafe.calendar.is_weekend(day) { 1.25 } else { 1.0 };
            uplift * weekend
        })
        .collect();
    let mut plan: Vec<(i64, Step)> = Vec::new();
    let mut number = 0u64;
    for (day, count) in arrivals_per_day(people, &weights).into_iter().enumerate() {
        for _ in 0..count {
            simulate(&mut out, rng, &cafe, day, number, &mut plan, &mut truth)?;
            number += 1;
        }
    }
    out.summary.customers = number;
    Ok((out.summary, truth))
}

/// A referral code that names a customer by number, so a referred customer can cite an earlier
/// customer's code without the generator remembering anyone.
fn referral_code(number: u64) -> String {
    const LETTERS: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut code = String::from("BEAN-");
    let mut value = super::mix(number ^ 0x00be_a000);
    for _ in 0..5 {
        code.push(char::from(LETTERS[(value & 31) as usize]));
        value >>= 5;
    }
    code
}

#[allow(clippy::too_many_arguments)]
fn simulate<S: Sink>(
    out: &mut Out<'_, S>,
    rng: &mut ChaCha8Rng,
    cafe: &Cafe,
    arrival_day: usize,
    number: u64,
    plan: &mut Vec<(i64, Step)>,
    truth: &mut CoffeeTruth,
) -> Result<(), S::Error> {
    let calendar = &cafe.calendar;
    let launched = arrival_day >= cafe.launch_day;
    let arrival = ARRIVALS[rng.weighted(if launched { &SHARES_AFTER } else { &SHARES_BEFORE })];
    let habit = [Habit::MorningRegular, Habit::WeekendTreat, Habit::RemoteWorker]
        [rng.weighted(&HABIT_SHARES)];
    let name = person_name(rng, number + 10_001);
    let loyalty = Identity {
        kind: trailmap_model::IdentityKind::External,
        value: format!("BT-L{}", number + 10_001),
    };
    let email = rng
        .chance(arrival.email_chance())
        .then(|| Identity { kind: trailmap_model::IdentityKind::Email, value: name.email.clone() });
    let subscribed = email.is_some() && rng.chance(0.8);

    // Plan the visits: the first on the arrival day, then gaps drawn from the visit rate, which
    // the loyalty programme raises for everyone once it runs.
    plan.clear();
    let first_time = visit_time(rng, calendar, habit, arrival_day);
    plan.push((first_time, Step::Visit { first: true }));
    let mut last_visit_day = arrival_day;
    if !rng.chance(arrival.one_visit_chance()) {
        let lifetime = rng.exponential(arrival.mean_lifetime_days()).max(7.0);
        let rate = habit.visits_per_week() * arrival.rate_factor();
        let mut at = arrival_day as f64;
        loop {
            let uplift = if at as usize >= cafe.launch_day { VISIT_RATE_UPLIFT } else { 1.0 };
            at += rng.exponential(7.0 / (rate * uplift)).max(0.6);
            let mut day = at.ceil() as usize;
            day = prefer_days(rng, calendar, habit, day);
            at = at.max(day as f64);
            if day as f64 > arrival_day as f64 + lifetime || day >= calendar.days() {
                break;
            }
            plan.push((visit_time(rng, calendar, habit, day), Step::Visit { first: false }));
            last_visit_day = day;
        }
    }
    if subscribed {
        // Newsletters go out on Thursdays from the week after joining until three months after
        // the last visit, when people stop reading or unsubscribe.
        let first_week = arrival_day / 7 + 1;
        let last_day = (last_visit_day + 90).min(calendar.days() - 1);
        for week in first_week..=last_day / 7 {
            let day = week * 7 + 5;
            if day < calendar.days() {
                plan.push((calendar.at(day, 7 * Timestamp::MS_PER_HOUR + 30 * Timestamp::MS_PER_MINUTE), Step::Newsletter { week }));
            }
        }
    }
    if rng.chance(0.04) {
        let day = rng.random_range(arrival_day..=last_visit_day.max(arrival_day));
        let minute = rng.random_range(10 * 60..16 * 60);
        plan.push((calendar.at(day, minute * Timestamp::MS_PER_MINUTE), Step::Call));
    }
    plan.sort_unstable();

    let anonymous = arrival.is_web().then(|| Identity {
        kind: trailmap_model::IdentityKind::Anonymous,
        value: format!("bt-web-{:016x}", rng.random::<u64>()),
    });
    let mut first_order_source = Some(arrival.source());
    let mut first_touch: Option<i64> = None;
    let mut visits = 0u32;
    for &(time, step) in plan.iter() {
        match step {
            Step::Visit { first: true } => {
                let touched = first_touch_events(
                    out, rng, cafe, arrival, &loyalty, email.as_ref(), anonymous.as_ref(), time, number, &name, habit,
                )?;
                first_touch = Some(touched);
                visits += 1;
                let paid = time + rng.seconds(30, 240);
                order(out, rng, cafe, &loyalty, paid, habit, &mut first_order_source, visits, truth)?;
            }
            Step::Visit { first: false } => {
                visits += 1;
                order(out, rng, cafe, &loyalty, time, habit, &mut first_order_source, visits, truth)?;
            }
            Step::Newsletter { week } => {
                if let Some(email) = email.as_ref() {
                    newsletter(out, rng, cafe, email, time, week, last_visit_day)?;
                }
            }
            Step::Call => {
                let mut call = event("call", time, &loyalty);
                call.source = text("phone");
                call.medium = text("phone");
                call.page = text("phone");
                let topic = *rng.pick(&["catering order", "opening hours", "lost property", "gift cards", "private event booking"]);
                call.properties.insert("topic".into(), json!(topic));
                call.properties.insert("duration_s".into(), json!(rng.random_range(40..400)));
                out.event(call, Vec::new())?;
            }
        }
    }

    if let Some(touched) = first_touch {
        let after = calendar.day_of(touched) >= cafe.launch_day;
        truth.new_customers.add(after, 1);
        truth.new_by_referral.add(after, u64::from(arrival == Arrival::Referral));
        truth.new_by_paid_social.add(after, u64::from(arrival == Arrival::PaidSocial));
    }

    if rng.chance(0.03) && !plan.is_empty() {
        let (time, _) = plan[rng.random_range(0..plan.len())];
        review(out, rng, time, &name.author, calendar.day_of(time) >= cafe.launch_day)?;
    }
    Ok(())
}

/// Moves a visit day to one that suits the habit: weekend treat-seekers come on Saturdays and
/// Sundays, regulars and remote workers mostly on weekdays.
fn prefer_days(rng: &mut ChaCha8Rng, calendar: &Calendar, habit: Habit, day: usize) -> usize {
    let mut day = day;
    match habit {
        Habit::WeekendTreat => {
            if rng.chance(0.85) {
                while day < calendar.days() && !calendar.is_weekend(day) {
                    day += 1;
                }
            }
        }
        Habit::MorningRegular | Habit::RemoteWorker => {
            if rng.chance(0.75) {
                while day < calendar.days() && calendar.is_weekend(day) {
                    day += 1;
                }
            }
        }
    }
    day
}

fn visit_time(rng: &mut ChaCha8Rng, calendar: &Calendar, habit: Habit, day: usize) -> i64 {
    let (open, close) = habit.window(calendar.is_weekend(day));
    let seconds = rng.random_range(open * 60..close * 60);
    calendar.at(day, seconds * Timestamp::MS_PER_SECOND)
}

/// Writes the events of the customer's first contact, registers the customer at the till, and
/// returns the time of the earliest event.
#[allow(clippy::too_many_arguments)]
fn first_touch_events<S: Sink>(
    out: &mut Out<'_, S>,
    rng: &mut ChaCha8Rng,
    cafe: &Cafe,
    arrival: Arrival,
    loyalty: &Identity,
    email: Option<&Identity>,
    anonymous: Option<&Identity>,
    visit: i64,
    number: u64,
    name: &super::PersonName,
    habit: Habit,
) -> Result<i64, S::Error> {
    let calendar = &cafe.calendar;
    let launched = calendar.day_of(visit) >= cafe.launch_day;
    let start = calendar.at(0, 0);
    let mut earliest = visit;

    // Web visitors look the café up first, as an anonymous phone browser.
    if let Some(anonymous) = anonymous {
        let lead = match arrival {
            Arrival::PaidSocial => rng.seconds(1_800, 72 * 3_600),
            Arrival::Yelp => rng.seconds(1_800, 48 * 3_600),
            Arrival::GoogleMaps => rng.seconds(300, 1_800),
            _ => rng.seconds(600, 5_400),
        };
        let at = (visit - lead).max(start);
        earliest = at;
        let month = calendar.day_of(at) * 12 / calendar.days();
        let mut view = event("page_view", at, anonymous);
        match arrival {
            Arrival::PaidSocial => {
                let source = if rng.chance(0.6) { "instagram" } else { "facebook" };
                view.source = text(source);
                view.medium = text("paid_social");
                view.campaign = text(catalog::COFFEE_SOCIAL_CAMPAIGNS[month.min(11)]);
                view.referrer = text(if source == "instagram" { "https://l.instagram.com/" } else { "https://m.facebook.com/" });
                view.page = text(if rng.chance(0.5) { "/offers/first-coffee" } else { "/" });
            }
            Arrival::PaidSearch => {
                view.source = text("google");
                view.medium = text("cpc");
                view.campaign = text("coffee-near-me");
                view.referrer = text("https://www.google.com/");
                view.page = text("/");
            }
            Arrival::GoogleMaps => {
                view.source = text("google");
                view.medium = text("organic");
                view.referrer = text("https://maps.google.com/");
                view.page = text("/visit-us");
            }
            Arrival::Yelp => {
                view.source = text("yelp.com");
                view.medium = text("referral");
                view.referrer = text("https://www.yelp.com/biz/bean-there-coffee-portland");
                view.page = text("/");
            }
            _ => {
                view.source = text("google");
                view.medium = text("organic");
                view.referrer = text("https://www.google.com/");
                view.page = pick_text(rng, &["/", "/menu", "/visit-us"]);
            }
        }
        out.event(view, Vec::new())?;
        if rng.chance(0.6) {
            let mut menu = event("page_view", at + rng.seconds(20, 180), anonymous);
            menu.page = text("/menu");
            out.event(menu, Vec::new())?;
        }
    }
    if arrival == Arrival::Newsletter
        && let Some(email) = email
    {
        // Signed up for the newsletter at a market stall; the welcome email brings them in.
        let opened = (visit - rng.seconds(86_400, 4 * 86_400)).max(start);
        earliest = opened;
        let mut open = event("email_open", opened, email);
        open.source = text("newsletter");
        open.medium = text("email");
        open.campaign = text("welcome-series");
        out.event(open, Vec::new())?;
        let mut click = event("email_click", opened + rng.seconds(10, 120), email);
        click.source = text("newsletter");
        click.medium = text("email");
        click.campaign = text("welcome-series");
        click.page = text("/menu");
        out.event(click, Vec::new())?;
    }

    // The till signs them up to the loyalty card on the first visit.
    let mut identities = vec![loyalty.clone()];
    identities.extend(email.cloned());
    let mut properties = Properties::new();
    properties.insert("city".into(), json!(*rng.pick(&catalog::COFFEE_CITIES)));
    properties.insert("age_band".into(), json!(*rng.pick(&catalog::AGE_BANDS)));
    properties.insert("visit_pattern".into(), json!(habit.pattern()));
    // Every loyalty member has a referral code: those who joined before the programme got theirs
    // at its launch, so a friend may cite any earlier customer's code.
    properties.insert("referral_code".into(), json!(referral_code(number)));
    out.customer(IncomingCustomer {
        identities,
        name: Some(name.full.clone()),
        first_seen: Some(Timestamp(earliest)),
        properties,
    })?;

    match arrival {
        Arrival::Referral | Arrival::WalkIn => {
            let mut visit_event = event("store_visit", visit, loyalty);
            visit_event.page = text("counter");
            if arrival == Arrival::Referral {
                visit_event.source = text("friend");
                visit_event.medium = text("referral");
                if launched && number > 0 {
                    let referrer = rng.random_range(0..number);
                    visit_event.properties.insert("referral_code".into(), json!(referral_code(referrer)));
                }
            } else {
                visit_event.source = text("walk-in");
                visit_event.medium = text("offline");
            }
            out.event(visit_event, email.cloned().into_iter().collect())?;
        }
        _ => {
            // Joining in the loyalty app on their phone ties the web visitor to the card: the one
            // row carries the loyalty id, the browser's anonymous id and the email.
            let mut join = event("loyalty_signup", visit, loyalty);
            join.page = text("/loyalty/join");
            join.properties.insert("via".into(), json!("app"));
            let mut aliases: Vec<Identity> = anonymous.cloned().into_iter().collect();
            aliases.extend(email.cloned());
            out.event(join, aliases)?;
        }
    }
    Ok(earliest)
}

/// One till order: a small basket that suits the customer's habit.
#[allow(clippy::too_many_arguments)]
fn order<S: Sink>(
    out: &mut Out<'_, S>,
    rng: &mut ChaCha8Rng,
    cafe: &Cafe,
    loyalty: &Identity,
    time: i64,
    habit: Habit,
    first_order_source: &mut Option<&'static str>,
    visits: u32,
    truth: &mut CoffeeTruth,
) -> Result<(), S::Error> {
    let mut lines: Vec<OrderLine> = Vec::with_capacity(4);
    let mut add = |item: &MenuItem, quantity: i64| {
        lines.push(OrderLine {
            sku: Some(item.sku.to_string()),
            name: item.name.to_string(),
            quantity,
            unit_price: usd(item.cents),
        });
    };
    match habit {
        Habit::MorningRegular => {
            add(rng.pick(&catalog::DRINKS[..6]), 1);
            if rng.chance(0.3) {
                add(rng.pick(&catalog::PASTRIES), 1);
            }
        }
        Habit::WeekendTreat => {
            add(rng.pick(&catalog::DRINKS), if rng.chance(0.4) { 2 } else { 1 });
            if rng.chance(0.8) {
                add(rng.pick(&catalog::PASTRIES), 1);
            }
        }
        Habit::RemoteWorker => {
            add(rng.pick(&catalog::DRINKS), 1);
            if rng.chance(0.5) {
                add(rng.pick(&catalog::FOOD), 1);
            } else if rng.chance(0.4) {
                add(rng.pick(&catalog::PASTRIES), 1);
            }
        }
    }
    if rng.chance(0.03) {
        add(rng.pick(&catalog::BEANS), 1);
    }
    let total: i64 = lines.iter().map(|l| l.unit_price.minor * l.quantity).sum();
    let after = cafe.calendar.day_of(time) >= cafe.launch_day;
    truth.orders.add(after, 1);
    truth.revenue_cents.add(after, total as u64);
    let external_id = format!("BT-{:07}", truth.orders.before + truth.orders.after);
    let mut properties = Properties::new();
    properties.insert("payment".into(), json!(*rng.pick(&["card", "card", "card", "apple_pay", "cash"])));
    properties.insert("visit_number".into(), json!(visits));
    let incoming = IncomingOrder {
        external_id: external_id.clone(),
        origin: String::new(),
        customer: vec![loyalty.clone()],
        time: Timestamp(time),
        total: usd(total),
        subtotal: Some(usd(total)),
        shipping: None,
        tax: None,
        discount: None,
        status: text("paid"),
        channel: text("in-store"),
        source: first_order_source.take().map(str::to_string),
        lines,
        properties,
    };
    out.order(incoming)?;

    // The receipt carries a QR code to the short survey; a few people answer it.
    if rng.chance(0.015) {
        let mood = match habit {
            Habit::MorningRegular => 0.86,
            Habit::WeekendTreat => 0.82,
            Habit::RemoteWorker => 0.74,
        } + if after { 0.03 } else { 0.0 };
        let nps = nps_score(rng, mood);
        let csat = csat_for(rng, nps);
        let answered = time + rng.seconds(600, 6 * 3_600);
        let questions = &cafe.survey.questions;
        let mut answers = vec![
            Answer { question: questions[0].id, value: AnswerValue::Number(f64::from(nps)) },
            Answer { question: questions[1].id, value: AnswerValue::Number(f64::from(csat)) },
        ];
        let comment = rng.chance(0.45).then(|| {
            let core = if nps >= 9 || (nps >= 7 && rng.chance(0.6)) {
                if after && rng.chance(0.25) {
                    *rng.pick(&catalog::COFFEE_REFERRAL_PRAISE)
                } else {
                    *rng.pick(&catalog::COFFEE_POSITIVE)
                }
            } else {
                *rng.pick(&catalog::COFFEE_NEGATIVE)
            };
            sentence(rng, core)
        });
        if let Some(comment) = &comment {
            answers.push(Answer { question: questions[2].id, value: AnswerValue::Text(comment.clone()) });
        }
        let mut hidden = BTreeMap::new();
        hidden.insert("loyalty_id".to_string(), loyalty.value.clone());
        hidden.insert("order_id".to_string(), external_id.clone());
        out.response(IncomingResponse {
            survey: cafe.survey.id,
            customer: vec![loyalty.clone()],
            submitted_at: Timestamp(answered),
            hidden,
            answers,
        })?;
        if let Some(comment) = comment {
            out.feedback(IncomingFeedback {
                kind: FeedbackKind::SurveyText,
                source: cafe.survey.name.clone(),
                external_id: Some(format!("survey-{external_id}")),
                customer: vec![loyalty.clone()],
                author: None,
                time: Timestamp(answered),
                rating: Some(f32::from(csat)),
                text: comment,
                link: None,
                touchpoint: text("Till purchase"),
                tags: Vec::new(),
            })?;
        }
    }
    Ok(())
}

fn newsletter<S: Sink>(
    out: &mut Out<'_, S>,
    rng: &mut ChaCha8Rng,
    cafe: &Cafe,
    email: &Identity,
    sent: i64,
    week: usize,
    last_visit_day: usize,
) -> Result<(), S::Error> {
    // Lapsed customers mostly ignore the newsletter.
    let lapsed = cafe.calendar.day_of(sent) > last_visit_day + 14;
    if !rng.chance(if lapsed { 0.12 } else { 0.38 }) {
        return Ok(());
    }
    let campaign = &cafe.newsletters[week.min(cafe.newsletters.len() - 1)];
    let opened = sent + (rng.exponential(3.0 * 3_600.0) as i64) * Timestamp::MS_PER_SECOND;
    let mut open = event("email_open", opened, email);
    open.source = text("newsletter");
    open.medium = text("email");
    open.campaign = Some(campaign.clone());
    out.event(open, Vec::new())?;
    if rng.chance(0.3) {
        let mut click = event("email_click", opened + rng.seconds(10, 120), email);
        click.source = text("newsletter");
        click.medium = text("email");
        click.campaign = Some(campaign.clone());
        click.page = text(if campaign.starts_with("refer") { "/loyalty/refer" } else { "/menu" });
        out.event(click, Vec::new())?;
    }
    Ok(())
}

fn review<S: Sink>(
    out: &mut Out<'_, S>,
    rng: &mut ChaCha8Rng,
    after_visit: i64,
    author: &str,
    launched: bool,
) -> Result<(), S::Error> {
    let rating = [5.0f32, 4.0, 3.0, 2.0, 1.0][rng.weighted(&[0.50, 0.28, 0.10, 0.07, 0.05])];
    let body = if rating >= 4.0 {
        let core = if launched && rng.chance(0.2) {
            *rng.pick(&catalog::COFFEE_REFERRAL_PRAISE)
        } else {
            *rng.pick(&catalog::COFFEE_POSITIVE)
        };
        sentence(rng, core)
    } else if rating >= 3.0 {
        format!("{}, but {}", rng.pick(&catalog::COFFEE_POSITIVE), rng.pick(&catalog::COFFEE_NEGATIVE).to_lowercase())
    } else {
        say(rng, &catalog::COFFEE_NEGATIVE)
    };
    let (source, link) = if rng.chance(0.6) {
        ("google", "https://maps.google.com/?cid=bean-there-coffee-portland")
    } else {
        ("yelp", "https://www.yelp.com/biz/bean-there-coffee-portland")
    };
    let time = after_visit + rng.seconds(3_600, 30 * 3_600);
    out.feedback(IncomingFeedback {
        kind: FeedbackKind::Review,
        source: source.to_string(),
        external_id: Some(format!("{source}-{:012x}", rng.random::<u64>() >> 16)),
        customer: Vec::new(),
        author: Some(author.to_string()),
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
        let campaign = catalog::COFFEE_SOCIAL_CAMPAIGNS[index.min(11)];
        for (source, dollars) in [("instagram", 900.0), ("facebook", 600.0)] {
            let amount = monthly_amount(rng, dollars * scale);
            out.spend(IncomingSpend {
                channel: "Paid Social".into(),
                source: text(source),
                campaign: text(campaign),
                start,
                end,
                amount,
            })?;
        }
        let amount = monthly_amount(rng, 300.0 * scale);
        out.spend(IncomingSpend {
            channel: "Paid Search".into(),
            source: text("google"),
            campaign: text("coffee-near-me"),
            start,
            end,
            amount,
        })?;
        if start >= launch_date() {
            // Free drinks given as referral rewards, costed as spend on the referral channel.
            let amount = monthly_amount(rng, 400.0 * scale);
            out.spend(IncomingSpend {
                channel: "Referral".into(),
                source: text("friend"),
                campaign: text("referral-rewards"),
                start,
                end,
                amount,
            })?;
        }
    }
    Ok(())
}

/// The touchpoint ids, by name, in creation order.
struct CafeTouchpoints {
    ads: TouchpointId,
    search: TouchpointId,
    referral: TouchpointId,
    walk_in: TouchpointId,
    loyalty: TouchpointId,
    till: TouchpointId,
    reviews: TouchpointId,
    phone: TouchpointId,
}

fn create_touchpoints<S: Sink>(
    out: &mut Out<'_, S>,
    stages: &[Stage],
) -> Result<CafeTouchpoints, S::Error> {
    let business = out.business;
    let stage = |position: usize| stages.get(position).map(|s| s.id);
    let mut make = |name: &str,
                    channel: TouchpointChannel,
                    position: usize,
                    online: bool,
                    rule: EventRule,
                    description: &str| {
        out.touchpoint(Touchpoint {
            id: TouchpointId(0),
            business,
            name: name.to_string(),
            channel,
            stage: stage(position),
            online,
            rule,
            description: description.to_string(),
        })
    };
    let one_of = |values: &[&str]| Op::OneOf(strings(values));
    Ok(CafeTouchpoints {
        ads: make(
            "Instagram & Facebook ads",
            TouchpointChannel::Ads,
            0,
            true,
            EventRule::named("page_view").and(EventField::Medium, Op::Equals("paid_social".into())),
            "Paid posts and stories; clicks land on the website with utm tags.",
        )?,
        search: make(
            "Google search & Maps",
            TouchpointChannel::Web,
            0,
            true,
            EventRule::named("page_view").and(EventField::Source, Op::Equals("google".into())),
            "People searching for coffee nearby, from search results or Maps.",
        )?,
        referral: make(
            "Friend referral",
            TouchpointChannel::Referral,
            0,
            false,
            EventRule::named("store_visit")
                .and(EventField::Source, Op::Equals("friend".into()))
                .and(EventField::Medium, Op::Equals("referral".into())),
            "A friend brings them or recommends us; after May 2026 with a referral code.",
        )?,
        walk_in: make(
            "Walk-in",
            TouchpointChannel::InStore,
            0,
            false,
            EventRule::named("store_visit").and(EventField::Medium, Op::Equals("offline".into())),
            "Passers-by who see the shop and come in.",
        )?,
        loyalty: make(
            "Loyalty app & newsletter",
            TouchpointChannel::Email,
            3,
            true,
            EventRule::default().and(EventField::Name, one_of(&["loyalty_signup", "email_open", "email_click"])),
            "The loyalty card in the app and the Thursday newsletter.",
        )?,
        till: make(
            "Till purchase",
            TouchpointChannel::InStore,
            2,
            false,
            EventRule::named("purchase"),
            "Every order at the counter.",
        )?,
        reviews: make(
            "Review sites",
            TouchpointChannel::Social,
            4,
            true,
            EventRule::named("page_view").and(EventField::Source, one_of(&["yelp.com", "tripadvisor.com"])),
            "Google and Yelp reviews, and visitors who come from them.",
        )?,
        phone: make(
            "Phone",
            TouchpointChannel::Phone,
            1,
            false,
            EventRule::named("call"),
            "Calls about catering, opening hours and events.",
        )?,
    })
}

fn create_personas<S: Sink>(out: &mut Out<'_, S>) -> Result<Vec<PersonaId>, S::Error> {
    let business = out.business;
    let pattern = |value: &str| CustomerCondition {
        field: CustomerField::Property("visit_pattern".into()),
        op: Op::Equals(value.into()),
        negate: false,
    };
    let personas = [
        Persona {
            id: PersonaId(0),
            business,
            name: "Morning Regular".into(),
            initials: None,
            photo: None,
            demographics: vec![
                ("Age".into(), "28-45".into()),
                ("Occupation".into(), "Office worker, nurse, teacher".into()),
                ("Lives".into(), "Within a mile, walks or cycles past".into()),
            ],
            goals: strings(&["Good coffee fast on the way to work", "Be recognised and not have to explain the order"]),
            frustrations: strings(&["Queues at 8am", "Mobile orders not ready on time"]),
            behaviours: strings(&["Visits two or three weekday mornings", "Same drink every time", "Uses the loyalty card"]),
            quote: text("If I'm in and out in three minutes, my day starts right."),
            segment: Some(CustomerRule {
                conditions: vec![
                    pattern("weekday_morning"),
                    CustomerCondition { field: CustomerField::Orders, op: Op::GreaterThan(10.0), negate: false },
                ],
            }),
        },
        Persona {
            id: PersonaId(0),
            business,
            name: "Weekend Treat-Seeker".into(),
            initials: None,
            photo: None,
            demographics: vec![
                ("Age".into(), "25-60".into()),
                ("Household".into(), "Couples and young families".into()),
                ("Lives".into(), "Across Portland, drives in".into()),
            ],
            goals: strings(&["A relaxed weekend ritual", "Something special: pastries, a new single origin"]),
            frustrations: strings(&["No free table on Saturday", "Pastries sold out by ten"]),
            behaviours: strings(&["Comes on Saturdays and Sundays", "Larger baskets with pastries", "Posts photos and reviews"]),
            quote: text("Saturday isn't Saturday without an almond croissant."),
            segment: Some(CustomerRule { conditions: vec![pattern("weekend")] }),
        },
        Persona {
            id: PersonaId(0),
            business,
            name: "Remote Worker".into(),
            initials: None,
            photo: None,
            demographics: vec![
                ("Age".into(), "24-40".into()),
                ("Occupation".into(), "Freelancer, designer, developer".into()),
                ("Lives".into(), "Nearby apartments".into()),
            ],
            goals: strings(&["A calm place to work for a few hours", "Lunch without leaving"]),
            frustrations: strings(&["Spotty wifi", "Loud music during calls", "Few power outlets"]),
            behaviours: strings(&["Weekday late mornings and afternoons", "Buys food with the coffee", "Stays two to four hours"]),
            quote: text("Good wifi and a refill and I'm set for the afternoon."),
            segment: Some(CustomerRule {
                conditions: vec![
                    pattern("weekday_daytime"),
                    CustomerCondition { field: CustomerField::Revenue, op: Op::GreaterThan(50.0), negate: false },
                ],
            }),
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
    tp: &CafeTouchpoints,
    personas: &[PersonaId],
) -> Result<CardRef, S::Error> {
    // Emotion per persona (Morning Regular, Weekend Treat-Seeker, Remote Worker) and stage.
    let emotions: [[f32; 3]; 5] = [
        [0.5, 1.0, 0.5],
        [0.5, 0.5, 0.0],
        [-0.5, 1.0, 0.5],
        [1.0, 1.0, -0.5],
        [1.5, 1.5, 0.5],
    ];
    let columns: [Column; 5] = [
        (
            &["Find good coffee near home or work"],
            &["Hears about us from a friend", "Walks past", "Sees an Instagram ad"],
            &["Is it worth the detour?"],
            &["Most ad money goes to Instagram, which brings few lasting customers"],
            &["Reward regulars for bringing friends"],
            vec![tp.referral, tp.walk_in, tp.ads, tp.search],
        ),
        (
            &["Know what's on the menu and when we're open"],
            &["Checks the menu online", "Calls to ask about catering"],
            &["Do they have oat milk?", "Will there be a seat?"],
            &["Opening hours on Google were out of date"],
            &["Keep Google Maps hours and menu current"],
            // Reading reviews on Yelp before a first visit is considering the café; writing
            // one (feedback on Review sites) is advocacy.
            vec![tp.search, tp.phone, tp.reviews],
        ),
        (
            &["Get the order quickly and right"],
            &["Orders at the counter", "Joins the loyalty card"],
            &["The line is long this morning"],
            &["Morning queues of 10+ minutes", "Card machine outages"],
            &["Second till at peak", "Pre-order in the loyalty app"],
            vec![tp.till, tp.loyalty],
        ),
        (
            &["Make the café part of the routine"],
            &["Comes back several times a week", "Reads the Thursday newsletter"],
            &["They know my order"],
            &["Remote workers leave over wifi and noise"],
            &["Quiet corner with outlets", "Stamp card rewards"],
            vec![tp.loyalty, tp.till],
        ),
        (
            &["Share a favourite place"],
            &["Brings friends", "Writes a review"],
            &["My friends should try this"],
            &["No reason or reward to refer"],
            &["Referral loyalty programme with codes"],
            vec![tp.referral, tp.reviews],
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
        name: "Bean There: from first coffee to regular".into(),
        kind: MapVersionKind::AsIs,
        owner: text("Maya Chen"),
        // Deliberately in the past: nobody has reviewed this map since the winter.
        review_date: Some(date(2026, 1, 15)),
        personas: personas.to_vec(),
        stages: map_stages,
        as_is: None,
    };
    // The cards get their ids here, as the app would number them, so the change can name the
    // action it answers and the action can name the change once it is made.
    map.number_items();
    let card_id = |map: &JourneyMap, text: &str| map.cards().find(|(_, _, c)| c.text == text).map_or(0, |(_, _, c)| c.id);
    let pain = card_id(&map, "No reason or reward to refer");
    let action = card_id(&map, "Referral loyalty programme with codes");
    for stage in &mut map.stages {
        for card in &mut stage.opportunities {
            if card.id == action {
                card.from = Some(pain);
                card.action = Some(CardAction { owner: "Maya Chen".into(), due: Some(launch_date()), change: None, kpi: text("new customers by referral"), done: true });
            }
        }
    }
    let id = out.map(map, "Maya Chen")?;
    Ok(CardRef { map: id, card: action })
}

fn create_survey<S: Sink>(
    out: &mut Out<'_, S>,
    stages: &[Stage],
    tp: &CafeTouchpoints,
) -> Result<Survey, S::Error> {
    let question = |text: &str, kind: QuestionKind, required: bool| Question {
        id: trailmap_model::QuestionId(0),
        text: text.to_string(),
        kind,
        required,
        skip: None,
    };
    out.survey(Survey {
        id: trailmap_model::SurveyId(0),
        business: out.business,
        name: "Receipt QR survey".into(),
        touchpoint: Some(tp.till),
        stage: stages.get(2).map(|s| s.id),
        questions: vec![
            question("How likely are you to recommend Bean There Coffee to a friend?", QuestionKind::Nps, true),
            question("How satisfied were you with today's visit?", QuestionKind::Csat, true),
            question("What's one thing we could do better?", QuestionKind::FreeText, false),
        ],
    })
}

fn create_change<S: Sink>(
    out: &mut Out<'_, S>,
    stages: &[Stage],
    tp: &CafeTouchpoints,
    answers: CardRef,
) -> Result<ChangeId, S::Error> {
    out.change(Change {
        id: ChangeId(0),
        business: out.business,
        title: "Referral loyalty programme".into(),
        description: "Every loyalty member gets a code; a friend who uses it gets a free drink and the \
                      member a stamp. Ad budget stays the same."
            .into(),
        date: launch_date(),
        touchpoints: vec![tp.referral, tp.loyalty],
        stages: stages.iter().filter(|s| s.position >= 3).map(|s| s.id).collect(),
        kpi: text("new customers by referral"),
        owner: text("Maya Chen"),
        // Friends arrive with medium=referral, which GA4's grouping calls "Referral".
        metric: Some(trailmap_model::ChangeMetric::NewCustomers { channel: Some("Referral".into()) }),
        answers: Some(answers),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn referral_codes_are_stable_and_distinct() {
        assert_eq!(referral_code(7), referral_code(7));
        assert_ne!(referral_code(7), referral_code(8));
        assert!(referral_code(0).starts_with("BEAN-"));
        assert_eq!(chrono::Datelike::weekday(&launch_date()), chrono::Weekday::Fri);
    }
}
