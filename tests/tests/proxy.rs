//! The fault proxy over real TCP on 127.0.0.1, against small upstreams started by each test.
#![allow(clippy::unwrap_used)]

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, bail, ensure};
use ledger_tests::{FaultProxy, LinkProfile, SpecError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::timeout;

/// Longest any single step may take before the test calls it a hang.
const PATIENCE: Duration = Duration::from_secs(5);

/// What a test upstream does with each connection.
#[derive(Clone)]
enum Behaviour {
    /// Sends back what it reads; closes its side at end of stream.
    Echo,
    /// Reads until end of stream or error and reports what it got.
    Sink,
    /// Sends this, then waits for the client to go.
    Source(Arc<Vec<u8>>),
}

/// A test upstream that counts what reaches it.
struct Upstream {
    addr: SocketAddr,
    connections: Arc<AtomicU64>,
    bytes: Arc<AtomicU64>,
    /// What each `Sink` connection received, in order of completion.
    received: mpsc::UnboundedReceiver<Vec<u8>>,
}

impl Upstream {
    async fn start(behaviour: Behaviour) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let connections = Arc::new(AtomicU64::new(0));
        let bytes = Arc::new(AtomicU64::new(0));
        let (sender, received) = mpsc::unbounded_channel();
        let (counted, read) = (Arc::clone(&connections), Arc::clone(&bytes));
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(serve(socket, behaviour.clone(), Arc::clone(&read), sender.clone()));
            }
        });
        Ok(Self { addr, connections, bytes, received })
    }

    fn connections(&self) -> u64 {
        self.connections.load(Ordering::SeqCst)
    }

    fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::SeqCst)
    }

    async fn next_received(&mut self) -> Result<Vec<u8>> {
        match timeout(PATIENCE, self.received.recv()).await? {
            Some(bytes) => Ok(bytes),
            None => bail!("upstream gone"),
        }
    }
}

async fn serve(
    mut socket: TcpStream,
    behaviour: Behaviour,
    read: Arc<AtomicU64>,
    received: mpsc::UnboundedSender<Vec<u8>>,
) {
    let mut buffer = vec![0_u8; 32 * 1024];
    match behaviour {
        Behaviour::Echo => {
            while let Ok(len @ 1..) = socket.read(&mut buffer).await {
                read.fetch_add(len as u64, Ordering::SeqCst);
                if socket.write_all(&buffer[..len]).await.is_err() {
                    return;
                }
            }
            let _ = socket.shutdown().await;
        }
        Behaviour::Sink => {
            let mut all = Vec::new();
            while let Ok(len @ 1..) = socket.read(&mut buffer).await {
                read.fetch_add(len as u64, Ordering::SeqCst);
                all.extend_from_slice(&buffer[..len]);
            }
            let _ = received.send(all);
        }
        Behaviour::Source(payload) => {
            if socket.write_all(&payload).await.is_ok() {
                while let Ok(1..) = socket.read(&mut buffer).await {}
            }
        }
    }
}

/// Deterministic bytes that make a misplaced or repeated chunk show.
fn payload(len: usize) -> Vec<u8> {
    let mut state = 0x2545_F491_4F6C_DD1D_u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

/// Reads until end of stream or error; says which it was.
async fn read_until_broken(stream: &mut TcpStream) -> Result<(Vec<u8>, Option<io::Error>)> {
    let mut all = Vec::new();
    let mut buffer = vec![0_u8; 32 * 1024];
    loop {
        match timeout(PATIENCE, stream.read(&mut buffer)).await? {
            Ok(0) => return Ok((all, None)),
            Ok(len) => all.extend_from_slice(&buffer[..len]),
            Err(error) => return Ok((all, Some(error))),
        }
    }
}

/// Sends `message` and reads the echo back.
async fn round_trip(stream: &mut TcpStream, message: &[u8]) -> Result<()> {
    stream.write_all(message).await?;
    let mut back = vec![0_u8; message.len()];
    timeout(PATIENCE, stream.read_exact(&mut back)).await??;
    ensure!(back == message, "echo differs");
    Ok(())
}

/// Whether the connection is closed or reset within `PATIENCE`, without yielding any data.
async fn is_dead(stream: &mut TcpStream) -> Result<bool> {
    let mut buffer = [0_u8; 16];
    Ok(match timeout(PATIENCE, stream.read(&mut buffer)).await? {
        Ok(0) | Err(_) => true,
        Ok(_) => false,
    })
}

#[tokio::test]
async fn clean_link_relays_a_mebibyte_both_ways_exactly() -> Result<()> {
    let upstream = Upstream::start(Behaviour::Echo).await?;
    let proxy = FaultProxy::start(upstream.addr, LinkProfile::clean()).await?;
    let sent = payload(1 << 20);

    let (mut reader, mut writer) = TcpStream::connect(proxy.addr()).await?.into_split();
    let to_send = sent.clone();
    let writing = tokio::spawn(async move {
        writer.write_all(&to_send).await?;
        writer.shutdown().await
    });
    let mut echoed = Vec::new();
    timeout(PATIENCE, reader.read_to_end(&mut echoed)).await??;
    writing.await??;

    assert!(echoed == sent, "the echo differs from what was sent");
    let stats = proxy.stats();
    assert_eq!(stats.bytes_up, 1 << 20);
    assert_eq!(stats.bytes_down, 1 << 20);
    assert_eq!(stats.connections_accepted, 1);
    assert_eq!(stats.connections_cut, 0);
    proxy.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_offices_share_one_proxy() -> Result<()> {
    let upstream = Upstream::start(Behaviour::Echo).await?;
    let proxy = FaultProxy::start(upstream.addr, "rtt=20ms".parse()?).await?;
    let mut offices = Vec::new();
    for _ in 0..25 {
        let addr = proxy.addr();
        offices.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(addr).await?;
            for _ in 0..3 {
                round_trip(&mut stream, &payload(8 * 1024)).await?;
            }
            anyhow::Ok(())
        }));
    }
    for office in offices {
        office.await??;
    }
    let stats = proxy.stats();
    assert_eq!(stats.connections_accepted, 25);
    assert_eq!(stats.bytes_up, 25 * 3 * 8 * 1024);
    assert_eq!(stats.bytes_down, 25 * 3 * 8 * 1024);
    Ok(())
}

#[tokio::test]
async fn latency_is_paid_once_each_way() -> Result<()> {
    let upstream = Upstream::start(Behaviour::Echo).await?;
    let one_way = Duration::from_millis(60);
    let proxy =
        FaultProxy::start(upstream.addr, LinkProfile::clean().with_latency(one_way)).await?;
    let mut stream = TcpStream::connect(proxy.addr()).await?;
    for _ in 0..2 {
        let started = Instant::now();
        round_trip(&mut stream, b"ping").await?;
        let took = started.elapsed();
        assert!(took >= 2 * one_way, "a round trip took only {took:?}");
    }
    Ok(())
}

#[tokio::test]
async fn rate_cap_paces_the_bytes() -> Result<()> {
    let upstream = Upstream::start(Behaviour::Echo).await?;
    let proxy = FaultProxy::start(upstream.addr, "rate=256kbit".parse()?).await?;
    let (mut reader, mut writer) = TcpStream::connect(proxy.addr()).await?.into_split();
    let sent = payload(64 * 1024);
    let started = Instant::now();
    let to_send = sent.clone();
    let writing = tokio::spawn(async move { writer.write_all(&to_send).await });
    let mut echoed = vec![0_u8; sent.len()];
    timeout(PATIENCE, reader.read_exact(&mut echoed)).await??;
    let took = started.elapsed();
    writing.await??;
    // 64 KiB is 524 288 bits: 2.05 s at 256 kbit/s.
    assert!(took >= Duration::from_millis(1800), "64 KiB took only {took:?}");
    assert!(echoed == sent);
    Ok(())
}

#[tokio::test]
async fn cut_down_delivers_exactly_n_bytes_then_breaks() -> Result<()> {
    let sent = Arc::new(payload(100 * 1024));
    let upstream = Upstream::start(Behaviour::Source(Arc::clone(&sent))).await?;
    let proxy =
        FaultProxy::start(upstream.addr, LinkProfile::clean().with_cut_down(10_000)).await?;
    let mut stream = TcpStream::connect(proxy.addr()).await?;
    let (got, ending) = read_until_broken(&mut stream).await?;
    assert_eq!(got.len(), 10_000);
    let ending = ending.map(|error| error.kind());
    assert_eq!(ending, Some(io::ErrorKind::ConnectionReset), "a cut must be a reset");
    assert!(got[..] == sent[..10_000]);
    let stats = proxy.stats();
    assert_eq!(stats.bytes_down, 10_000);
    assert_eq!(stats.connections_cut, 1);
    Ok(())
}

#[tokio::test]
async fn cut_up_delivers_exactly_n_bytes_to_the_upstream() -> Result<()> {
    let mut upstream = Upstream::start(Behaviour::Sink).await?;
    let proxy = FaultProxy::start(upstream.addr, "cut-up=10000".parse()?).await?;
    let sent = payload(100 * 1024);
    let mut stream = TcpStream::connect(proxy.addr()).await?;
    // The write may or may not fail, depending on how much the proxy had read when it cut.
    let _ = stream.write_all(&sent).await;
    assert!(is_dead(&mut stream).await?);
    let got = upstream.next_received().await?;
    assert_eq!(got.len(), 10_000);
    assert!(got[..] == sent[..10_000]);
    assert_eq!(proxy.stats().bytes_up, 10_000);
    Ok(())
}

#[tokio::test]
async fn cut_every_cuts_each_new_connection() -> Result<()> {
    let sent = Arc::new(payload(100 * 1024));
    let upstream = Upstream::start(Behaviour::Source(Arc::clone(&sent))).await?;
    let proxy = FaultProxy::start(upstream.addr, "cut-every=5000B".parse()?).await?;
    for _ in 0..3 {
        let mut stream = TcpStream::connect(proxy.addr()).await?;
        let (got, _) = read_until_broken(&mut stream).await?;
        assert_eq!(got.len(), 5_000);
        assert!(got[..] == sent[..5_000]);
    }
    let stats = proxy.stats();
    assert_eq!(stats.connections_accepted, 3);
    assert_eq!(stats.connections_cut, 3);
    assert_eq!(stats.bytes_down, 15_000);
    Ok(())
}

#[tokio::test]
async fn cut_every_counts_both_directions_together() -> Result<()> {
    let upstream = Upstream::start(Behaviour::Echo).await?;
    let proxy =
        FaultProxy::start(upstream.addr, LinkProfile::clean().with_cut_every(5_000)).await?;
    let mut stream = TcpStream::connect(proxy.addr()).await?;
    stream.write_all(&payload(3_000)).await?;
    let (got, _) = read_until_broken(&mut stream).await?;
    let stats = proxy.stats();
    assert_eq!(stats.bytes_up + stats.bytes_down, 5_000);
    assert_eq!(got.len() as u64, stats.bytes_down);
    assert_eq!(stats.connections_cut, 1);
    Ok(())
}

#[tokio::test]
async fn black_hole_holds_new_connections_until_lifted() -> Result<()> {
    let upstream = Upstream::start(Behaviour::Echo).await?;
    let proxy = FaultProxy::start(upstream.addr, LinkProfile::black_hole()).await?;
    let mut stream = TcpStream::connect(proxy.addr()).await?;
    stream.write_all(b"anyone there?").await?;
    let mut buffer = [0_u8; 13];
    let waited = timeout(Duration::from_millis(300), stream.read(&mut buffer)).await;
    assert!(waited.is_err(), "a black hole answered: {waited:?}");
    assert_eq!(upstream.connections(), 0);
    assert_eq!(upstream.bytes(), 0);

    proxy.set_profile(LinkProfile::clean());
    timeout(PATIENCE, stream.read_exact(&mut buffer)).await??;
    assert_eq!(&buffer, b"anyone there?");
    Ok(())
}

#[tokio::test]
async fn black_hole_stalls_open_connections_until_lifted() -> Result<()> {
    let upstream = Upstream::start(Behaviour::Echo).await?;
    let proxy = FaultProxy::start(upstream.addr, LinkProfile::clean()).await?;
    let mut stream = TcpStream::connect(proxy.addr()).await?;
    round_trip(&mut stream, b"before").await?;

    proxy.update_profile(|link| link.blackhole = true);
    stream.write_all(b"during").await?;
    let mut buffer = [0_u8; 6];
    let waited = timeout(Duration::from_millis(300), stream.read(&mut buffer)).await;
    assert!(waited.is_err(), "a black hole answered: {waited:?}");
    assert_eq!(upstream.bytes(), 6);

    proxy.update_profile(|link| link.blackhole = false);
    timeout(PATIENCE, stream.read_exact(&mut buffer)).await??;
    assert_eq!(&buffer, b"during");
    round_trip(&mut stream, b"after").await?;
    Ok(())
}

#[tokio::test]
async fn stop_breaks_connections_and_resume_restores_the_link() -> Result<()> {
    let upstream = Upstream::start(Behaviour::Echo).await?;
    let proxy = FaultProxy::start(upstream.addr, LinkProfile::clean()).await?;
    let mut open = TcpStream::connect(proxy.addr()).await?;
    round_trip(&mut open, b"hello").await?;

    proxy.stop();
    assert!(!proxy.is_running());
    assert!(is_dead(&mut open).await?, "an open connection survived stop");
    match TcpStream::connect(proxy.addr()).await {
        Err(_) => {}
        Ok(mut late) => {
            let _ = late.write_all(b"hello").await;
            assert!(is_dead(&mut late).await?, "a stopped proxy relayed");
        }
    }
    let stats = proxy.stats();
    assert_eq!(stats.connections_cut, 1);
    assert_eq!(stats.connections_refused, 1);

    proxy.resume();
    let mut again = TcpStream::connect(proxy.addr()).await?;
    round_trip(&mut again, b"hello again").await?;
    Ok(())
}

#[tokio::test]
async fn reset_per_chunk_breaks_before_forwarding() -> Result<()> {
    let upstream = Upstream::start(Behaviour::Echo).await?;
    let proxy = FaultProxy::start(upstream.addr, "reset=1".parse()?).await?;
    let mut stream = TcpStream::connect(proxy.addr()).await?;
    stream.write_all(b"hello").await?;
    assert!(is_dead(&mut stream).await?);
    assert_eq!(upstream.bytes(), 0);
    assert_eq!(proxy.stats().connections_cut, 1);
    Ok(())
}

/// Which of `count` successive connections get through, as a string of `+` and `x`.
async fn survivors(proxy: &FaultProxy, count: usize) -> Result<String> {
    let mut outcome = String::new();
    for _ in 0..count {
        let mut stream = TcpStream::connect(proxy.addr()).await?;
        let _ = stream.write_all(b"?").await;
        outcome.push(if is_dead(&mut stream).await? { 'x' } else { '+' });
    }
    Ok(outcome)
}

#[tokio::test]
async fn resets_per_connection_repeat_with_the_seed() -> Result<()> {
    let upstream = Upstream::start(Behaviour::Echo).await?;
    let link: LinkProfile = "reset-conn=0.5,seed=7".parse()?;
    let first = FaultProxy::start(upstream.addr, link.clone()).await?;
    let second = FaultProxy::start(upstream.addr, link).await?;
    let first_run = survivors(&first, 16).await?;
    let second_run = survivors(&second, 16).await?;
    assert_eq!(first_run, second_run);
    assert!(first_run.contains('+') && first_run.contains('x'), "{first_run}");
    let cut = u64::try_from(first_run.matches('x').count())?;
    assert_eq!(first.stats().connections_cut, cut);
    Ok(())
}

#[tokio::test]
async fn shutdown_frees_the_port_and_breaks_connections() -> Result<()> {
    let upstream = Upstream::start(Behaviour::Echo).await?;
    let proxy = FaultProxy::start(upstream.addr, LinkProfile::clean()).await?;
    let addr = proxy.addr();
    let mut open = TcpStream::connect(addr).await?;
    round_trip(&mut open, b"hello").await?;
    proxy.shutdown().await;
    assert!(is_dead(&mut open).await?);
    assert!(TcpStream::connect(addr).await.is_err());
    Ok(())
}

#[test]
fn spec_parses_the_benchmark_links() -> Result<()> {
    let link: LinkProfile = "rtt=300ms,rate=64kbit,cut-every=20KiB".parse()?;
    assert_eq!(link.latency, Duration::from_millis(150));
    assert_eq!(link.rate, Some(64_000));
    assert_eq!(link.cut_every, Some(20 * 1024));
    assert_eq!(link.cut_up, None);
    assert!(!link.blackhole);

    let link: LinkProfile =
        " latency=40ms, rate=2mbit, cut-up=1MiB, cut-down=512, reset=0.01, reset-conn=0.25, seed=9, blackhole "
            .parse()?;
    assert_eq!(link.latency, Duration::from_millis(40));
    assert_eq!(link.rate, Some(2_000_000));
    assert_eq!(link.cut_up, Some(1 << 20));
    assert_eq!(link.cut_down, Some(512));
    assert!((link.reset_chunk - 0.01).abs() < f64::EPSILON);
    assert!((link.reset_connection - 0.25).abs() < f64::EPSILON);
    assert_eq!(link.seed, 9);
    assert!(link.blackhole);
    assert_eq!(link.to_string().parse::<LinkProfile>()?, link);

    assert_eq!("".parse::<LinkProfile>()?, LinkProfile::clean());
    assert_eq!("clean".parse::<LinkProfile>()?, LinkProfile::clean());
    assert_eq!(LinkProfile::clean().to_string(), "clean");
    assert_eq!(
        LinkProfile::clean().with_rtt(Duration::from_secs(1)).with_rate(1_500).to_string(),
        "rtt=1s,rate=1500bit"
    );
    Ok(())
}

#[test]
fn spec_errors_say_what_is_wrong() {
    let error = |spec: &str| spec.parse::<LinkProfile>().unwrap_err();

    assert_eq!(error("jitter=5ms"), SpecError::UnknownKey("jitter".to_owned()));
    assert!(matches!(error("rtt"), SpecError::MissingValue { key: "rtt", .. }));
    assert!(matches!(error("rate="), SpecError::MissingValue { key: "rate", .. }));
    assert_eq!(error("blackhole=yes"), SpecError::UnexpectedValue("blackhole"));
    assert_eq!(error("rtt=10ms,latency=5ms"), SpecError::Duplicate("rtt"));
    assert_eq!(error("rate=1kbit,rate=2kbit"), SpecError::Duplicate("rate"));
    for (spec, key) in [
        ("rtt=300", "rtt"),
        ("rtt=1.5s", "rtt"),
        ("rtt=2h", "rtt"),
        ("rate=64kbps", "rate"),
        ("rate=0kbit", "rate"),
        ("rate=fast", "rate"),
        ("cut-every=20KB", "cut-every"),
        ("cut-up=-1", "cut-up"),
        ("cut-down=99999999999999GiB", "cut-down"),
        ("reset=1.5", "reset"),
        ("reset-conn=often", "reset-conn"),
        ("seed=-3", "seed"),
    ] {
        let got = error(spec);
        assert!(
            matches!(&got, SpecError::InvalidValue { key: k, .. } if *k == key),
            "{spec}: {got:?}"
        );
    }
    assert_eq!(
        error("rate=64kbps").to_string(),
        "invalid value `64kbps` for `rate`: expected a positive whole number with a unit bit, \
         kbit, mbit or gbit"
    );
}
