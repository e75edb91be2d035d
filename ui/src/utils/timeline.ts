import type { CaseEvent, CaseView, Submission } from '../api/generated/bindings'

export type TimelineEntry =
  | { kind: 'submission'; key: string; date: string; submission: Submission }
  | { kind: 'event'; key: string; date: string; event: CaseEvent; anomaly: string | null }

/**
 * Submissions and events in one list by date. On the same day a submission comes first (it is
 * what the events answer), then events in their replay order (Lamport, then device time).
 */
export function buildTimeline(view: CaseView): TimelineEntry[] {
  const anomalies = new Map(view.anomalies.map((a) => [a.event_id, a.reason]))
  const entries: TimelineEntry[] = [
    ...view.case.submissions.map(
      (s): TimelineEntry => ({ kind: 'submission', key: `s-${s.id}`, date: s.received, submission: s }),
    ),
    ...view.case.events.map(
      (e): TimelineEntry => ({
        kind: 'event',
        key: `e-${e.id}`,
        date: e.date,
        event: e,
        anomaly: anomalies.get(e.id) ?? null,
      }),
    ),
  ]
  return entries.sort((a, b) => {
    if (a.date !== b.date) return a.date < b.date ? -1 : 1
    if (a.kind !== b.kind) return a.kind === 'submission' ? -1 : 1
    if (a.kind === 'event' && b.kind === 'event') {
      return a.event.lamport - b.event.lamport || a.event.at - b.event.at || (a.event.id < b.event.id ? -1 : 1)
    }
    return 0
  })
}
