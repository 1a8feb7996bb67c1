//! Persona cards in the store (part of the conformance suite, run against every backend): names unique per business (ignoring case), updates and deletes
//! each one transaction that raises the business's data version, a persona of another business
//! out of reach, and a persona that a map shows kept until the map lets it go.

use super::conformance::TestDb;
use super::new_business;
use trailmap_model::*;
use trailmap_store::{AnyStore, Store, StoreError};

fn persona(business: BusinessId, name: &str) -> Persona {
    Persona {
        id: PersonaId(0),
        business,
        name: name.into(),
        initials: None,
        photo: None,
        demographics: vec![("Age".into(), "25-34".into())],
        goals: vec!["Good coffee fast".into()],
        frustrations: vec![],
        behaviours: vec![],
        quote: None,
        segment: Some(CustomerRule::parse("orders>=2").unwrap()),
    }
}

fn write(store: &mut AnyStore, f: &mut dyn FnMut(&mut dyn trailmap_store::Writer) -> Result<(), StoreError>) -> Result<(), StoreError> {
    store.write::<StoreError>(&mut |w| f(w)).map(|_| ())
}

fn map_showing(business: BusinessId, name: &str, personas: Vec<PersonaId>) -> JourneyMap {
    JourneyMap {
        id: MapId(0),
        business,
        name: name.into(),
        kind: MapVersionKind::AsIs,
        owner: None,
        review_date: None,
        personas,
        stages: vec![],
        as_is: None,
    }
}

pub(super) fn persona_cards_are_created_updated_and_deleted_one_transaction_each(db: &TestDb) {
    let mut store = db.open();
    let b = new_business(&mut store, "Bean");
    let other = new_business(&mut store, "Other");
    let mut id = PersonaId(0);
    write(&mut store, &mut |w| {
        id = w.create_persona(&persona(b, "Morning regulars"))?;
        Ok(())
    })
    .unwrap();
    // The same name in any case is refused, in this business only; nothing is written.
    let version = store.data_version(b).unwrap();
    let taken = write(&mut store, &mut |w| w.create_persona(&persona(b, " morning REGULARS ")).map(|_| ())).unwrap_err();
    assert!(matches!(&taken, StoreError::Conflict(m) if m.contains("already exists")), "{taken}");
    assert_eq!((store.personas(b).unwrap().len(), store.data_version(b).unwrap()), (1, version));
    write(&mut store, &mut |w| w.create_persona(&persona(other, "Morning regulars")).map(|_| ())).unwrap();

    // An update replaces the card and raises the data version; keeping its own name is fine.
    let mut card = store.personas(b).unwrap().remove(0);
    card.goals.push("A seat by the window".into());
    card.segment = Some(CustomerRule::parse("orders>=3 & first_channel=Referral").unwrap());
    write(&mut store, &mut |w| w.update_persona(&card)).unwrap();
    assert_eq!(store.personas(b).unwrap(), vec![card.clone()]);
    assert_eq!(store.data_version(b).unwrap(), version + 1);
    // A persona id of another business is not found through this business.
    let theirs = store.personas(other).unwrap().remove(0);
    let foreign = Persona { id: theirs.id, ..card.clone() };
    let missing = write(&mut store, &mut |w| w.update_persona(&foreign)).unwrap_err();
    assert!(matches!(missing, StoreError::NotFound { what: "persona", .. }), "{missing}");
    let missing = write(&mut store, &mut |w| w.delete_persona(b, theirs.id)).unwrap_err();
    assert!(matches!(missing, StoreError::NotFound { what: "persona", .. }), "{missing}");
    // Renaming onto another persona's name is refused.
    write(&mut store, &mut |w| w.create_persona(&persona(b, "Weekend crowd")).map(|_| ())).unwrap();
    let renamed = Persona { name: "weekend crowd".into(), ..card.clone() };
    assert!(matches!(write(&mut store, &mut |w| w.update_persona(&renamed)), Err(StoreError::Conflict(_))));

    // A persona shown on a map's newest version stays until the map lets it go.
    let mut map = map_showing(b, "Morning coffee", vec![id]);
    write(&mut store, &mut |w| {
        map.id = w.save_map(&map, "olive")?;
        Ok(())
    })
    .unwrap();
    let version = store.data_version(b).unwrap();
    let held = write(&mut store, &mut |w| w.delete_persona(b, id)).unwrap_err();
    assert_eq!(held.to_string(), "persona \"Morning regulars\" is on the map \"Morning coffee\": take it off it first");
    assert_eq!((store.personas(b).unwrap().len(), store.data_version(b).unwrap()), (2, version));
    map.personas.clear();
    write(&mut store, &mut |w| w.save_map(&map, "olive").map(|_| ())).unwrap();
    write(&mut store, &mut |w| w.delete_persona(b, id)).unwrap();
    assert_eq!(store.personas(b).unwrap().iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["Weekend crowd"]);
    assert_eq!(store.data_version(b).unwrap(), version + 2);
    assert_eq!(store.personas(other).unwrap().len(), 1);
}
