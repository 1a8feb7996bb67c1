//! Reading interview and focus-group notes written as plain text or Markdown, and reviews or social
//! mentions written as one JSON array.
//!
//! Notes: a file holds one or more sessions. A session starts with a heading line
//! (`# Interview with Anna, 2024-03-05`: the heading is the source, the first `YYYY-MM-DD` in it
//! the date, the name after "with" up to a comma the author) or, at the very top of the file, with
//! front matter between two `---` lines (`date:`, `source:`, `author:`, `email:`, `customer_id:`,
//! `touchpoint:`, `tags:`, `kind:`, `participants:`), which also applies to the sessions below it
//! unless a heading says otherwise. A quote is a run of lines starting with `>`; `#tags` at the end
//! of its last line (or on the line right after it) are its tags, lower-cased without the `#`, and
//! a line ending in tags ends its quote: the next `>` line starts a new quote with its own tags.
//! Surrounding quotation marks are dropped. Every quote becomes one feedback record of kind note,
//! dated at midnight UTC of the session's date. Other lines are ignored. A quote before any date,
//! and a quote with no text, are errors naming the file and the quote's first line.
//!
//! Focus groups: a session whose heading starts with "Focus group", or under front matter with
//! `kind: focus group`, or that lists two or more `participants:` (in the front matter or on a line
//! of its own under the heading), is a focus group. Each of its quotes names its speaker first
//! (`> Anna: I never know the delivery date`, `> **Anna:** ...`): a `>` line with a speaker starts
//! a new quote, and the quote becomes a record of kind focus group with the speaker as its author.
//! A quote that names no speaker, or a speaker not among the listed participants, is an error
//! naming its line.
//!
//! JSON reviews: a file whose first non-blank byte is `[` is an array of objects with the fields
//! of a feedback import (`source`, `date`, `rating`, `rating_scale`, `text`, `link`, `author`,
//! `id`, ...). [`json_array_to_ndjson`] turns it into NDJSON, one element per line, and gives the
//! file line each element starts on, so the feedback reader reads it and its errors name the
//! real line.

use crate::error::{ImportError, RowError};
use crate::time::parse_timestamp;
use trailmap_model::{FeedbackKind, Identity, IncomingFeedback, Timestamp};

/// What a session's heading or the front matter says about the quotes below it.
#[derive(Debug, Clone, Default)]
struct Session {
    source: Option<String>,
    date: Option<Timestamp>,
    author: Option<String>,
    customer: Vec<Identity>,
    touchpoint: Option<String>,
    tags: Vec<String>,
    focus_group: bool,
    /// The listed participants of a focus group (none: any named speaker counts).
    participants: Vec<String>,
}

/// `kind: focus group` and its spellings.
fn is_focus_group_kind(value: &str) -> bool {
    matches!(value.trim().to_ascii_lowercase().replace(['-', '_'], " ").as_str(), "focus group" | "focusgroup")
}

/// Participants written as a list: `Anna, Ben and Carla`.
fn participant_list(value: &str) -> Vec<String> {
    value
        .split([',', ';'])
        .flat_map(|part| part.split(" and "))
        .map(|name| name.trim().trim_matches(['"', '\'', '*']).trim().to_string())
        .filter(|name| !name.is_empty())
        .collect()
}

/// The speaker a focus-group line names first (`Anna: ...`, `**Anna:** ...`), with the rest of the
/// line: a name of at most four words before the first colon.
fn speaker_in(line: &str) -> Option<(String, &str)> {
    let (name, rest) = line.split_once(':')?;
    let name = name.trim().trim_matches('*').trim();
    let rest = rest.trim_start().trim_start_matches('*').trim_start();
    let words = name.split_whitespace().count();
    let plain = name.chars().all(|c| c.is_alphanumeric() || c == ' ' || c == '.' || c == '-' || c == '\'');
    ((1..=4).contains(&words) && plain).then(|| (name.to_string(), rest))
}

/// Reads a notes file: one item per quote, in file order, with the line the quote starts on.
pub fn read_notes(text: &str, file: &str) -> Vec<Result<(u64, IncomingFeedback), RowError>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut base = Session::default();
    let mut i = 0;
    let fail = |line: usize, column: Option<&str>, reason: String, raw: &str| RowError {
        file: file.to_string(),
        line: line as u64 + 1,
        column: column.map(str::to_string),
        reason,
        raw: Some(raw.to_string()),
    };
    // A line with a control character or past the text limit refuses the file: where a quote
    // begins and ends cannot be trusted around it, so no quote of it is kept.
    let refused: Vec<_> = lines
        .iter()
        .enumerate()
        .filter_map(|(n, line)| {
            crate::text::check(line, crate::text::TextRule::TEXT).err().map(|problem| Err(fail(n, None, problem.to_string(), line)))
        })
        .collect();
    if !refused.is_empty() {
        return refused;
    }
    if lines.first().map(|l| l.trim()) == Some("---") {
        let end = lines.iter().skip(1).position(|l| l.trim() == "---").map(|p| p + 1);
        let Some(end) = end else {
            out.push(Err(fail(0, None, "the front matter opened by `---` is never closed by another `---`".into(), "---")));
            return out;
        };
        for (n, line) in lines.iter().enumerate().take(end).skip(1) {
            let Some((key, value)) = line.split_once(':') else {
                if !line.trim().is_empty() {
                    out.push(Err(fail(n, None, format!("front matter line {line:?} is not `key: value`"), line)));
                }
                continue;
            };
            let key = key.trim().to_lowercase();
            let value = value.trim().trim_matches('"').trim();
            match key.as_str() {
                "date" => match parse_timestamp(value) {
                    Ok(ts) => base.date = Some(ts),
                    Err(e) => out.push(Err(fail(n, Some("date"), e, line))),
                },
                "source" => base.source = Some(value.to_string()),
                "author" | "participant" | "interviewee" => base.author = Some(value.to_string()),
                "email" => base.customer.extend(Identity::email(value)),
                "customer_id" => base.customer.extend(Identity::external(value)),
                "touchpoint" => base.touchpoint = Some(value.to_string()).filter(|v| !v.is_empty()),
                "tags" => base.tags = tags_in_list(value),
                "kind" => base.focus_group = is_focus_group_kind(value),
                "participants" => {
                    base.participants = participant_list(value);
                    base.focus_group |= base.participants.len() >= 2;
                }
                _ => {}
            }
        }
        i = end + 1;
    }
    let mut session = base.clone();
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim_start();
        if let Some(heading) = trimmed.strip_prefix("# ") {
            session = base.clone();
            let heading = heading.trim();
            session.source = Some(heading.to_string());
            if let Some(date) = date_in(heading) {
                session.date = Some(date);
            }
            if heading.to_ascii_lowercase().starts_with("focus group") {
                session.focus_group = true;
                session.author = None;
            } else if let Some(author) = author_in(heading) {
                session.author = Some(author);
            }
            i += 1;
            continue;
        }
        if !trimmed.starts_with('>') {
            if let Some((key, value)) = trimmed.split_once(':')
                && key.trim().eq_ignore_ascii_case("participants")
            {
                session.participants = participant_list(value);
                session.focus_group |= session.participants.len() >= 2;
            }
            i += 1;
            continue;
        }
        let start = i;
        let mut parts: Vec<String> = Vec::new();
        let mut tags: Vec<String> = Vec::new();
        let mut speaker: Option<String> = None;
        while i < lines.len() && lines[i].trim_start().starts_with('>') {
            let mut body = lines[i].trim_start().trim_start_matches('>').trim();
            if session.focus_group && let Some((name, rest)) = speaker_in(body) {
                // In a focus group a new speaker starts a new quote.
                if i > start {
                    break;
                }
                speaker = Some(name);
                body = rest;
            }
            let (text, found) = split_tags(body);
            let closed = !found.is_empty();
            tags.extend(found);
            if !text.is_empty() {
                parts.push(text.to_string());
            }
            i += 1;
            // Tags end their quote: the next `>` line is another quote with its own tags.
            if closed {
                break;
            }
        }
        // A line of tags alone right after the quote belongs to it.
        if i < lines.len() {
            let (text, found) = split_tags(lines[i].trim());
            if text.is_empty() && !found.is_empty() {
                tags.extend(found);
                i += 1;
            }
        }
        let raw = lines[start..i].join("\n");
        let text = parts.join(" ");
        let text = text.trim().trim_matches(['"', '“', '”']).trim().to_string();
        if text.is_empty() {
            out.push(Err(fail(start, None, "a quote with no text".into(), &raw)));
            continue;
        }
        let Some(date) = session.date else {
            out.push(Err(fail(
                start,
                Some("date"),
                "no date for this quote: put `date: YYYY-MM-DD` in the front matter or a date in the `# ` heading above it".into(),
                &raw,
            )));
            continue;
        };
        let author = if session.focus_group {
            let known = |name: &str| session.participants.is_empty() || session.participants.iter().any(|p| p.eq_ignore_ascii_case(name));
            match speaker {
                Some(name) if known(&name) => {
                    // The participant's name as the session lists it.
                    Some(session.participants.iter().find(|p| p.eq_ignore_ascii_case(&name)).cloned().unwrap_or(name))
                }
                Some(name) => {
                    let reason = format!("{name:?} is not among the focus group's participants ({})", session.participants.join(", "));
                    out.push(Err(fail(start, Some("author"), reason, &raw)));
                    continue;
                }
                None => {
                    let reason = "a focus-group quote names its speaker first, as `> Anna: ...`".to_string();
                    out.push(Err(fail(start, Some("author"), reason, &raw)));
                    continue;
                }
            }
        } else {
            session.author.clone()
        };
        let mut all_tags = session.tags.clone();
        for tag in tags {
            if !all_tags.contains(&tag) {
                all_tags.push(tag);
            }
        }
        out.push(Ok((start as u64 + 1, IncomingFeedback {
            kind: if session.focus_group { FeedbackKind::FocusGroup } else { FeedbackKind::Note },
            source: session.source.clone().unwrap_or_else(|| file_stem(file)),
            external_id: None,
            // A focus group's quotes are its participants', not the customer the front matter
            // may name for a one-to-one interview.
            customer: if session.focus_group { Vec::new() } else { session.customer.clone() },
            author,
            time: date,
            rating: None,
            text,
            link: None,
            touchpoint: session.touchpoint.clone(),
            tags: all_tags,
        })));
    }
    out
}

/// The file's name without folders and extension: the source of notes that name none.
fn file_stem(file: &str) -> String {
    let name = file.rsplit(['/', '\\']).next().unwrap_or(file);
    name.rsplit_once('.').map_or(name, |(stem, _)| stem).to_string()
}

/// Splits trailing `#tags` off a line: (the text before them, the tags lower-cased).
fn split_tags(line: &str) -> (&str, Vec<String>) {
    let mut end = line.len();
    let mut tags = Vec::new();
    loop {
        let head = line[..end].trim_end();
        let start = head.char_indices().rev().find(|(_, c)| c.is_whitespace()).map_or(0, |(p, c)| p + c.len_utf8());
        let word = &head[start..];
        let is_tag = word.len() > 1
            && word.starts_with('#')
            && word[1..].chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_');
        if !is_tag {
            end = head.len();
            break;
        }
        tags.push(word[1..].to_lowercase());
        end = start;
        if start == 0 {
            break;
        }
    }
    tags.reverse();
    (line[..end].trim(), tags)
}

/// Tags written as a list in front matter: `[shipping, checkout]`, `shipping, checkout` or
/// `#shipping #checkout`.
fn tags_in_list(value: &str) -> Vec<String> {
    value
        .trim_matches(['[', ']'])
        .split([',', ' '])
        .map(|t| t.trim().trim_matches(['"', '\'']).trim_start_matches('#').to_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

/// The first `YYYY-MM-DD` in a heading.
fn date_in(text: &str) -> Option<Timestamp> {
    let bytes = text.as_bytes();
    (0..bytes.len().saturating_sub(9)).find_map(|i| {
        let candidate = text.get(i..i + 10)?;
        let b = candidate.as_bytes();
        let shape = b[4] == b'-' && b[7] == b'-' && b.iter().enumerate().all(|(j, c)| j == 4 || j == 7 || c.is_ascii_digit());
        if !shape {
            return None;
        }
        parse_timestamp(candidate).ok()
    })
}

/// "Interview with Anna, 2024-03-05" → "Anna".
fn author_in(heading: &str) -> Option<String> {
    // ASCII lower-casing keeps byte offsets, so the position found applies to the heading.
    let lower = heading.to_ascii_lowercase();
    let at = lower.find(" with ")? + " with ".len();
    let rest = &heading[at..];
    let name = rest.split([',', '(', '—']).next()?.trim();
    (!name.is_empty() && date_in(name).is_none()).then(|| name.to_string())
}

/// Turns a JSON array of objects into NDJSON (one element per line) and the line of the file each
/// element starts on. Returns None when the file is not a JSON array (its first non-blank byte is
/// not `[`), so the caller reads it as it is.
pub fn json_array_to_ndjson(bytes: &[u8], file: &str) -> Result<Option<(Vec<u8>, Vec<u64>)>, ImportError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let Some(first) = bytes.iter().position(|b| !b.is_ascii_whitespace()) else {
        return Err(ImportError::Empty { file: file.to_string() });
    };
    if bytes[first] != b'[' {
        return Ok(None);
    }
    let values: Vec<serde_json::Value> = serde_json::from_slice(bytes).map_err(|e| ImportError::BadHeader {
        file: file.to_string(),
        line: e.line() as u64,
        reason: format!("not a valid JSON array: {e}"),
    })?;
    let starts = element_lines(bytes);
    let mut ndjson = Vec::new();
    let mut lines = Vec::with_capacity(values.len());
    for (i, value) in values.iter().enumerate() {
        let line = starts.get(i).copied().unwrap_or(1);
        serde_json::to_writer(&mut ndjson, value).map_err(|e| ImportError::BadHeader {
            file: file.to_string(),
            line,
            reason: e.to_string(),
        })?;
        ndjson.push(b'\n');
        lines.push(line);
    }
    Ok(Some((ndjson, lines)))
}

/// The line each top-level element of a JSON array starts on.
fn element_lines(bytes: &[u8]) -> Vec<u64> {
    let mut lines = Vec::new();
    let (mut depth, mut line) = (0usize, 1u64);
    let (mut in_string, mut escaped, mut expecting) = (false, false, false);
    for &b in bytes {
        if b == b'\n' {
            line += 1;
        }
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        if expecting && !b.is_ascii_whitespace() && b != b']' {
            lines.push(line);
            expecting = false;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth == 1 {
                    expecting = true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' if depth == 1 => expecting = true,
            _ => {}
        }
    }
    lines
}
