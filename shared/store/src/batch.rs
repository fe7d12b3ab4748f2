//! Group commit in the application: writes of one kind that arrive while an earlier batch is
//! being written wait together, and go to the database as one batch, one commit. Each caller is
//! answered only after that commit, with its own row's result, so nothing is promised that a
//! crash could take back; what is saved is a commit (a WAL flush), a round trip and a blocking
//! thread per row.
//!
//! There is no timer: a write that finds nobody writing goes at once, alone. Batches grow only
//! when writes arrive faster than the database commits them, which is exactly when a commit per
//! write would make them queue anyway (docs/benchmarks.md has the A/B).

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use tokio::sync::{mpsc, oneshot, Mutex};

use crate::batch_metrics::BatcherMetrics;
use crate::{Database, DbConnection, StoreError, StoreResult};

/// At most this many writes go in one batch: bounded bind parameters and statement size, and a
/// batch whose rows are still few enough that one slow row does not hold many callers.
const MAX_BATCH: usize = 64;

/// Writers per batcher, each with its own connection while it writes: while one batch commits,
/// the next one gathers and is sent.
const WRITERS: usize = 2;

/// Writes waiting for a writer; a full queue makes callers wait (back pressure).
const QUEUE: usize = 4096;

/// Writes `jobs` with one connection and returns one result per job, in order. It should write
/// them together and, when that fails, each alone, so that one job's failure (a foreign key that
/// vanished) is that job's alone.
pub type WriteBatch<J, R> = fn(&mut DbConnection, &[J]) -> Vec<StoreResult<R>>;

/// A write, who waits for its result, and when it was queued.
type Pending<J, R> = (J, oneshot::Sender<StoreResult<R>>, Instant);

/// Gathers writes of one kind into batches; see the module's documentation.
pub struct Batcher<J, R> {
    db: Database,
    write: WriteBatch<J, R>,
    metrics: BatcherMetrics,
    /// The writers are started by the first write, on the runtime that sends it (an actix-web
    /// worker in the services), so that building a batcher needs no runtime.
    queue: OnceLock<mpsc::Sender<Pending<J, R>>>,
}

impl<J, R> Batcher<J, R>
where
    J: Send + 'static,
    R: Send + 'static,
{
    /// `name` labels this batcher's `db_batch_*` metrics.
    pub fn new(db: Database, name: &'static str, write: WriteBatch<J, R>) -> Self {
        Self {
            metrics: db.batch_metrics().of(name),
            db,
            write,
            queue: OnceLock::new(),
        }
    }

    /// Writes `job` with whatever else is waiting, and answers once that is committed. The
    /// writers stop when the batcher is dropped.
    pub async fn write(&self, job: J) -> StoreResult<R> {
        let (answer, answered) = oneshot::channel();
        self.queue()
            .send((job, answer, Instant::now()))
            .await
            .map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
    }

    fn queue(&self) -> &mpsc::Sender<Pending<J, R>> {
        self.queue.get_or_init(|| {
            let (queue, waiting) = mpsc::channel(QUEUE);
            let waiting = Arc::new(Mutex::new(waiting));
            for _ in 0..WRITERS {
                tokio::spawn(run_writer(
                    self.db.clone(),
                    self.write,
                    waiting.clone(),
                    self.metrics.clone(),
                ));
            }
            queue
        })
    }
}

/// Takes what is waiting (at least one write), writes it, answers; until the batcher is gone.
async fn run_writer<J, R>(
    db: Database,
    write: WriteBatch<J, R>,
    waiting: Arc<Mutex<mpsc::Receiver<Pending<J, R>>>>,
    metrics: BatcherMetrics,
) where
    J: Send + 'static,
    R: Send + 'static,
{
    loop {
        let batch = {
            let mut waiting = waiting.lock().await;
            let Some(first) = waiting.recv().await else {
                return;
            };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match waiting.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            batch
        };
        let taken = Instant::now();
        let mut jobs = Vec::with_capacity(batch.len());
        let mut answers = Vec::with_capacity(batch.len());
        for (job, answer, queued) in batch {
            metrics
                .queued
                .observe(taken.saturating_duration_since(queued).as_secs_f64());
            jobs.push(job);
            answers.push(answer);
        }
        metrics.rows.observe(jobs.len() as f64);
        let results = db
            .run(move |conn| Ok::<_, StoreError>(write(conn, &jobs)))
            .await;
        metrics.written.observe(taken.elapsed().as_secs_f64());
        match results {
            Ok(results) => {
                debug_assert_eq!(results.len(), answers.len());
                for (answer, result) in answers.into_iter().zip(results) {
                    // A caller that went away meanwhile is not told; its row is written.
                    let _ = answer.send(result);
                }
            }
            // No connection, or the write panicked: every caller of the batch hears it.
            Err(e) => {
                for answer in answers {
                    let _ = answer.send(Err(e.for_another()));
                }
            }
        }
    }
}

fn stopped() -> StoreError {
    StoreError::Unavailable("the database writer has stopped".into())
}
