//! A fault-injecting TCP proxy that stands for the rural link between an office and the hub.
//!
//! `tc netem` is not available where the tests run, so the link's faults are made in user space:
//! [`FaultProxy`] listens on 127.0.0.1, connects each client to the upstream (the hub) and
//! relays the bytes both ways, delaying, pacing, cutting, resetting or swallowing them as its
//! [`LinkProfile`] says. It knows nothing of HTTP; keep-alive connections simply stay open
//! through it.
//!
//! ```
//! use ledger_tests::{FaultProxy, LinkProfile};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! # let hub = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let link: LinkProfile = "rtt=300ms,rate=64kbit,cut-every=20KiB".parse().map_err(std::io::Error::other)?;
//! let proxy = FaultProxy::start(hub.local_addr()?, link).await?;
//! let hub_url = proxy.url(); // give this to the office instead of the hub's own address
//! # let _ = hub_url;
//! proxy.update_profile(|link| link.blackhole = true); // the link goes dark
//! proxy.set_profile(LinkProfile::clean()); // and comes back clean
//! println!("{:?}", proxy.stats());
//! proxy.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod profile;
mod rng;
mod stats;

pub use profile::{DEFAULT_SEED, LinkProfile, SpecError};
pub use stats::ProxyStats;

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

use rng::{Dice, Stream};
use stats::Counters;

/// Largest read from either socket, and so the largest chunk latency is applied to.
const READ_CHUNK: usize = 16 * 1024;
/// Chunks read ahead per direction and connection; bounds the proxy's memory and lets TCP
/// push back on a fast sender, like a router's queue.
const CHANNEL_CHUNKS: usize = 32;
/// Ceiling on any single delay, so that absurd profiles cannot overflow a deadline.
const MAX_DELAY: Duration = Duration::from_secs(24 * 3600);
/// Pause after a failed `accept` (out of descriptors, say), so that the loop cannot spin.
const ACCEPT_RETRY: Duration = Duration::from_millis(50);

/// A running fault-injecting proxy in front of one upstream.
///
/// Started with [`start`](Self::start) on the current tokio runtime; every connection made to
/// [`addr`](Self::addr) is relayed to the upstream under the current [`LinkProfile`], which can be
/// changed at any time with [`set_profile`](Self::set_profile). Dropping the proxy, or
/// [`shutdown`](Self::shutdown), closes the listener and resets every open connection.
#[derive(Debug)]
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    control: watch::Sender<Control>,
    task: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Listens on 127.0.0.1 on a free port and relays every connection to `upstream` through a
    /// link described by `link`.
    ///
    /// # Errors
    ///
    /// If the listening socket cannot be bound.
    pub async fn start(upstream: SocketAddr, link: LinkProfile) -> io::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let now = Instant::now();
        let shared = Arc::new(Shared {
            upstream,
            counters: Counters::default(),
            link_free: [Mutex::new(now), Mutex::new(now)],
        });
        let (control, watcher) =
            watch::channel(Control { profile: link, running: true, epoch: 0, shutdown: false });
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&shared), watcher));
        tracing::debug!(%addr, %upstream, "fault proxy started");
        Ok(Self { addr, shared, control, task: Some(task) })
    }

    /// The address clients connect to instead of the upstream.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://` and [`addr`](Self::addr): the base URL to give an office (the test hubs
    /// serve TLS, which the proxy relays as bytes).
    #[must_use]
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The address the proxy relays to.
    #[must_use]
    pub fn upstream(&self) -> SocketAddr {
        self.shared.upstream
    }

    /// The profile in force.
    #[must_use]
    pub fn profile(&self) -> LinkProfile {
        self.control.borrow().profile.clone()
    }

    /// Replaces the profile. It applies at once to new connections and to the next chunk of the
    /// open ones: switching to a black hole stalls connections already open, and switching back
    /// lets them go on.
    pub fn set_profile(&self, link: LinkProfile) {
        self.control.send_modify(|control| control.profile = link);
    }

    /// Changes the profile in place, e.g. `proxy.update_profile(|link| link.blackhole = true)`.
    pub fn update_profile(&self, change: impl FnOnce(&mut LinkProfile)) {
        self.control.send_modify(|control| change(&mut control.profile));
    }

    /// Takes the link down: open connections are reset, and new ones are accepted and reset at
    /// once, so clients see a broken connection rather than a hang. The listening address stays
    /// reserved for [`resume`](Self::resume).
    pub fn stop(&self) {
        self.control.send_modify(|control| {
            if control.running {
                control.running = false;
                control.epoch += 1;
            }
        });
    }

    /// Brings the link back up after [`stop`](Self::stop).
    pub fn resume(&self) {
        self.control.send_modify(|control| control.running = true);
    }

    /// Whether the link is up (not [`stop`](Self::stop)ped).
    #[must_use]
    pub fn is_running(&self) -> bool {
        self.control.borrow().running
    }

    /// The counters as they are now.
    #[must_use]
    pub fn stats(&self) -> ProxyStats {
        self.shared.counters.snapshot()
    }

    /// Closes the listener, resets every open connection and waits until all of that is done,
    /// so that the port is free when this returns.
    pub async fn shutdown(mut self) {
        self.control.send_modify(|control| control.shutdown = true);
        if let Some(task) = self.task.take()
            && let Err(error) = task.await
        {
            tracing::error!(%error, "fault proxy: accept task failed");
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.control.send_modify(|control| control.shutdown = true);
    }
}

/// What the relay tasks watch for.
#[derive(Debug, Clone)]
struct Control {
    profile: LinkProfile,
    running: bool,
    /// Bumped by every stop; a connection from an earlier epoch has been stopped.
    epoch: u64,
    shutdown: bool,
}

/// State shared by the accept loop and all connections.
#[derive(Debug)]
struct Shared {
    upstream: SocketAddr,
    counters: Counters,
    /// Per direction, when the simulated link has finished sending what it was given.
    link_free: [Mutex<Instant>; 2],
}

impl Shared {
    /// Books `len` bytes on the direction's link, starting no earlier than `ready`, and returns
    /// when the last of them has been sent.
    fn book(&self, direction: Direction, ready: Instant, len: usize, bits: Option<u64>) -> Instant {
        let Some(bits) = bits else {
            return ready;
        };
        let nanos = (len as u128 * 8 * 1_000_000_000) / u128::from(bits);
        let on_wire = Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX)).min(MAX_DELAY);
        let mut free =
            self.link_free[direction as usize].lock().unwrap_or_else(PoisonError::into_inner);
        let done = (*free).max(ready) + on_wire;
        *free = done;
        done
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// Client to upstream.
    Up = 0,
    /// Upstream to client.
    Down = 1,
}

impl Direction {
    fn limit(self, link: &LinkProfile) -> Option<u64> {
        match self {
            Self::Up => link.cut_up,
            Self::Down => link.cut_down,
        }
    }

    fn limit_fault(self) -> Fault {
        match self {
            Self::Up => Fault::CutUp,
            Self::Down => Fault::CutDown,
        }
    }

    fn counter(self, counters: &Counters) -> &AtomicU64 {
        match self {
            Self::Up => &counters.bytes_up,
            Self::Down => &counters.bytes_down,
        }
    }

    fn dice(self) -> Stream {
        match self {
            Self::Up => Stream::Up,
            Self::Down => Stream::Down,
        }
    }
}

/// A fault the profile asked for.
#[derive(Debug, Clone, Copy)]
enum Fault {
    CutUp,
    CutDown,
    CutEvery,
    Reset,
}

/// Why a connection ends abruptly.
#[derive(Debug)]
enum Abort {
    Injected(Fault),
    Stopped,
    Shutdown,
    /// A socket failed (or the upstream refused): mirrored to the other side.
    Peer(io::Error),
}

impl fmt::Display for Abort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Injected(Fault::CutUp) => f.write_str("cut-up limit reached"),
            Self::Injected(Fault::CutDown) => f.write_str("cut-down limit reached"),
            Self::Injected(Fault::CutEvery) => f.write_str("cut-every limit reached"),
            Self::Injected(Fault::Reset) => f.write_str("random reset"),
            Self::Stopped => f.write_str("proxy stopped"),
            Self::Shutdown => f.write_str("proxy shut down"),
            Self::Peer(error) => write!(f, "peer failed: {error}"),
        }
    }
}

/// Bytes read from one side, with the time they arrived.
struct Chunk {
    data: Vec<u8>,
    arrived: Instant,
}

/// Aborts a reader task when the connection ends, whatever state it is in.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut control: watch::Receiver<Control>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((client, _)) => admit(client, &shared, &control, &mut connections),
                Err(error) => {
                    tracing::warn!(%error, "fault proxy: accept failed");
                    tokio::time::sleep(ACCEPT_RETRY).await;
                }
            },
            Some(joined) = connections.join_next(), if !connections.is_empty() => {
                if let Err(error) = joined
                    && error.is_panic()
                {
                    tracing::error!(%error, "fault proxy: connection task panicked");
                }
            }
            changed = control.changed() => {
                if changed.is_err() || control.borrow().shutdown {
                    break;
                }
            }
        }
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
    tracing::debug!("fault proxy stopped");
}

/// Decides the fate of a fresh connection: refused, reset at once, or relayed.
fn admit(
    client: TcpStream,
    shared: &Arc<Shared>,
    control: &watch::Receiver<Control>,
    connections: &mut JoinSet<()>,
) {
    let (running, epoch, seed, reset) = {
        let now = control.borrow();
        (now.running, now.epoch, now.profile.seed, now.profile.reset_connection)
    };
    if !running {
        Counters::bump(&shared.counters.refused, 1);
        reset_now(&client);
        return;
    }
    let id = shared.counters.accepted.fetch_add(1, Ordering::Relaxed);
    if Dice::new(seed, id, Stream::Connection).chance(reset) {
        Counters::bump(&shared.counters.cut, 1);
        tracing::debug!(connection = id, "fault proxy: reset on arrival");
        reset_now(&client);
        return;
    }
    connections.spawn(serve(client, id, epoch, Arc::clone(shared), control.clone()));
}

/// Makes the coming close of `socket` a TCP RST instead of an orderly FIN.
fn reset_now(socket: &TcpStream) {
    if let Err(error) = socket.set_zero_linger() {
        tracing::debug!(%error, "fault proxy: cannot set SO_LINGER");
    }
}

/// Relays one connection from accept to close.
async fn serve(
    client: TcpStream,
    id: u64,
    epoch: u64,
    shared: Arc<Shared>,
    mut control: watch::Receiver<Control>,
) {
    let _active = shared.counters.open();
    // Nagle on top of the simulated latency would distort it.
    let _ = client.set_nodelay(true);
    let (client_read, mut client_write) = client.into_split();
    let (up_tx, up_rx) = mpsc::channel(CHANNEL_CHUNKS);
    let _up_reader = AbortOnDrop(tokio::spawn(read_side(client_read, up_tx)));

    let mut open_control = control.clone();
    let connected = tokio::select! {
        connected = connect_when_open(&mut open_control, shared.upstream) => connected,
        abort = watch_stop(&mut control, epoch) => Err(abort),
    };
    let upstream = match connected {
        Ok(upstream) => upstream,
        Err(abort) => {
            end_abruptly(id, &shared, &abort, [client_write]);
            return;
        }
    };
    let _ = upstream.set_nodelay(true);
    let (upstream_read, mut upstream_write) = upstream.into_split();
    let (down_tx, down_rx) = mpsc::channel(CHANNEL_CHUNKS);
    let _down_reader = AbortOnDrop(tokio::spawn(read_side(upstream_read, down_tx)));

    let carried = AtomicU64::new(0);
    let seed = control.borrow().profile.seed;
    let up = Pipe {
        direction: Direction::Up,
        from: up_rx,
        to: &mut upstream_write,
        shared: &shared,
        carried: &carried,
        control: control.clone(),
        dice: Dice::new(seed, id, Direction::Up.dice()),
    };
    let down = Pipe {
        direction: Direction::Down,
        from: down_rx,
        to: &mut client_write,
        shared: &shared,
        carried: &carried,
        control: control.clone(),
        dice: Dice::new(seed, id, Direction::Down.dice()),
    };
    if let Err(abort) = relay(up, down, &mut control, epoch).await {
        end_abruptly(id, &shared, &abort, [client_write, upstream_write]);
    }
}

/// Closes the given sockets with a reset, so that the peers see a broken connection, not an
/// orderly end of stream. The read halves close when their reader tasks are aborted.
fn end_abruptly<const N: usize>(
    id: u64,
    shared: &Shared,
    abort: &Abort,
    writers: [OwnedWriteHalf; N],
) {
    if matches!(abort, Abort::Peer(_)) {
        tracing::debug!(connection = id, %abort, "fault proxy: connection broken");
    } else {
        Counters::bump(&shared.counters.cut, 1);
        tracing::debug!(connection = id, %abort, "fault proxy: connection cut");
    }
    for writer in writers {
        reset_now(writer.as_ref());
        // Dropping the half normally would send a FIN first.
        writer.forget();
    }
}

/// Reads one side into the channel until end of stream or error; an error is passed on.
async fn read_side(mut from: OwnedReadHalf, to: mpsc::Sender<io::Result<Chunk>>) {
    let mut buffer = vec![0_u8; READ_CHUNK];
    loop {
        match from.read(&mut buffer).await {
            Ok(0) => return,
            Ok(len) => {
                let chunk = Chunk { data: buffer[..len].to_vec(), arrived: Instant::now() };
                if to.send(Ok(chunk)).await.is_err() {
                    return;
                }
            }
            Err(error) => {
                let _ = to.send(Err(error)).await;
                return;
            }
        }
    }
}

/// Waits while the link is a black hole; says whether it had to wait.
async fn wait_open(control: &mut watch::Receiver<Control>) -> Result<bool, Abort> {
    let mut held = false;
    while control.borrow_and_update().profile.blackhole {
        held = true;
        if control.changed().await.is_err() {
            return Err(Abort::Shutdown);
        }
    }
    Ok(held)
}

async fn connect_when_open(
    control: &mut watch::Receiver<Control>,
    upstream: SocketAddr,
) -> Result<TcpStream, Abort> {
    wait_open(control).await?;
    TcpStream::connect(upstream).await.map_err(Abort::Peer)
}

/// Returns once a connection of `epoch` must end: the proxy was stopped or shut down.
async fn watch_stop(control: &mut watch::Receiver<Control>, epoch: u64) -> Abort {
    loop {
        {
            let now = control.borrow_and_update();
            if now.shutdown {
                return Abort::Shutdown;
            }
            if now.epoch != epoch {
                return Abort::Stopped;
            }
        }
        if control.changed().await.is_err() {
            return Abort::Shutdown;
        }
    }
}

/// Runs both directions until both have ended in order, or one ends abruptly.
async fn relay(
    up: Pipe<'_>,
    down: Pipe<'_>,
    control: &mut watch::Receiver<Control>,
    epoch: u64,
) -> Result<(), Abort> {
    let up = up.run();
    let down = down.run();
    tokio::pin!(up, down);
    let (mut up_open, mut down_open) = (true, true);
    while up_open || down_open {
        tokio::select! {
            ended = &mut up, if up_open => {
                ended?;
                up_open = false;
            }
            ended = &mut down, if down_open => {
                ended?;
                down_open = false;
            }
            abort = watch_stop(control, epoch) => return Err(abort),
        }
    }
    Ok(())
}

/// One direction of a connection: takes chunks from the reader and delivers them under the
/// profile.
struct Pipe<'a> {
    direction: Direction,
    from: mpsc::Receiver<io::Result<Chunk>>,
    to: &'a mut OwnedWriteHalf,
    shared: &'a Shared,
    /// Bytes delivered on this connection in both directions, for `cut_every`.
    carried: &'a AtomicU64,
    control: watch::Receiver<Control>,
    dice: Dice,
}

impl Pipe<'_> {
    async fn run(mut self) -> Result<(), Abort> {
        let mut sent = 0_u64;
        while let Some(chunk) = self.from.recv().await {
            let chunk = chunk.map_err(Abort::Peer)?;
            let (reset, bits) = {
                let now = self.control.borrow();
                (now.profile.reset_chunk, now.profile.bits_per_second())
            };
            if self.dice.chance(reset) {
                return Err(Abort::Injected(Fault::Reset));
            }
            let mut ready = chunk.arrived;
            for piece in chunk.data.chunks(piece_len(bits)) {
                if wait_open(&mut self.control).await? {
                    // Nothing crossed the link while it was dark.
                    ready = Instant::now();
                }
                let (bits, latency) = {
                    let now = self.control.borrow();
                    (now.profile.bits_per_second(), now.profile.latency)
                };
                let sent_at = self.shared.book(self.direction, ready, piece.len(), bits);
                let deliver_at = sent_at + latency.min(MAX_DELAY);
                if deliver_at > Instant::now() {
                    tokio::time::sleep_until(deliver_at).await;
                }
                wait_open(&mut self.control).await?;
                let (allowed, fault) = self.allowance(piece.len(), sent);
                let deliver = piece.get(..allowed).unwrap_or(piece);
                self.to.write_all(deliver).await.map_err(Abort::Peer)?;
                let delivered = deliver.len() as u64;
                sent += delivered;
                Counters::bump(self.direction.counter(&self.shared.counters), delivered);
                if let Some(fault) = fault {
                    return Err(Abort::Injected(fault));
                }
            }
        }
        self.to.shutdown().await.map_err(Abort::Peer)
    }

    /// How much of a piece of `wanted` bytes may still cross, and the cut that follows if not
    /// all of it. Reserves the bytes against `cut_every` before the write, so that the other
    /// direction cannot spend them meanwhile.
    fn allowance(&self, wanted: usize, sent: u64) -> (usize, Option<Fault>) {
        let now = self.control.borrow();
        let mut allowed = wanted as u64;
        let mut fault = None;
        if let Some(limit) = self.direction.limit(&now.profile) {
            let left = limit.saturating_sub(sent);
            if left < allowed {
                allowed = left;
                fault = Some(self.direction.limit_fault());
            }
        }
        if let Some(limit) = now.profile.cut_every {
            let left = limit.saturating_sub(self.carried.load(Ordering::Relaxed));
            if left < allowed {
                allowed = left;
                fault = Some(Fault::CutEvery);
            }
        }
        self.carried.fetch_add(allowed, Ordering::Relaxed);
        (usize::try_from(allowed).unwrap_or(wanted), fault)
    }
}

/// Size of the pieces a chunk is paced in: about 20 ms of the link's rate, so that a slow link
/// trickles instead of stuttering.
fn piece_len(bits: Option<u64>) -> usize {
    bits.map_or(READ_CHUNK, |bits| {
        usize::try_from(bits / 8 / 50).unwrap_or(READ_CHUNK).clamp(256, READ_CHUNK)
    })
}
