//! What a client without a valid token may cost: a request budget per
//! address (a token bucket; IPv6 counted per /64, the block one
//! subscriber gets), a smaller body limit, and a bound on how many such
//! requests are worked on at once. Signed-in callers are not held to it;
//! an anonymous client can sign in, ask for the schema, and little else,
//! so the budget is generous for that and tight for a flood.
//!
//! The buckets take `now` as an argument; the caller reads the clock.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The bounds on callers without a valid token.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnonymousLimits {
    /// Requests (and websocket upgrades) per second per address, sustained.
    pub per_second: f64,
    /// Requests an address may send at once before the rate applies.
    pub burst: f64,
    /// The largest body such a request may send.
    pub max_body_bytes: usize,
    /// Such requests worked on at the same time, all addresses together
    /// (by default half the cores, at least one: the rest stay for the
    /// floor); more wait up to [`AnonymousLimits::queue_wait`], then
    /// answer 503.
    pub in_flight: usize,
    pub queue_wait: Duration,
}

impl Default for AnonymousLimits {
    fn default() -> Self {
        AnonymousLimits {
            per_second: 20.0,
            burst: 200.0,
            max_body_bytes: 64 * 1024,
            in_flight: std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1)),
            queue_wait: Duration::from_secs(2),
        }
    }
}

/// An address (or IPv6 /64) that has spent its budget: try again after
/// this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverBudget(pub Duration);

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The per-address buckets and the shared in-flight bound.
#[derive(Debug)]
pub struct AnonymousBudget {
    limits: AnonymousLimits,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
    in_flight: Arc<Semaphore>,
}

/// How many addresses are remembered before full buckets are forgotten.
const REMEMBERED: usize = 10_000;

/// The key an address is counted under: IPv4 as is, IPv6 by its /64
/// (IPv4-mapped IPv6 as the IPv4 address).
pub fn budget_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

impl AnonymousBudget {
    pub fn new(limits: AnonymousLimits) -> Self {
        AnonymousBudget {
            limits,
            buckets: Mutex::new(HashMap::new()),
            in_flight: Arc::new(Semaphore::new(limits.in_flight.max(1))),
        }
    }

    pub fn limits(&self) -> &AnonymousLimits {
        &self.limits
    }

    /// Spend one request of `ip`'s budget, or say how long until it has one.
    pub fn take(&self, ip: IpAddr, now: Instant) -> Result<(), OverBudget> {
        let (rate, burst) = (
            self.limits.per_second.max(0.001),
            self.limits.burst.max(1.0),
        );
        let key = budget_key(ip);
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= REMEMBERED && !buckets.contains_key(&key) {
            // A full bucket is the same as a forgotten one.
            buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate < burst
            });
        }
        let b = buckets.entry(key).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let refill = now.saturating_duration_since(b.at).as_secs_f64() * rate;
        b.tokens = (b.tokens + refill).min(burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(OverBudget(Duration::from_secs_f64(
                ((1.0 - b.tokens) / rate).max(0.001),
            )))
        }
    }

    /// Give back what a request spent once it proved to be signed in (a
    /// websocket whose `connection_init` carried a valid token), so a
    /// contact center behind one address reconnecting its agents at once
    /// spends its budget only for a moment.
    pub fn refund(&self, ip: IpAddr) {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = buckets.get_mut(&budget_key(ip)) {
            b.tokens = (b.tokens + 1.0).min(self.limits.burst.max(1.0));
        }
    }

    /// A place among the anonymous requests being worked on; `None` when
    /// none freed up within the queue wait.
    pub async fn slot(&self) -> Option<OwnedSemaphorePermit> {
        tokio::time::timeout(
            self.limits.queue_wait,
            self.in_flight.clone().acquire_owned(),
        )
        .await
        .ok()?
        .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(per_second: f64, burst: f64) -> AnonymousBudget {
        AnonymousBudget::new(AnonymousLimits {
            per_second,
            burst,
            ..AnonymousLimits::default()
        })
    }

    #[test]
    fn an_address_gets_its_burst_then_its_rate() {
        let b = budget(10.0, 5.0);
        let ip: IpAddr = "203.0.113.7".parse().expect("ip");
        let t0 = Instant::now();
        for _ in 0..5 {
            assert_eq!(b.take(ip, t0), Ok(()));
        }
        let Err(OverBudget(wait)) = b.take(ip, t0) else {
            panic!("the sixth at once is over budget");
        };
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_millis(100),
            "{wait:?}"
        );
        // A tenth of a second buys one more, not two.
        let t1 = t0 + Duration::from_millis(100);
        assert_eq!(b.take(ip, t1), Ok(()));
        assert!(b.take(ip, t1).is_err());
        // A request that proved signed in gives its share back.
        b.refund(ip);
        assert_eq!(b.take(ip, t1), Ok(()));
        // Another address has its own budget.
        assert_eq!(b.take("203.0.113.8".parse().expect("ip"), t1), Ok(()));
        // A long pause refills no more than the burst.
        let t2 = t1 + Duration::from_secs(3600);
        for _ in 0..5 {
            assert_eq!(b.take(ip, t2), Ok(()));
        }
        assert!(b.take(ip, t2).is_err());
    }

    #[test]
    fn ipv6_is_counted_per_64_and_mapped_ipv4_as_ipv4() {
        let b = budget(1.0, 2.0);
        let t0 = Instant::now();
        assert_eq!(b.take("2001:db8:1:2::1".parse().expect("ip"), t0), Ok(()));
        assert_eq!(
            b.take("2001:db8:1:2:ffff::9".parse().expect("ip"), t0),
            Ok(())
        );
        assert!(
            b.take("2001:db8:1:2:abcd::1".parse().expect("ip"), t0)
                .is_err(),
            "the same /64"
        );
        assert_eq!(b.take("2001:db8:1:3::1".parse().expect("ip"), t0), Ok(()));
        assert_eq!(b.take("192.0.2.1".parse().expect("ip"), t0), Ok(()));
        assert_eq!(b.take("::ffff:192.0.2.1".parse().expect("ip"), t0), Ok(()));
        assert!(b.take("192.0.2.1".parse().expect("ip"), t0).is_err());
    }

    #[test]
    fn memory_stays_bounded_under_many_addresses() {
        let b = budget(1.0, 1.0);
        let t0 = Instant::now();
        for i in 0..(REMEMBERED as u32 * 3) {
            let ip = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            let _ = b.take(ip, t0 + Duration::from_secs(u64::from(i)));
        }
        let len = b.buckets.lock().expect("lock").len();
        assert!(len <= REMEMBERED, "{len}");
    }

    #[tokio::test]
    async fn in_flight_requests_are_bounded() {
        let b = AnonymousBudget::new(AnonymousLimits {
            in_flight: 2,
            queue_wait: Duration::from_millis(50),
            ..AnonymousLimits::default()
        });
        let one = b.slot().await;
        let two = b.slot().await;
        assert!(one.is_some() && two.is_some());
        assert!(b.slot().await.is_none(), "a third waits, then gives up");
        drop(one);
        assert!(b.slot().await.is_some(), "a freed place is taken");
    }
}
