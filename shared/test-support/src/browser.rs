//! Headless Chromium driven over WebDriver, for the browser tests (feature `browser`).
//!
//! Each [`Chromium`] is its own chromedriver (started here on a free port) with its own browser
//! and an empty profile in a temporary directory; nothing is downloaded and nothing outlives the
//! value. Where chromedriver is absent (`/usr/bin/chromedriver`, or the path in `CHROMEDRIVER`),
//! [`Chromium::start`] prints a `skipped: …` line and gives `None`, so the test passes without
//! running, as the PostgreSQL tests do without `OAUTH_TEST_POSTGRES_URL`. Debian's packages are
//! `chromium` and `chromium-driver`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use fantoccini::elements::Element;
use fantoccini::wd::{Capabilities, WindowHandle};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use tokio::sync::{Semaphore, SemaphorePermit};

pub const CHROMEDRIVER_ENV: &str = "CHROMEDRIVER";
const DEFAULT_CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The browser binary chromedriver starts; Debian's by default.
pub const CHROMIUM_ENV: &str = "CHROMIUM";
const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";
/// Where [`Chromium::screenshot`] writes its PNGs; relative paths are taken from the workspace
/// root (`SCREENSHOTS_DIR=docs/img`). Unset, no screenshot is written.
pub const SCREENSHOTS_ENV: &str = "SCREENSHOTS_DIR";

/// How long a wait for an element, a URL or a text polls before the test fails.
pub const WAIT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(50);

/// Browsers running at once in one test binary: each is a handful of processes, and the machines
/// that run the tests have two cores.
static SLOTS: Semaphore = Semaphore::const_new(2);

/// The flags every session starts Chromium with: headless, and no connection of its own to
/// anywhere (no updates, no sync, no background requests) so that it works without a network.
pub const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--window-size=1200,900",
];

/// The chromedriver to use, or why there is none.
fn chromedriver_path() -> Result<PathBuf, String> {
    let path = std::env::var(CHROMEDRIVER_ENV)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| DEFAULT_CHROMEDRIVER.to_string());
    let path = PathBuf::from(path);
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "skipped: no chromedriver at {} (apt-get install chromium chromium-driver, or set {CHROMEDRIVER_ENV}) to run the browser tests",
            path.display()
        ))
    }
}

/// A chromedriver process in a process group of its own, so that dropping it also ends the
/// browser it started, even when the test panicked before closing its session.
struct Chromedriver {
    child: Child,
    port: u16,
}

impl Chromedriver {
    fn start(path: &Path) -> Self {
        use std::os::unix::process::CommandExt;

        let mut child = Command::new(path)
            .arg("--port=0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", path.display()));
        let stdout = child.stdout.take().expect("chromedriver's stdout");
        let (port_tx, port_rx) = mpsc::channel();
        // Reads the port it chose, then keeps draining its output so that it never blocks on a
        // full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(port) = line
                    .split_once("started successfully on port ")
                    .and_then(|(_, rest)| rest.trim_end_matches('.').trim().parse::<u16>().ok())
                {
                    let _ = port_tx.send(port);
                }
            }
        });
        let mut driver = Self { child, port: 0 };
        driver.port = port_rx
            .recv_timeout(WAIT)
            .expect("chromedriver did not say which port it listens on");
        driver
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.child.id()) {
            // The whole group: chromedriver and the browser processes it started.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
        let _ = self.child.wait();
    }
}

/// A headless Chromium session. Close it with [`Chromium::quit`]; dropping it (a failed test)
/// kills the browser instead.
pub struct Chromium {
    client: Client,
    // Dropped in this order: the browser is gone before its profile directory is deleted.
    _driver: Chromedriver,
    _profile: tempfile::TempDir,
    _slot: SemaphorePermit<'static>,
}

impl Chromium {
    /// A new browser with an empty profile, or `None` (after printing `skipped: …`) where there is
    /// no chromedriver.
    pub async fn start() -> Option<Self> {
        let path = match chromedriver_path() {
            Ok(path) => path,
            Err(skipped) => {
                eprintln!("{skipped}");
                return None;
            }
        };
        let slot = SLOTS.acquire().await.expect("the browser slots stay open");
        let profile = tempfile::tempdir().expect("a temporary profile directory");
        let driver = Chromedriver::start(&path);
        let binary = std::env::var(CHROMIUM_ENV)
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| DEFAULT_CHROMIUM.to_string());
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|f| f.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let mut capabilities = Capabilities::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": binary, "args": args }),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await
            .unwrap_or_else(|e| panic!("cannot start {binary} through chromedriver: {e}"));
        Some(Self {
            client,
            _driver: driver,
            _profile: profile,
            _slot: slot,
        })
    }

    /// The WebDriver client, for what the helpers below do not cover (windows, scripts).
    pub fn client(&self) -> &Client {
        &self.client
    }

    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
    }

    pub async fn current_url(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("the current URL")
            .to_string()
    }

    /// The first element matching `css`, once there is one.
    pub async fn find(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(WAIT)
            .every(POLL)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| {
                panic!("no element {css} within {WAIT:?}: {e}");
            })
    }

    /// Whether an element matches `css` right now.
    pub async fn has(&self, css: &str) -> bool {
        !self
            .client
            .find_all(Locator::Css(css))
            .await
            .expect("find elements")
            .is_empty()
    }

    /// Polls until no element matches `css` (a dialog closed).
    pub async fn wait_until_gone(&self, css: &str) {
        let started = Instant::now();
        while self.has(css).await {
            assert!(started.elapsed() < WAIT, "{css} still there after {WAIT:?}");
            tokio::time::sleep(POLL).await;
        }
    }

    /// Types `text` into the field `css`, replacing what it held.
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.expect("clear the field");
        field.send_keys(text).await.expect("type into the field");
    }

    pub async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
    }

    /// The visible text of the element `css`.
    pub async fn text(&self, css: &str) -> String {
        self.find(css)
            .await
            .text()
            .await
            .expect("the element's text")
    }

    /// Polls until the text of the element `css` satisfies `ready`; returns that text.
    pub async fn wait_for_text(&self, css: &str, ready: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        let mut last = String::new();
        while started.elapsed() < WAIT {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                if let Ok(text) = element.text().await {
                    if ready(&text) {
                        return text;
                    }
                    last = text;
                }
            }
            tokio::time::sleep(POLL).await;
        }
        panic!("{css} never showed the expected text within {WAIT:?}; last: {last:?}");
    }

    /// Polls until the page's URL starts with `prefix`; returns the URL.
    pub async fn wait_for_url(&self, prefix: &str) -> String {
        let started = Instant::now();
        let mut last = String::new();
        while started.elapsed() < WAIT {
            last = self.current_url().await;
            if last.starts_with(prefix) {
                return last;
            }
            tokio::time::sleep(POLL).await;
        }
        panic!("never reached {prefix} within {WAIT:?}; still at {last}");
    }

    /// Polls until a window other than `current` is open (a pop-up), and switches to it.
    pub async fn switch_to_new_window(&self, current: &WindowHandle) -> WindowHandle {
        let started = Instant::now();
        while started.elapsed() < WAIT {
            let windows = self.client.windows().await.expect("the windows");
            if let Some(new) = windows.into_iter().find(|w| w != current) {
                self.client
                    .switch_to_window(new.clone())
                    .await
                    .expect("switch to the new window");
                return new;
            }
            tokio::time::sleep(POLL).await;
        }
        panic!("no new window opened within {WAIT:?}");
    }

    /// Polls until `window` is the only one left (a pop-up closed itself), and switches to it.
    pub async fn switch_back_once_alone(&self, window: WindowHandle) {
        let started = Instant::now();
        loop {
            let windows = self.client.windows().await.expect("the windows");
            if windows == [window.clone()] {
                break;
            }
            assert!(
                started.elapsed() < WAIT,
                "{} windows still open after {WAIT:?}",
                windows.len()
            );
            tokio::time::sleep(POLL).await;
        }
        self.client
            .switch_to_window(window)
            .await
            .expect("switch back");
    }

    /// Scrolls the element `css` to the top of the window.
    pub async fn scroll_to(&self, css: &str) {
        let element = self.find(css).await;
        let element = serde_json::to_value(&element).expect("an element reference");
        self.client
            .execute(
                "arguments[0].scrollIntoView({block: 'start'})",
                vec![element],
            )
            .await
            .expect("scroll");
    }

    /// Saves the window as `<SCREENSHOTS_DIR>/<name>.png` when `SCREENSHOTS_DIR` is set; else
    /// does nothing, so that ordinary runs leave the tracked images alone.
    pub async fn screenshot(&self, name: &str) {
        if screenshots_dir().is_some() {
            let png = self.client.screenshot().await.expect("a screenshot");
            save_screenshot(name, &png);
        }
    }

    /// As [`Chromium::screenshot`], of the element `css` alone.
    pub async fn screenshot_of(&self, name: &str, css: &str) {
        if screenshots_dir().is_some() {
            let png = self
                .find(css)
                .await
                .screenshot()
                .await
                .expect("a screenshot");
            save_screenshot(name, &png);
        }
    }

    /// Ends the session and the browser.
    pub async fn quit(self) {
        let Self {
            client,
            _driver,
            _profile,
            _slot,
        } = self;
        let _ = client.close().await;
    }
}

/// The auth server's login and consent pages, used as a person uses them.
impl Chromium {
    /// Waits for the login page, types `login` and `password` and submits.
    pub async fn sign_in(&self, login: &str, password: &str) {
        self.fill("#username", login).await;
        self.fill("#password", password).await;
        self.click("form button[type=submit]").await;
    }

    /// Waits for the consent page and presses Allow or Deny.
    pub async fn answer_consent(&self, allow: bool) {
        let value = if allow { "yes" } else { "no" };
        self.click(&format!("button[name=allow][value={value}]"))
            .await;
    }

    /// Whether the page shown is the login page.
    pub async fn on_login_page(&self) -> bool {
        self.has("#password").await
    }

    /// Whether the page shown is the consent page.
    pub async fn on_consent_page(&self) -> bool {
        self.has("button[name=allow]").await
    }
}

/// Writes the PNG under a temporary name first: the same test on both databases may save the
/// same picture at the same time.
fn save_screenshot(name: &str, png: &[u8]) {
    let dir = screenshots_dir().expect("SCREENSHOTS_DIR is set");
    std::fs::create_dir_all(&dir).expect("the screenshots directory");
    let path = dir.join(format!("{name}.png"));
    let partial = dir.join(format!(".{name}.{}.png", uuid::Uuid::new_v4().simple()));
    std::fs::write(&partial, png).unwrap_or_else(|e| panic!("write {}: {e}", partial.display()));
    std::fs::rename(&partial, &path).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    eprintln!("screenshot: {}", path.display());
}

fn screenshots_dir() -> Option<PathBuf> {
    let dir = std::env::var(SCREENSHOTS_ENV)
        .ok()
        .filter(|v| !v.is_empty())?;
    let dir = PathBuf::from(dir);
    Some(if dir.is_absolute() {
        dir
    } else {
        // Test binaries run in their own package's directory; this crate is at shared/test-support.
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(dir)
    })
}

/// A client's redirect URI for browser tests: `http://127.0.0.1:<port>/callback` on the test's
/// runtime, which records the query of every request and answers a small page.
pub struct Callback {
    /// `http://127.0.0.1:<port>/callback`.
    pub url: String,
    queries: Queries,
}

impl Callback {
    pub async fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = listener.local_addr().expect("its address").port();
        let queries = Arc::new(Mutex::new(Vec::new()));
        let kept = queries.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(kept.clone()))
                .route("/callback", web::get().to(record))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .expect("listen")
        .run();
        actix_web::rt::spawn(server);
        Self {
            url: format!("http://127.0.0.1:{port}/callback"),
            queries,
        }
    }

    /// The query of the first request that reached the callback, waiting for one.
    pub async fn query(&self) -> HashMap<String, String> {
        let started = Instant::now();
        while started.elapsed() < WAIT {
            if let Some(query) = self.queries.lock().expect("the queries").first() {
                return query.clone();
            }
            tokio::time::sleep(POLL).await;
        }
        panic!("nothing reached {} within {WAIT:?}", self.url);
    }

    /// How many requests reached the callback.
    pub fn hits(&self) -> usize {
        self.queries.lock().expect("the queries").len()
    }
}

type Queries = Arc<Mutex<Vec<HashMap<String, String>>>>;

async fn record(req: HttpRequest, queries: web::Data<Queries>) -> HttpResponse {
    let query: HashMap<String, String> =
        web::Query::<HashMap<String, String>>::from_query(req.query_string())
            .map(|q| q.into_inner())
            .unwrap_or_default();
    let shown = if query.contains_key("code") {
        "Signed in"
    } else {
        "Not signed in"
    };
    queries.lock().expect("the queries").push(query);
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!doctype html><title>Callback</title><h1 id=\"callback\">{shown}</h1>"
        ))
}
