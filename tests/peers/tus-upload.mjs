// tus-js-client 4.x (Node) uploading one file, for the integration tests and benchmarks.
// Usage: node tus-upload.mjs --endpoint URL --file PATH [--protocol tus-v1|ietf-draft-03|ietf-draft-05]
//        [--chunk-size BYTES]
// ietf-draft-03 speaks interop version 5 of Resumable Uploads for HTTP, ietf-draft-05 version 6.
// Prints "uploaded <url>" and exits 0 on success; prints the error and exits 1 otherwise.
import { Upload } from 'tus-js-client';
import fs from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const endpoint = option('--endpoint');
const file = option('--file');
if (!endpoint || !file) {
  console.error('tus-upload: --endpoint URL and --file PATH are required');
  process.exit(2);
}
const chunkSize = option('--chunk-size');
const size = fs.statSync(file).size;

const upload = new Upload(fs.createReadStream(file), {
  endpoint,
  protocol: option('--protocol') ?? 'tus-v1',
  uploadSize: size,
  chunkSize: chunkSize ? Number(chunkSize) : Infinity,
  metadata: { filename: path.basename(file) },
  retryDelays: [0, 200, 1000],
  onError: (error) => {
    console.error(`tus-upload: ${error}`);
    process.exit(1);
  },
  onSuccess: () => {
    process.stdout.write(`uploaded ${upload.url}\n`);
    process.exit(0);
  },
});
upload.start();
