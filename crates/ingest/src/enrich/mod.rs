//! Enrichment: named steps that fill in what an event's row left out, run in this order by
//! [`Enricher::enrich`]:
//!
//! 1. [`bot`]: drop events from crawlers, by user agent;
//! 2. [`device`]: the device class (desktop, mobile, tablet) from the user agent, as the
//!    `device` property;
//! 3. [`referral`]: a referral code in the page URL (`?ref=` or `?referral=`) as the
//!    `referral_code` property, and medium `referral` when nothing else says where the visit came
//!    from;
//! 4. [`utm`]: take source, medium and campaign from the page URL's UTM tags and click ids;
//! 5. [`referrer`]: when there is still no source, derive one from the referrer;
//! 6. [`Enricher::channel`]: GA4's default channel grouping.
//!
//! They work on the model's [`Event`], not on file rows, so the HTTP tracking API can reuse them.

mod channel;
mod device;

pub use channel::{ChannelRules, classify};
pub use device::{DeviceClass, classify as device_class};

use std::fmt;
use trailmap_model::{Channel, Event};

/// The names of the steps, in the order they run.
pub const STEPS: [&str; 6] = ["bot", "device", "referral", "utm", "referrer", "channel"];

/// Why a row was skipped without being an error. The reader counts these
/// ([`crate::RecordReader::dropped`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DropReason {
    /// The user agent is a crawler's (the [`bot`] step).
    Bot,
    /// A Stripe charge that was not paid (failed, canceled, uncaptured): not an order.
    UnpaidCharge,
}

impl DropReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Bot => "bot",
            DropReason::UnpaidCharge => "unpaid charge",
        }
    }
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Runs all the steps, keeping the channel cache between events. One per import or per API worker.
#[derive(Debug, Default)]
pub struct Enricher {
    channels: ChannelRules,
}

impl Enricher {
    pub fn new() -> Enricher {
        Enricher::default()
    }

    /// Runs [`bot`], [`device`], [`referral`], [`utm`], [`referrer`] and [`Enricher::channel`] on
    /// one event. An error means the event should be dropped, for the reason given.
    pub fn enrich(
        &mut self,
        event: &mut Event,
        user_agent: Option<&str>,
    ) -> Result<(), DropReason> {
        if let Some(reason) = bot(user_agent) {
            return Err(reason);
        }
        device(event, user_agent);
        referral(event);
        let page_host = utm(event);
        referrer(event, page_host.as_deref());
        self.channel(event);
        Ok(())
    }

    /// Step `channel`: sets the event's channel by GA4's default channel grouping (see
    /// [`classify`]). A channel the file gave wins over the rules; when it is a GA4 name in another
    /// case it is respelled as GA4 spells it. An event with no source, medium or campaign at all
    /// (an offline event with nothing to classify) keeps no channel rather than "Unassigned".
    pub fn channel(&mut self, event: &mut Event) {
        if let Some(given) = &event.channel {
            if let Some(known) = Channel::parse(given) {
                event.channel = Some(known.as_str().to_string());
            }
            return;
        }
        if event.source.is_none() && event.medium.is_none() && event.campaign.is_none() {
            return;
        }
        let channel = self.channels.classify(
            event.source.as_deref().unwrap_or(""),
            event.medium.as_deref().unwrap_or(""),
            event.campaign.as_deref().unwrap_or(""),
        );
        event.channel = Some(channel.as_str().to_string());
    }
}

/// Step `bot`: a user agent that names itself a bot, crawler, spider or headless browser (or is one
/// of the well-known previewers) means the row is dropped with [`DropReason::Bot`]. No user agent
/// means a person.
pub fn bot(user_agent: Option<&str>) -> Option<DropReason> {
    let ua = user_agent?.to_ascii_lowercase();
    const MARKS: [&str; 6] = [
        "bot",
        "crawler",
        "spider",
        "headless",
        "slurp",
        "facebookexternalhit",
    ];
    MARKS
        .iter()
        .any(|m| ua.contains(m))
        .then_some(DropReason::Bot)
}

/// Step `device`: the device class of the user agent ([`device_class`]) as the event's `device`
/// property, unless the event has one already. Without a user agent nothing is set.
pub fn device(event: &mut Event, user_agent: Option<&str>) {
    if let Some(class) = device_class(user_agent) {
        event.properties.entry("device").or_insert_with(|| class.as_str().into());
    }
}

/// Step `referral`: a referral code in the page URL's query (`ref` or `referral`, the names
/// referral programmes and our snippet use) becomes the `referral_code` property, unless the event
/// has one already. A visit with a code and no UTM medium gets medium `referral`, so it is grouped
/// as a referral rather than a direct visit; UTM tags, when present, still say more.
pub fn referral(event: &mut Event) {
    let Some(query) = event.page.as_deref().and_then(query_of) else { return };
    // Most pages carry no code: a substring test spares them a second parse of the query.
    if !query.as_bytes().windows(3).any(|w| w.eq_ignore_ascii_case(b"ref")) {
        return;
    }
    let mut code = None;
    let mut has_medium = false;
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        let value = value.trim();
        match key.to_ascii_lowercase().as_str() {
            "ref" | "referral" if !value.is_empty() && code.is_none() => code = Some(value.to_string()),
            "utm_medium" if !value.is_empty() => has_medium = true,
            _ => {}
        }
    }
    let Some(code) = code else { return };
    event.properties.entry("referral_code").or_insert_with(|| code.into());
    if !has_medium && event.medium.is_none() {
        event.medium = Some("referral".to_string());
    }
}

/// Step `utm`: when the page has a query string, fills each of source, medium and campaign that is
/// still absent from `utm_source`, `utm_medium` and `utm_campaign`; a `gclid` (Google Ads click)
/// stands for source google, medium cpc, an `msclkid` for bing/cpc, and an `fbclid` for source
/// facebook. `utm_term` and `utm_content` go into properties when not there already. A page given
/// as a full URL is stored as its path (no scheme, host, query or fragment), so `/pricing` from
/// two sources is one page. Returns the page's host, which the referrer step needs to recognise
/// internal referrers.
pub fn utm(event: &mut Event) -> Option<String> {
    let page = event.page.as_deref()?;
    let is_url =
        page.starts_with("http://") || page.starts_with("https://") || page.starts_with("//");
    if !is_url && !page.contains('?') {
        return None;
    }
    let page = page.to_string();
    if let Some(query) = query_of(&page) {
        let (mut source, mut medium, mut campaign) = (None, None, None);
        let (mut click_source, mut click_medium) = (None, None);
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            match key.to_ascii_lowercase().as_str() {
                "utm_source" => source = Some(value.to_string()),
                "utm_medium" => medium = Some(value.to_string()),
                "utm_campaign" => campaign = Some(value.to_string()),
                k @ ("utm_term" | "utm_content") => {
                    event.properties.entry(k).or_insert_with(|| value.into());
                }
                "gclid" | "gbraid" | "wbraid" => {
                    (click_source, click_medium) = (Some("google"), Some("cpc"))
                }
                "msclkid" => (click_source, click_medium) = (Some("bing"), Some("cpc")),
                "fbclid" if click_source.is_none() => click_source = Some("facebook"),
                _ => {}
            }
        }
        if source.is_none()
            && let Some(s) = click_source
        {
            source = Some(s.to_string());
            medium = medium.or(click_medium.map(str::to_string));
        }
        fill(&mut event.source, source);
        fill(&mut event.medium, medium);
        fill(&mut event.campaign, campaign);
    }
    if !is_url {
        return None;
    }
    let (host, path) = split_url(&page);
    event.page = Some(path.to_string());
    Some(host)
}

/// Step `referrer`: when the event still has no source, derives one from the referrer's host: a
/// search engine gives (its name, "organic"); a social, shopping or video site gives (its name,
/// "referral"), which the channel rules then place by the site's category; any other host gives
/// (host, "referral"). A referrer on the page's own host is internal and counts as none. With no
/// (external) referrer, a web event (one with a page) and no medium or campaign is
/// ("(direct)", "(none)"); an offline event keeps no source at all.
pub fn referrer(event: &mut Event, page_host: Option<&str>) {
    if event.source.is_some() {
        return;
    }
    let host = event.referrer.as_deref().and_then(host_of);
    let external = host.filter(|h| page_host.is_none_or(|p| strip_www(p) != h.as_str()));
    match external {
        Some(host) => {
            let (source, medium) = match channel::site_of(&host) {
                Some((categories, name)) if categories & 1 != 0 => (name.to_string(), "organic"),
                Some((_, name)) => (name.to_string(), "referral"),
                None => (host, "referral"),
            };
            event.source = Some(source);
            if event.medium.is_none() {
                event.medium = Some(medium.to_string());
            }
        }
        None => {
            if event.page.is_some() && event.medium.is_none() && event.campaign.is_none() {
                event.source = Some("(direct)".to_string());
                event.medium = Some("(none)".to_string());
            }
        }
    }
}

fn fill(slot: &mut Option<String>, value: Option<String>) {
    if slot.is_none() {
        *slot = value;
    }
}

/// The query string of a URL or path, without the fragment.
fn query_of(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once('?')?;
    Some(rest.split('#').next().unwrap_or(rest))
}

/// Splits a full URL into its lower-cased host (no port, no `www.`) and its path (`/` when empty).
fn split_url(url: &str) -> (String, &str) {
    let rest = url.split_once("//").map_or(url, |(_, r)| r);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = clean_host(&rest[..end]);
    let path = &rest[end..];
    let path = path.split(['?', '#']).next().unwrap_or("");
    (host, if path.is_empty() { "/" } else { path })
}

/// The host of a referrer given as a URL or as a bare host name; None when there is none.
fn host_of(referrer: &str) -> Option<String> {
    let r = referrer.trim();
    if r.is_empty() {
        return None;
    }
    let (host, _) = split_url(r);
    (!host.is_empty() && !host.contains(' ')).then_some(host)
}

fn clean_host(authority: &str) -> String {
    let host = authority.rsplit('@').next().unwrap_or(authority);
    let host = host.split(':').next().unwrap_or(host);
    strip_www(&host.to_ascii_lowercase()).to_string()
}

fn strip_www(host: &str) -> &str {
    host.strip_prefix("www.").unwrap_or(host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use trailmap_model::{Identity, Timestamp};

    fn event(page: Option<&str>, referrer: Option<&str>) -> Event {
        Event {
            referrer: referrer.map(str::to_string),
            page: page.map(str::to_string),
            ..Event::new("page_view", Timestamp(0), Identity::anonymous("v1").unwrap())
        }
    }

    fn enriched(page: Option<&str>, referrer: Option<&str>) -> Event {
        let mut e = event(page, referrer);
        Enricher::new().enrich(&mut e, None).unwrap();
        e
    }

    #[test]
    fn utm_tags_fill_the_source_and_the_page_becomes_a_path() {
        let e = enriched(
            Some(
                "https://shop.example.com/spring?utm_source=Newsletter&utm_medium=email&utm_campaign=spring%20sale&utm_content=hero#top",
            ),
            None,
        );
        assert_eq!(e.source.as_deref(), Some("Newsletter"));
        assert_eq!(e.medium.as_deref(), Some("email"));
        assert_eq!(e.campaign.as_deref(), Some("spring sale"));
        assert_eq!(e.page.as_deref(), Some("/spring"));
        assert_eq!(
            e.properties.get("utm_content"),
            Some(&serde_json::json!("hero"))
        );
        assert_eq!(e.channel.as_deref(), Some("Email"));
    }

    #[test]
    fn click_ids_stand_for_paid_clicks() {
        let e = enriched(Some("https://example.com/?gclid=abc"), None);
        assert_eq!(
            (e.source.as_deref(), e.medium.as_deref()),
            (Some("google"), Some("cpc"))
        );
        assert_eq!(e.channel.as_deref(), Some("Paid Search"));
        let e = enriched(Some("https://example.com/?fbclid=xyz"), None);
        assert_eq!(
            (e.source.as_deref(), e.medium.as_deref()),
            (Some("facebook"), None)
        );
        assert_eq!(e.channel.as_deref(), Some("Organic Social"));
        assert_eq!(e.page.as_deref(), Some("/"));
    }

    #[test]
    fn referrers_become_sources() {
        let e = enriched(Some("/"), Some("https://www.google.co.uk/search?q=boots"));
        assert_eq!(
            (e.source.as_deref(), e.medium.as_deref()),
            (Some("google"), Some("organic"))
        );
        assert_eq!(e.channel.as_deref(), Some("Organic Search"));
        let e = enriched(Some("/"), Some("https://l.instagram.com/?u=x"));
        assert_eq!(
            (e.source.as_deref(), e.medium.as_deref()),
            (Some("instagram"), Some("referral"))
        );
        assert_eq!(e.channel.as_deref(), Some("Organic Social"));
        let e = enriched(Some("/"), Some("https://blog.example.org:8080/post"));
        assert_eq!(
            (e.source.as_deref(), e.medium.as_deref()),
            (Some("blog.example.org"), Some("referral"))
        );
        assert_eq!(e.channel.as_deref(), Some("Referral"));
    }

    #[test]
    fn no_referrer_is_direct_for_web_events_only() {
        let e = enriched(Some("/pricing"), None);
        assert_eq!(
            (e.source.as_deref(), e.medium.as_deref()),
            (Some("(direct)"), Some("(none)"))
        );
        assert_eq!(e.channel.as_deref(), Some("Direct"));
        let e = enriched(Some("https://www.shop.com/a"), Some("https://shop.com/b"));
        assert_eq!(
            e.source.as_deref(),
            Some("(direct)"),
            "a referrer on the page's own host is internal"
        );
        let e = enriched(None, None);
        assert_eq!((e.source, e.medium, e.channel), (None, None, None));
    }

    #[test]
    fn the_files_channel_wins_and_is_respelled() {
        let mut e = event(Some("/?utm_source=google&utm_medium=cpc"), None);
        e.channel = Some("organic social".into());
        Enricher::new().enrich(&mut e, None).unwrap();
        assert_eq!(e.channel.as_deref(), Some("Organic Social"));
        let mut e = event(None, None);
        e.channel = Some("Till".into());
        Enricher::new().enrich(&mut e, None).unwrap();
        assert_eq!(e.channel.as_deref(), Some("Till"));
    }

    #[test]
    fn referral_codes_and_device_classes_become_properties() {
        let e = enriched(Some("https://cafe.example/?ref=ANNA-12"), None);
        assert_eq!(e.properties.get("referral_code"), Some(&serde_json::json!("ANNA-12")));
        assert_eq!(e.medium.as_deref(), Some("referral"));
        assert_eq!(e.channel.as_deref(), Some("Referral"));
        assert_eq!(e.page.as_deref(), Some("/"));
        // UTM tags say more than the code: the code is kept, the channel is the campaign's.
        let e = enriched(Some("https://cafe.example/?referral=BOB&utm_source=news&utm_medium=email"), None);
        assert_eq!(e.properties.get("referral_code"), Some(&serde_json::json!("BOB")));
        assert_eq!(e.channel.as_deref(), Some("Email"));
        // A code the sender set wins; an empty code is none.
        let mut e = event(Some("/?ref=URL"), None);
        e.properties.insert("referral_code".into(), "GIVEN".into());
        Enricher::new().enrich(&mut e, None).unwrap();
        assert_eq!(e.properties.get("referral_code"), Some(&serde_json::json!("GIVEN")));
        let e = enriched(Some("/?ref="), None);
        assert_eq!((e.properties.get("referral_code"), e.channel.as_deref()), (None, Some("Direct")));

        let mut e = event(Some("/"), None);
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) Mobile/15E148 Safari/604.1";
        Enricher::new().enrich(&mut e, Some(iphone)).unwrap();
        assert_eq!(e.properties.get("device"), Some(&serde_json::json!("mobile")));
        let e = enriched(Some("/"), None);
        assert_eq!(e.properties.get("device"), None);
    }

    #[test]
    fn bots_are_dropped() {
        for ua in [
            "Googlebot/2.1 (+http://www.google.com/bot.html)",
            "Mozilla/5.0 HeadlessChrome/119",
            "Baiduspider",
            "AhrefsCrawler",
        ] {
            assert_eq!(bot(Some(ua)), Some(DropReason::Bot), "{ua}");
        }
        assert_eq!(
            bot(Some(
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Safari/605.1.15"
            )),
            None
        );
        assert_eq!(bot(None), None);
        let mut e = event(Some("/"), None);
        assert_eq!(
            Enricher::new().enrich(&mut e, Some("bingbot/2.0")),
            Err(DropReason::Bot)
        );
    }
}
