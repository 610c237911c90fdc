/**
 * A stand-in for the metadata server on loopback: Google's libraries probe it when GCE_METADATA_HOST
 * points at it, and every request is recorded, so a test can say that none was made.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MetadataStandIn {
  /** host:port, the value for GCE_METADATA_HOST. */
  host: string;
  /** Every request it got, as "METHOD path". */
  probes: string[];
  close(): void;
}

export async function startMetadataStandIn(): Promise<MetadataStandIn> {
  const probes: string[] = [];
  const server = createServer((req, res) => {
    probes.push(`${req.method} ${req.url}`);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, probes, close: () => server.close() };
}
