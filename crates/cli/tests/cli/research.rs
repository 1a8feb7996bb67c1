//! `trailmap research` as a user runs it on a business made from zero: notes with tags and a focus
//! group imported, the library listed and filtered as a table, JSON and CSV, a tag added, quotes
//! cited on a map's card (and shown as cited), and a bad filter refused naming its field.

use super::{text, trailmap};

const NOTES: &str = "# Interview with Anna, 2026-05-04
> The shipping fee is awful, I nearly left. #shipping #price
> I love the thank-you card. #packaging

# Focus group at the shop, 2026-05-20
Participants: Bea, Carl
> Bea: Delivery took a week. #delivery
> Carl: The shipping cost is terrible, really bad. #shipping
";

#[test]
fn research_list_tag_and_cite_on_a_business_made_from_zero() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.sqlite");
    let notes = dir.path().join("notes.md");
    std::fs::write(&notes, NOTES).unwrap();
    let ok = |args: &[&str]| {
        let out = trailmap(&db, args);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        text(&out.stdout)
    };
    ok(&["business", "create", "Corner Shop"]);
    ok(&["--business", "Corner Shop", "feedback", "import", "--layout", "notes", notes.to_str().unwrap()]);
    let table = ok(&["--business", "Corner Shop", "research", "list", "--tag", "shipping"]);
    assert!(table.contains("Research library of Corner Shop: 2 of 4 items"), "{table}");
    assert!(table.contains("Tags: #shipping (2), #delivery (1), #packaging (1), #price (1)"), "{table}");
    let json: serde_json::Value = serde_json::from_str(&ok(&["--business", "Corner Shop", "research", "list", "--kind", "focus_group", "--format", "json"])).unwrap();
    let speakers: Vec<&str> = json["items"].as_array().unwrap().iter().map(|i| i["author"].as_str().unwrap()).collect();
    assert_eq!(speakers, ["Carl", "Bea"]);
    let csv = ok(&["--business", "Corner Shop", "research", "list", "--sentiment", "positive", "--format", "csv"]);
    assert!(csv.starts_with("id,date,kind,source,author,text,tags,sentiment,cited on\n"), "{csv}");
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.contains("I love the thank-you card."), "{csv}");

    let bea = json["items"][1]["feedback"].as_i64().unwrap().to_string();
    let tagged: serde_json::Value = serde_json::from_str(&ok(&["--business", "Corner Shop", "research", "tag", &bea, "--add", "Late", "--format", "json"])).unwrap();
    assert_eq!(tagged["tags"], serde_json::json!(["delivery", "late"]));

    ok(&["--business", "Corner Shop", "map", "template", "web-shop", "--name", "Corner journey"]);
    let maps: serde_json::Value = serde_json::from_str(&ok(&["--business", "Corner Shop", "map", "list", "--format", "json"])).unwrap();
    let map = maps.as_array().or_else(|| maps["maps"].as_array()).unwrap()[0]["id"].as_i64().unwrap().to_string();
    let carl = json["items"][0]["feedback"].as_i64().unwrap().to_string();
    let cited = ok(&["--business", "Corner Shop", "research", "cite", &map, "1", &carl, &bea, "--format", "json"]);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&cited).unwrap()["added"], 2);
    let listed = ok(&["--business", "Corner Shop", "research", "list", "--kind", "focus_group"]);
    assert!(listed.contains(&format!("map {map} card 1")), "{listed}");

    let out = trailmap(&db, &["--business", "Corner Shop", "research", "list", "--sentiment", "angry"]);
    assert!(!out.status.success());
    let error = text(&out.stderr);
    assert!(error.contains("sentiment") && error.contains("angry"), "{error}");
    let out = trailmap(&db, &["--business", "Corner Shop", "research", "tag", &bea]);
    assert!(text(&out.stderr).contains("--add TAG or --remove TAG"), "{}", text(&out.stderr));
}
