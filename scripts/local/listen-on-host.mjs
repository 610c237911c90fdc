// Local runs only: scripts/local/function-process.ts loads this with --import into each function
// process. The Functions Framework listens with server.listen(port), on every interface; a call
// with a port and no host gets LOCAL_BIND_HOST's host instead (127.0.0.1 unless the user chose
// another), so the local receiver and handler answer this machine only. Deployed, Cloud Run
// serves the function and this file is not loaded.
import { Server } from 'node:net';

const host = process.env.LOCAL_BIND_HOST;
if (host) {
  const listen = Server.prototype.listen;
  Server.prototype.listen = function listenOnHost(...args) {
    const [port, next] = args;
    const portOnly = (typeof port === 'number' || (typeof port === 'string' && /^\d+$/.test(port))) && typeof next !== 'string';
    return listen.apply(this, portOnly ? [port, host, ...args.slice(1)] : args);
  };
}
