//! Query strings of the list endpoints: filters, page and page_size, and the links built from
//! them. Any query is a page request or a 404 "Invalid page.", never a panic.
#![no_main]

use actix_web::test::TestRequest;
use libfuzzer_sys::fuzz_target;
use resource_server::pagination::{query_pairs, query_value, PageRequest};
use store::Page;

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    let uri = format!("/users/?{query}");
    if uri.parse::<actix_web::http::Uri>().is_err() {
        // Not a request target: the HTTP parser refuses it before any handler runs.
        return;
    }
    let req = TestRequest::get().uri(&uri).to_http_request();
    let pairs = query_pairs(&req);
    let _ = query_value(&pairs, "username");
    let Ok(page) = PageRequest::from_query(&pairs) else {
        return;
    };
    assert!(page.number >= 1 && (1..=100).contains(&page.size));
    let Ok(window) = page.window() else {
        return;
    };
    assert!(window.offset >= 0);
    for count in [0, 1, page.size, i64::MAX / 2] {
        let _ = page.respond(
            &req,
            &pairs,
            Page::<i32> {
                items: vec![],
                count,
            },
        );
    }
});
