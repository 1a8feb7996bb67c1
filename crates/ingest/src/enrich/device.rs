//! Step `device`: the class of device an event came from, read from the user agent with a small
//! rule set (the tokens browsers and crawlers put in their user agents), so reports can split
//! desktop, mobile and tablet visitors without a database of devices.

use std::fmt;

/// The class of device behind a user agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceClass {
    Desktop,
    Mobile,
    Tablet,
    Bot,
}

impl DeviceClass {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceClass::Desktop => "desktop",
            DeviceClass::Mobile => "mobile",
            DeviceClass::Tablet => "tablet",
            DeviceClass::Bot => "bot",
        }
    }
}

impl fmt::Display for DeviceClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Classifies a user agent; None when there is none (an offline event, a server-side call).
///
/// The rules, in order: crawler marks (the same as the `bot` step) are a bot; an iPad, a Kindle or
/// Silk, a "Tablet" token, or Android without "Mobile" (Google's rule for Android tablets) is a
/// tablet; "Mobi" (Mozilla's advice: it covers "Mobile" and "Mobi"), an iPhone or iPod, Windows
/// Phone, BlackBerry and Opera Mini are mobile; everything else is a desktop. An iPad asking for
/// the desktop site says "Macintosh" and counts as a desktop: its user agent cannot tell.
pub fn classify(user_agent: Option<&str>) -> Option<DeviceClass> {
    let ua = user_agent?.trim();
    if ua.is_empty() {
        return None;
    }
    if super::bot(Some(ua)).is_some() {
        return Some(DeviceClass::Bot);
    }
    let ua = ua.to_ascii_lowercase();
    let has = |token: &str| ua.contains(token);
    if has("ipad") || has("tablet") || has("kindle") || has("silk/") || (has("android") && !has("mobi")) {
        return Some(DeviceClass::Tablet);
    }
    if has("mobi") || has("iphone") || has("ipod") || has("windows phone") || has("blackberry") || has("opera mini") {
        return Some(DeviceClass::Mobile);
    }
    Some(DeviceClass::Desktop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_user_agents_are_classified() {
        let cases = [
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", DeviceClass::Desktop),
            ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15", DeviceClass::Desktop),
            ("Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0", DeviceClass::Desktop),
            ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1", DeviceClass::Mobile),
            ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36", DeviceClass::Mobile),
            ("Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0", DeviceClass::Mobile),
            ("Opera/9.80 (J2ME/MIDP; Opera Mini/9.80 (S60; SymbOS; Opera Mobi/23.348; U; en) Presto/2.5.25 Version/10.54", DeviceClass::Mobile),
            ("Mozilla/5.0 (iPad; CPU OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1", DeviceClass::Tablet),
            ("Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", DeviceClass::Tablet),
            ("Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/120.3.1 like Chrome/120.0.0.0 Safari/537.36", DeviceClass::Tablet),
            ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", DeviceClass::Bot),
            ("Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36 (compatible; Googlebot/2.1)", DeviceClass::Bot),
        ];
        for (ua, expected) in cases {
            assert_eq!(classify(Some(ua)), Some(expected), "{ua}");
        }
        assert_eq!(classify(None), None);
        assert_eq!(classify(Some("  ")), None);
        assert_eq!(DeviceClass::Tablet.to_string(), "tablet");
    }
}
