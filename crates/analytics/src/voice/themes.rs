//! Recurring themes in free text: key phrases found in many texts, grouped, each theme with how
//! many texts mention it, their average sentiment and example quotes, the most negative first.
//!
//! How a theme is found:
//! 1. Each text is cut into words (lower case, letters and digits, inner apostrophes kept);
//!    numbers and prices are dropped, plurals are made singular by simple suffix rules
//!    ("costs" → "cost", "dresses" → "dress"), and a few words customers use interchangeably
//!    are read as one (`SYNONYMS`: "delivery" → "shipping", "fee"/"charge" → "cost").
//! 2. Stop words ("the", "was", "my", ...) split the text into runs; every 1-, 2- and 3-word
//!    sequence inside a run is a candidate phrase. A phrase counts once per text. Domain stop
//!    words (`DOMAIN_STOP_WORDS`: "order", "product", "item", "thing", "really", ...) and the
//!    request's extra stop words ([`ThemeOptions::stop_words`]) never make a phrase alone, but
//!    stay inside longer phrases ("order status").
//! 3. Phrases in at least `min_count` texts are taken, most frequent first (longer first on a
//!    tie). Each joins the first cluster holding a phrase that shares its last word (its head:
//!    "shipping cost" and "cost") or contains it or is contained in it ("shipping" and "shipping
//!    cost"), or starts one; a cluster's texts are those of its phrases.
//! 4. Clusters become themes, the biggest first (more texts; on a tie, more phrases). A cluster
//!    whose texts are at least [`FOLD_SHARE_PERCENT`] (80%) inside a theme already made folds
//!    into the one holding the most of them instead: a phrase that (nearly) only ever comes with
//!    a theme, such as the product a shipping complaint names ("dress" in "loved the dress but
//!    the shipping cost killed it"), is part of that theme rather than a theme of its own, and
//!    never names it. A folded cluster does not widen the theme: its few texts outside it stay
//!    out (free to be in other themes), so the theme counts each text once. The 80% lets one
//!    text in five go elsewhere ("no size chart for this dress") without splitting the product
//!    word off as a theme that only repeats the shipping complaints. So does a cluster whose
//!    every text is already in some theme (it adds no text of its own), into the theme holding
//!    the most of them.
//! 5. A theme is named after its first phrase; its texts are those containing any of its joined
//!    (not folded) phrases; themes with fewer than `min_count` texts are dropped. Each phrase is
//!    listed with the number of the theme's texts it is found in.

use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use trailmap_model::CustomerId;

/// Words that carry no topic. The usual English list, with the contractions split the way the
/// tokeniser leaves them.
const STOP_WORDS: &[&str] = &[
    "a", "about", "above", "after", "again", "against", "all", "already", "also", "am", "an", "and", "any", "are",
    "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can",
    "could", "did", "do", "does", "doing", "don't", "down", "during", "each", "even", "ever", "every", "few",
    "for", "from", "further", "get", "got", "had", "has", "have", "having", "he", "her", "here", "hers",
    "herself", "him", "himself", "his", "how", "i", "i'd", "i'll", "i'm", "i've", "if", "in", "into", "is",
    "isn't", "it", "it's", "its", "itself", "just", "let", "me", "more", "most", "much", "my", "myself", "no",
    "nor", "not", "now", "of", "off", "on", "once", "one", "only", "or", "other", "our", "ours", "ourselves",
    "out", "over", "own", "same", "she", "should", "so", "some", "still", "such", "than", "that", "the",
    "their", "theirs", "them", "themselves", "then", "there", "these", "they", "this", "those", "through",
    "to", "too", "under", "until", "up", "us", "very", "was", "wasn't", "way", "we", "were", "what", "when",
    "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours",
    "yourself", "yourselves",
];

/// Words of a shop's feedback that name no topic by themselves: the purchase in general and
/// fillers. They never make a phrase alone (a theme called "order" says nothing) but stay inside
/// longer phrases ("order status", "wrong item").
pub const DOMAIN_STOP_WORDS: &[&str] = &[
    "order", "product", "item", "thing", "stuff", "purchase", "buy", "bought", "really", "actually",
    "bit", "lot", "quite", "pretty", "maybe", "today", "time",
];

/// The least share of a phrase's texts, in percent, that a theme must already hold for the phrase
/// to fold into it (see the module documentation).
pub const FOLD_SHARE_PERCENT: usize = 80;

/// Words customers use for the same thing, read as the word on the right.
const SYNONYMS: &[(&str, &str)] = &[
    ("delivery", "shipping"),
    ("postage", "shipping"),
    ("fee", "cost"),
    ("charge", "cost"),
    ("price", "cost"),
];

/// One text to find themes in, with its sentiment.
#[derive(Debug, Clone, PartialEq)]
pub struct ThemeDocument {
    /// The caller's name for the text (a feedback id), returned in [`Theme::documents`].
    pub id: String,
    pub customer: Option<CustomerId>,
    pub text: String,
    /// The VADER compound score of the text.
    pub compound: f64,
}

/// How themes are ranked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ThemeOrder {
    /// The lowest average compound score first.
    AverageSentiment,
    /// The most negative texts (compound -0.05 or less) first: how many complaints a theme
    /// carries, not how strongly each is worded.
    NegativeCount,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ThemeOptions {
    /// The fewest texts a phrase, and a theme, must be found in.
    pub min_count: usize,
    /// Example quotes per theme.
    pub examples: usize,
    /// Phrases kept per theme (the most frequent).
    pub phrases: usize,
    pub order: ThemeOrder,
    /// Extra words that never make a phrase alone, on top of [`DOMAIN_STOP_WORDS`] (a business's
    /// own product words, say). Read as texts are: any case, plurals and synonyms match.
    pub stop_words: Vec<String>,
}

impl Default for ThemeOptions {
    fn default() -> Self {
        ThemeOptions { min_count: 3, examples: 3, phrases: 8, order: ThemeOrder::AverageSentiment, stop_words: Vec::new() }
    }
}

/// A quote from a text of the theme.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Quote {
    pub id: String,
    pub text: String,
    pub compound: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Theme {
    /// The theme's most frequent phrase.
    pub label: String,
    /// The phrases grouped in it with the number of texts each is found in, most first.
    pub phrases: Vec<(String, u64)>,
    /// Texts mentioning the theme: the n of its figures.
    pub count: u64,
    /// Their average compound score.
    pub average_compound: f64,
    /// How many of them are negative (compound -0.05 or less).
    pub negative: u64,
    /// Example quotes, the most negative first, each text once.
    pub examples: Vec<Quote>,
    /// The ids of its texts, in input order.
    pub documents: Vec<String>,
    /// The known customers behind them, sorted, once each.
    pub customers: Vec<CustomerId>,
}

/// The words of a text as themes read them: lower case, numbers dropped, singular, synonyms
/// replaced, stop words kept (they cut phrases).
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let inner_apostrophe = (c == '\'' || c == '’')
            && !current.is_empty()
            && chars.get(i + 1).is_some_and(|next| next.is_alphabetic());
        if c.is_alphanumeric() || inner_apostrophe {
            current.extend(c.to_lowercase().map(|l| if l == '’' { '\'' } else { l }));
        } else {
            flush(&mut current, &mut out);
            // Punctuation ends a phrase as a stop word does.
            if !c.is_whitespace() {
                push_break(&mut out);
            }
        }
    }
    flush(&mut current, &mut out);
    out
}

/// Marks a phrase boundary, once however much punctuation there is.
fn push_break(out: &mut Vec<String>) {
    if out.last().is_none_or(|w| w != ",") {
        out.push(",".to_string());
    }
}

fn flush(current: &mut String, out: &mut Vec<String>) {
    if current.is_empty() {
        return;
    }
    let word = std::mem::take(current);
    if word.chars().any(|c| c.is_ascii_digit()) {
        // Prices, sizes and dates split phrases but are no topic of their own.
        push_break(out);
        return;
    }
    let word = word.strip_suffix("'s").map(str::to_string).unwrap_or(word);
    let word = singular(&word);
    let word = SYNONYMS.iter().find(|(from, _)| *from == word).map_or(word.clone(), |(_, to)| to.to_string());
    out.push(word);
}

/// A plural made singular by suffix rules good enough for grouping ("costs", "sizes", "dresses",
/// "categories"); words of three letters or fewer, and those ending in -ss, -us, -is, are kept.
fn singular(word: &str) -> String {
    if word.len() <= 3 || STOP_WORDS.contains(&word) {
        return word.to_string();
    }
    if let Some(stem) = word.strip_suffix("ies") {
        return format!("{stem}y");
    }
    for ending in ["sses", "shes", "ches", "xes"] {
        if word.ends_with(ending) {
            return word[..word.len() - 2].to_string();
        }
    }
    if word.ends_with("ss") || word.ends_with("us") || word.ends_with("is") {
        return word.to_string();
    }
    word.strip_suffix('s').unwrap_or(word).to_string()
}

/// The candidate phrases of a text (1 to 3 words within runs of non-stop words), once each;
/// a domain stop word is no phrase alone.
pub fn phrases(text: &str) -> BTreeSet<String> {
    phrases_without(text, &[])
}

/// [`phrases`], with `extra` (words as [`words`] reads them) also no phrase alone.
fn phrases_without(text: &str, extra: &[String]) -> BTreeSet<String> {
    let words = words(text);
    let mut found = BTreeSet::new();
    for run in words.split(|w| w == "," || STOP_WORDS.contains(&w.as_str()) || w.chars().count() < 2) {
        for length in 1..=3 {
            for window in run.windows(length) {
                if let [only] = window
                    && (DOMAIN_STOP_WORDS.contains(&only.as_str()) || extra.contains(only))
                {
                    continue;
                }
                found.insert(window.join(" "));
            }
        }
    }
    found
}

/// A request's extra stop words read as texts are (lower case, singular, synonyms), so
/// "Dresses" matches "dress".
fn normalised_stop_words(stop_words: &[String]) -> Vec<String> {
    stop_words.iter().flat_map(|w| words(w)).filter(|w| w != ",").collect()
}

/// Whether two phrases belong in one theme: the same head word, or one inside the other.
fn related(a: &str, b: &str) -> bool {
    let head = |p: &str| p.rsplit(' ').next().map(str::to_string);
    let inside = |small: &str, big: &str| format!(" {big} ").contains(&format!(" {small} "));
    head(a) == head(b) || inside(a, b) || inside(b, a)
}

/// A phrase in a theme, with the texts it is found in (for a folded phrase, some may be outside
/// the theme).
struct Member<'a> {
    phrase: &'a str,
    texts: BTreeSet<usize>,
}

/// A theme being built: its phrases, the first naming it, and the texts it covers so far.
struct Group<'a> {
    members: Vec<Member<'a>>,
    covered: BTreeSet<usize>,
}

/// The themes of `documents`, ranked as `options.order` says.
pub fn themes(documents: &[ThemeDocument], options: &ThemeOptions) -> Vec<Theme> {
    let min_count = options.min_count.max(1);
    let extra = normalised_stop_words(&options.stop_words);
    let per_document: Vec<BTreeSet<String>> = documents.iter().map(|d| phrases_without(&d.text, &extra)).collect();
    let mut frequency: HashMap<&str, u64> = HashMap::new();
    for found in &per_document {
        for phrase in found {
            *frequency.entry(phrase.as_str()).or_default() += 1;
        }
    }
    let mut frequent: Vec<(&str, u64)> = frequency.into_iter().filter(|&(_, n)| n >= min_count as u64).collect();
    frequent.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.split(' ').count().cmp(&a.0.split(' ').count())).then(a.0.cmp(b.0)));
    // First, related phrases make clusters, each with the texts of all its phrases.
    let mut clusters: Vec<Group> = Vec::new();
    for (phrase, _) in frequent {
        let texts: BTreeSet<usize> = (0..documents.len()).filter(|&i| per_document[i].contains(phrase)).collect();
        match clusters.iter().position(|g| g.members.iter().any(|m| related(m.phrase, phrase))) {
            Some(at) => {
                clusters[at].covered.extend(texts.iter().copied());
                clusters[at].members.push(Member { phrase, texts });
            }
            None => clusters.push(Group { covered: texts.clone(), members: vec![Member { phrase, texts }] }),
        }
    }
    // Then the biggest clusters become themes first (on a tie, the one with more phrases: a topic
    // customers word in several ways, "shipping", "shipping cost", "cost", leads a lone product
    // word that comes with it), and a cluster whose texts a theme already (nearly) holds folds
    // into the theme holding the most of them. The sort is stable: frequency order on a full tie.
    clusters.sort_by(|a, b| b.covered.len().cmp(&a.covered.len()).then(b.members.len().cmp(&a.members.len())));
    let mut groups: Vec<Group> = Vec::new();
    for cluster in clusters {
        // A cluster whose every text is already in some theme adds no text of its own: it is
        // the product or the wording of those themes' complaints, however it spreads over them.
        let adds_nothing = cluster.covered.iter().all(|i| groups.iter().any(|g| g.covered.contains(i)));
        let home = groups
            .iter()
            .enumerate()
            .filter(|(_, g)| g.covered.len() >= cluster.covered.len())
            .map(|(at, g)| (at, cluster.covered.intersection(&g.covered).count()))
            .filter(|&(_, shared)| adds_nothing || shared * 100 >= FOLD_SHARE_PERCENT * cluster.covered.len())
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
            .map(|(at, _)| at);
        match home {
            Some(at) => groups[at].members.extend(cluster.members),
            None => groups.push(cluster),
        }
    }
    let mut out: Vec<Theme> = groups
        .into_iter()
        .filter_map(|Group { members: phrases, covered }| {
            // Each phrase with the theme's texts it is in; the first phrase names the theme.
            let label = phrases.first().map(|m| m.phrase.to_string())?;
            let mut listed: Vec<(String, u64)> =
                phrases.iter().map(|m| (m.phrase.to_string(), m.texts.intersection(&covered).count() as u64)).collect();
            listed.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
            let members: Vec<usize> = covered.into_iter().collect();
            if members.len() < min_count {
                return None;
            }
            let count = members.len() as u64;
            let average_compound = members.iter().map(|&i| documents[i].compound).sum::<f64>() / count as f64;
            let negative = members.iter().filter(|&&i| documents[i].compound <= -0.05).count() as u64;
            let mut by_negativity = members.clone();
            by_negativity.sort_by(|&a, &b| documents[a].compound.total_cmp(&documents[b].compound).then(a.cmp(&b)));
            let mut examples: Vec<Quote> = Vec::new();
            for i in by_negativity {
                if examples.len() >= options.examples {
                    break;
                }
                let d = &documents[i];
                if !examples.iter().any(|q| q.text == d.text) {
                    examples.push(Quote { id: d.id.clone(), text: d.text.clone(), compound: d.compound });
                }
            }
            let mut customers: Vec<CustomerId> = members.iter().filter_map(|&i| documents[i].customer).collect();
            customers.sort_unstable();
            customers.dedup();
            Some(Theme {
                label,
                phrases: listed.into_iter().take(options.phrases).collect(),
                count,
                average_compound,
                negative,
                examples,
                documents: members.iter().map(|&i| documents[i].id.clone()).collect(),
                customers,
            })
        })
        .collect();
    match options.order {
        ThemeOrder::AverageSentiment => out.sort_by(|a, b| {
            a.average_compound.total_cmp(&b.average_compound).then(b.count.cmp(&a.count)).then(a.label.cmp(&b.label))
        }),
        ThemeOrder::NegativeCount => out.sort_by(|a, b| {
            b.negative
                .cmp(&a.negative)
                .then(a.average_compound.total_cmp(&b.average_compound))
                .then(a.label.cmp(&b.label))
        }),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lowered_singular_and_synonyms_read_as_one() {
        assert_eq!(
            words("The Delivery fees were $7.95, sizes vary!"),
            vec!["the", "shipping", "cost", "were", ",", "size", "vary", ","]
        );
        assert_eq!(words("I'm not sure; it's the dresses' fit"), vec!["i'm", "not", "sure", ",", "it", "the", "dress", ",", "fit"]);
    }

    #[test]
    fn phrases_stay_inside_runs_of_content_words() {
        let found: Vec<String> = phrases("Loved the dress but the shipping cost put me off").into_iter().collect();
        assert_eq!(found, vec!["cost", "cost put", "dress", "loved", "put", "shipping", "shipping cost", "shipping cost put"]);
    }

    #[test]
    fn related_phrases_share_a_head_or_contain_one_another() {
        assert!(related("shipping cost", "cost"));
        assert!(related("shipping", "shipping cost"));
        assert!(related("card", "card declined") && !related("card", "cardigan"));
        assert!(!related("size chart", "size guide"));
    }
}
