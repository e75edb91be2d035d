//! 预取下一页: reading the next page while this one is applied.
//!
//! A device that pulls many pages (a fresh device's bootstrap, one back from a long time
//! offline) would otherwise leave the link and the hub idle while it applies each page, and
//! itself idle while the hub answers: every round costs the link's round trip plus the hub's
//! time plus the device's. When a page leaves nothing for this device to say but "next page",
//! the next request is known before the page is applied: the same read from the cursor the page
//! ends at. The IO layer sends that guess at once and, once the page is applied, builds the real
//! next request as always; it uses the answer to the guess only when the two requests are the
//! same read ([`same_read`]), and otherwise drops it and sends the real one.
//!
//! Only a pure read is guessed: a request that uploads nothing, acknowledges nothing, asks for
//! no number block and no document or attachment, so sending it and throwing its answer away
//! changes nothing at the hub but the health row it keeps for the device (its last position,
//! shown to the bureau, corrected by the next exchange).

use crate::{SyncRequest, SyncResponse};

/// The request that will follow `request` once `response` is applied, when it can be known now:
/// `None` unless `request` was a pure read, the hub says there is more, and the page asks this
/// device for nothing (no refusal, block, attachment, deferred document or key to record).
pub fn next_read(request: &SyncRequest, response: &SyncResponse) -> Option<SyncRequest> {
    if !response.more || !is_pure_read(request) || !asks_nothing(response) {
        return None;
    }
    let mut next = request.clone();
    next.cursor = response.cursor.clone();
    if let Some(directory) = &response.directory {
        next.directory_version = Some(directory.version.clone());
    }
    Some(next)
}

/// Whether two requests read the same page: equal in everything but the device's clock.
pub fn same_read(guessed: &SyncRequest, real: &SyncRequest) -> bool {
    let mut real = real.clone();
    real.device_time = guessed.device_time;
    *guessed == real
}

/// A request that only reads: sending it twice, or not using its answer, changes nothing.
fn is_pure_read(request: &SyncRequest) -> bool {
    request.changes.is_empty()
        && request.blobs.is_empty()
        && request.blob_offers.is_empty()
        && request.want_blobs.is_empty()
        && request.want_whole.is_empty()
        && request.evicted.is_empty()
        && request.drops.is_empty()
        && request.want_leases.is_empty()
        && request.device_key.is_none()
}

/// A page after which the device has nothing new to tell or ask the hub.
fn asks_nothing(response: &SyncResponse) -> bool {
    response.acked.is_empty()
        && response.refused.is_empty()
        && response.acked_drops.is_empty()
        && response.refused_drops.is_empty()
        && response.leases.is_empty()
        && response.need_blobs.is_empty()
        && response.deferred_whole.is_empty()
        && response.hub_key.is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DocKind as WireKind;
    use crate::{
        BlobChunk, BlobWant, Cursor, Directory, Hash, IdentityDrop, Lease, LeaseWant, Refused,
        UpChange,
    };
    use uuid::Uuid;

    fn read() -> SyncRequest {
        SyncRequest {
            cursor: Cursor { seq: 40, ..Cursor::default() },
            page_bytes: 256 * 1024,
            device_time: 1_000,
            actor: Some("ab".repeat(16)),
            directory_version: Some("v1".to_owned()),
            ..SyncRequest::default()
        }
    }

    fn page() -> SyncResponse {
        SyncResponse {
            cursor: Cursor { seq: 90, ..Cursor::default() },
            more: true,
            hub_time: 1_050,
            ..SyncResponse::default()
        }
    }

    #[test]
    fn a_pure_read_with_more_to_come_reads_on_from_where_the_page_ends() {
        let next = next_read(&read(), &page()).expect("a guess");
        assert_eq!(next.cursor, page().cursor);
        assert_eq!(next, SyncRequest { cursor: page().cursor, ..read() });
    }

    #[test]
    fn the_last_page_is_not_read_past() {
        assert_eq!(next_read(&read(), &SyncResponse { more: false, ..page() }), None);
    }

    #[test]
    fn a_new_directory_is_carried_into_the_guess() {
        let response = SyncResponse {
            directory: Some(Directory { version: "v2".to_owned(), ..Directory::default() }),
            ..page()
        };
        let next = next_read(&read(), &response).expect("a guess");
        assert_eq!(next.directory_version.as_deref(), Some("v2"));
    }

    /// Every request field that makes a request more than a read stops the guess.
    #[test]
    fn a_request_that_does_more_than_read_is_not_guessed_after() {
        let id = Uuid::from_u128(7);
        let hash = Hash([3; 32]);
        let doing: Vec<(&str, SyncRequest)> = vec![
            (
                "changes",
                SyncRequest {
                    changes: vec![UpChange {
                        case_id: id,
                        kind: WireKind::Case,
                        hash,
                        bytes: vec![1],
                    }],
                    ..read()
                },
            ),
            (
                "blobs",
                SyncRequest {
                    blobs: vec![BlobChunk {
                        hash: "h".into(),
                        offset: 0,
                        total: 1,
                        bytes: vec![1],
                    }],
                    ..read()
                },
            ),
            ("blob_offers", SyncRequest { blob_offers: vec!["h".into()], ..read() }),
            (
                "want_blobs",
                SyncRequest {
                    want_blobs: vec![BlobWant { hash: "h".into(), offset: 0 }],
                    ..read()
                },
            ),
            ("want_whole", SyncRequest { want_whole: vec![id], ..read() }),
            ("evicted", SyncRequest { evicted: vec![id], ..read() }),
            (
                "drops",
                SyncRequest {
                    drops: vec![IdentityDrop { id, case_id: id, persons: Vec::new() }],
                    ..read()
                },
            ),
            (
                "want_leases",
                SyncRequest {
                    want_leases: vec![LeaseWant { series: "s".into(), used: 5 }],
                    ..read()
                },
            ),
            ("device_key", SyncRequest { device_key: Some("k".into()), ..read() }),
        ];
        for (field, request) in doing {
            assert_eq!(next_read(&request, &page()), None, "{field}");
        }
    }

    /// Every answer that gives the device something to record or send stops the guess.
    #[test]
    fn a_page_that_asks_something_of_the_device_is_not_read_past() {
        let id = Uuid::from_u128(7);
        let asking: Vec<(&str, SyncResponse)> = vec![
            ("acked", SyncResponse { acked: vec![Hash([1; 32])], ..page() }),
            (
                "refused",
                SyncResponse {
                    refused: vec![Refused {
                        hash: "h".into(),
                        case_id: id,
                        reason: "r".into(),
                        rule: String::new(),
                    }],
                    ..page()
                },
            ),
            ("acked_drops", SyncResponse { acked_drops: vec![id], ..page() }),
            ("refused_drops", SyncResponse { refused_drops: vec![(id, "r".into())], ..page() }),
            (
                "leases",
                SyncResponse {
                    leases: vec![Lease { series: "s".into(), start: 1, end: 5 }],
                    ..page()
                },
            ),
            (
                "need_blobs",
                SyncResponse {
                    need_blobs: vec![BlobWant { hash: "h".into(), offset: 0 }],
                    ..page()
                },
            ),
            ("deferred_whole", SyncResponse { deferred_whole: vec![id], ..page() }),
            ("hub_key", SyncResponse { hub_key: Some("k".into()), ..page() }),
        ];
        for (field, response) in asking {
            assert_eq!(next_read(&read(), &response), None, "{field}");
        }
    }

    #[test]
    fn the_same_read_differs_only_in_the_clock() {
        let guessed = next_read(&read(), &page()).expect("a guess");
        let later = SyncRequest { device_time: 9_999, ..guessed.clone() };
        assert!(same_read(&guessed, &later));
        assert!(same_read(&guessed, &guessed));
        // The page did not move the cursor (a case still waits for its dependencies).
        assert!(!same_read(&guessed, &SyncRequest { want_whole: vec![Uuid::nil()], ..later }));
        assert!(!same_read(&guessed, &read()));
        assert!(!same_read(&guessed, &SyncRequest { pending: 1, ..guessed.clone() }));
        assert!(!same_read(
            &guessed,
            &SyncRequest { last_error: Some("x".into()), ..guessed.clone() }
        ));
    }
}
