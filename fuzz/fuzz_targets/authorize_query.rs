//! The authorize endpoint's query, without a database: any query parses or is
//! `invalid_request`; whatever `state` holds comes back in the redirect exactly as sent and adds
//! no parameter of its own; redirect URI matching never accepts a URI that differs from the
//! registered one but in a loopback port; prompt values parse or are refused.
#![no_main]

use auth_server::flows::authorize::{parse_prompt, Redirect};
use auth_server::http::form::Form;
use auth_server::redirect_uris::{is_registered, registration_problem};
use libfuzzer_sys::fuzz_target;

const REGISTERED: [&str; 2] = ["https://app.example.com/cb?x=1", "http://127.0.0.1:5555/cb"];

fuzz_target!(|query: &[u8]| {
    let form = match Form::parse(query) {
        Ok(form) => form,
        Err(e) => {
            assert_eq!(e.code.as_str(), "invalid_request");
            return;
        }
    };
    let _ = parse_prompt(form.get("prompt"));
    if let Some(uri) = form.get("redirect_uri") {
        let _ = registration_problem(uri);
        if is_registered(uri, REGISTERED.iter().copied(), true) {
            assert!(REGISTERED.contains(&uri) || uri.starts_with("http://127.0.0.1"));
        }
        assert_eq!(
            is_registered(uri, REGISTERED.iter().copied(), false),
            REGISTERED.contains(&uri)
        );
    }
    if let Some(state) = form.get("state") {
        let Redirect(location) = Redirect::to(
            REGISTERED[0],
            &[("code", "c0de")],
            Some(state),
            "https://auth.example.com",
        );
        let url = url::Url::parse(&location).expect("a redirect that parses");
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["x", "code", "state", "iss"]);
        assert_eq!(pairs[2].1, state);
        assert_eq!(pairs[3].1, "https://auth.example.com");
    }
});
