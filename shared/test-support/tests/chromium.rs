//! The browser scaffolding itself: a headless Chromium opens a local page, and the callback
//! server records what the browser brought it.

use test_support::browser::{Callback, Chromium};

#[actix_web::test]
async fn chromium_opens_the_callback_and_the_callback_records_the_query() {
    let Some(chromium) = Chromium::start().await else {
        return;
    };
    let callback = Callback::start().await;
    chromium
        .goto(&format!("{}?code=abc&state=s%20t", callback.url))
        .await;
    assert_eq!(chromium.text("#callback").await, "Signed in");
    let query = callback.query().await;
    assert_eq!(query["code"], "abc");
    assert_eq!(query["state"], "s t");
    assert_eq!(callback.hits(), 1, "the favicon is not a hit");
    chromium.quit().await;
}
