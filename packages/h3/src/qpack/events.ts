/**
 * Observer events, emitted synchronously by the encoder and the decoder as their state changes
 * (for qlog's qpack events, draft-ietf-quic-qlog-h3-events, and for tests).
 *
 * - `inserted`: an entry was added to the dynamic table at absolute `index` (insert or duplicate).
 * - `evicted`: the entry at absolute `index` left the table.
 * - `capacity`: the dynamic table capacity changed (Set Dynamic Table Capacity, RFC 9204 §4.3.1).
 * - `section`: a field section was encoded or decoded; `dynamicReferences` counts its field lines
 *   that use the dynamic table (full or name-only references).
 */
export type QpackEvent =
  | { type: 'inserted'; index: number; name: string; value: string }
  | { type: 'evicted'; index: number }
  | { type: 'capacity'; capacity: number }
  | { type: 'section'; streamId: number; requiredInsertCount: number; dynamicReferences: number };
