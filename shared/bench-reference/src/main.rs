//! Reference points for `scripts/bench`, built from the same crates and the same database layer as
//! the services, so their numbers say what this machine can do at best:
//!
//!   bench_reference empty  ADDR          an actix-web handler that does nothing: the HTTP ceiling
//!   bench_reference select ADDR          GET /users/{id}/: one SELECT by primary key through
//!                                        the store crate (diesel + r2d2, no ping on checkout) inside
//!                                        `web::block`, the user as JSON: the work floor as the
//!                                        benchmark issue defines it (R2)
//!   bench_reference select-gated ADDR    the same through `Database::run`, which first waits for
//!                                        a permit per pooled connection, as the services do
//!                                        (R2g: the floor of the services' own data path)
//!   bench_reference bcrypt COST SECONDS [THREADS]
//!                                        bcrypt verifications/s at COST on THREADS threads
//!                                        (default: the available parallelism, as actix-web's
//!                                        worker count), printed as `verifications_per_second=N`
//!   bench_reference open-loop METHOD URL RATE SECONDS CONNECTIONS BODIES
//!                                        RATE requests/s for SECONDS, each with the next line of
//!                                        the file BODIES as its form body (used once), the
//!                                        Authorization header from BENCH_AUTHORIZATION; latency
//!                                        from each request's due time (open_loop.rs)
//!
//! `select` and `select-gated` read DATABASE_URL and DATABASE_POOL_SIZE like the services; no request is logged.
//! Not shipped: a crate of its own, built by `scripts/bench` only.

mod open_loop;

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpResponse, HttpServer};
use oauth_core::config::{from_env, DatabaseArgs, DatabaseSettings, DatabaseUrl};
use oauth_core::secrets::ExposeSecret;
use store::{users, ConnectionManager, Database, Pool, StoreError};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["empty", addr] => serve_empty(addr),
        ["select", addr] => serve_select(addr, false),
        ["select-gated", addr] => serve_select(addr, true),
        ["bcrypt", cost, seconds] => bcrypt(cost, seconds, None),
        ["bcrypt", cost, seconds, threads] => bcrypt(cost, seconds, Some(threads)),
        ["open-loop", method, url, rate, seconds, connections, bodies] => {
            open_loop(method, url, rate, seconds, connections, bodies)
        }
        _ => Err(anyhow::anyhow!(
            "usage: bench_reference empty ADDR | select ADDR | select-gated ADDR \
             | bcrypt COST SECONDS [THREADS] \
             | open-loop METHOD URL RATE SECONDS CONNECTIONS BODIES"
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_reference: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve_empty(addr: &str) -> anyhow::Result<()> {
    let addr = addr.to_string();
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(|| {
            App::new().default_service(web::to(|| async { HttpResponse::Ok().finish() }))
        })
        .bind(&addr)?
        .run()
        .await?;
        Ok(())
    })
}

/// Every request waits for a connection inside r2d2's `get()`, on a blocking thread.
async fn get_user(db: web::Data<Database>, id: web::Path<i32>) -> actix_web::Result<HttpResponse> {
    let id = id.into_inner();
    let pool = db.pool().clone();
    let user = web::block(move || {
        let mut conn = pool.get().map_err(|e| e.to_string())?;
        users::find(&mut conn, id).map_err(|e| e.to_string())
    })
    .await?
    .map_err(actix_web::error::ErrorInternalServerError)?;
    Ok(user_json(user))
}

/// A request first waits for a permit on its async worker, as in the services.
async fn get_user_gated(
    db: web::Data<Database>,
    id: web::Path<i32>,
) -> actix_web::Result<HttpResponse> {
    let id = id.into_inner();
    let user = db
        .run(move |conn| -> Result<_, StoreError> { users::find(conn, id) })
        .await
        .map_err(actix_web::error::ErrorInternalServerError)?;
    Ok(user_json(user))
}

fn user_json(user: Option<store::models::User>) -> HttpResponse {
    match user {
        Some(u) => HttpResponse::Ok().json(serde_json::json!({
            "id": u.id,
            "username": u.username,
            "email": u.email,
            "first_name": u.first_name,
            "last_name": u.last_name,
        })),
        None => HttpResponse::NotFound().json(serde_json::json!({"detail": "Not found."})),
    }
}

/// The services' pool (store::ConnectionManager, same size), minus the ping on checkout
/// that `store::connect` adds on PostgreSQL: the floor is one query per request.
fn floor_pool(settings: &DatabaseSettings) -> anyhow::Result<Pool> {
    let url = DatabaseUrl::parse(settings.url.expose_secret())
        .map_err(|e| anyhow::anyhow!("DATABASE_URL {e}"))?;
    let pool = r2d2::Pool::builder()
        .max_size(settings.pool_size)
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(5))
        .test_on_check_out(false)
        .build(ConnectionManager::new(url))?;
    store::run_migrations(&mut *pool.get()?)?;
    Ok(pool)
}

fn serve_select(addr: &str, gated: bool) -> anyhow::Result<()> {
    let settings = DatabaseSettings::from(from_env::<DatabaseArgs>()?);
    let pool = web::Data::new(Database::new(floor_pool(&settings)?));
    let addr = addr.to_string();
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(move || {
            App::new().app_data(pool.clone()).route(
                "/users/{id}/",
                if gated {
                    web::get().to(get_user_gated)
                } else {
                    web::get().to(get_user)
                },
            )
        })
        .bind(&addr)?
        .run()
        .await?;
        Ok(())
    })
}

fn bcrypt(cost: &str, seconds: &str, threads: Option<&&str>) -> anyhow::Result<()> {
    let cost: u32 = cost.parse()?;
    let seconds: f64 = seconds.parse()?;
    let threads: usize = match threads {
        Some(t) => t.parse()?,
        None => std::thread::available_parallelism()?.get(),
    };
    let hash = Arc::new(bcrypt::hash("correct horse battery staple", cost)?);
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (hash, stop, done) = (hash.clone(), stop.clone(), done.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    assert!(bcrypt::verify("correct horse battery staple", &hash).unwrap_or(false));
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join()
            .map_err(|_| anyhow::anyhow!("a verifying thread panicked"))?;
    }
    // Verifications in flight at the stop finish after it: count the time they took too.
    let elapsed = started.elapsed().as_secs_f64();
    let n = done.load(Ordering::Relaxed);
    println!(
        "cost={cost} threads={threads} verifications={n} seconds={elapsed:.2} verifications_per_second={:.2}",
        n as f64 / elapsed
    );
    Ok(())
}

fn open_loop(
    method: &str,
    url: &str,
    rate: &str,
    seconds: &str,
    connections: &str,
    bodies: &str,
) -> anyhow::Result<()> {
    let bodies = std::fs::read_to_string(bodies)
        .map_err(|e| anyhow::anyhow!("read {bodies}: {e}"))?
        .lines()
        .filter(|line| !line.is_empty())
        .map(str::to_string)
        .collect();
    open_loop::run(open_loop::Plan {
        method: method.parse()?,
        url: url.to_string(),
        rate: rate.parse()?,
        seconds: seconds.parse()?,
        connections: connections.parse()?,
        authorization: std::env::var("BENCH_AUTHORIZATION")
            .ok()
            .filter(|a| !a.is_empty()),
        bodies,
    })
}
