import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';

/**
 * A DNS server on 127.0.0.1 that answers from a table, so the domain check runs against real
 * DNS packets without touching the internet. Per name: `nxdomain`, `servfail`, `silent` (never
 * answers: a timeout), or records by type (`MX` exchanges, `A` addresses); a type not listed is
 * answered NOERROR with no records (what DNS says for "the name exists, that record does not").
 */
export type DnsAnswer = 'nxdomain' | 'servfail' | 'silent' | { MX?: string[]; A?: string[] };

const TYPES: Record<number, 'MX' | 'A' | 'AAAA'> = { 15: 'MX', 1: 'A', 28: 'AAAA' };

function encodeName(name: string): Buffer {
  const labels = name === '' || name === '.' ? [] : name.replace(/\.$/, '').split('.');
  return Buffer.concat([
    ...labels.map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label, 'ascii')])),
    Buffer.from([0]),
  ]);
}

function record(type: number, rdata: Buffer): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(0xc00c, 0); // the question's name
  head.writeUInt16BE(type, 2);
  head.writeUInt16BE(1, 4);
  head.writeUInt32BE(60, 6);
  head.writeUInt16BE(rdata.length, 10);
  return Buffer.concat([head, rdata]);
}

export interface DnsStandIn {
  server: string;
  /** Questions asked, as `name TYPE`. */
  asked: string[];
  close(): Promise<void>;
}

export async function startDnsStandIn(table: Record<string, DnsAnswer>): Promise<DnsStandIn> {
  const socket: Socket = createSocket('udp4');
  const asked: string[] = [];
  socket.on('message', (query, peer) => {
    let offset = 12;
    const labels: string[] = [];
    while (query[offset]! > 0) {
      labels.push(query.subarray(offset + 1, offset + 1 + query[offset]!).toString('ascii'));
      offset += query[offset]! + 1;
    }
    const questionEnd = offset + 5;
    const name = labels.join('.').toLowerCase();
    const type = TYPES[query.readUInt16BE(offset + 1)];
    asked.push(`${name} ${type ?? 'other'}`);
    const answer = table[name] ?? 'nxdomain';
    if (answer === 'silent') return;
    const rcode = answer === 'nxdomain' ? 3 : answer === 'servfail' ? 2 : 0;
    const records: Buffer[] = [];
    if (typeof answer === 'object' && type === 'MX') {
      for (const exchange of answer.MX ?? [])
        records.push(record(15, Buffer.concat([Buffer.from([0, 10]), encodeName(exchange)])));
    }
    if (typeof answer === 'object' && type === 'A') {
      for (const address of answer.A ?? []) records.push(record(1, Buffer.from(address.split('.').map(Number))));
    }
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2); // id
    header.writeUInt16BE(0x8180 | rcode, 2); // response, recursion desired and available
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(records.length, 6);
    socket.send(Buffer.concat([header, query.subarray(12, questionEnd), ...records]), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    server: `127.0.0.1:${(socket.address() as AddressInfo).port}`,
    asked,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}
