/**
 * Redis Cluster's hash slot of a key, as `CLUSTER KEYSLOT` answers it: CRC16 (XMODEM) of the key's hash tag
 * (what lies between the first `{` and the next `}`, when not empty) or else of the whole key, modulo 16384
 * (the Redis Cluster specification, "Keys distribution model"). Counted over the key's UTF-8 bytes.
 */
export function clusterSlot(key: string): number {
  const bytes = Buffer.from(key, 'utf8');
  let from = 0;
  let to = bytes.length;
  const open = bytes.indexOf(0x7b); // '{'
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1); // '}'
    if (close > open + 1) [from, to] = [open + 1, close];
  }
  let crc = 0;
  for (let i = from; i < to; i++) {
    crc ^= bytes[i]! << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}
