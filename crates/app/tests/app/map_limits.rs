//! The most stages a map holds (`MAX_STAGES`): an edit or an imported document past it is refused
//! with the reason, and the map is left as it was.

use trailmap_app::{App, MAX_STAGES, MapEdit, MapTemplate, apply_edit};

#[test]
fn a_map_holds_at_most_max_stages_stages() {
    let mut app = App::in_memory().unwrap();
    let business = app.business(None).unwrap();
    let mut map = app.create_map(&business, "long", MapTemplate::ALL[0], "a").unwrap();
    while map.stages.len() < MAX_STAGES {
        let n = map.stages.len();
        apply_edit(&mut map, &MapEdit::AddStage { name: format!("Stage {n}"), position: None }).unwrap();
    }
    let before = map.clone();
    let refused = apply_edit(&mut map, &MapEdit::AddStage { name: "One too many".into(), position: None }).unwrap_err();
    assert!(refused.to_string().contains(&format!("at most {MAX_STAGES} stages")), "{refused}");
    assert_eq!(map, before);
    assert_eq!(map.stages.len(), 30);
}
