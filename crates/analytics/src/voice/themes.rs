//! Recurring themes in free text: key phrases scored by RAKE, grouped by their Snowball stems,
//! each theme with how many texts hold it, their average sentiment and quotes, the most negative
//! first. Pure computation: the stop-word list and the stemmer are data compiled in.
//!
//! Key phrases are RAKE's (Rapid Automatic Keyword Extraction: S. Rose, D. Engel, N. Cramer and
//! W. Cowley, "Automatic keyword extraction from individual documents", in *Text Mining:
//! Applications and Theory*, Wiley, 2010, pp. 1–20):
//! 1. A text is cut into candidate phrases at punctuation, numbers and stop words: each run of
//!    content words between them is one candidate ("Loved the dress but the shipping cost killed
//!    it" gives "loved", "dress", "shipping cost killed").
//! 2. Each word is scored deg(w)/freq(w): freq is how often it occurs in candidates, deg the sum
//!    of the lengths of the candidates it occurs in (its co-occurrences, itself included), so a
//!    word that lives in longer phrases scores higher than one standing alone.
//! 3. A candidate's score is the sum of its words' scores. [`rake`] is the method as the paper
//!    states it, checked against the paper's worked example (its Figures 1.1 to 1.6).
//!
//! Here the whole set of texts is RAKE's document, and words are compared by their stems
//! (Snowball's English stemmer through `rust-stemmers`: "costs" and "cost", "sizing" and
//! "sizes"), after a few words customers use for the same thing are read as one (`SYNONYMS`:
//! "delivery" as "shipping", "fee" and "charge" as "cost"). The stop words are the Stopwords ISO
//! English list (the `stop-words` crate, 1,298 words) less the words of it that name what a
//! customer talks about (`TOPIC_WORDS`: "line", "free", "website", ...).
//!
//! Themes from key phrases:
//! 1. A stem is a key stem when at least `min_count` texts hold it; shop words that name no topic
//!    alone (`DOMAIN_STOP_WORDS`: "product", "item", ...) and the request's extra stop words
//!    ([`ThemeOptions::stop_words`]) never are, though they stay inside phrases.
//! 2. Key stems sharing a key phrase held by at least `min_count` texts are one group ("shipping
//!    cost" joins "shipping" and "cost"): phrases sharing stems make one theme. A group's texts
//!    are those holding any of its stems.
//! 3. Groups become themes, the biggest first. A group whose texts are at least
//!    [`FOLD_SHARE_PERCENT`] (80%) inside a theme already made folds into it instead (the
//!    product a shipping complaint names, "dress" in "loved the dress but the shipping cost
//!    killed it", is part of that theme, not one of its own), and so does a group whose every
//!    text is already in some theme; a folded group does not widen the theme.
//! 4. A theme held by fewer than `min_count` texts is not shown: the threshold is stated with
//!    every answer. Its phrases are the key phrases holding its stems, each with the number of
//!    the theme's texts holding it (inside a longer candidate too) and its RAKE score; the most
//!    held phrase names the theme (on a tie, the higher RAKE score).

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::OnceLock;
use trailmap_model::CustomerId;

/// Words of a shop's feedback that name no topic by themselves. They never found a theme or
/// make a phrase alone (a theme called "product" says nothing) but stay inside longer phrases
/// ("product page").
pub const DOMAIN_STOP_WORDS: &[&str] = &[
    "order", "product", "item", "thing", "stuff", "purchase", "buy", "bought", "really", "actually",
    "bit", "lot", "quite", "pretty", "maybe", "today", "time",
];

/// Words of the Stopwords ISO English list that name what a customer talks about, so they are
/// read as content words: the list is made for documents in general, where "line", "free",
/// "website" or "problem" carry little, while in feedback they are the complaint ("the line is
/// too long", "free shipping", "the website kept logging me out").
pub const TOPIC_WORDS: &[&str] = &[
    "bill", "computer", "free", "help", "home", "information", "line", "page", "pages", "problem", "problems",
    "room", "rooms", "site", "system", "value", "web", "webpage", "website", "work", "working", "world",
];

/// The least share of a group's texts, in percent, that a theme must already hold for the group
/// to fold into it (see the module documentation).
pub const FOLD_SHARE_PERCENT: usize = 80;

/// Words customers use for the same thing, read as the word on the right (compared as stems).
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
    /// The fewest texts a key stem, a linking phrase and a theme must be found in: the threshold
    /// under which a theme is not shown.
    pub min_count: usize,
    /// Example quotes per theme.
    pub examples: usize,
    /// Phrases kept per theme (the most held).
    pub phrases: usize,
    pub order: ThemeOrder,
    /// Extra words that never found a theme or make a phrase alone, on top of
    /// [`DOMAIN_STOP_WORDS`] (a business's own product words, say). Compared by stem, so
    /// "Dresses" matches "dress".
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

/// A key phrase of a theme.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThemePhrase {
    /// As customers most often write it, in lower case.
    pub phrase: String,
    /// The theme's texts holding it (alone or inside a longer candidate).
    pub texts: u64,
    /// Its RAKE score over all the texts read (the sum of its words' deg/freq).
    pub score: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Theme {
    /// The theme's most held key phrase.
    pub label: String,
    /// Its key phrases, the most held first (the higher RAKE score on a tie).
    pub phrases: Vec<ThemePhrase>,
    /// Texts holding the theme: the n of its figures.
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

/// The stop words: Stopwords ISO's English list less [`TOPIC_WORDS`].
fn stop_list() -> &'static HashSet<&'static str> {
    static LIST: OnceLock<HashSet<&'static str>> = OnceLock::new();
    LIST.get_or_init(|| stop_words::get("en").iter().copied().filter(|w| !TOPIC_WORDS.contains(w)).collect())
}

/// Whether themes read `word` (lower case) as a stop word; "i'm" is looked up as "im" too, as the
/// list writes some contractions without their apostrophe.
pub fn is_stop_word(word: &str) -> bool {
    let list = stop_list();
    list.contains(word) || (word.contains('\'') && list.contains(word.replace('\'', "").as_str()))
}

fn stemmer() -> &'static rust_stemmers::Stemmer {
    static STEMMER: OnceLock<rust_stemmers::Stemmer> = OnceLock::new();
    STEMMER.get_or_init(|| rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English))
}

/// A word as themes compare it: its Snowball stem, a synonym's stem read as its word's.
pub fn stem(word: &str) -> String {
    static SYNONYM_STEMS: OnceLock<Vec<(String, String)>> = OnceLock::new();
    let synonyms = SYNONYM_STEMS.get_or_init(|| {
        SYNONYMS.iter().map(|(from, to)| (stemmer().stem(from).into_owned(), stemmer().stem(to).into_owned())).collect()
    });
    let stemmed = stemmer().stem(word).into_owned();
    synonyms.iter().find(|(from, _)| *from == stemmed).map_or(stemmed, |(_, to)| to.clone())
}

/// The words of a text: lower case, letters and digits with inner apostrophes ("’" read as
/// "'"), a possessive "'s" dropped; "," marks each break (punctuation, or a word holding a digit:
/// prices, sizes and dates cut phrases but are no topic).
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
        push_break(out);
        return;
    }
    out.push(word.strip_suffix("'s").map(str::to_string).unwrap_or(word));
}

/// RAKE's candidate phrases of a text (step 1): the runs of words between breaks and stop words,
/// each a list of its words as written (lower case). Words of one letter break runs too.
pub fn candidates(text: &str) -> Vec<Vec<String>> {
    words(text)
        .split(|w| w == "," || w.chars().count() < 2 || is_stop_word(w))
        .filter(|run| !run.is_empty())
        .map(<[String]>::to_vec)
        .collect()
}

/// RAKE's word scores (step 2) over a document's candidates: deg(w)/freq(w) for each word.
pub fn rake_word_scores<S: AsRef<str>>(candidates: &[Vec<S>]) -> HashMap<String, f64> {
    let mut degree: HashMap<&str, usize> = HashMap::new();
    let mut frequency: HashMap<&str, usize> = HashMap::new();
    for candidate in candidates {
        for word in candidate {
            *degree.entry(word.as_ref()).or_default() += candidate.len();
            *frequency.entry(word.as_ref()).or_default() += 1;
        }
    }
    degree.into_iter().map(|(w, d)| (w.to_string(), d as f64 / frequency[w] as f64)).collect()
}

/// RAKE over one document as the paper states it: candidates cut at punctuation and the given
/// stop words (lower case, no stemming), each distinct candidate with its score (the sum of its
/// words' deg/freq), the highest first (then alphabetical).
pub fn rake(text: &str, stop_words: &HashSet<&str>) -> Vec<(String, f64)> {
    let candidates: Vec<Vec<String>> = words(text)
        .split(|w| w == "," || stop_words.contains(w.as_str()))
        .filter(|run| !run.is_empty())
        .map(<[String]>::to_vec)
        .collect();
    let scores = rake_word_scores(&candidates);
    let distinct: BTreeMap<String, f64> =
        candidates.iter().map(|c| (c.join(" "), c.iter().map(|w| scores[w.as_str()]).sum())).collect();
    let mut out: Vec<(String, f64)> = distinct.into_iter().collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

/// Union-find over key stems, by index.
fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// A group of key stems on its way to a theme: the stems joined by phrases, those folded in,
/// and the texts it covers.
struct Group {
    joined: BTreeSet<String>,
    folded: BTreeSet<String>,
    covered: BTreeSet<usize>,
}

/// The themes of `documents`, ranked as `options.order` says.
pub fn themes(documents: &[ThemeDocument], options: &ThemeOptions) -> Vec<Theme> {
    let min_count = options.min_count.max(1);
    let no_topic: BTreeSet<String> = DOMAIN_STOP_WORDS
        .iter()
        .map(|w| stem(w))
        .chain(options.stop_words.iter().flat_map(|w| words(w)).filter(|w| w != ",").map(|w| stem(&w)))
        .collect();
    // Each text's candidates as stems, with the way each was written.
    let per_document: Vec<Vec<(Vec<String>, String)>> = documents
        .iter()
        .map(|d| candidates(&d.text).into_iter().map(|c| (c.iter().map(|w| stem(w)).collect(), c.join(" "))).collect())
        .collect();
    let all: Vec<Vec<String>> = per_document.iter().flatten().map(|(stems, _)| stems.clone()).collect();
    let word_scores = rake_word_scores(&all);
    let score = |phrase: &[String]| phrase.iter().map(|w| word_scores.get(w).copied().unwrap_or(0.0)).sum::<f64>();
    // The distinct candidates (RAKE's key phrases), how each is most often written, and the texts
    // holding each, alone or inside a longer candidate.
    // Per key phrase, each way it is written: how often, and where first (the earlier wins a tie).
    let mut written: BTreeMap<&[String], BTreeMap<&str, (usize, usize)>> = BTreeMap::new();
    for (at, (stems, surface)) in per_document.iter().flatten().enumerate() {
        written.entry(stems.as_slice()).or_default().entry(surface.as_str()).or_insert((0, at)).0 += 1;
    }
    let mut held: BTreeMap<&[String], BTreeSet<usize>> = BTreeMap::new();
    let mut stem_texts: BTreeMap<&str, BTreeSet<usize>> = BTreeMap::new();
    for (i, found) in per_document.iter().enumerate() {
        for (stems, _) in found {
            for w in stems {
                if !no_topic.contains(w) {
                    stem_texts.entry(w.as_str()).or_default().insert(i);
                }
            }
            for start in 0..stems.len() {
                for end in start + 1..=stems.len() {
                    if let Some((key, _)) = written.get_key_value(&stems[start..end]) {
                        held.entry(*key).or_default().insert(i);
                    }
                }
            }
        }
    }
    let key_stems: Vec<&str> = stem_texts.iter().filter(|(_, t)| t.len() >= min_count).map(|(w, _)| *w).collect();
    let index: HashMap<&str, usize> = key_stems.iter().enumerate().map(|(i, w)| (*w, i)).collect();
    let mut parent: Vec<usize> = (0..key_stems.len()).collect();
    for (phrase, texts) in &held {
        if texts.len() < min_count {
            continue;
        }
        let members: Vec<usize> = phrase.iter().filter_map(|w| index.get(w.as_str()).copied()).collect();
        for pair in members.windows(2) {
            let (a, b) = (find(&mut parent, pair[0]), find(&mut parent, pair[1]));
            parent[a.max(b)] = a.min(b);
        }
    }
    let mut by_root: BTreeMap<usize, Group> = BTreeMap::new();
    for (i, w) in key_stems.iter().enumerate() {
        let root = find(&mut parent, i);
        let group = by_root.entry(root).or_insert_with(|| Group { joined: BTreeSet::new(), folded: BTreeSet::new(), covered: BTreeSet::new() });
        group.joined.insert((*w).to_string());
        group.covered.extend(stem_texts[w].iter().copied());
    }
    // The biggest groups become themes first (on a tie, more stems: a topic worded several ways
    // leads a lone word that comes with it); the sort is stable, so stem order breaks full ties.
    let mut groups_in_order: Vec<Group> = by_root.into_values().collect();
    groups_in_order.sort_by(|a, b| b.covered.len().cmp(&a.covered.len()).then(b.joined.len().cmp(&a.joined.len())));
    let mut groups: Vec<Group> = Vec::new();
    for group in groups_in_order {
        let adds_nothing = group.covered.iter().all(|i| groups.iter().any(|g| g.covered.contains(i)));
        let home = groups
            .iter()
            .enumerate()
            .filter(|(_, g)| g.covered.len() >= group.covered.len())
            .map(|(at, g)| (at, group.covered.intersection(&g.covered).count()))
            .filter(|&(_, shared)| adds_nothing || shared * 100 >= FOLD_SHARE_PERCENT * group.covered.len())
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
            .map(|(at, _)| at);
        match home {
            Some(at) => {
                groups[at].folded.extend(group.joined);
                groups[at].folded.extend(group.folded);
            }
            None => groups.push(group),
        }
    }
    let mut out: Vec<Theme> = groups
        .into_iter()
        .filter(|g| g.covered.len() >= min_count)
        .filter_map(|g| {
            let theme_phrase = |phrase: &[String]| {
                let texts = held.get(phrase).map_or(0, |t| t.intersection(&g.covered).count()) as u64;
                let surface = written[phrase].iter().max_by(|a, b| a.1.0.cmp(&b.1.0).then(b.1.1.cmp(&a.1.1))).map(|(s, _)| *s).unwrap_or("");
                ThemePhrase { phrase: surface.to_string(), texts, score: score(phrase) }
            };
            let mut listed: Vec<(bool, ThemePhrase)> = written
                .keys()
                .filter(|p| p.iter().any(|w| g.joined.contains(w) || g.folded.contains(w)))
                .map(|p| (p.iter().any(|w| g.joined.contains(w)), theme_phrase(p)))
                .filter(|(_, p)| p.texts > 0)
                .collect();
            listed.sort_by(|a, b| b.1.texts.cmp(&a.1.texts).then(b.1.score.total_cmp(&a.1.score)).then(a.1.phrase.cmp(&b.1.phrase)));
            let label = listed.iter().find(|(joined, _)| *joined).map(|(_, p)| p.phrase.clone())?;
            let phrases: Vec<ThemePhrase> = listed
                .into_iter()
                .map(|(_, p)| p)
                .filter(|p| p.phrase == label || p.texts >= min_count as u64)
                .take(options.phrases.max(1))
                .collect();
            let members: Vec<usize> = g.covered.into_iter().collect();
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
                phrases,
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
    fn words_are_lowered_and_numbers_and_punctuation_break_phrases() {
        assert_eq!(words("The Delivery fees were $7.95, sizes vary!"), vec!["the", "delivery", "fees", "were", ",", "sizes", "vary", ","]);
        assert_eq!(words("I’m not sure; the shop's fit"), vec!["i'm", "not", "sure", ",", "the", "shop", "fit"]);
    }

    #[test]
    fn candidates_are_runs_between_stop_words_and_stems_group_word_forms() {
        let found: Vec<String> = candidates("Loved the dress but the shipping cost killed it").iter().map(|c| c.join(" ")).collect();
        assert_eq!(found, vec!["loved", "dress", "shipping cost killed"]);
        // ISO's list holds "line" and "website"; here they are topics.
        assert_eq!(candidates("The line is too long")[0], vec!["line"]);
        assert!(is_stop_word("another") && is_stop_word("back") && is_stop_word("thanks") && is_stop_word("looking"));
        assert_eq!(stem("sizing"), stem("sizes"));
        assert_eq!(stem("costs"), "cost");
        assert_eq!(stem("delivery"), stem("shipping"));
        assert_eq!(stem("fees"), "cost");
    }
}
