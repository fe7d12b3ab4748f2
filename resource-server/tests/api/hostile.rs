//! Hostile input at the resource server: SQL-looking filters and names, NUL bytes, ids past
//! i32 and i64, fields nobody may set, duplicated keys, deep JSON, oversized heads and chunked
//! bodies past the limit. Each gets a 4xx in the contract's shape (or, for what the HTTP parser
//! itself refuses, a bare 4xx) and changes no row it should not.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use test_support::on_both_backends;
use test_support::{chunked_body, raw_http, row_counts, TestDatabase};

use crate::helpers::*;

fn addr(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_string()
}

async fn sql_looking_filters_match_nothing_and_change_nothing(db: TestDatabase) {
    let app = spawn_app(db).await;
    app.add_user("ann", "pw");
    let token = app.token("read").await;
    let before = row_counts(&app.pool);
    for query in [
        "username=%27%20OR%201%3D1%20--",
        "username=' OR 1=1 --",
        "username=tue'; DROP TABLE users; --",
        "email=x' OR 'a'='a",
        "username=%25",
        "username=_",
        "email=%25%40%25",
        "username=tue&username=' OR 1=1 --",
        "username=%FF",
    ] {
        let (status, _, body) =
            parts(app.get(&format!("/users/?{query}"), Some(&token)).await).await;
        assert_eq!(status, StatusCode::OK, "{query}: {body}");
        assert_eq!(body["count"], 0, "{query}");
        assert_eq!(body["results"], json!([]), "{query}");
    }
    // A repeated filter takes its last value, as Django's QueryDict does.
    let (_, _, body) = parts(
        app.get("/users/?username=' OR 1=1 --&username=ann", Some(&token))
            .await,
    )
    .await;
    assert_eq!(body["count"], 1);
    assert_eq!(row_counts(&app.pool), before);
}

async fn a_nul_byte_in_a_filter_is_a_field_error(db: TestDatabase) {
    let app = spawn_app(db).await;
    let token = app.token("read").await;
    for (query, field) in [
        ("username=tue%00", "username"),
        ("email=%00", "email"),
        ("username=a&email=tue%00%40example.com", "email"),
    ] {
        let (status, _, body) =
            parts(app.get(&format!("/users/?{query}"), Some(&token)).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(
            body,
            json!({field: ["Null characters are not allowed."]}),
            "{query}"
        );
    }
}

async fn sql_looking_usernames_are_refused_and_names_are_stored_verbatim(db: TestDatabase) {
    let app = spawn_app(db).await;
    let token = app.token("read write albums").await;
    let before = row_counts(&app.pool);
    for username in ["' OR 1=1 --", "tue'--", "a;DROP TABLE users", "x\" OR \"1"] {
        let (status, _, body) = parts(
            app.post_json(
                "/users/",
                Some(&token),
                &json!({"username": username, "password": "pw"}),
            )
            .await,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{username}");
        assert!(body["username"][0]
            .as_str()
            .unwrap()
            .starts_with("Enter a valid username."));
    }
    let res = app
        .send_json(
            Method::PATCH,
            &format!("/users/{}/", app.user_id),
            Some(&token),
            &json!({"username": "tue' OR '1'='1"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(row_counts(&app.pool), before);
    // A name is free text: stored and shown exactly as sent, and it is only a name.
    let name = "'); DROP TABLE albums; --";
    let album = app.create_album(&token, name).await;
    assert_eq!(album["name"], name);
    let (_, _, shown) = parts(
        app.get(&format!("/albums/{}/", album["id"]), Some(&token))
            .await,
    )
    .await;
    assert_eq!(shown["name"], name);
    let mut expected = before.clone();
    *expected.get_mut("albums").unwrap() += 1;
    assert_eq!(row_counts(&app.pool), expected);
}

async fn ids_past_i32_and_i64_are_404_for_every_method(db: TestDatabase) {
    let app = spawn_app(db).await;
    let token = app.token(ALL_SCOPES).await;
    app.grant(app.user_id, &["change_user", "delete_user"]);
    let album = app.create_album(&token, "Kept").await;
    let before = row_counts(&app.pool);
    let body = json!({"artist": app.user_id, "album": album["id"], "name": "N", "title": "T",
        "release_date": "2021-06-15", "num_stars": 1, "duration_seconds": 1});
    for id in [
        "2147483648",
        "-2147483649",
        "9223372036854775808",
        "-9223372036854775809",
        "340282366920938463463374607431768211456",
        "1e3",
        "0x1",
        "1.0",
        "%201",
        "1%00",
        "%00",
    ] {
        for prefix in ["/albums/", "/songs/", "/users/", "/update/album/"] {
            let path = format!("{prefix}{id}/");
            for method in [Method::GET, Method::PUT, Method::PATCH, Method::DELETE] {
                let res = app
                    .send_json(method.clone(), &path, Some(&token), &body)
                    .await;
                let status = res.status();
                let text = res.text().await.unwrap();
                // A method the route lacks is 405; the song policy refuses PATCH outright.
                let expected = match (prefix, &method) {
                    ("/songs/", &Method::PATCH) => StatusCode::FORBIDDEN,
                    ("/users/", &Method::PUT) => StatusCode::METHOD_NOT_ALLOWED,
                    ("/update/album/", &Method::GET | &Method::DELETE) => {
                        StatusCode::METHOD_NOT_ALLOWED
                    }
                    _ => StatusCode::NOT_FOUND,
                };
                assert_eq!(status, expected, "{method} {path}: {text}");
                let body: Value = serde_json::from_str(&text).unwrap();
                assert!(body["detail"].is_string(), "{method} {path}: {text}");
            }
        }
    }
    assert_eq!(row_counts(&app.pool), before);
}

async fn fields_nobody_may_set_are_ignored(db: TestDatabase) {
    let app = spawn_app(db).await;
    let token = app.token("read write albums").await;
    let (status, _, user) = parts(
        app.post_json(
            "/users/",
            Some(&token),
            &json!({"username": "mallory", "password": "pw-pw-pw", "id": 4242,
                "is_superuser": true, "is_active": false, "is_staff": true,
                "password_hash": "plaintext", "date_joined": 0, "groups": [1]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    assert_ne!(user["id"], 4242);
    assert_eq!(
        user.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["email", "first_name", "id", "last_name", "username"]
    );
    {
        let mut conn = app.pool.get().unwrap();
        let stored = store::users::find_by_username(&mut conn, "mallory")
            .unwrap()
            .unwrap();
        assert!(!stored.is_superuser);
        assert!(stored.is_active);
        assert!(stored.password_hash.starts_with("$2"));
        assert!(
            store::users::has_permission(&mut conn, stored.id, "add_user").is_ok_and(|held| !held)
        );
    }
    // The new account logs in with the password it was given, and only that.
    app.token_for("mallory", "pw-pw-pw", "read").await;
    let (status, _, album) = parts(
        app.post_json(
            "/albums/",
            Some(&token),
            &json!({"id": 777, "artist": app.user_id, "name": "N",
                "release_date": "2021-06-15", "num_stars": 2, "songs": [{"title": "x"}]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(album["id"], 777);
    assert_eq!(row_counts(&app.pool)["songs"], 0);
}

async fn duplicated_keys_take_the_last_value(db: TestDatabase) {
    let app = spawn_app(db).await;
    let token = app.token("read write albums").await;
    let before = row_counts(&app.pool);
    let json_body = format!(
        r#"{{"artist": {}, "name": "N", "release_date": "2021-06-15", "num_stars": 1, "num_stars": 9}}"#,
        app.user_id
    );
    let res = app
        .request(Method::POST, "/albums/", Some(&token))
        .header("content-type", "application/json")
        .body(json_body)
        .send()
        .await
        .unwrap();
    assert_field_errors(
        res,
        json!({"num_stars": ["Ensure this value is less than or equal to 5."]}),
    )
    .await;
    let res = app
        .send_form(
            Method::POST,
            "/albums/",
            Some(&token),
            &[
                ("artist", &app.user_id.to_string()),
                ("name", "N"),
                ("release_date", "2021-06-15"),
                ("num_stars", "1"),
                ("num_stars", "-1"),
            ],
        )
        .await;
    assert_field_errors(
        res,
        json!({"num_stars": ["Ensure this value is greater than or equal to 0."]}),
    )
    .await;
    assert_eq!(row_counts(&app.pool), before);
}

async fn deeply_nested_or_numeric_junk_json_is_a_parse_error(db: TestDatabase) {
    let app = spawn_app(db).await;
    let token = app.token("read write albums").await;
    let before = row_counts(&app.pool);
    let deep_array = "[".repeat(60_000);
    let deep_object = format!("{}1{}", r#"{"a":"#.repeat(10_000), "}".repeat(10_000));
    for body in [
        deep_array,
        deep_object,
        r#"{"num_stars": 1e400}"#.to_string(),
        "{\"name\": \"\\ud800\"}".to_string(),
        "\u{feff}{}".to_string(),
    ] {
        let res = app
            .request(Method::POST, "/albums/", Some(&token))
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let (status, _, answer) = parts(res).await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "{}",
            &body[..body.len().min(40)]
        );
        assert!(answer.is_object());
    }
    assert_eq!(row_counts(&app.pool), before);
}

async fn a_chunked_body_past_the_limit_is_413_and_stores_nothing(db: TestDatabase) {
    let app = spawn_app(db).await;
    let token = app.token("read write albums").await;
    let before = row_counts(&app.pool);
    let mut request = format!(
        "POST /albums/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    request.extend(chunked_body(80 * 1024, b'a'));
    let (status, body) = raw_http(&addr(&app), &request).await;
    assert_eq!(status, 413, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert!(body["detail"].is_string());
    assert_eq!(row_counts(&app.pool), before);
}

async fn a_body_that_stops_arriving_is_refused_after_a_bounded_wait(db: TestDatabase) {
    let app = spawn_app(db).await;
    let token = app.token("read write albums").await;
    let before = row_counts(&app.pool);
    let request = format!(
        "POST /albums/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
         Authorization: Bearer {token}\r\nContent-Type: application/json\r\n\
         Content-Length: 100\r\n\r\n{{\"name\": \"N\", "
    );
    // The client sends part of its body and then nothing: the server answers on its own.
    let (status, body) = raw_http(&addr(&app), request.as_bytes()).await;
    assert_eq!(status, 400, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert!(body["detail"].is_string());
    assert_eq!(row_counts(&app.pool), before);
}

async fn oversized_heads_and_raw_bytes_are_4xx_without_a_crash(db: TestDatabase) {
    let app = spawn_app(db).await;
    let token = app.token("read").await;
    let pad = "a".repeat(200 * 1024);
    let request =
        format!("GET /users/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Pad: {pad}\r\n\r\n");
    assert_eq!(raw_http(&addr(&app), request.as_bytes()).await.0, 431);
    // A bearer header of bytes that are not UTF-8 is a malformed token.
    let request = b"GET /users/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
        Authorization: Bearer \xff\xfe\r\n\r\n";
    let (status, body) = raw_http(&addr(&app), request).await;
    assert_eq!(status, 401, "{body}");
    assert!(serde_json::from_str::<Value>(&body).unwrap()["detail"].is_string());
    // Raw bytes in the query string decode leniently and match nothing.
    let mut request =
        b"GET /users/?username=\xff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n".to_vec();
    request.extend_from_slice(format!("Authorization: Bearer {token}\r\n\r\n").as_bytes());
    let (status, body) = raw_http(&addr(&app), &request).await;
    assert!(status == 200 || status == 400, "{status} {body}");
    let res = app.get("/healthz", None).await;
    assert_eq!(res.status(), StatusCode::OK);
}

/// One write of the length test and what the contract says it gets: 2xx at the maximum, a 400
/// on exactly that field one past it.
struct Write {
    method: Method,
    path: String,
    body: Value,
    /// None: accepted; Some(field): refused with an error on that field alone.
    refused_on: Option<&'static str>,
}

fn accepted(method: Method, path: &str, body: Value) -> Write {
    Write {
        method,
        path: path.to_string(),
        body,
        refused_on: None,
    }
}

fn refused(method: Method, path: &str, body: Value, field: &'static str) -> Write {
    Write {
        refused_on: Some(field),
        ..accepted(method, path, body)
    }
}

/// An e-mail address of exactly `len` characters, each part within its own limit; `domain_char`
/// fills the last label, so that a multibyte one makes it longer in bytes than in characters.
fn email_of(len: usize, domain_char: char) -> String {
    let fixed = format!("{}@{}.{}.", "a".repeat(64), "b".repeat(63), "c".repeat(63));
    let last_label = len - fixed.chars().count() - ".de".len();
    format!(
        "{fixed}{}.de",
        std::iter::repeat_n(domain_char, last_label).collect::<String>()
    )
}

async fn every_field_at_its_maximum_is_stored_and_one_past_is_refused_without_a_write(
    db: TestDatabase,
) {
    let app = spawn_app(db).await;
    app.grant(app.user_id, &["add_group", "change_user", "delete_user"]);
    let token = app
        .token("read write groups albums music:read music:write update")
        .await;
    let other = app.add_user("other", PASSWORD);
    let album = app.create_album(&token, "Kept").await;
    let album_id = album["id"].as_i64().unwrap();
    let (_, _, song) = parts(
        app.post_json(
            "/songs/",
            Some(&token),
            &json!({"album": album_id, "title": "Kept", "duration_seconds": 1}),
        )
        .await,
    )
    .await;
    let song_id = song["id"].as_i64().unwrap();
    let user_path = format!("/users/{other}/");
    let album_path = format!("/albums/{album_id}/");
    let song_path = format!("/songs/{song_id}/");
    let huge = "a".repeat(10_000);
    let password_72 = format!("{}ab", "é".repeat(35));
    let password_73 = format!("{password_72}c");
    let new_user = |field: &str, value: &str| {
        let mut body = json!({"username": "maxed", "password": "long enough"});
        body[field] = json!(value);
        body
    };
    let album_body = |name: &str| json!({"artist": app.user_id, "name": name, "release_date": "2021-06-15", "num_stars": 1});
    let song_body = |title: &str| json!({"album": album_id, "title": title, "duration_seconds": 2});

    let mut writes = Vec::new();
    for (field, max, fill) in [
        ("username", 150, 'u'),
        ("username", 150, 'é'),
        ("first_name", 150, 'f'),
        ("first_name", 150, 'ü'),
        ("last_name", 150, '€'),
    ] {
        let at: String = std::iter::repeat_n(fill, max).collect();
        let past: String = std::iter::repeat_n(fill, max + 1).collect();
        // The user created at the maximum is deleted again, so that its name is free.
        writes.push(accepted(Method::POST, "/users/", new_user(field, &at)));
        writes.push(accepted(Method::DELETE, "", json!(null)));
        writes.push(accepted(Method::PATCH, &user_path, json!({ field: at })));
        for too_long in [&past, &huge] {
            writes.push(refused(
                Method::POST,
                "/users/",
                new_user(field, too_long),
                field,
            ));
            writes.push(refused(
                Method::PATCH,
                &user_path,
                json!({ field: too_long }),
                field,
            ));
        }
    }
    for fill in ['d', 'é'] {
        writes.push(accepted(
            Method::POST,
            "/users/",
            new_user("email", &email_of(254, fill)),
        ));
        writes.push(accepted(Method::DELETE, "", json!(null)));
        writes.push(accepted(
            Method::PATCH,
            &user_path,
            json!({"email": email_of(254, fill)}),
        ));
        for too_long in [email_of(255, fill), format!("{huge}@example.com")] {
            writes.push(refused(
                Method::POST,
                "/users/",
                new_user("email", &too_long),
                "email",
            ));
            writes.push(refused(
                Method::PATCH,
                &user_path,
                json!({"email": too_long}),
                "email",
            ));
        }
    }
    for too_long in [&password_73, &"x".repeat(73), &huge] {
        writes.push(refused(
            Method::POST,
            "/users/",
            new_user("password", too_long),
            "password",
        ));
        writes.push(refused(
            Method::PATCH,
            &user_path,
            json!({"password": too_long}),
            "password",
        ));
    }
    writes.push(accepted(
        Method::POST,
        "/users/",
        new_user("password", &password_72),
    ));
    writes.push(accepted(Method::DELETE, "", json!(null)));
    writes.push(accepted(
        Method::PATCH,
        &user_path,
        json!({"password": password_72}),
    ));
    writes.push(refused(
        Method::PATCH,
        &format!("/users/{}/", app.user_id),
        json!({"password": "long enough", "current_password": huge}),
        "current_password",
    ));

    let at_100 = "n".repeat(100);
    let past_100 = "n".repeat(101);
    let group = |name: &str| json!({ "name": name });
    writes.push(accepted(Method::POST, "/groups/", group(&"g".repeat(150))));
    writes.push(accepted(Method::POST, "/groups/", group(&"ß".repeat(150))));
    for too_long in ["g".repeat(151), "ß".repeat(151), huge.clone()] {
        writes.push(refused(Method::POST, "/groups/", group(&too_long), "name"));
    }
    for (at, past) in [
        (at_100.clone(), past_100.clone()),
        ("ō".repeat(100), "ō".repeat(101)),
    ] {
        writes.push(accepted(Method::POST, "/albums/", album_body(&at)));
        writes.push(accepted(Method::PUT, &album_path, album_body(&at)));
        writes.push(accepted(Method::PATCH, &album_path, json!({ "name": at })));
        writes.push(accepted(Method::POST, "/songs/", song_body(&at)));
        writes.push(accepted(Method::PUT, &song_path, song_body(&at)));
        for too_long in [&past, &huge] {
            writes.push(refused(
                Method::POST,
                "/albums/",
                album_body(too_long),
                "name",
            ));
            writes.push(refused(
                Method::POST,
                "/create/album/",
                album_body(too_long),
                "name",
            ));
            writes.push(refused(
                Method::PUT,
                &album_path,
                album_body(too_long),
                "name",
            ));
            writes.push(refused(
                Method::PATCH,
                &album_path,
                json!({ "name": too_long }),
                "name",
            ));
            writes.push(refused(
                Method::PATCH,
                &format!("/update/album/{album_id}/"),
                json!({ "name": too_long }),
                "name",
            ));
            writes.push(refused(
                Method::POST,
                "/songs/",
                song_body(too_long),
                "title",
            ));
            writes.push(refused(
                Method::PUT,
                &song_path,
                song_body(too_long),
                "title",
            ));
        }
    }

    let snapshot = |app: &TestApp| {
        let mut conn = app.pool.get().unwrap();
        let user = store::users::find(&mut conn, other).unwrap().unwrap();
        let album = store::music::find_album(&mut conn, album_id as i32).unwrap();
        let song = store::music::find_song(&mut conn, song_id as i32).unwrap();
        format!("{user:?} {album:?} {song:?}")
    };
    let mut last_created = None;
    for (i, write) in writes.into_iter().enumerate() {
        let (rows, state) = (row_counts(&app.pool), snapshot(&app));
        let path = if write.method == Method::DELETE {
            // Undoes the user the previous write created.
            format!("/users/{}/", last_created.take().expect("a user to delete"))
        } else {
            write.path.clone()
        };
        let res = app
            .send_json(write.method.clone(), &path, Some(&token), &write.body)
            .await;
        let (status, _, body) = parts(res).await;
        let what = format!("write {i}: {} {path}", write.method);
        match write.refused_on {
            None => {
                assert!(status.is_success(), "{what}: {status} {body}");
                if write.method == Method::POST && path == "/users/" {
                    last_created = body["id"].as_i64();
                }
            }
            Some(field) => {
                assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {body}");
                let fields: Vec<&String> = body.as_object().unwrap().keys().collect();
                assert_eq!(fields, [field], "{what}: {body}");
                assert_eq!(row_counts(&app.pool), rows, "{what}");
                assert_eq!(snapshot(&app), state, "{what}");
            }
        }
    }
    // A filter of any length matches nothing.
    let (status, _, body) = parts(
        app.get(
            &format!("/users/?username={huge}&email={huge}"),
            Some(&token),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["count"], 0);
}

on_both_backends!(
    every_field_at_its_maximum_is_stored_and_one_past_is_refused_without_a_write,
    sql_looking_filters_match_nothing_and_change_nothing,
    a_nul_byte_in_a_filter_is_a_field_error,
    sql_looking_usernames_are_refused_and_names_are_stored_verbatim,
    ids_past_i32_and_i64_are_404_for_every_method,
    fields_nobody_may_set_are_ignored,
    duplicated_keys_take_the_last_value,
    deeply_nested_or_numeric_junk_json_is_a_parse_error,
    a_chunked_body_past_the_limit_is_413_and_stores_nothing,
    oversized_heads_and_raw_bytes_are_4xx_without_a_crash,
    a_body_that_stops_arriving_is_refused_after_a_bounded_wait,
);
