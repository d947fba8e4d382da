/** A field line (RFC 9110 §5): name and value as strings (UTF-8 on the wire). */
export interface HeaderField {
  /** The field name. Decoded names are as received; the encoder emits names in lowercase. */
  name: string;
  value: string;
  /**
   * Never-indexed (RFC 9204 §4.5.4 'N' bit, §7.1.3): on decode, the peer sent this line as a
   * literal that intermediaries must keep literal; on encode, forces that representation.
   */
  sensitive?: boolean;
}
