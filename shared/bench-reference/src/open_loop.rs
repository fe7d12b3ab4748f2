//! An open-loop load generator for requests that cannot repeat: each request takes the next line
//! of a file as its body, once (rotating refresh tokens, authorization codes). oha drives the
//! fixed requests at a fixed rate; its `-Z` picks lines at random, with repeats, so it cannot
//! send single-use tokens.
//!
//! Request i is due at `start + i / rate`, whatever happened to the earlier ones, and its latency
//! is measured from that time, not from when it could be sent: a stalled server shows in the
//! latency of every request that was due meanwhile (no coordinated omission), as with oha's
//! `--latency-correction`. At most CONNECTIONS requests are in flight; a request due while all
//! are busy waits for one, and that wait counts in its latency.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::sync::Semaphore;

pub struct Plan {
    pub method: reqwest::Method,
    pub url: String,
    pub rate: f64,
    pub seconds: f64,
    pub connections: usize,
    pub authorization: Option<String>,
    /// One form body a request, in order; each is sent once.
    pub bodies: Vec<String>,
}

/// Runs the plan and prints one line: `OPENLOOP requests=… seconds=… rps=… p50_us=… p99_us=…
/// p999_us=… max_us=… non2xx=… errors=…`.
pub fn run(plan: Plan) -> anyhow::Result<()> {
    let total = (plan.rate * plan.seconds).round() as usize;
    anyhow::ensure!(total > 0, "nothing to send at this rate and duration");
    anyhow::ensure!(
        plan.bodies.len() >= total,
        "{total} requests need as many bodies, not {}",
        plan.bodies.len()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("start the runtime")?;
    runtime.block_on(drive(plan, total))
}

async fn drive(plan: Plan, total: usize) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(plan.connections)
        .timeout(Duration::from_secs(30))
        .build()?;
    let slots = Arc::new(Semaphore::new(plan.connections));
    let interval = Duration::from_secs_f64(1.0 / plan.rate);
    let start = Instant::now() + Duration::from_millis(20);
    let mut in_flight = Vec::with_capacity(total);
    for (i, body) in plan.bodies.into_iter().take(total).enumerate() {
        let due = start + interval * i as u32;
        tokio::time::sleep_until(due.into()).await;
        let slot = slots.clone().acquire_owned().await?;
        let mut request = client
            .request(plan.method.clone(), &plan.url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(authorization) = &plan.authorization {
            request = request.header("Authorization", authorization);
        }
        in_flight.push(tokio::spawn(async move {
            let outcome = match request.send().await {
                Ok(response) => {
                    let ok = response.status().is_success();
                    // The answer counts once it has been read whole.
                    match response.bytes().await {
                        Ok(_) => Outcome::Answered { ok },
                        Err(_) => Outcome::Failed,
                    }
                }
                Err(_) => Outcome::Failed,
            };
            drop(slot);
            (due.elapsed(), outcome)
        }));
    }
    let mut latencies = Vec::with_capacity(total);
    let (mut non2xx, mut errors) = (0, 0);
    for task in in_flight {
        let (latency, outcome) = task.await?;
        match outcome {
            Outcome::Answered { ok: true } => {}
            Outcome::Answered { ok: false } => non2xx += 1,
            Outcome::Failed => errors += 1,
        }
        latencies.push(latency);
    }
    let seconds = start.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let at = |q: f64| {
        let rank = ((q * latencies.len() as f64).ceil() as usize).clamp(1, latencies.len());
        latencies[rank - 1].as_micros()
    };
    println!(
        "OPENLOOP requests={total} seconds={seconds:.3} rps={:.1} p50_us={} p99_us={} \
         p999_us={} max_us={} non2xx={non2xx} errors={errors}",
        total as f64 / seconds,
        at(0.50),
        at(0.99),
        at(0.999),
        at(1.0),
    );
    Ok(())
}

enum Outcome {
    Answered { ok: bool },
    Failed,
}
