//! A subscription's outbound queue, bounded by notifications and by bytes.
//!
//! A real device keeps a small buffer per collector and drops a collector
//! that does not keep up; it never holds an unbounded backlog of snapshots
//! for it. This queue does the same: a send that would exceed either bound
//! empties the queue and ends the stream with RESOURCE_EXHAUSTED, so what a
//! stalled subscriber costs is at most the bound (plus one notification,
//! which is always admitted into an empty queue so a single large snapshot
//! still gets through).

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use prost::Message;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tonic::Status;

use crate::proto::gnmi::SubscribeResponse;

type Item = Result<SubscribeResponse, Status>;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub messages: usize,
    pub bytes: usize,
}

/// What a producer does when the subscriber has not made room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenFull {
    /// Drop the subscriber (a slow collector).
    Disconnect,
    /// Wait for it: bench streams that are meant to run as fast as it reads.
    Wait,
}

/// The subscriber is gone, or was dropped for not reading: stop producing.
#[derive(Debug)]
pub struct Gone;

#[derive(Default)]
struct State {
    items: VecDeque<(Item, usize)>,
    bytes: usize,
    ended: bool,
    waker: Option<Waker>,
}

struct Shared {
    state: Mutex<State>,
    limits: Limits,
    when_full: WhenFull,
    room: Notify,
    /// Cancelled once nothing more will be delivered (ended, overflowed or
    /// the receiver dropped).
    closed: CancellationToken,
    overflowed: std::sync::atomic::AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Clone)]
pub struct Sender {
    shared: Arc<Shared>,
}

pub struct Receiver {
    shared: Arc<Shared>,
}

pub fn channel(limits: Limits, when_full: WhenFull) -> (Sender, Receiver) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State::default()),
        limits,
        when_full,
        room: Notify::new(),
        closed: CancellationToken::new(),
        overflowed: Default::default(),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared },
    )
}

impl Sender {
    pub async fn send(&self, msg: SubscribeResponse) -> Result<(), Gone> {
        let size = msg.encoded_len();
        let mut item = Some(Ok(msg));
        loop {
            let room = self.shared.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            {
                let mut st = self.shared.lock();
                if st.ended {
                    return Err(Gone);
                }
                let limits = self.shared.limits;
                let fits = st.items.is_empty()
                    || (st.items.len() < limits.messages && st.bytes + size <= limits.bytes);
                if fits {
                    st.bytes += size;
                    if let Some(item) = item.take() {
                        st.items.push_back((item, size));
                    }
                    if let Some(w) = st.waker.take() {
                        w.wake();
                    }
                    return Ok(());
                }
                if self.shared.when_full == WhenFull::Disconnect {
                    let held = (st.items.len(), st.bytes);
                    st.items.clear();
                    st.bytes = 0;
                    st.items.push_back((
                        Err(Status::resource_exhausted(format!(
                            "subscriber too slow: {} notifications ({} bytes) unread, the limit is {} notifications or {} bytes",
                            held.0, held.1, limits.messages, limits.bytes
                        ))),
                        0,
                    ));
                    self.shared
                        .overflowed
                        .store(true, std::sync::atomic::Ordering::Relaxed);
                    Self::end(&mut st, &self.shared);
                    return Err(Gone);
                }
            }
            tokio::select! {
                _ = room => {}
                _ = self.shared.closed.cancelled() => return Err(Gone),
            }
        }
    }

    /// Ends the stream after what is queued, with `status` if there is one.
    pub fn finish(&self, status: Option<Status>) {
        let mut st = self.shared.lock();
        if st.ended {
            return;
        }
        if let Some(s) = status {
            st.items.push_back((Err(s), 0));
        }
        Self::end(&mut st, &self.shared);
    }

    fn end(st: &mut State, shared: &Shared) {
        st.ended = true;
        if let Some(w) = st.waker.take() {
            w.wake();
        }
        shared.closed.cancel();
    }

    /// Resolves once nothing sent will be delivered any more.
    pub async fn closed(&self) {
        self.shared.closed.cancelled().await
    }

    /// Was the subscriber dropped for not reading?
    pub fn overflowed(&self) -> bool {
        self.shared
            .overflowed
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    #[cfg(test)]
    fn queued(&self) -> (usize, usize) {
        let st = self.shared.lock();
        (st.items.len(), st.bytes)
    }
}

impl futures::Stream for Receiver {
    type Item = Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Item>> {
        let mut st = self.shared.lock();
        if let Some((item, size)) = st.items.pop_front() {
            st.bytes -= size;
            drop(st);
            self.shared.room.notify_waiters();
            return Poll::Ready(Some(item));
        }
        if st.ended {
            return Poll::Ready(None);
        }
        st.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let mut st = self.shared.lock();
        st.items.clear();
        st.bytes = 0;
        st.ended = true;
        drop(st);
        self.shared.closed.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::gnmi::{subscribe_response, Notification, Path, PathElem};
    use futures::StreamExt;

    fn sized(n: usize) -> SubscribeResponse {
        SubscribeResponse {
            response: Some(subscribe_response::Response::Update(Notification {
                prefix: Some(Path {
                    elem: vec![PathElem {
                        name: "x".repeat(n),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
                ..Default::default()
            })),
            ..Default::default()
        }
    }

    const LIMITS: Limits = Limits {
        messages: 8,
        bytes: 10_000,
    };

    #[tokio::test]
    async fn a_reader_gets_everything_in_order_then_the_end() {
        let (tx, mut rx) = channel(LIMITS, WhenFull::Disconnect);
        for n in 1..=5 {
            tx.send(sized(n)).await.unwrap();
        }
        tx.finish(None);
        let mut lens = Vec::new();
        while let Some(item) = rx.next().await {
            lens.push(item.unwrap().encoded_len());
        }
        assert_eq!(lens.len(), 5);
        assert!(lens.windows(2).all(|w| w[0] < w[1]), "{lens:?}");
    }

    #[tokio::test]
    async fn a_stalled_reader_is_cut_at_the_byte_bound() {
        let (tx, mut rx) = channel(LIMITS, WhenFull::Disconnect);
        let mut sent = 0;
        while tx.send(sized(3000)).await.is_ok() {
            sent += 1;
            let (n, bytes) = tx.queued();
            assert!(n <= LIMITS.messages && bytes <= LIMITS.bytes, "{n} {bytes}");
            assert!(sent < 100, "never cut off");
        }
        assert_eq!(sent, 3, "three 3 kB notifications fit in 10 kB");
        assert!(tx.overflowed());
        // The backlog is gone, not kept for a reader that may never come.
        assert_eq!(tx.queued().1, 0);
        let err = rx.next().await.unwrap().unwrap_err();
        assert_eq!(err.code(), tonic::Code::ResourceExhausted);
        assert!(rx.next().await.is_none());
        assert!(tx.send(sized(1)).await.is_err());
    }

    #[tokio::test]
    async fn a_stalled_reader_is_cut_at_the_count_bound() {
        let (tx, mut rx) = channel(LIMITS, WhenFull::Disconnect);
        let mut sent = 0;
        while tx.send(sized(1)).await.is_ok() {
            sent += 1;
            assert!(sent < 100, "never cut off");
        }
        assert_eq!(sent, LIMITS.messages);
        let err = rx.next().await.unwrap().unwrap_err();
        assert_eq!(err.code(), tonic::Code::ResourceExhausted);
    }

    #[tokio::test]
    async fn one_notification_larger_than_the_bound_still_goes_out() {
        let (tx, mut rx) = channel(LIMITS, WhenFull::Disconnect);
        tx.send(sized(50_000)).await.unwrap();
        assert!(rx.next().await.unwrap().is_ok());
    }

    #[tokio::test]
    async fn waiting_producers_resume_when_the_reader_makes_room() {
        let (tx, mut rx) = channel(LIMITS, WhenFull::Wait);
        let producer = tokio::spawn(async move {
            for _ in 0..100 {
                tx.send(sized(1)).await.unwrap();
                let (n, _) = tx.queued();
                assert!(n <= LIMITS.messages);
            }
            tx.finish(None);
        });
        let mut got = 0;
        while let Some(item) = rx.next().await {
            item.unwrap();
            got += 1;
        }
        producer.await.unwrap();
        assert_eq!(got, 100);
    }

    #[tokio::test]
    async fn dropping_the_receiver_stops_producers() {
        let (tx, rx) = channel(LIMITS, WhenFull::Wait);
        for _ in 0..LIMITS.messages {
            tx.send(sized(1)).await.unwrap();
        }
        let blocked = tokio::spawn({
            let tx = tx.clone();
            async move { tx.send(sized(1)).await }
        });
        drop(rx);
        assert!(blocked.await.unwrap().is_err());
        tx.closed().await;
        assert_eq!(tx.queued(), (0, 0));
    }
}
