// A real @tus/server 2.x with @tus/file-store, for the integration tests and benchmarks.
// Usage: node tus-server.mjs --dir DIR [--max-size BYTES] [--expiration-ms MS] [--relative-location]
// Listens on 127.0.0.1 with an ephemeral port under /files/ and prints "listening <port>" once
// it accepts connections. Stops on SIGTERM/SIGINT.
import { Server } from '@tus/server';
import { FileStore } from '@tus/file-store';
import http from 'node:http';

const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const dir = option('--dir');
if (!dir) {
  console.error('tus-server: --dir DIR is required');
  process.exit(2);
}
const maxSize = option('--max-size');
const expiration = option('--expiration-ms');

const tus = new Server({
  path: '/files',
  datastore: new FileStore({
    directory: dir,
    expirationPeriodInMilliseconds: expiration ? Number(expiration) : undefined,
  }),
  maxSize: maxSize ? Number(maxSize) : undefined,
  relativeLocation: args.includes('--relative-location'),
});

const server = http.createServer((req, res) => tus.handle(req, res));
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close();
    process.exit(0);
  });
}
