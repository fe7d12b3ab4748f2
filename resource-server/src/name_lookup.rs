//! Name lookups of the auth server that outlast a lost DNS answer.
//!
//! Every new connection to the auth server looks its name up again. A name server that drops a
//! query (Podman 4's aardvark-dns does, while it reloads for every container that starts or
//! stops; see docs/operations.md) makes glibc wait 5 s before it asks again, longer than an
//! introspection may take, so a healthy resource server answered 503 only because a replica
//! elsewhere started. The auth server's addresses rarely change, and when they do a stale one
//! is refused at once and the next one tried. So a name that was looked up before is connected
//! to at the addresses it had last when a fresh answer does not come quickly, and the answer
//! that comes late is remembered for the next connection.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// How long a fresh answer is waited for when the name's addresses are known from before. A
/// name server on the same host answers in about a millisecond; one that lost the query answers
/// in seconds.
pub const PATIENCE: Duration = Duration::from_millis(250);

type Answer = io::Result<Vec<SocketAddr>>;
type LookUp = Arc<dyn Fn(String) -> Pin<Box<dyn Future<Output = Answer> + Send>> + Send + Sync>;

/// A `reqwest` resolver that remembers each name's last good answer. One is shared by every
/// worker's client, so what one worker learned serves all.
#[derive(Clone)]
pub struct RememberingResolver {
    known: Arc<Mutex<HashMap<String, Arc<[SocketAddr]>>>>,
    look_up: LookUp,
    patience: Duration,
}

impl RememberingResolver {
    /// Looks names up as the rest of the system does: getaddrinfo, on a blocking thread.
    pub fn system() -> Self {
        Self::new(
            Arc::new(|host: String| {
                Box::pin(
                    async move { Ok(tokio::net::lookup_host((host.as_str(), 0)).await?.collect()) },
                ) as Pin<Box<dyn Future<Output = Answer> + Send>>
            }),
            PATIENCE,
        )
    }

    fn new(look_up: LookUp, patience: Duration) -> Self {
        Self {
            known: Arc::default(),
            look_up,
            patience,
        }
    }

    fn remembered(&self, host: &str) -> Option<Arc<[SocketAddr]>> {
        self.known
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(host)
            .cloned()
    }

    async fn look_up_and_remember(&self, host: String) -> io::Result<Arc<[SocketAddr]>> {
        let addresses: Arc<[SocketAddr]> = (self.look_up)(host.clone()).await?.into();
        if addresses.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("no address for {host}"),
            ));
        }
        self.known
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(host, addresses.clone());
        Ok(addresses)
    }

    /// The addresses to connect to: a fresh answer when it comes in time, or else the last one.
    pub async fn addresses(&self, host: &str) -> io::Result<Arc<[SocketAddr]>> {
        // The lookup runs on by itself, so that an answer that comes after the patience ran
        // out is still remembered.
        let this = self.clone();
        let name = host.to_owned();
        let mut fresh = tokio::spawn(async move { this.look_up_and_remember(name).await });
        let Some(known) = self.remembered(host) else {
            return fresh.await.map_err(io::Error::other)?;
        };
        match tokio::time::timeout(self.patience, &mut fresh).await {
            Ok(Ok(Ok(addresses))) => Ok(addresses),
            Ok(Ok(Err(e))) => {
                log::warn!("looking up {host} failed ({e}); using the addresses it had last");
                Ok(known)
            }
            Ok(Err(e)) => {
                log::warn!("looking up {host} failed ({e}); using the addresses it had last");
                Ok(known)
            }
            Err(_) => {
                log::warn!(
                    "no answer for {host} in {} ms; using the addresses it had last",
                    self.patience.as_millis()
                );
                Ok(known)
            }
        }
    }
}

impl RememberingResolver {
    /// Looks `host` up once, waiting at most `within`, so that the first requests find its
    /// addresses in memory even when their own lookups are lost (a new replica's first
    /// requests, as other replicas start beside it). A host that cannot be looked up yet is not
    /// an error: the auth server may start after this server, and requests look it up anyway.
    pub async fn learn(&self, host: &str, within: Duration) {
        match tokio::time::timeout(within, self.addresses(host)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => log::warn!("cannot look up {host} yet: {e}"),
            Err(_) => log::warn!("cannot look up {host} yet: no answer in {within:?}"),
        }
    }
}

impl Resolve for RememberingResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let this = self.clone();
        Box::pin(async move {
            let addresses = this.addresses(name.as_str()).await?;
            Ok(Box::new((0..addresses.len()).map(move |i| addresses[i])) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn address(last: u8) -> SocketAddr {
        SocketAddr::from(([10, 0, 0, last], 0))
    }

    /// A name server whose n-th answer (from 0) is `answers[n]`: an address after `delay`, or
    /// an error.
    fn name_server(
        answers: Vec<(Duration, Option<u8>)>,
    ) -> (RememberingResolver, Arc<AtomicUsize>) {
        let asked = Arc::new(AtomicUsize::new(0));
        let counter = asked.clone();
        let answers = Arc::new(answers);
        let look_up: LookUp = Arc::new(move |_host| {
            let (delay, answer) = answers[counter.fetch_add(1, Ordering::SeqCst)];
            Box::pin(async move {
                tokio::time::sleep(delay).await;
                answer
                    .map(|last| vec![address(last)])
                    .ok_or_else(|| io::Error::other("lost"))
            })
        });
        (
            RememberingResolver::new(look_up, Duration::from_millis(100)),
            asked,
        )
    }

    const NOW: Duration = Duration::ZERO;
    const LATE: Duration = Duration::from_secs(5);

    #[tokio::test(start_paused = true)]
    async fn a_name_never_looked_up_waits_for_its_answer() {
        let (resolver, _) = name_server(vec![(LATE, Some(1))]);
        assert_eq!(&*resolver.addresses("auth").await.unwrap(), &[address(1)]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_name_never_looked_up_fails_with_its_lookup() {
        let (resolver, _) = name_server(vec![(NOW, None)]);
        assert!(resolver.addresses("auth").await.is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn a_fresh_answer_in_time_wins_and_is_remembered() {
        let (resolver, _) = name_server(vec![(NOW, Some(1)), (NOW, Some(2)), (LATE, None)]);
        resolver.addresses("auth").await.unwrap();
        assert_eq!(&*resolver.addresses("auth").await.unwrap(), &[address(2)]);
        assert_eq!(&*resolver.addresses("auth").await.unwrap(), &[address(2)]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_lost_answer_falls_back_to_the_last_one_and_a_late_one_is_kept() {
        let (resolver, asked) = name_server(vec![(NOW, Some(1)), (LATE, Some(2)), (NOW, None)]);
        resolver.addresses("auth").await.unwrap();
        let started = tokio::time::Instant::now();
        assert_eq!(&*resolver.addresses("auth").await.unwrap(), &[address(1)]);
        assert_eq!(started.elapsed(), Duration::from_millis(100));
        // The late answer arrives after all, and is what a failed lookup falls back to next.
        tokio::time::sleep(LATE).await;
        assert_eq!(&*resolver.addresses("auth").await.unwrap(), &[address(2)]);
        assert_eq!(asked.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_name_learned_at_start_survives_a_lost_first_lookup() {
        let (resolver, _) = name_server(vec![(NOW, Some(1)), (LATE, None)]);
        resolver.learn("auth", Duration::from_secs(1)).await;
        assert_eq!(&*resolver.addresses("auth").await.unwrap(), &[address(1)]);
    }

    #[tokio::test(start_paused = true)]
    async fn learning_a_name_that_does_not_answer_gives_up_in_time() {
        let (resolver, _) = name_server(vec![(LATE, Some(1))]);
        let started = tokio::time::Instant::now();
        resolver.learn("auth", Duration::from_secs(1)).await;
        assert_eq!(started.elapsed(), Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn names_are_remembered_apart() {
        let (resolver, _) = name_server(vec![(NOW, Some(1)), (NOW, None)]);
        resolver.addresses("auth").await.unwrap();
        assert!(resolver.addresses("other").await.is_err());
    }

    #[tokio::test]
    async fn the_introspection_client_connects_through_it_when_an_answer_is_lost() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                tokio::spawn(async move {
                    let _ = stream.read(&mut [0; 4096]).await;
                    let answer =
                        "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok";
                    let _ = stream.write_all(answer.as_bytes()).await;
                });
            }
        });
        // The first lookup answers; the second is lost, as a dropped datagram would be.
        let asked = Arc::new(AtomicUsize::new(0));
        let counter = asked.clone();
        let look_up: LookUp = Arc::new(move |host| {
            assert_eq!(host, "auth-server.test");
            let lost = counter.fetch_add(1, Ordering::SeqCst) > 0;
            Box::pin(async move {
                if lost {
                    std::future::pending::<()>().await;
                }
                Ok(vec![SocketAddr::from(([127, 0, 0, 1], 0))])
            })
        });
        let resolver = Arc::new(RememberingResolver::new(
            look_up,
            Duration::from_millis(100),
        ));
        let client = crate::introspection::http_client(Duration::from_secs(2), &resolver).unwrap();
        // The server closes every connection, so each request needs a new one and a lookup.
        for _ in 0..2 {
            let response = client
                .get(format!("http://auth-server.test:{port}/"))
                .send()
                .await
                .unwrap();
            assert_eq!(response.text().await.unwrap(), "ok");
        }
        assert_eq!(asked.load(Ordering::SeqCst), 2);
    }
}
