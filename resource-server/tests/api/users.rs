use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use test_support::on_both_backends;
use test_support::{row_counts, TestDatabase};

use crate::helpers::*;

fn assert_no_secret(body: &Value) {
    let text = body.to_string();
    assert!(!text.contains("password"), "{text}");
    assert!(!text.contains("$2"), "a bcrypt hash leaked: {text}");
}

async fn creating_a_user_with_json_answers_201_without_the_password(db: TestDatabase) {
    let app = spawn_app(db).await;
    let token = app.token("write").await;
    let res = app
        .post_json(
            "/users/",
            Some(&token),
            &json!({"username": "ann", "password": "s3cret-pw", "email": "ann@example.com", "first_name": "Ann", "extra": 1}),
        )
        .await;
    let (status, _, body) = parts(res).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_no_secret(&body);
    assert_eq!(body["username"], "ann");
    assert_eq!(body["email"], "ann@example.com");
    assert_eq!(body["first_name"], "Ann");
    assert_eq!(body["last_name"], "");
    assert!(body["id"].is_i64());
}

async fn a_created_user_can_log_in_with_the_stored_bcrypt_hash(db: TestDatabase) {
    let app = spawn_app(db).await;
    let token = app.token("write").await;
    let res = app
        .send_form(
            Method::POST,
            "/users/",
            Some(&token),
            &[("username", "bob"), ("password", "  spaced pw  ")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let mut conn = app.pool.get().unwrap();
    let stored = store::users::find_by_username(&mut conn, "bob")
        .unwrap()
        .unwrap();
    assert!(stored.password_hash.starts_with("$2"));
    assert!(!stored.password_hash.contains("spaced"));
    // The password keeps its spaces, and the auth server accepts it.
    app.token_for("bob", "  spaced pw  ", "read").await;
}

async fn a_taken_username_is_a_field_error(db: TestDatabase) {
    let app = spawn_app(db).await;
    let token = app.token("write").await;
    let res = app
        .post_json(
            "/users/",
            Some(&token),
            &json!({"username": "tue", "password": "long enough"}),
        )
        .await;
    assert_field_errors(
        res,
        json!({"username": ["A user with that username already exists."]}),
    )
    .await;
}

async fn every_invalid_field_is_reported_at_once(db: TestDatabase) {
    let app = spawn_app(db).await;
    let token = app.token("write").await;
    let res = app
        .post_json(
            "/users/",
            Some(&token),
            &json!({"username": "no spaces!", "email": "not-an-email", "first_name": "x".repeat(151)}),
        )
        .await;
    assert_field_errors(
        res,
        json!({
            "username": ["Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."],
            "password": ["This field is required."],
            "email": ["Enter a valid email address."],
            "first_name": ["Ensure this field has no more than 150 characters."],
        }),
    )
    .await;
    let res = app
        .post_json(
            "/users/",
            Some(&token),
            &json!({"username": "u".repeat(151), "password": ""}),
        )
        .await;
    assert_field_errors(
        res,
        json!({
            "username": ["Ensure this field has no more than 150 characters."],
            "password": ["This field may not be blank."],
        }),
    )
    .await;
    let res = app
        .post_json(
            "/users/",
            Some(&token),
            &json!({"username": ["a"], "password": null}),
        )
        .await;
    assert_field_errors(
        res,
        json!({"username": ["Not a valid string."], "password": ["This field may not be null."]}),
    )
    .await;
}

/// The attack the rules stop: an account whose username is someone else's e-mail would be found
/// first by that login, locking its owner out (and collecting their password guesses).
async fn a_username_equal_to_someones_email_is_refused_and_the_email_still_logs_in(
    db: TestDatabase,
) {
    let app = spawn_app(db).await;
    let token = app.token("read write").await;
    let mallory = app.add_user("mallory", PASSWORD);
    app.grant(app.user_id, &["change_user"]);
    let before = row_counts(&app.pool);
    for victim_email in ["tue@example.com", "TUE@Example.com"] {
        let res = app
            .post_json(
                "/users/",
                Some(&token),
                &json!({"username": victim_email, "password": "mallory's password"}),
            )
            .await;
        assert_field_errors(
            res,
            json!({"username": ["A user with that username already exists."]}),
        )
        .await;
        let res = app
            .send_json(
                Method::PATCH,
                &format!("/users/{mallory}/"),
                Some(&token),
                &json!({"username": victim_email}),
            )
            .await;
        assert_field_errors(
            res,
            json!({"username": ["A user with that username already exists."]}),
        )
        .await;
    }
    assert_eq!(row_counts(&app.pool), before);
    let (_, _, shown) = parts(app.get(&format!("/users/{mallory}/"), Some(&token)).await).await;
    assert_eq!(shown["username"], "mallory");
    // tue logs in by e-mail, and the token is tue's: it may change tue.
    let by_email = app
        .token_for("Tue@Example.com", PASSWORD, "read write")
        .await;
    let res = app
        .send_json(
            Method::PATCH,
            &format!("/users/{}/", app.user_id),
            Some(&by_email),
            &json!({"first_name": "Tue"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

async fn an_email_another_account_answers_to_is_a_field_error(db: TestDatabase) {
    let app = spawn_app(db).await;
    app.grant(app.user_id, &["change_user"]);
    let token = app.token("read write").await;
    let dave = app.add_user("dave@example.org", PASSWORD);
    let email_taken = json!({"email": ["A user with that email already exists."]});
    let before = row_counts(&app.pool);
    // Another's e-mail or username, in any case; both fields at once are both reported.
    for (username, email, expected) in [
        ("ann", "TUE@example.com", email_taken.clone()),
        ("ann", "Dave@Example.org", email_taken.clone()),
        (
            "dave@example.org",
            "tue@example.com",
            json!({"username": ["A user with that username already exists."],
                "email": ["A user with that email already exists."]}),
        ),
    ] {
        let res = app
            .post_json(
                "/users/",
                Some(&token),
                &json!({"username": username, "email": email, "password": "long enough"}),
            )
            .await;
        assert_field_errors(res, expected).await;
    }
    let res = app
        .send_json(
            Method::PATCH,
            &format!("/users/{dave}/"),
            Some(&token),
            &json!({"email": "tue@EXAMPLE.com"}),
        )
        .await;
    assert_field_errors(res, email_taken).await;
    assert_eq!(row_counts(&app.pool), before);

    // One's own values, in another case too, are no clash; blank e-mails never clash.
    let res = app
        .send_json(
            Method::PATCH,
            &format!("/users/{}/", app.user_id),
            Some(&token),
            &json!({"username": "tue", "email": "Tue@Example.com"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .send_json(
            Method::PATCH,
            &format!("/users/{dave}/"),
            Some(&token),
            &json!({"email": "DAVE@example.org"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    for name in ["ann", "bob"] {
        let res = app
            .post_json(
                "/users/",
                Some(&token),
                &json!({"username": name, "email": "", "password": "long enough"}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
}

const TOO_SHORT: &str = "This password is too short. It must contain at least 8 characters.";
const TOO_LONG: &str =
    "This password is too long. It must be at most 72 bytes when encoded as UTF-8.";

async fn a_new_password_needs_8_characters_and_at_most_72_bytes(db: TestDatabase) {
    let app = spawn_app(db).await;
    app.grant(app.user_id, &["change_user"]);
    let token = app.token("read write").await;
    let other = app.add_user("other", PASSWORD);
    let exactly_72 = format!("{}{}", "é".repeat(35), "ab");
    let past_72 = format!("{}{}", "é".repeat(35), "abc");
    for (password, problem) in [
        ("1234567", TOO_SHORT),
        ("ééééééé", TOO_SHORT),
        (past_72.as_str(), TOO_LONG),
        (&"x".repeat(73), TOO_LONG),
        (&"x".repeat(1000), TOO_LONG),
    ] {
        let before = row_counts(&app.pool);
        let res = app
            .post_json(
                "/users/",
                Some(&token),
                &json!({"username": "ann", "password": password}),
            )
            .await;
        assert_field_errors(res, json!({ "password": [problem] })).await;
        let res = app
            .send_json(
                Method::PATCH,
                &format!("/users/{other}/"),
                Some(&token),
                &json!({"password": password}),
            )
            .await;
        assert_field_errors(res, json!({ "password": [problem] })).await;
        assert_eq!(row_counts(&app.pool), before);
    }
    // The old password still works: no refused PATCH changed it.
    app.token_for("other", PASSWORD, "read").await;
    for (name, password) in [("eight", "12345678"), ("multibyte", exactly_72.as_str())] {
        let res = app
            .post_json(
                "/users/",
                Some(&token),
                &json!({"username": name, "password": password}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED, "{name}");
        app.token_for(name, password, "read").await;
    }
    let res = app
        .send_json(
            Method::PATCH,
            &format!("/users/{other}/"),
            Some(&token),
            &json!({"password": exactly_72}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    app.token_for("other", &exactly_72, "read").await;
}

async fn users_are_listed_and_filtered_exactly(db: TestDatabase) {
    let app = spawn_app(db).await;
    app.add_user("ann", "pw");
    app.add_user("annabel", "pw");
    let token = app.token("read").await;
    let (status, _, body) = parts(app.get("/users/", Some(&token)).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["count"], 3);
    assert_no_secret(&body);
    let (_, _, body) = parts(app.get("/users/?username=ann", Some(&token)).await).await;
    assert_eq!(body["count"], 1);
    assert_eq!(body["results"][0]["username"], "ann");
    let (_, _, body) = parts(
        app.get("/users/?email=annabel%40example.com", Some(&token))
            .await,
    )
    .await;
    assert_eq!(body["count"], 1);
    assert_eq!(body["results"][0]["username"], "annabel");
    let (_, _, body) = parts(app.get("/users/?username=an", Some(&token)).await).await;
    assert_eq!(body["count"], 0);
}

async fn one_user_is_shown_and_a_missing_or_malformed_id_is_404(db: TestDatabase) {
    let app = spawn_app(db).await;
    let token = app.token("read").await;
    let (status, _, body) = parts(
        app.get(&format!("/users/{}/", app.user_id), Some(&token))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"id": app.user_id, "username": "tue", "email": "tue@example.com", "first_name": "", "last_name": ""})
    );
    for path in [
        "/users/999999/",
        "/users/abc/",
        "/users/99999999999/",
        "/users/-1/",
    ] {
        let (status, _, body) = parts(app.get(path, Some(&token)).await).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body, json!({"detail": "Not found."}));
    }
}

async fn a_user_may_change_themselves(db: TestDatabase) {
    let app = spawn_app(db).await;
    let token = app.token("write").await;
    let res = app
        .send_json(
            Method::PATCH,
            &format!("/users/{}/", app.user_id),
            Some(&token),
            &json!({"last_name": "Nguyen", "password": "new-password-1", "current_password": PASSWORD}),
        )
        .await;
    let (status, _, body) = parts(res).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["last_name"], "Nguyen");
    assert_eq!(body["username"], "tue");
    assert_no_secret(&body);
    app.token_for("tue", "new-password-1", "read").await;
}

async fn users_changing_their_own_password_must_give_the_current_one(db: TestDatabase) {
    let app = spawn_app(db).await;
    // Even a holder of change_user, changing their own password.
    app.grant(app.user_id, &["change_user"]);
    let token = app.token("read write").await;
    let path = format!("/users/{}/", app.user_id);
    let required = json!({"current_password": ["This field is required."]});
    let wrong = json!({"current_password":
        ["Your old password was entered incorrectly. Please enter it again."]});
    for (body, expected) in [
        (json!({"password": "new-password-1"}), &required),
        (
            json!({"password": "new-password-1", "first_name": "X"}),
            &required,
        ),
        (
            json!({"password": "new-password-1", "current_password": "not it at all"}),
            &wrong,
        ),
        (
            json!({"password": "new-password-1", "current_password": format!("{PASSWORD} ")}),
            &wrong,
        ),
    ] {
        let res = app
            .send_json(Method::PATCH, &path, Some(&token), &body)
            .await;
        assert_field_errors(res, expected.clone()).await;
    }
    let res = app
        .send_json(
            Method::PATCH,
            &path,
            Some(&token),
            &json!({"password": "new-password-1", "current_password": ""}),
        )
        .await;
    assert_field_errors(
        res,
        json!({"current_password": ["This field may not be blank."]}),
    )
    .await;
    // Nothing changed: the old password still logs in, the first name is as it was.
    app.token_for("tue", PASSWORD, "read").await;
    let (_, _, shown) = parts(app.get(&path, Some(&token)).await).await;
    assert_eq!(shown["first_name"], "");

    let res = app
        .send_form(
            Method::PATCH,
            &path,
            Some(&token),
            &[
                ("password", "new-password-1"),
                ("current_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    app.token_for("tue", "new-password-1", "read").await;

    // Someone else's password, set by a holder of change_user, needs no current password.
    let other = app.add_user("other", PASSWORD);
    let res = app
        .send_json(
            Method::PATCH,
            &format!("/users/{other}/"),
            Some(&token),
            &json!({"password": "reset-by-admin"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    app.token_for("other", "reset-by-admin", "read").await;
}

async fn changing_someone_else_needs_change_user(db: TestDatabase) {
    let app = spawn_app(db).await;
    let other = app.add_user("other", "pw");
    let token = app.token("write").await;
    let path = format!("/users/{other}/");
    let res = app
        .send_json(
            Method::PATCH,
            &path,
            Some(&token),
            &json!({"first_name": "Hacked"}),
        )
        .await;
    assert_permission_denied(res).await;
    app.grant(app.user_id, &["change_user"]);
    let res = app
        .send_form(
            Method::PATCH,
            &path,
            Some(&token),
            &[("first_name", "Olga")],
        )
        .await;
    let (status, _, body) = parts(res).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["first_name"], "Olga");
    let res = app
        .send_json(
            Method::PATCH,
            &path,
            Some(&token),
            &json!({"username": "tue"}),
        )
        .await;
    assert_field_errors(
        res,
        json!({"username": ["A user with that username already exists."]}),
    )
    .await;
    let res = app
        .send_json(Method::PATCH, "/users/424242/", Some(&token), &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

async fn deleting_checks_the_permission_before_looking_the_user_up(db: TestDatabase) {
    let app = spawn_app(db).await;
    let other = app.add_user("other", "pw");
    let token = app.token("write").await;
    // Without delete_user, a missing user and an existing one look the same.
    assert_permission_denied(app.delete("/users/424242/", Some(&token)).await).await;
    assert_permission_denied(app.delete(&format!("/users/{other}/"), Some(&token)).await).await;
    app.grant(app.user_id, &["delete_user"]);
    assert_eq!(
        app.delete("/users/424242/", Some(&token)).await.status(),
        StatusCode::NOT_FOUND
    );
    let res = app.delete(&format!("/users/{other}/"), Some(&token)).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(res.text().await.unwrap(), "");
    let read = app.token("read").await;
    assert_eq!(
        app.get(&format!("/users/{other}/"), Some(&read))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

async fn a_read_only_token_cannot_create_users(db: TestDatabase) {
    let app = spawn_app(db).await;
    let token = app.token("read").await;
    let res = app
        .post_json(
            "/users/",
            Some(&token),
            &json!({"username": "x", "password": "y"}),
        )
        .await;
    assert_insufficient_scope(res, "write").await;
    let write = app.token("write").await;
    assert_insufficient_scope(app.get("/users/", Some(&write)).await, "read").await;
}

async fn a_method_the_route_lacks_is_405_after_the_policy(db: TestDatabase) {
    let app = spawn_app(db).await;
    assert_not_authenticated(
        app.request(Method::PUT, "/users/1/", None)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let token = app.token("write").await;
    let res = app
        .send_json(
            Method::PUT,
            &format!("/users/{}/", app.user_id),
            Some(&token),
            &json!({}),
        )
        .await;
    let status = res.status();
    let allow = res.headers()["allow"].to_str().unwrap().to_string();
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(allow, "GET, PATCH, DELETE");
}

async fn head_answers_like_get_without_a_body(db: TestDatabase) {
    let app = spawn_app(db).await;
    assert_not_authenticated_head(
        app.request(Method::HEAD, "/users/", None)
            .send()
            .await
            .unwrap(),
    );
    let token = app.token("read").await;
    let res = app
        .request(Method::HEAD, "/users/", Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.text().await.unwrap(), "");
    let write = app.token("write").await;
    let res = app
        .request(Method::HEAD, "/users/", Some(&write))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

fn assert_not_authenticated_head(res: reqwest::Response) {
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.headers()["www-authenticate"], r#"Bearer realm="api""#);
}

async fn a_path_id_that_is_not_utf8_is_404(db: TestDatabase) {
    let app = spawn_app(db).await;
    let token = app.token("read").await;
    let (status, _, body) = parts(app.get("/users/%FF%FE/", Some(&token)).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({"detail": "Not found."}));
}

on_both_backends!(
    users_changing_their_own_password_must_give_the_current_one,
    a_username_equal_to_someones_email_is_refused_and_the_email_still_logs_in,
    an_email_another_account_answers_to_is_a_field_error,
    a_new_password_needs_8_characters_and_at_most_72_bytes,
    head_answers_like_get_without_a_body,
    a_path_id_that_is_not_utf8_is_404,
    creating_a_user_with_json_answers_201_without_the_password,
    a_created_user_can_log_in_with_the_stored_bcrypt_hash,
    a_taken_username_is_a_field_error,
    every_invalid_field_is_reported_at_once,
    users_are_listed_and_filtered_exactly,
    one_user_is_shown_and_a_missing_or_malformed_id_is_404,
    a_user_may_change_themselves,
    changing_someone_else_needs_change_user,
    deleting_checks_the_permission_before_looking_the_user_up,
    a_read_only_token_cannot_create_users,
    a_method_the_route_lacks_is_405_after_the_policy,
);
