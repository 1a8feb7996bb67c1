//! Account security through the API and the pages: a user sees their sessions and ends one;
//! changing the password needs the current one and ends every other session; an owner issues a
//! member's one-time reset link (a viewer may not, a stranger finds nothing), which sets a new
//! password, ends all the member's sessions, signs them in, and does not work twice.

use super::{PASSWORD, api, call, form, login, page, session_cookie, world};
use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn sessions_are_listed_and_ended_and_a_password_change_ends_the_others() {
    let w = world();
    // Vic signs in from two more places.
    let laptop = login(&w.router, "vic@example.com", PASSWORD, "/").await.cookie("trailmap_session").unwrap();
    let phone = login(&w.router, "vic@example.com", PASSWORD, "/").await.cookie("trailmap_session").unwrap();
    let as_laptop = [session_cookie(&laptop)];
    let listed = call(&w.router, "GET", "/api/me/sessions", &as_laptop, vec![]).await.json();
    let sessions = listed.as_array().unwrap();
    assert_eq!(sessions.len(), 3, "the world's session, the laptop's and the phone's: {listed}");
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    assert!(sessions.iter().all(|s| s["id"].as_str().unwrap().len() == 12 && !listed.to_string().contains(&laptop)));
    // End the phone's from the laptop: the phone's id as the phone sees itself listed.
    let all: Vec<String> = sessions.iter().map(|s| s["id"].as_str().unwrap().to_string()).collect();
    let phone_seen = call(&w.router, "GET", "/api/me/sessions", &[session_cookie(&phone)], vec![]).await.json();
    let phone_own = phone_seen.as_array().unwrap().iter().find(|s| s["current"] == true).unwrap()["id"].as_str().unwrap().to_string();
    assert!(all.contains(&phone_own));
    let csrf_of = |cookie: &str| {
        let router = w.router.clone();
        let cookie = cookie.to_string();
        async move {
            let me = call(&router, "GET", "/account/security", &[session_cookie(&cookie)], vec![]).await;
            me.csrf_field()
        }
    };
    let laptop_csrf = csrf_of(&laptop).await;
    let headers = [session_cookie(&laptop), ("x-csrf-token", laptop_csrf.clone())];
    let ended = call(&w.router, "DELETE", &format!("/api/me/sessions/{phone_own}"), &headers, vec![]).await;
    assert_eq!(ended.status, StatusCode::NO_CONTENT, "{}", ended.text);
    assert_eq!(call(&w.router, "GET", "/api/me", &[session_cookie(&phone)], vec![]).await.status, StatusCode::UNAUTHORIZED);
    let unknown = call(&w.router, "DELETE", "/api/me/sessions/000000000000", &headers, vec![]).await;
    assert_eq!((unknown.status, unknown.code().as_str()), (StatusCode::NOT_FOUND, "not_found"));

    // A wrong current password: 400 naming the field; nothing changes.
    let json_headers = [session_cookie(&laptop), ("x-csrf-token", laptop_csrf.clone()), ("content-type", "application/json".to_string())];
    let body = |current: &str, new: &str| serde_json::to_vec(&json!({"current_password": current, "new_password": new})).unwrap();
    let wrong = call(&w.router, "POST", "/api/me/password", &json_headers, body("guess", "a much longer secret")).await;
    assert_eq!((wrong.status, wrong.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"));
    assert!(wrong.text.contains("current_password"), "{}", wrong.text);
    let short = call(&w.router, "POST", "/api/me/password", &json_headers, body(PASSWORD, "short")).await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    let changed = call(&w.router, "POST", "/api/me/password", &json_headers, body(PASSWORD, "a much longer secret")).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(changed.json()["sessions_ended"], 1, "the world's session of Vic; the laptop goes on");
    assert_eq!(call(&w.router, "GET", "/api/me", &[session_cookie(&w.viewer.token)], vec![]).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(call(&w.router, "GET", "/api/me", &[session_cookie(&laptop)], vec![]).await.status, StatusCode::OK);
    assert_eq!(login(&w.router, "vic@example.com", PASSWORD, "/").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(login(&w.router, "vic@example.com", "a much longer secret", "/").await.status, StatusCode::SEE_OTHER);
    // The page lists the sessions and offers the change.
    let shown = call(&w.router, "GET", "/account/security", &[session_cookie(&laptop)], vec![]).await;
    assert!(shown.text.contains("data-testid=\"sessions\"") && shown.text.contains("(this one)") && shown.text.contains("data-testid=\"change-password\""));
    w.finish();
}

#[tokio::test]
async fn an_owner_issues_a_one_time_reset_link_that_ends_the_members_sessions() {
    let w = world();
    let b = w.bean.id;
    let vic = w.viewer.user.id;
    let olive = w.owner.user.id;
    // A viewer may not issue one for the owner; a stranger finds no such member.
    let refused = api(&w.router, Some(&w.viewer), "POST", &format!("/api/businesses/{b}/members/{olive}/password-reset"), None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let stranger = api(&w.router, Some(&w.outsider), "POST", &format!("/api/businesses/{b}/members/{vic}/password-reset"), None).await;
    assert_eq!(stranger.status, StatusCode::NOT_FOUND);
    let issued = api(&w.router, Some(&w.owner), "POST", &format!("/api/businesses/{b}/members/{vic}/password-reset"), None).await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.text);
    let link = issued.json()["link"].as_str().unwrap().to_string();
    let path = link.split_once("/reset/").map(|(_, t)| format!("/reset/{t}")).unwrap();
    // The members page offers the same to owners.
    let members = page(&w.router, Some(&w.owner), "GET", &format!("/b/{b}/settings/members"), &[]).await;
    assert!(members.text.contains("data-testid=\"reset-link\""));

    let shown = call(&w.router, "GET", &path, &[("accept", "text/html".to_string())], vec![]).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(shown.text.contains("vic@example.com") && shown.text.contains("data-testid=\"reset-password\""));
    let cookie = shown.cookie("trailmap_form").unwrap();
    let field = shown.csrf_field();
    let post = |password: &str| {
        let headers = [("content-type", "application/x-www-form-urlencoded".to_string()), ("cookie", format!("trailmap_form={cookie}")), ("accept", "text/html".to_string())];
        let body = form(&[("csrf", field.as_str()), ("new_password", password)]);
        let (router, path) = (w.router.clone(), path.clone());
        async move { call(&router, "POST", &path, &headers, body).await }
    };
    assert_eq!(post("short").await.status, StatusCode::BAD_REQUEST);
    let done = post("another long password").await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    let fresh = done.cookie("trailmap_session").unwrap();
    assert_eq!(call(&w.router, "GET", "/api/me", &[session_cookie(&fresh)], vec![]).await.json()["user"]["email"], "vic@example.com");
    assert_eq!(call(&w.router, "GET", "/api/me", &[session_cookie(&w.viewer.token)], vec![]).await.status, StatusCode::UNAUTHORIZED, "old sessions ended");
    // Once only.
    let again = post("yet another long one").await;
    assert_eq!((again.status, again.code().as_str()), (StatusCode::NOT_FOUND, "not_found"));
    assert_eq!(call(&w.router, "GET", &path, &[("accept", "text/html".to_string())], vec![]).await.status, StatusCode::NOT_FOUND);
    w.finish();
}
