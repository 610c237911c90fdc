/**
 * Benchmark floor: a Functions Framework function that only verifies the HMAC and answers 204 —
 * what the receiver would cost if publishing were free.
 */
import * as functions from '@google-cloud/functions-framework';
import { verifySignature } from '../../shared/signature.js';

const keys = (process.env.CIO_WEBHOOK_SIGNING_KEYS ?? '').split(',');

functions.http('hmac_only', (req, res) => {
  try {
    verifySignature({
      body: req.rawBody ?? Buffer.alloc(0),
      timestamp: req.get('x-cio-timestamp'),
      signature: req.get('x-cio-signature'),
      keys,
      now: new Date(),
      maxAgeSeconds: 'off',
    });
    res.status(204).end();
  } catch {
    res.status(401).json({ error: 'invalid signature' });
  }
});
