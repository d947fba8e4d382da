/** NewSessionTicket (RFC 8446 §4.6.1). */

import { ByteWriter } from '../../codec/writer.js';
import { type Extension, readExtensions, writeExtensions } from '../extensions.js';
import { HandshakeType } from '../wire.js';
import { TlsReader } from './tls-reader.js';

export interface NewSessionTicket {
  lifetimeSeconds: number;
  ageAdd: number;
  nonce: Uint8Array;
  ticket: Uint8Array;
  extensions: Extension[];
}

export function encodeNewSessionTicket(t: NewSessionTicket): Uint8Array {
  const w = new ByteWriter(t.ticket.length + 64);
  w.u8(HandshakeType.NEW_SESSION_TICKET);
  w.lengthPrefixed(3, () => {
    w.u32(t.lifetimeSeconds).u32(t.ageAdd).u8Prefixed(t.nonce).u16Prefixed(t.ticket);
    writeExtensions(w, t.extensions);
  });
  return w.finish();
}

export function decodeNewSessionTicket(body: Uint8Array): NewSessionTicket {
  const r = new TlsReader(body);
  const lifetimeSeconds = r.u32();
  const ageAdd = r.u32();
  const nonce = r.u8Prefixed();
  const ticket = r.u16Prefixed();
  if (ticket.length === 0) r.fail('empty ticket');
  const extensions = readExtensions(r);
  r.expectEnd('NewSessionTicket');
  return { lifetimeSeconds, ageAdd, nonce, ticket, extensions };
}
