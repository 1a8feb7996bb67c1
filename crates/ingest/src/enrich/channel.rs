//! GA4's default channel grouping, rule for rule (see REFERENCE.md), with our two offline groups
//! tried first, and Google's source categories (search, social, shopping, video sites) kept as a
//! data file so the lists can grow without touching the rules.

use regex::Regex;
use rustc_hash::FxHashMap as HashMap;
use std::sync::LazyLock;
use trailmap_model::Channel;

const SEARCH: u8 = 1;
const SOCIAL: u8 = 2;
const SHOPPING: u8 = 4;
const VIDEO: u8 = 8;

/// One entry of the source-category list.
#[derive(Debug, Clone, Copy)]
struct Site {
    categories: u8,
    canonical: &'static str,
}

static SITES: LazyLock<HashMap<&'static str, Site>> = LazyLock::new(|| {
    let mut sites: HashMap<&'static str, Site> = HashMap::default();
    for line in include_str!("../../data/source_categories.tsv").lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let mut parts = line.split('\t');
        let (Some(category), Some(source)) = (parts.next(), parts.next()) else {
            continue;
        };
        // A host entry without a canonical name is known by its first label (`google.co.uk` is
        // google), so the referrer step records one source per site, not one per country.
        let canonical = parts
            .next()
            .unwrap_or_else(|| source.split('.').next().unwrap_or(source));
        let bit = match category {
            "search" => SEARCH,
            "social" => SOCIAL,
            "shopping" => SHOPPING,
            "video" => VIDEO,
            _ => continue,
        };
        let site = sites.entry(source).or_insert(Site {
            categories: 0,
            canonical,
        });
        site.categories |= bit;
    }
    sites
});

/// `^(.*cp.*|ppc|retargeting|paid.*)$`: the media GA4 counts as paid.
static PAID_MEDIUM: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)^(.*cp.*|ppc|retargeting|paid.*)$").expect("a valid regex"));
/// `^(.*(([^a-df-z]|^)shop|shopping).*)$`: the campaign names GA4 counts as shopping.
static SHOP_CAMPAIGN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(.*(([^a-df-z]|^)shop|shopping).*)$").expect("a valid regex")
});

/// The categories of a source and the entry that matched it. A source matches an entry exactly,
/// or, when it is a host name, when the entry's labels appear whole in it: `l.instagram.com`
/// matches `instagram`, `www.google.co.uk` matches `google`, but `bingo.com` does not match `bing`.
/// The longest matching entry gives the canonical name.
pub(crate) fn site_of(source: &str) -> Option<(u8, &'static str)> {
    let source = source.trim().trim_end_matches('.');
    let lower;
    let source = if source.bytes().any(|b| b.is_ascii_uppercase()) {
        lower = source.to_ascii_lowercase();
        lower.as_str()
    } else {
        source
    };
    if let Some(site) = SITES.get(source) {
        return Some((site.categories, site.canonical));
    }
    if !source.contains('.') {
        return None;
    }
    let labels: Vec<&str> = source.split('.').collect();
    let mut found: Option<(u8, &'static str, usize)> = None;
    for start in 0..labels.len() {
        let mut end_byte = 0;
        let start_byte: usize = labels[..start].iter().map(|l| l.len() + 1).sum();
        for (offset, label) in labels[start..].iter().enumerate() {
            end_byte = if offset == 0 {
                start_byte + label.len()
            } else {
                end_byte + 1 + label.len()
            };
            if let Some(site) = SITES.get(&source[start_byte..end_byte]) {
                let run = offset + 1;
                let (mask, canonical, best) = found.unwrap_or((0, site.canonical, 0));
                let canonical = if run > best {
                    site.canonical
                } else {
                    canonical
                };
                found = Some((mask | site.categories, canonical, best.max(run)));
            }
        }
    }
    found.map(|(mask, canonical, _)| (mask, canonical))
}

/// Classifies one (source, medium, campaign), uncached. Empty strings stand for absent values.
/// Rules are tried in GA4's order, first match wins, all comparisons ignoring case; our offline
/// groups come first so a till's `pos` medium is never mistaken for anything else.
pub fn classify(source: &str, medium: &str, campaign: &str) -> Channel {
    let source = source.trim().to_lowercase();
    let medium = medium.trim().to_lowercase();
    let campaign = campaign.trim().to_lowercase();
    let (s, m, c) = (source.as_str(), medium.as_str(), campaign.as_str());

    if matches!(
        m,
        "offline" | "in-store" | "in_store" | "instore" | "in store" | "pos" | "store"
    ) {
        return Channel::InStore;
    }
    if matches!(m, "phone" | "call") {
        return Channel::Phone;
    }
    if s == "(direct)" && matches!(m, "(not set)" | "(none)") {
        return Channel::Direct;
    }
    if c.contains("cross-network") {
        return Channel::CrossNetwork;
    }
    let categories = site_of(s).map_or(0, |(mask, _)| mask);
    let is = |bit: u8| categories & bit != 0;
    let paid = PAID_MEDIUM.is_match(m);
    let shop_campaign = SHOP_CAMPAIGN.is_match(c);
    if (is(SHOPPING) || shop_campaign) && paid {
        return Channel::PaidShopping;
    }
    if is(SEARCH) && paid {
        return Channel::PaidSearch;
    }
    if is(SOCIAL) && paid {
        return Channel::PaidSocial;
    }
    if is(VIDEO) && paid {
        return Channel::PaidVideo;
    }
    if matches!(
        m,
        "display" | "banner" | "expandable" | "interstitial" | "cpm"
    ) {
        return Channel::Display;
    }
    if paid {
        return Channel::PaidOther;
    }
    if is(SHOPPING) || shop_campaign {
        return Channel::OrganicShopping;
    }
    if is(SOCIAL)
        || matches!(
            m,
            "social" | "social-network" | "social-media" | "sm" | "social network" | "social media"
        )
    {
        return Channel::OrganicSocial;
    }
    if is(VIDEO) || m.contains("video") {
        return Channel::OrganicVideo;
    }
    if is(SEARCH) || m == "organic" {
        return Channel::OrganicSearch;
    }
    if matches!(m, "referral" | "app" | "link") {
        return Channel::Referral;
    }
    let email = |t: &str| matches!(t, "email" | "e-mail" | "e_mail" | "e mail");
    if email(s) || email(m) {
        return Channel::Email;
    }
    if m == "affiliate" {
        return Channel::Affiliates;
    }
    if m == "audio" {
        return Channel::Audio;
    }
    if s == "sms" || m == "sms" {
        return Channel::Sms;
    }
    if m.ends_with("push") || m.contains("mobile") || m.contains("notification") || s == "firebase"
    {
        return Channel::MobilePushNotifications;
    }
    Channel::Unassigned
}

/// The channel step with a cache: an import classifies the same few hundred (source, medium,
/// campaign) combinations millions of times, and the regexes cost more than a hash lookup.
#[derive(Debug, Default)]
pub struct ChannelRules {
    cache: HashMap<String, Channel>,
    key: String,
}

/// Past this many distinct combinations the cache starts again, so a file with a unique campaign
/// per row cannot grow it without bound.
const CACHE_LIMIT: usize = 100_000;

impl ChannelRules {
    pub fn new() -> ChannelRules {
        ChannelRules::default()
    }

    /// [`classify`], cached.
    pub fn classify(&mut self, source: &str, medium: &str, campaign: &str) -> Channel {
        self.key.clear();
        for part in [source, medium, campaign] {
            self.key.push_str(part);
            self.key.push('\u{0}');
        }
        if let Some(channel) = self.cache.get(&self.key) {
            return *channel;
        }
        let channel = classify(source, medium, campaign);
        if self.cache.len() >= CACHE_LIMIT {
            self.cache.clear();
        }
        self.cache.insert(self.key.clone(), channel);
        channel
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_match_whole_labels() {
        assert_eq!(site_of("l.instagram.com"), Some((SOCIAL, "instagram")));
        assert_eq!(site_of("m.facebook.com"), Some((SOCIAL, "facebook")));
        assert_eq!(site_of("www.google.co.uk").map(|s| s.1), Some("google"));
        assert_eq!(site_of("t.co"), Some((SOCIAL, "twitter")));
        assert_eq!(
            site_of("shopping.google.com"),
            Some((SHOPPING, "google-shopping"))
        );
        assert_eq!(
            site_of("www.shopping.google.com"),
            Some((SHOPPING | SEARCH, "google-shopping"))
        );
        assert_eq!(site_of("news.google.com"), Some((SEARCH, "google")));
        assert_eq!(site_of("bingo.com"), None);
        assert_eq!(site_of("example.com"), None);
        assert_eq!(site_of("YouTube"), Some((VIDEO, "youtube")));
    }

    #[test]
    fn the_data_file_has_hundreds_of_entries_in_every_category() {
        let count = |bit: u8| SITES.values().filter(|s| s.categories & bit != 0).count();
        assert!(SITES.len() > 300, "{}", SITES.len());
        assert!(
            count(SEARCH) > 50 && count(SOCIAL) > 100 && count(SHOPPING) > 50 && count(VIDEO) > 30
        );
    }

    #[test]
    fn the_cache_agrees_with_the_rules() {
        let mut rules = ChannelRules::new();
        for _ in 0..2 {
            assert_eq!(rules.classify("google", "cpc", ""), Channel::PaidSearch);
            assert_eq!(
                rules.classify("google", "organic", ""),
                Channel::OrganicSearch
            );
        }
        assert_eq!(rules.cache.len(), 2);
    }
}
