// Runs a CloudFront Function (cloudfront-js-2.0) under node, as CloudFront would, for the local edge
// and the tests: the function's code as deployed (infra/edge_rules.function_code) is evaluated
// unchanged but for its `import cf from 'cloudfront'`, whose key value store here is a JSON file
// (reread whenever it is replaced).
// One JSON line in per event ({"id", "event"}), one JSON line out per result ({"id", "result"} or
// {"id", "error"}), so one process serves a crowd of concurrent requests.
'use strict';
const fs = require('fs');
const readline = require('readline');

const [source, storePath] = process.argv.slice(2);
let loaded = { stamp: null, entries: {} };

function entries() {
  let stamp = 'missing';
  try {
    const stat = fs.statSync(storePath);
    stamp = `${stat.ino}:${stat.mtimeMs}:${stat.size}`;
  } catch (missing) {
    // no store yet: nothing in it
  }
  if (stamp !== loaded.stamp) {
    loaded = { stamp, entries: stamp === 'missing' ? {} : JSON.parse(fs.readFileSync(storePath, 'utf8')) };
  }
  return loaded.entries;
}

const cf = {
  kvs() {
    return {
      async get(key, options) {
        const found = entries();
        if (!Object.prototype.hasOwnProperty.call(found, key)) {
          throw new Error(`KeyValueStore: no key ${key}`);
        }
        return options && options.format === 'json' ? JSON.parse(found[key]) : found[key];
      },
      async exists(key) {
        return Object.prototype.hasOwnProperty.call(entries(), key);
      },
    };
  },
};

const code = fs.readFileSync(source, 'utf8').replace(/^import cf from\s*["']cloudfront["'];?/m, '');
const handler = new Function('cf', 'require', `${code}\nreturn handler;`)(cf, require);

readline.createInterface({ input: process.stdin }).on('line', async (line) => {
  const { id, event } = JSON.parse(line);
  try {
    const result = await handler(event);
    process.stdout.write(`${JSON.stringify({ id, result })}\n`);
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ id, error: String((error && error.stack) || error) })}\n`);
  }
});
