/** Benchmark ceiling: plain node:http that reads the body and verifies the HMAC — the machine's limit. */
import { createServer } from 'node:http';
import { verifySignature } from '../../shared/signature.js';

const keys = (process.env.CIO_WEBHOOK_SIGNING_KEYS ?? '').split(',');
const port = Number(process.env.PORT);

createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    try {
      verifySignature({
        body: Buffer.concat(chunks),
        timestamp: req.headers['x-cio-timestamp'] as string | undefined,
        signature: req.headers['x-cio-signature'] as string | undefined,
        keys,
        now: new Date(),
        maxAgeSeconds: 'off',
      });
      res.writeHead(204).end();
    } catch {
      res.writeHead(401).end();
    }
  });
}).listen(port, '127.0.0.1', () => process.stdout.write(`listening on ${port}\n`));
